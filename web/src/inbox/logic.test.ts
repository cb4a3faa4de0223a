import { describe, expect, it } from 'vitest'
import type { Conversation, Message } from '../types'
import { matchesFilter, mergeConversation, placeConversation, upsertMessage, type ListFilter } from './logic'

const ME = 7

function conv(id: number, fields: Partial<Conversation> = {}): Conversation {
  return {
    id,
    channel_id: 1,
    contact_id: id,
    contact: { id, name: `Customer ${id}`, wa_id: `1555000000${id}`, phone: `+1555000000${id}`, opted_out: false },
    status: 'open',
    assignee: null,
    last_inbound_at: null,
    window_expires_at: null,
    last_message_at: `2026-03-10T12:0${id}:00Z`,
    created_at: '2026-03-10T12:00:00Z',
    ...fields,
  }
}

function msg(id: number, fields: Partial<Message> = {}): Message {
  return {
    id,
    conversation_id: 1,
    channel_id: 1,
    direction: 'outbound',
    sender: 'agent',
    type: 'text',
    text: `m${id}`,
    private: false,
    status: 'queued',
    error: null,
    reactions: [],
    created_at: '2026-03-10T12:00:00Z',
    ...fields,
  }
}

const mine: ListFilter = { tab: 'mine', status: 'open', channelId: null, q: '' }
const unassigned: ListFilter = { ...mine, tab: 'unassigned' }

describe('conversation lists', () => {
  it('filters by tab, status, channel and contact', () => {
    const c = conv(1, { assignee: { kind: 'human', id: ME, name: 'Me' } })
    expect(matchesFilter(c, mine, ME)).toBe(true)
    expect(matchesFilter(c, unassigned, ME)).toBe(false)
    expect(matchesFilter(c, { ...mine, status: 'resolved' }, ME)).toBe(false)
    expect(matchesFilter(c, { ...mine, tab: 'all', channelId: 2 }, ME)).toBe(false)
    expect(matchesFilter(c, { ...mine, q: '5550000001' }, ME)).toBe(true)
    expect(matchesFilter(c, { ...mine, q: 'nobody' }, ME)).toBe(false)
  })

  it('moves a conversation from Unassigned to Mine when it is assigned', () => {
    const waiting = conv(1)
    let u = placeConversation([], waiting, unassigned, ME)
    let m = placeConversation([], waiting, mine, ME)
    expect(u.map((c) => c.id)).toEqual([1])
    expect(m).toEqual([])
    const assigned = mergeConversation(waiting, { ...waiting, assignee: { kind: 'human', id: ME, name: '' }, contact: undefined })
    u = placeConversation(u, assigned, unassigned, ME)
    m = placeConversation(m, assigned, mine, ME)
    expect(u).toEqual([])
    expect(m.map((c) => c.id)).toEqual([1])
    expect(m[0]?.contact?.name).toBe('Customer 1') // kept from what was known
  })

  it('keeps the list most recently active first', () => {
    let list = [conv(3), conv(2), conv(1)]
    list = placeConversation(list, { ...conv(1), last_message_at: '2026-03-10T13:00:00Z' }, { ...mine, tab: 'all' }, ME)
    expect(list.map((c) => c.id)).toEqual([1, 3, 2])
  })

  it('keeps the assignee name and never moves the preview backwards', () => {
    const old = conv(1, { assignee: { kind: 'human', id: 2, name: 'Bea' }, last_message_preview: 'new', last_message_at: '2026-03-10T13:00:00Z' })
    const merged = mergeConversation(old, { ...old, assignee: { kind: 'human', id: 2, name: '' }, last_message_preview: 'old', last_message_at: '2026-03-10T12:00:00Z' })
    expect(merged.assignee?.name).toBe('Bea')
    expect(merged.last_message_preview).toBe('new')
  })
})

describe('upsertMessage', () => {
  it("replaces the optimistic bubble with the server's message of the same client id", () => {
    const local = msg(-1, { client_id: 'c-1', local: true, text: 'hello' })
    let list = upsertMessage([msg(1)], local)
    expect(list.map((m) => m.id)).toEqual([1, -1])
    list = upsertMessage(list, msg(2, { client_id: 'c-1', text: 'hello' }))
    expect(list.map((m) => [m.id, !!m.local])).toEqual([
      [1, false],
      [2, false],
    ])
  })

  it('never moves a delivery status backwards, but a failure shows', () => {
    let list = [msg(5, { status: 'read' })]
    list = upsertMessage(list, msg(5, { status: 'delivered' }))
    expect(list[0]?.status).toBe('read')
    list = upsertMessage([msg(6, { status: 'sent' })], msg(6, { status: 'failed', error: { code: 131047, title: 'Re-engagement message' } }))
    expect(list[0]?.status).toBe('failed')
  })

  it('keeps id order', () => {
    expect(upsertMessage([msg(1), msg(3)], msg(2)).map((m) => m.id)).toEqual([1, 2, 3])
  })
})
