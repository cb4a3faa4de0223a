// The inbox against a fake API and a fake websocket: live list updates, the
// thread, sending over the socket (and over REST when it is down).
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, RouterView, type Router } from 'vue-router'
import { auth } from '../auth'
import { directory } from '../inbox/directory'
import { conversations } from '../inbox/store'
import { createAppRouter } from '../router'
import { agent, json, stubFetch, type Call } from '../testing/fetch'
import { FakeSocket, installFakeSockets } from '../testing/socket'
import type { AgentSummary, Conversation, Message } from '../types'

function conv(id: number, fields: Partial<Conversation> = {}): Conversation {
  return {
    id,
    channel_id: 1,
    contact_id: id,
    contact: { id, name: `Customer ${id}`, wa_id: `155500000${id}`, phone: `+155500000${id}`, opted_out: false },
    status: 'open',
    assignee: null,
    last_inbound_at: new Date().toISOString(),
    window_expires_at: new Date(Date.now() + 20 * 3_600_000).toISOString(),
    last_message_at: new Date(Date.now() - id * 60_000).toISOString(),
    last_message_preview: `preview ${id}`,
    unread_count: 0,
    created_at: new Date().toISOString(),
    ...fields,
  }
}

function msg(id: number, fields: Partial<Message> = {}): Message {
  return {
    id,
    conversation_id: 1,
    channel_id: 1,
    direction: 'inbound',
    sender: 'customer',
    type: 'text',
    text: `message ${id}`,
    private: false,
    status: 'received',
    error: null,
    reactions: [],
    created_at: new Date().toISOString(),
    ...fields,
  }
}

let wrapper: VueWrapper | null = null
let calls: Call[] = []
let server: { conversations: Conversation[]; messages: Message[]; agents: AgentSummary[] }

async function open(path: string): Promise<{ router: Router }> {
  calls = stubFetch({
    'GET /api/v1/me': () => json(200, { agent, csrf_token: 'csrf-1' }),
    'GET /api/v1/channels': () => json(200, { data: [{ id: 1, type: 'whatsapp', name: 'Support', phone_number: '+15550001' }] }),
    'GET /api/v1/agents': () => json(200, { data: server.agents }),
    'GET /api/v1/conversations': (c) => {
      const q = new URL(c.url, 'http://x').searchParams
      const list = server.conversations.filter((x) => {
        if (q.get('assignee') === 'me') return x.assignee?.id === agent.id
        if (q.get('assignee') === 'unassigned') return !x.assignee
        return true
      })
      return json(200, { data: list, next_cursor: '' })
    },
    'GET /api/v1/conversations/1': () => json(200, server.conversations.find((c) => c.id === 1)),
    'GET /api/v1/conversations/1/messages': () => json(200, { data: server.messages, next_cursor: '' }),
    'POST /api/v1/conversations/1/messages': (c) =>
      json(202, msg(50, { direction: 'outbound', sender: 'agent', text: (c.body as { text: string }).text, status: 'queued', client_id: c.headers['Idempotency-Key'] })),
    'POST /api/v1/conversations/1/read': () => json(204),
  })
  const router = createAppRouter(createMemoryHistory())
  await router.push(path)
  wrapper = mount(RouterView, { global: { plugins: [router] }, attachTo: document.body })
  await flushPromises()
  return { router }
}

function socket(): FakeSocket {
  return FakeSocket.last()
}

function names(): string[] {
  return wrapper!.findAll('[data-testid="conversation-name"]').map((n) => n.text())
}

/** waitFor retries an assertion until it holds (timers and requests settle at their own pace). */
function waitFor(check: () => void): Promise<void> {
  return vi.waitFor(async () => {
    await flushPromises()
    check()
  }, { timeout: 3000, interval: 20 })
}

beforeEach(() => {
  auth.reset()
  directory.reset()
  conversations.clear()
  installFakeSockets()
  server = {
    conversations: [conv(1), conv(2, { assignee: { kind: 'human', id: agent.id, name: agent.name } })],
    messages: [],
    agents: [
      { ...agent, connected: true },
      { id: 2, name: 'Bo', email: 'bo@example.com', role: 'agent', availability: 'available', connected: false },
    ],
  }
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
})

