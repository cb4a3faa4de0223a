import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory } from 'vue-router'
import { api } from './api'
import { auth } from './auth'
import { createAppRouter, safeRedirect } from './router'
import { agent, json, stubFetch } from './testing/fetch'

const signedOut = { 'GET /api/v1/me': () => json(401, { error: { code: 'unauthorized', message: 'Sign in.' } }) }
const signedIn = { 'GET /api/v1/me': () => json(200, { agent, csrf_token: 'tok' }) }

function setup(path: string) {
  const router = createAppRouter(createMemoryHistory())
  return { router, done: router.push(path) }
}

beforeEach(() => {
  auth.reset()
})

describe('route guard', () => {
  it('sends a signed-out visitor to sign-in, remembering the page', async () => {
    stubFetch(signedOut)
    const { router, done } = setup('/inbox/all')
    await done
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/inbox/all')
  })

  it('does not add a redirect for the home page', async () => {
    stubFetch(signedOut)
    const { router, done } = setup('/')
    await done
    expect(router.currentRoute.value.fullPath).toBe('/login')
  })

  it('lets a signed-in agent through after restoring the session once', async () => {
    const calls = stubFetch(signedIn)
    const { router, done } = setup('/inbox/unassigned')
    await done
    expect(router.currentRoute.value.fullPath).toBe('/inbox/unassigned')
    await router.push('/inbox/all')
    expect(calls.filter((c) => c.url === '/api/v1/me')).toHaveLength(1)
    expect(auth.state.agent?.name).toBe('Ada Lovelace')
  })

  it('opens the inbox at Mine from the home page', async () => {
    stubFetch(signedIn)
    const { router, done } = setup('/')
    await done
    expect(router.currentRoute.value.fullPath).toBe('/inbox/mine')
  })

  it('sends a signed-in agent away from the sign-in page, to the page asked for', async () => {
    stubFetch(signedIn)
    const { router, done } = setup('/login?redirect=/inbox/all')
    await done
    expect(router.currentRoute.value.fullPath).toBe('/inbox/all')
  })

  it('ignores a redirect to another site', async () => {
    stubFetch(signedIn)
    const { router, done } = setup('/login?redirect=//evil.example/phish')
    await done
    expect(router.currentRoute.value.fullPath).toBe('/inbox/mine')
  })

  it('shows not-found for unknown pages without asking to sign in', async () => {
    stubFetch(signedOut)
    const { router, done } = setup('/no/such/page')
    await done
    expect(router.currentRoute.value.name).toBe('not-found')
  })

  it('sets the page title per route', async () => {
    stubFetch(signedOut)
    const { done } = setup('/inbox/mine')
    await done
    expect(document.title).toBe('Sign in · Switchboard')
  })

  it('goes to sign-in when any request answers 401, then back', async () => {
    stubFetch({
      ...signedIn,
      'GET /api/v1/conversations': () => json(401, { error: { code: 'unauthorized', message: 'Expired.' } }),
    })
    const { router, done } = setup('/inbox/all')
    await done
    expect(document.title).toBe('Inbox · Switchboard')

    await api.get('/conversations').catch(() => undefined)
    await flushPromises()
    expect(auth.signedIn.value).toBe(false)
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/inbox/all')
  })
})

describe('app routes', () => {
  it('keeps the open conversation in the address', async () => {
    stubFetch(signedIn)
    const { router, done } = setup('/inbox/all/12?status=any')
    await done
    expect(router.currentRoute.value.name).toBe('inbox')
    expect(router.currentRoute.value.params).toEqual({ view: 'all', conversationId: '12' })
    expect(router.resolve('/inbox/all/x').name).toBe('not-found')
  })

  it('has the sandbox page', async () => {
    stubFetch(signedIn)
    const { router, done } = setup('/sandbox')
    await done
    expect(router.currentRoute.value.name).toBe('sandbox')
    expect(document.title).toBe('Sandbox · Switchboard')
  })

  it('loads the admin routes on the first visit to one, then resolves the address again', async () => {
    stubFetch(signedIn)
    const { router, done } = setup('/admin/reports')
    await done
    expect(router.currentRoute.value.path).toBe('/admin/reports')
    expect(router.currentRoute.value.name).not.toBe('not-found')
    await router.push('/no/such/page')
    expect(router.currentRoute.value.name).toBe('not-found')
  })
})

describe('safeRedirect', () => {
  it.each([
    ['/inbox/all', '/inbox/all'],
    ['/inbox/mine?x=1#y', '/inbox/mine?x=1#y'],
    ['//evil.example', null],
    ['/\\evil.example', null],
    ['https://evil.example', null],
    ['javascript:alert(1)', null],
    ['/login', null],
    ['/login?redirect=/x', null],
    ['', null],
    [undefined, null],
    [['/a'], null],
  ])('%j → %j', (input, want) => {
    expect(safeRedirect(input)).toBe(want)
  })
})
