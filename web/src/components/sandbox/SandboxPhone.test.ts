import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { json, stubFetch } from '../../testing/fetch'
import type { Message } from '../../types'
import SandboxPhone from './SandboxPhone.vue'

const channel = { id: 4, type: 'whatsapp', name: 'Sandbox', phone_number: '+15550009999', sandbox: true }

function msg(id: number, fields: Partial<Message>): Message {
  return {
    id,
    conversation_id: 1,
    channel_id: 4,
    direction: 'outbound',
    sender: 'system',
    type: 'text',
    text: '',
    private: false,
    status: 'read',
    error: null,
    reactions: [],
    created_at: '2026-03-10T12:00:00Z',
    ...fields,
  }
}

const survey = msg(2, {
  type: 'interactive',
  text: 'How would you rate the help you received?',
  external_id: 'wamid.SURVEY',
  payload: {
    type: 'interactive',
    interactive: {
      type: 'list',
      body: { text: 'How would you rate the help you received?' },
      action: { button: 'Rate us', sections: [{ title: 'Your rating', rows: [{ id: 'csat:9:5', title: '5 – Excellent' }, { id: 'csat:9:1', title: '1 – Very poor' }] }] },
    },
  },
})

function setup(transcript: Message[]) {
  const calls = stubFetch({
    'GET /api/v1/sandbox/channels/4/messages': () => json(200, { data: transcript }),
    'POST /api/v1/sandbox/channels/4/messages': () => json(202, { external_id: 'wamid.NEW' }),
  })
  const wrapper = mount(SandboxPhone, { props: { channel, waId: '15551230001', name: 'Ana', pollMs: 60_000 }, attachTo: document.body })
  return { wrapper, calls }
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('sandbox phone', () => {
  it("shows the customer's and the business's messages as text, with the business's ticks", async () => {
    const { wrapper } = setup([
      msg(1, { direction: 'inbound', sender: 'customer', text: '<img src=x onerror=alert(1)>', status: 'received' }),
      msg(2, { sender: 'agent', text: 'Hello!', status: 'delivered', external_id: 'wamid.B' }),
    ])
    await flushPromises()
    const rows = wrapper.findAll('[data-testid="phone-message"]')
    expect(rows.map((r) => r.attributes('data-direction'))).toEqual(['inbound', 'outbound'])
    expect(rows[0]!.get('[data-testid="phone-message-text"]').text()).toBe('<img src=x onerror=alert(1)>')
    expect(wrapper.find('.screen img').exists()).toBe(false)
    expect(rows[0]!.find('[data-testid="ticks"]').exists()).toBe(false)
    expect(rows[1]!.get('[data-testid="ticks"]').attributes('data-status')).toBe('delivered')
  })

  it('answers a list (the CSAT survey) by tapping a row', async () => {
    const { wrapper, calls } = setup([survey])
    await flushPromises()
    await wrapper.get('[data-testid="phone-list-button"]').trigger('click')
    const rows = wrapper.findAll('[data-testid="phone-list-row"]')
    expect(rows.map((r) => r.text())).toEqual(['5 – Excellent', '1 – Very poor'])
    await rows[0]!.trigger('click')
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')
    expect(post?.body).toEqual({ wa_id: '15551230001', name: 'Ana', type: 'list_reply', reply_id: 'csat:9:5', text: '5 – Excellent', reply_to: 'wamid.SURVEY' })
  })

  it('reacts with an emoji and back-dates a message by 25 hours', async () => {
    const { wrapper, calls } = setup([msg(2, { sender: 'agent', text: 'Hello!', external_id: 'wamid.B' })])
    await flushPromises()
    await wrapper.get('.react-toggle').trigger('click')
    await wrapper.findAll('.react-emoji')[0]!.trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'POST').at(-1)?.body).toMatchObject({ type: 'reaction', message_id: 'wamid.B', emoji: '👍' })

    await wrapper.get('[data-testid="phone-backdate"]').setValue(true)
    await wrapper.get('[data-testid="phone-input"]').setValue('Old question')
    await wrapper.get('[data-testid="phone-input"]').trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(calls.filter((c) => c.method === 'POST').at(-1)?.body).toEqual({ wa_id: '15551230001', name: 'Ana', type: 'text', text: 'Old question', hours_ago: 25 })
    expect((wrapper.get('[data-testid="phone-backdate"]').element as HTMLInputElement).checked).toBe(false)
  })
})
