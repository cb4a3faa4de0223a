import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, RouterView } from 'vue-router'
import { auth } from '../auth'
import { createAppRouter } from '../router'
import { agent, deferred, json, stubFetch, type Route } from '../testing/fetch'

const signedOut = { 'GET /api/v1/me': () => json(401, { error: { code: 'unauthorized', message: 'Sign in.' } }) }

async function mountLogin(login: Route, path = '/login') {
  const calls = stubFetch({ ...signedOut, 'POST /api/v1/auth/login': login })
  const router = createAppRouter(createMemoryHistory())
  await router.push(path)
  const wrapper = mount(RouterView, { global: { plugins: [router] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router, calls }
}

beforeEach(() => {
  auth.reset()
  document.body.innerHTML = ''
})

describe('sign-in form', () => {
  it('has labelled fields with autocomplete hints', async () => {
    const { wrapper } = await mountLogin(() => json(500))
    const email = wrapper.get('input#login-email')
    const password = wrapper.get('input#login-password')
    expect(wrapper.get('label[for="login-email"]').text()).toBe('Email')
    expect(wrapper.get('label[for="login-password"]').text()).toBe('Password')
    expect(email.attributes('autocomplete')).toBe('username')
    expect(email.attributes('type')).toBe('email')
    expect(password.attributes('autocomplete')).toBe('current-password')
    expect(password.attributes('type')).toBe('password')
  })

  it('checks empty fields before calling the server', async () => {
    const { wrapper, calls } = await mountLogin(() => json(200, { agent, csrf_token: 't' }))
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('#login-email-error').text()).toBe('Enter your email address.')
    expect(wrapper.get('#login-password-error').text()).toBe('Enter your password.')
    expect(wrapper.get('#login-email').attributes('aria-invalid')).toBe('true')
    expect(wrapper.get('#login-email').attributes('aria-describedby')).toBe('login-email-error')
    expect(document.activeElement?.id).toBe('login-email')
    expect(calls.some((c) => c.url.endsWith('/auth/login'))).toBe(false)
  })

  it('shows the server field errors next to their fields', async () => {
    const { wrapper } = await mountLogin(() =>
      json(422, { error: { code: 'invalid', message: 'Check the form.', fields: { email: 'That is not an email address.' } } }),
    )
    await wrapper.get('#login-email').setValue('ada@localhost')
    await wrapper.get('#login-password').setValue('pw')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('#login-email-error').text()).toBe('That is not an email address.')
    expect(wrapper.find('#login-password-error').exists()).toBe(false)
    expect(wrapper.find('[role="alert"]').exists()).toBe(false)
  })

  it('clears a field error as soon as the field is edited', async () => {
    const { wrapper } = await mountLogin(() => json(500))
    await wrapper.get('form').trigger('submit')
    await wrapper.get('#login-email').setValue('a')
    expect(wrapper.find('#login-email-error').exists()).toBe(false)
    expect(wrapper.find('#login-password-error').exists()).toBe(true)
  })

  it('shows a wrong password as a form message and clears the password', async () => {
    const { wrapper } = await mountLogin(() =>
      json(401, { error: { code: 'unauthorized', message: 'Invalid email or password.' } }),
    )
    await wrapper.get('#login-email').setValue('ada@example.com')
    await wrapper.get('#login-password').setValue('wrong')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[role="alert"]').text()).toBe('Invalid email or password.')
    expect((wrapper.get('#login-password').element as HTMLInputElement).value).toBe('')
    expect(document.activeElement?.id).toBe('login-password')
  })

  it('shows the rate limit message', async () => {
    const { wrapper } = await mountLogin(() =>
      json(429, { error: { code: 'rate_limited', message: 'Too many attempts. Try again in a minute.' } }),
    )
    await wrapper.get('#login-email').setValue('ada@example.com')
    await wrapper.get('#login-password').setValue('pw')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[role="alert"]').text()).toBe('Too many attempts. Try again in a minute.')
  })

  it('disables submit while pending, then goes to the page asked for', async () => {
    const answer = deferred<Response>()
    const { wrapper, router, calls } = await mountLogin(() => answer.promise, '/login?redirect=/inbox/unassigned')
    await wrapper.get('#login-email').setValue('  ada@example.com ')
    await wrapper.get('#login-password').setValue('correct-horse')
    await wrapper.get('form').trigger('submit')
    await flushPromises()

    const button = wrapper.get('button[type="submit"]')
    expect(button.attributes('disabled')).toBeDefined()
    expect(button.text()).toBe('Signing in…')
    expect(wrapper.get('form').attributes('aria-busy')).toBe('true')

    // A second submit while pending sends nothing more.
    await wrapper.get('form').trigger('submit')
    expect(calls.filter((c) => c.url.endsWith('/auth/login'))).toHaveLength(1)
    expect(calls.find((c) => c.url.endsWith('/auth/login'))?.body).toEqual({
      email: 'ada@example.com',
      password: 'correct-horse',
    })

    answer.resolve(json(200, { agent, csrf_token: 'tok' }))
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/inbox/unassigned')
    expect(auth.state.agent?.email).toBe('ada@example.com')
  })

  it('re-enables submit after a failure', async () => {
    const { wrapper } = await mountLogin(() => json(500, { error: { code: 'internal', message: 'Boom.' } }))
    await wrapper.get('#login-email').setValue('ada@example.com')
    await wrapper.get('#login-password').setValue('pw')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('button[type="submit"]').attributes('disabled')).toBeUndefined()
    expect(wrapper.get('[role="alert"]').text()).toBe('Boom.')
  })
})