describe('inbox, live', () => {
  it('shows new conversations, previews and assignment changes as they happen', async () => {
    await open('/inbox/unassigned')
    socket().hello(10)
    await flushPromises()
    expect(names()).toEqual(['Customer 1'])

    // A new customer writes: the conversation arrives, unassigned, with an unread badge.
    socket().receive({ type: 'conversation.created', seq: 11, data: conv(3, { last_message_at: new Date().toISOString(), last_message_preview: 'Hi there', unread_count: 1 }) })
    await flushPromises()
    expect(names()).toEqual(['Customer 3', 'Customer 1'])
    const item = wrapper!.get('[data-conversation-id="3"]')
    expect(item.get('[data-testid="conversation-preview"]').text()).toBe('Hi there')
    expect(item.get('[data-testid="unread-badge"]').text()).toContain('1')

    // It is assigned to me (the event leaves the contact out): it leaves Unassigned.
    socket().receive({ type: 'conversation.assigned', seq: 12, data: { ...conv(3), contact: undefined, assignee: { kind: 'human', id: agent.id, name: '' } } })
    await flushPromises()
    expect(names()).toEqual(['Customer 1'])

    // A message moves Customer 1's preview.
    socket().receive({ type: 'message.created', seq: 13, data: msg(70, { conversation_id: 1, text: '<b>new</b> words' }) })
    await flushPromises()
    expect(wrapper!.get('[data-conversation-id="1"] [data-testid="conversation-preview"]').text()).toBe('<b>new</b> words')
    expect(wrapper!.find('[data-conversation-id="1"] b').exists()).toBe(false)
  })

  it('shows Mine with the conversations assigned to me, and moves them in live', async () => {
    await open('/inbox/mine')
    socket().hello(1)
    await flushPromises()
    expect(names()).toEqual(['Customer 2'])
    socket().receive({ type: 'conversation.assigned', seq: 2, data: { ...conv(1), assignee: { kind: 'human', id: agent.id, name: agent.name } } })
    await flushPromises()
    expect(names()).toEqual(['Customer 1', 'Customer 2'])
  })

  it("keeps colleagues' presence from presence.updated events, and reads it again after a resync", async () => {
    await open('/inbox/all')
    socket().hello(1)
    await directory.loadAgents()
    expect(directory.agent(2)).toMatchObject({ connected: false, availability: 'available' })

    socket().receive({ type: 'presence.updated', seq: 2, data: { agent_id: 2, availability: 'available', connected: true } })
    expect(directory.agent(2)).toMatchObject({ connected: true, availability: 'available' })
    // Setting themselves away says nothing about the connection.
    socket().receive({ type: 'presence.updated', seq: 3, data: { agent_id: 2, availability: 'away' } })
    expect(directory.agent(2)).toMatchObject({ connected: true, availability: 'away' })
    // About the signed-in agent, the switch follows too.
    socket().receive({ type: 'presence.updated', seq: 4, data: { agent_id: agent.id, availability: 'away' } })
    expect(auth.state.agent?.availability).toBe('away')
    expect(directory.agent(agent.id)).toMatchObject({ connected: true, availability: 'away' })

    server.agents = server.agents.map((a) => (a.id === 2 ? { ...a, connected: false } : a))
    socket().receive({ type: 'resync', seq: 99 })
    await flushPromises()
    expect(directory.agent(2)?.connected).toBe(false)
  })

  it('reloads the list after a resync', async () => {
    await open('/inbox/all')
    socket().hello(1)
    await flushPromises()
    expect(names()).toEqual(['Customer 1', 'Customer 2'])
    server.conversations = [conv(4), ...server.conversations]
    socket().receive({ type: 'resync', seq: 99 })
    await flushPromises()
    expect(names()).toEqual(['Customer 4', 'Customer 1', 'Customer 2'])
  })
})

