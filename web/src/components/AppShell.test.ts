import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, RouterView } from 'vue-router'
import { auth } from '../auth'
import { createAppRouter } from '../router'
import { agent, json, stubFetch, type Route } from '../testing/fetch'

async function mountInbox(logout: Route, who = agent) {
  const calls = stubFetch({
    'GET /api/v1/me': () => json(200, { agent: who, csrf_token: 'csrf-1' }),
    'POST /api/v1/auth/logout': logout,
    'GET /api/v1/conversations': () => json(200, { data: [], next_cursor: '' }),
    'GET /api/v1/channels': () => json(200, { data: [] }),
    'GET /api/v1/agents': () => json(200, { data: [who] }),
    'PATCH /api/v1/me': (c) => json(200, { agent: { ...who, ...(c.body as object) } }),
  })
  const router = createAppRouter(createMemoryHistory())
  await router.push('/inbox/mine')
  const wrapper = mount(RouterView, { global: { plugins: [router] } })
  await flushPromises()
  return { wrapper, router, calls }
}

beforeEach(() => {
  auth.reset()
})

describe('inbox shell', () => {
  it("shows the signed-in agent's name, role and presence", async () => {
    const { wrapper } = await mountInbox(() => json(204))
    expect(wrapper.get('[data-testid="agent-name"]').text()).toBe('Ada Lovelace')
    expect(wrapper.get('[data-testid="agent-role"]').text()).toBe('Admin')
    expect(wrapper.get('[data-testid="presence"]').text()).toContain('Available')
  })

  it('labels an agent as Agent and shows away', async () => {
    const { wrapper } = await mountInbox(() => json(204), { ...agent, role: 'agent', availability: 'away' })
    expect(wrapper.get('[data-testid="agent-role"]').text()).toBe('Agent')
    expect(wrapper.get('[data-testid="presence"]').text()).toContain('Away')
  })

  it('renders names as text, never as markup', async () => {
    const { wrapper } = await mountInbox(() => json(204), { ...agent, name: '<img src=x onerror=alert(1)>' })
    expect(wrapper.get('[data-testid="agent-name"]').text()).toBe('<img src=x onerror=alert(1)>')
    expect(wrapper.find('img').exists()).toBe(false)
  })

  it('has the three panes with their empty states and the list tabs', async () => {
    const { wrapper } = await mountInbox(() => json(204))
    expect(wrapper.get('[data-testid="conversation-list"]').text()).toContain('No conversations yet')
    expect(wrapper.get('[data-testid="thread"]').text()).toContain('Select a conversation')
    expect(wrapper.find('[data-testid="details"]').exists()).toBe(true)
    const tabs = wrapper.findAll('nav[aria-label="Conversation lists"] a')
    expect(tabs.map((t) => t.text())).toEqual(['Mine', 'Unassigned', 'All'])
    expect(tabs[0]?.attributes('aria-current')).toBe('page')
    expect(tabs[1]?.attributes('aria-current')).toBeUndefined()
  })

  it('shows Inbox and Sandbox to everyone, Settings and Reports to admins', async () => {
    const { wrapper } = await mountInbox(() => json(204))
    const labels = () => wrapper.findAll('nav[aria-label="Main"] .rail-item').map((a) => a.text())
    expect(labels()).toEqual(['Inbox', 'Sandbox', 'Settings', 'Reports'])
    expect(wrapper.get('[data-testid="nav-settings"]').attributes('href')).toBe('/admin')
    expect(wrapper.get('[data-testid="nav-reports"]').attributes('href')).toBe('/admin/reports')
    expect(wrapper.get('[data-testid="nav-inbox"]').attributes('aria-current')).toBe('page')
    wrapper.unmount()
    auth.reset()
    const agentView = await mountInbox(() => json(204), { ...agent, role: 'agent' })
    expect(agentView.wrapper.findAll('nav[aria-label="Main"] .rail-item').map((a) => a.text())).toEqual(['Inbox', 'Sandbox'])
  })

  it('switches presence (over REST while live updates are not connected)', async () => {
    const { wrapper, calls } = await mountInbox(() => json(204))
    const sw = wrapper.get('[data-testid="presence"]')
    expect(sw.attributes('role')).toBe('switch')
    expect(sw.attributes('aria-checked')).toBe('true')
    await sw.trigger('click')
    await flushPromises()
    const patch = calls.find((c) => c.method === 'PATCH' && c.url === '/api/v1/me')
    expect(patch?.body).toEqual({ availability: 'away' })
    expect(wrapper.get('[data-testid="presence"]').text()).toContain('Away')
    expect(wrapper.get('[data-testid="presence"]').attributes('aria-checked')).toBe('false')
  })

  it('signs out with the CSRF token and returns to sign-in', async () => {
    const { wrapper, router, calls } = await mountInbox(() => json(204))
    await wrapper.get('button[aria-label="Sign out"]').trigger('click')
    await flushPromises()
    const logout = calls.find((c) => c.url === '/api/v1/auth/logout')
    expect(logout?.headers['X-CSRF-Token']).toBe('csrf-1')
    expect(router.currentRoute.value.name).toBe('login')
    expect(auth.signedIn.value).toBe(false)
  })

  it('stays signed in and says so when signing out fails', async () => {
    const { wrapper, router } = await mountInbox(() =>
      json(503, { error: { code: 'unavailable', message: 'Try again shortly.' } }),
    )
    await wrapper.get('button[aria-label="Sign out"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('inbox')
    expect(wrapper.get('[role="alert"]').text()).toBe('Could not sign out. Try again shortly.')
  })
})
