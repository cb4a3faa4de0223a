import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { directory } from '../../inbox/directory'
import { json, stubFetch, type Call } from '../../testing/fetch'
import type { AgentSummary, Conversation } from '../../types'
import AssignMenu from './AssignMenu.vue'

function colleague(id: number, name: string, fields: Partial<AgentSummary> = {}): AgentSummary {
  return { id, name, email: `${name.toLowerCase()}@example.com`, role: 'agent', availability: 'available', connected: false, ...fields }
}

const conversation: Conversation = {
  id: 7,
  channel_id: 3,
  contact_id: 1,
  status: 'open',
  assignee: { kind: 'human', id: 1, name: 'Ada' },
  last_inbound_at: null,
  window_expires_at: null,
  last_message_at: null,
  last_message_preview: '',
  unread_count: 0,
  created_at: '2026-03-10T12:00:00Z',
}

let agents: AgentSummary[]
let calls: Call[]

beforeEach(() => {
  directory.reset()
  agents = [
    colleague(1, 'Ada', { connected: true }), // the assignee: not offered
    colleague(2, 'Zoe', { connected: false }),
    colleague(3, 'Yusuf', { connected: true, availability: 'away' }),
    colleague(4, 'Mia', { connected: true }),
    colleague(5, 'Abel', { connected: true }),
    colleague(6, 'Dora', { connected: true, disabled: true }), // disabled: not offered
    colleague(8, 'Nils', { connected: true }), // not a member of the channel
  ]
  calls = stubFetch({
    'GET /api/v1/agents': () => json(200, { data: agents }),
    'GET /api/v1/channels/3/members': () =>
      json(200, { data: [1, 2, 3, 4, 5, 6].map((id) => ({ channel_id: 3, agent_id: id, capacity: 0, created_at: '', agent: null })) }),
  })
})

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

async function openMenu() {
  const wrapper = mount(AssignMenu, { props: { conversation }, attachTo: document.body })
  await wrapper.get('[data-testid="assign-button"]').trigger('click')
  await flushPromises()
  return wrapper
}

/** rows are the options as shown ("Name Presence") and checks each radio is named "Name, Presence". */
function rows(wrapper: Awaited<ReturnType<typeof openMenu>>): string[] {
  return wrapper.findAll('[data-testid="assign-option"]').map((r) => {
    const shown = `${r.get('.candidate-name').text()}, ${r.get('[data-testid="agent-presence"]').text()}`
    expect(r.get('input[type="radio"]').attributes('aria-label')).toBe(shown)
    return shown
  })
}

describe('assign menu', () => {
  it("lists the channel's members with their presence, online and available first", async () => {
    const wrapper = await openMenu()
    expect(rows(wrapper)).toEqual(['Abel, Online', 'Mia, Online', 'Yusuf, Away', 'Zoe, Offline'])
    expect(wrapper.get('legend').text()).toBe('Transfer to')
    // A dot for the eye, the word for everyone: the dot is hidden from screen readers.
    const zoe = wrapper.get('[data-agent-id="2"]')
    expect(zoe.get('[data-testid="agent-presence"]').attributes('data-presence')).toBe('offline')
    expect(zoe.get('.dot').attributes('aria-hidden')).toBe('true')
    // The first (online) colleague is chosen and focused; agents and members were read again.
    const first = wrapper.get<HTMLInputElement>('[data-agent-id="5"] input[type="radio"]')
    expect(first.element.checked).toBe(true)
    expect(document.activeElement).toBe(first.element)
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/agents', '/api/v1/channels/3/members'])
    wrapper.unmount()
  })

  it('follows presence events while open', async () => {
    const wrapper = await openMenu()
    directory.applyPresence({ agent_id: 2, availability: 'available', connected: true }) // Zoe comes online
    directory.applyPresence({ agent_id: 4, availability: 'available', connected: false }) // Mia goes offline
    directory.applyPresence({ agent_id: 3, availability: 'available' }) // Yusuf is back from away
    await flushPromises()
    expect(rows(wrapper)).toEqual(['Abel, Online', 'Yusuf, Online', 'Zoe, Online', 'Mia, Offline'])
    wrapper.unmount()
  })

  it('assigns to the chosen colleague, away or offline ones too', async () => {
    const wrapper = await openMenu()
    await wrapper.get('[data-agent-id="2"] input[type="radio"]').setValue(true)
    await wrapper.get('form').trigger('submit')
    expect(wrapper.emitted('assign')).toEqual([[2]])
    expect(wrapper.find('[data-testid="assign-option"]').exists()).toBe(false)
    wrapper.unmount()
  })
})