describe('status tabs', () => {
  /** listStatuses returns the status filter of each list request made so far ('' for none). */
  const listStatuses = () =>
    calls
      .filter((c) => c.method === 'GET' && c.url.startsWith('/api/v1/conversations?'))
      .map((c) => new URL(c.url, 'http://x').searchParams)
      .filter((q) => q.get('limit') === '30') // the list's pages, not the contact panel's history
      .map((q) => q.get('status') ?? '')

  it('are a tablist that drives ?status= by click and by keyboard', async () => {
    const { router } = await open('/inbox/all')
    const list = wrapper!.get('[role="tablist"][aria-label="Status"]')
    const tabs = () => list.findAll('[role="tab"]')
    const selected = () => tabs().filter((t) => t.attributes('aria-selected') === 'true').map((t) => t.text())
    expect(tabs().map((t) => t.text())).toEqual(['Open', 'Pending', 'Resolved', 'Any'])
    expect(selected()).toEqual(['Open'])
    expect(tabs().map((t) => t.attributes('tabindex'))).toEqual(['0', '-1', '-1', '-1'])
    expect(tabs()[0]!.attributes('aria-controls')).toBe('conversation-list')
    const panel = wrapper!.get('#conversation-list')
    expect(panel.attributes('role')).toBe('tabpanel')
    expect(panel.attributes('aria-labelledby')).toBe('status-tab-open')
    expect(listStatuses()).toEqual(['open'])

    await tabs()[2]!.trigger('click')
    await waitFor(() => expect(router.currentRoute.value.query.status).toBe('resolved'))
    expect(selected()).toEqual(['Resolved'])
    expect(wrapper!.get('#conversation-list').attributes('aria-labelledby')).toBe('status-tab-resolved')
    expect(listStatuses().at(-1)).toBe('resolved')

    // Arrows move the choice and the focus, wrapping around; Home and End jump to the ends.
    await tabs()[2]!.trigger('keydown', { key: 'ArrowRight' })
    await waitFor(() => expect(router.currentRoute.value.query.status).toBe('any'))
    expect(document.activeElement?.id).toBe('status-tab-any')
    expect(listStatuses().at(-1)).toBe('')
    await tabs()[3]!.trigger('keydown', { key: 'ArrowRight' })
    await waitFor(() => expect(router.currentRoute.value.query.status).toBeUndefined())
    expect(document.activeElement?.id).toBe('status-tab-open')
    await tabs()[0]!.trigger('keydown', { key: 'ArrowLeft' })
    await waitFor(() => expect(router.currentRoute.value.query.status).toBe('any'))
    await tabs()[3]!.trigger('keydown', { key: 'Home' })
    await waitFor(() => expect(router.currentRoute.value.query.status).toBeUndefined())
    await tabs()[0]!.trigger('keydown', { key: 'End' })
    await waitFor(() => expect(router.currentRoute.value.query.status).toBe('any'))
    expect(selected()).toEqual(['Any'])
    expect(tabs().map((t) => t.attributes('tabindex'))).toEqual(['-1', '-1', '-1', '0'])
  })

  it('show the status from the address and keep the open conversation and other filters', async () => {
    const { router } = await open('/inbox/all/1?status=pending&channel=1')
    const tab = (name: string) => wrapper!.findAll('[role="tab"]').find((t) => t.text() === name)!
    expect(tab('Pending').attributes('aria-selected')).toBe('true')
    expect(listStatuses()).toEqual(['pending'])
    await tab('Open').trigger('click')
    await waitFor(() => expect(router.currentRoute.value.query.status).toBeUndefined())
    expect(router.currentRoute.value.fullPath).toBe('/inbox/all/1?channel=1')
  })
})

