import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter, RouterView } from 'vue-router'
import { auth } from '../auth'
import { agent, json, stubFetch } from '../testing/fetch'
import { adminRoutes } from './routes'

function setup() {
  return createRouter({ history: createMemoryHistory(), routes: [...adminRoutes, { path: '/:p(.*)*', component: { template: '<div />' } }] })
}

beforeEach(() => {
  auth.reset()
})

describe('admin routes', () => {
  it('lets an admin in', async () => {
    stubFetch({ 'GET /api/v1/me': () => json(200, { agent, csrf_token: 't' }) })
    const router = setup()
    await router.push('/admin/channels')
    expect(router.currentRoute.value.name).toBe('admin-channels')
    expect(router.currentRoute.value.meta.title).toBe('Channels')
  })

  it('sends an agent to the reports, which they may read', async () => {
    stubFetch({ 'GET /api/v1/me': () => json(200, { agent: { ...agent, role: 'agent' }, csrf_token: 't' }) })
    const router = setup()
    for (const path of ['/admin', '/admin/channels/3/settings', '/admin/people', '/admin/system']) {
      await router.push(path)
      expect(router.currentRoute.value.name).toBe('admin-reports')
    }
    await router.push('/admin/reports?period=30d')
    expect(router.currentRoute.value.fullPath).toBe('/admin/reports?period=30d')
  })

  it('names every channel tab', () => {
    const router = setup()
    expect(router.resolve('/admin/channels/3').name).toBe('admin-channel')
    expect(router.resolve('/admin/channels/3/settings').name).toBe('admin-channel-settings')
    expect(router.resolve('/admin/channels/3/assignment').name).toBe('admin-channel-assignment')
    expect(router.resolve('/admin/channels/new').name).toBe('admin-channel-new')
  })
})

describe('a channel whose token Meta rejected', () => {
  it('shows a warning banner that leads to the API key', async () => {
    stubFetch({
      'GET /api/v1/me': () => json(200, { agent, csrf_token: 't' }),
      'GET /api/v1/channels/5': () =>
        json(200, {
          id: 5,
          name: 'Sales',
          phone_number: '+14155550123',
          phone_number_id: '1234567890',
          business_account_id: '9876543210',
          status: 'token_invalid',
          status_reason: 'Error validating access token: Session has expired.',
          webhook_url: 'https://sb.example.com/webhooks/whatsapp/5',
          verify_token: 'v'.repeat(24),
          has_api_key: true,
          sandbox: false,
        }),
    })
    const router = setup()
    await router.push('/admin/channels/5')
    const w = mount(RouterView, { global: { plugins: [router] }, attachTo: document.body })
    await flushPromises()
    await flushPromises()
    const banner = w.get('[data-testid="token-invalid"]')
    expect(banner.attributes('role')).toBe('alert')
    expect(banner.text()).toContain("Meta rejected this channel's access token")
    expect(banner.text()).toContain('Session has expired.')
    await banner.get('a').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.hash).toBe('#api-key')
    expect(document.activeElement?.closest('#api-key')).not.toBeNull()
    w.unmount()
  })
})
