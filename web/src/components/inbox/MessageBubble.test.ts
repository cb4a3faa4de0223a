import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { Message } from '../../types'
import MessageBubble from './MessageBubble.vue'
import MessageTicks from './MessageTicks.vue'

function msg(fields: Partial<Message> = {}): Message {
  return {
    id: 1,
    conversation_id: 1,
    channel_id: 1,
    direction: 'outbound',
    sender: 'agent',
    sender_name: 'Bea',
    type: 'text',
    text: 'Hello',
    private: false,
    status: 'sent',
    error: null,
    reactions: [],
    created_at: '2026-03-10T12:00:00Z',
    ...fields,
  }
}

describe('ticks', () => {
  it.each([
    ['queued', 'Sending'],
    ['sent', 'Sent'],
    ['delivered', 'Delivered'],
    ['read', 'Read'],
    ['failed', 'Not delivered'],
  ])('%s shows "%s"', (status, label) => {
    const w = mount(MessageTicks, { props: { status } })
    const t = w.get('[data-testid="ticks"]')
    expect(t.attributes('data-status')).toBe(status)
    expect(t.attributes('title')).toBe(label)
    expect(t.get('svg').attributes('aria-label')).toBe(label)
  })

  it('draws one tick for sent, two for delivered, two blue for read', () => {
    const paths = (status: string) => mount(MessageTicks, { props: { status } }).findAll('path').length
    expect(paths('sent')).toBe(1)
    expect(paths('delivered')).toBe(2)
    expect(paths('read')).toBe(2)
    expect(mount(MessageTicks, { props: { status: 'read' } }).get('.ticks').classes()).toContain('read')
    expect(mount(MessageTicks, { props: { status: 'delivered' } }).get('.ticks').classes()).not.toContain('read')
  })

  it('shows nothing for a received message', () => {
    expect(mount(MessageTicks, { props: { status: 'received' } }).find('[data-testid="ticks"]').exists()).toBe(false)
  })
})

describe('message bubble', () => {
  it('renders customer text with HTML as text', () => {
    const evil = '<img src=x onerror=alert(1)><script>alert(2)</script>'
    const w = mount(MessageBubble, { props: { message: msg({ direction: 'inbound', sender: 'customer', text: evil, status: 'received' }) } })
    expect(w.get('[data-testid="message-text"]').text()).toBe(evil)
    expect(w.find('img').exists()).toBe(false)
    expect(w.find('script').exists()).toBe(false)
    expect(w.get('[data-testid="message"]').attributes('data-kind')).toBe('inbound')
    expect(w.find('[data-testid="ticks"]').exists()).toBe(false)
  })

  it("shows the business's messages with their ticks", () => {
    const w = mount(MessageBubble, { props: { message: msg({ status: 'delivered' }) } })
    expect(w.get('[data-testid="message"]').attributes('data-kind')).toBe('outbound')
    expect(w.get('[data-testid="ticks"]').attributes('data-status')).toBe('delivered')
    expect(w.text()).toContain('Bea')
  })

  it("shows Meta's reason for a failure and offers a retry", async () => {
    const m = msg({ status: 'failed', error: { code: 131047, title: 'Re-engagement message', details: 'More than 24 hours have passed.' } })
    const w = mount(MessageBubble, { props: { message: m } })
    const f = w.get('[data-testid="failure"]')
    expect(f.text()).toContain('Re-engagement message')
    expect(f.text()).toContain('131047')
    expect(f.text()).toContain('More than 24 hours have passed.')
    await f.get('button').trigger('click')
    expect(w.emitted('retry')).toEqual([[m]])
  })

  it('centres activity lines and sets private notes apart', () => {
    const a = mount(MessageBubble, { props: { message: msg({ type: 'activity', sender: 'system', text: 'Assigned to Bea.' }) } })
    expect(a.get('[data-kind="activity"]').attributes('role')).toBe('note')
    expect(a.find('[data-testid="ticks"]').exists()).toBe(false)
    const n = mount(MessageBubble, { props: { message: msg({ type: 'note', private: true, text: 'VIP customer' }) } })
    expect(n.get('[data-testid="message"]').attributes('data-kind')).toBe('note')
    expect(n.text()).toContain('Private note')
    expect(n.find('[data-testid="ticks"]').exists()).toBe(false)
  })

  it('shows reactions, the quoted message and ready media', () => {
    const quoted = msg({ id: 2, external_id: 'wamid.A', text: 'Your order shipped' })
    const m = msg({
      id: 3,
      direction: 'inbound',
      sender: 'customer',
      type: 'image',
      text: 'Look',
      reply_to: 'wamid.A',
      media: { mime_type: 'image/png', status: 'ready', url: '/api/v1/messages/3/media' },
      reactions: [{ emoji: '👍', sender: 'customer', at: '2026-03-10T12:00:00Z' }],
    })
    const w = mount(MessageBubble, { props: { message: m, quoted } })
    expect(w.get('[data-testid="reply-context"]').text()).toContain('Your order shipped')
    expect(w.get('[data-testid="media-image"]').attributes('src')).toBe('/api/v1/messages/3/media')
    expect(w.get('.reactions').text()).toContain('👍')
    const pending = mount(MessageBubble, { props: { message: { ...m, media: { mime_type: 'image/png', status: 'pending' as const } } } })
    expect(pending.find('img').exists()).toBe(false)
    expect(pending.text()).toContain('Downloading')
  })
})