describe('thread', () => {
  it('renders customer HTML as text and marks the conversation read over the socket', async () => {
    server.conversations[0] = conv(1, { unread_count: 2 })
    server.messages = [msg(1, { text: '<img src=x onerror=alert(1)>' }), msg(2, { type: 'activity', sender: 'system', direction: 'outbound', text: 'Assigned to Ada.' })]
    await open('/inbox/all/1')
    await waitFor(() => {
      // Opened before the socket was up: read over REST; the badge is cleared either way.
      expect(calls.some((c) => c.method === 'POST' && c.url === '/api/v1/conversations/1/read')).toBe(true)
    })
    socket().hello(1)
    await flushPromises()
    const texts = wrapper!.findAll('[data-testid="message-text"]').map((t) => t.text())
    expect(texts).toEqual(['<img src=x onerror=alert(1)>'])
    expect(wrapper!.find('[data-testid="messages"] img').exists()).toBe(false)
    expect(wrapper!.find('[data-kind="activity"]').text()).toContain('Assigned to Ada.')
    expect(wrapper!.find('[data-conversation-id="1"] [data-testid="unread-badge"]').exists()).toBe(false)

    // The customer writes while the thread is open: it appears, and is read over the socket.
    socket().receive({ type: 'message.created', seq: 2, data: msg(3, { text: 'Anyone there?' }) })
    await flushPromises()
    expect(wrapper!.findAll('[data-testid="message-text"]').map((t) => t.text())).toContain('Anyone there?')
    await waitFor(() => {
      expect(socket().sent.some((f) => f.type === 'read' && (f.data as { conversation_id: number }).conversation_id === 1)).toBe(true)
    })
  })

  it('sends over the socket: a queued bubble at once, replaced on the ack, ticks on updates', async () => {
    await open('/inbox/all/1')
    socket().hello(1)
    await flushPromises()
    const box = wrapper!.get('[data-testid="composer-input"]')
    await box.setValue('On my way')
    await box.trigger('keydown', { key: 'Enter' })
    await flushPromises()

    const frame = socket().sent.find((f) => f.type === 'message.send')
    expect(frame?.data).toEqual({ text: 'On my way', conversation_id: 1 })
    expect(frame?.id).toBeTruthy()
    let bubble = wrapper!.findAll('[data-testid="message"]').at(-1)!
    expect(bubble.text()).toContain('On my way')
    expect(bubble.get('[data-testid="ticks"]').attributes('data-status')).toBe('queued')

    const stored = msg(60, { direction: 'outbound', sender: 'agent', text: 'On my way', status: 'queued', client_id: frame!.id })
    socket().receive({ type: 'ack', id: frame!.id, data: { message_id: 60, message: stored } })
    await flushPromises()
    socket().receive({ type: 'message.updated', seq: 2, data: { ...stored, status: 'read', external_id: 'wamid.X' } })
    await flushPromises()
    const bubbles = wrapper!.findAll('[data-testid="message"]')
    expect(bubbles).toHaveLength(1)
    bubble = bubbles[0]!
    expect(bubble.attributes('data-message-id')).toBe('60')
    expect(bubble.get('[data-testid="ticks"]').attributes('data-status')).toBe('read')
  })

  it('shows a refusal from the socket inline and keeps the text', async () => {
    await open('/inbox/all/1')
    socket().hello(1)
    await flushPromises()
    await wrapper!.get('[data-testid="composer-input"]').setValue('Late reply')
    await wrapper!.get('[data-testid="composer-input"]').trigger('keydown', { key: 'Enter' })
    await flushPromises()
    const frame = socket().sent.find((f) => f.type === 'message.send')!
    socket().receive({ type: 'error', id: frame.id, data: { code: 'window_closed', message: 'The 24-hour window is closed.' } })
    await flushPromises()
    expect(wrapper!.get('[data-testid="composer-error"]').text()).toContain('The 24-hour window is closed.')
    expect(wrapper!.findAll('[data-testid="message"]')).toHaveLength(0)
    expect((wrapper!.get('[data-testid="composer-input"]').element as HTMLTextAreaElement).value).toBe('Late reply')
  })

  it('falls back to REST, with the idempotency key, while the socket is down', async () => {
    await open('/inbox/all/1')
    socket().hello(1)
    await flushPromises()
    socket().drop()
    await flushPromises()
    expect(wrapper!.find('[data-testid="reconnect-banner"]').exists()).toBe(true)
    await wrapper!.get('[data-testid="composer-input"]').setValue('Still here')
    await wrapper!.get('[data-testid="composer-input"]').trigger('keydown', { key: 'Enter' })
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST' && c.url === '/api/v1/conversations/1/messages')
    expect(post?.body).toMatchObject({ text: 'Still here' })
    expect(post?.headers['Idempotency-Key']).toBeTruthy()
    expect((post?.body as { client_id: string }).client_id).toBe(post?.headers['Idempotency-Key'])
    const bubbles = wrapper!.findAll('[data-testid="message"]')
    expect(bubbles).toHaveLength(1)
    expect(bubbles[0]!.attributes('data-message-id')).toBe('50')
  })
})
