// How live events change the inbox's lists: which conversations a list shows,
// how a partial conversation from an event merges into the one already
// known, and how messages are upserted (optimistic bubbles replaced by the
// server's message with the same client id).
import type { Conversation, ConversationStatus, Message } from '../types'

export const INBOX_TABS = ['mine', 'unassigned', 'all'] as const
export type InboxTab = (typeof INBOX_TABS)[number]

export interface ListFilter {
  tab: InboxTab
  /** '' shows every status. */
  status: ConversationStatus | ''
  channelId: number | null
  q: string
}

/** matchesFilter reports whether a conversation belongs in a list. */
export function matchesFilter(c: Conversation, f: ListFilter, meId: number): boolean {
  if (f.status && c.status !== f.status) return false
  if (f.channelId && c.channel_id !== f.channelId) return false
  if (f.tab === 'mine' && !(c.assignee?.kind === 'human' && c.assignee.id === meId)) return false
  if (f.tab === 'unassigned' && c.assignee) return false
  const q = f.q.trim().toLowerCase()
  if (q) {
    const ct = c.contact
    if (!ct) return false
    const hay = [ct.name, ct.wa_id, ct.phone].map((s) => (s ?? '').toLowerCase())
    if (!hay.some((s) => s.includes(q))) return false
  }
  return true
}

function time(c: Conversation): number {
  const t = c.last_message_at ?? c.created_at
  const n = t ? new Date(t).getTime() : 0
  return Number.isNaN(n) ? 0 : n
}

/** compareConversations orders a list most recently active first, as the server does. */
export function compareConversations(a: Conversation, b: Conversation): number {
  return time(b) - time(a) || b.id - a.id
}

/**
 * mergeConversation applies a conversation from an event to the known one.
 * Events may leave out the contact or the assignee's name; those are kept.
 */
export function mergeConversation(old: Conversation | undefined, incoming: Conversation): Conversation {
  if (!old) return { ...incoming }
  const merged: Conversation = { ...old, ...incoming }
  merged.contact = incoming.contact ?? old.contact
  if (incoming.assignee && !incoming.assignee.name && old.assignee?.kind === incoming.assignee.kind && old.assignee.id === incoming.assignee.id) {
    merged.assignee = { ...incoming.assignee, name: old.assignee.name }
  }
  // A late event must not move the list's preview backwards.
  if (old.last_message_at && incoming.last_message_at && new Date(incoming.last_message_at) < new Date(old.last_message_at)) {
    merged.last_message_at = old.last_message_at
    merged.last_message_preview = old.last_message_preview
  }
  return merged
}

/**
 * placeConversation puts a conversation into a list or takes it out, after a
 * change: present and matching → updated in place (and re-sorted); matching
 * but absent → inserted; not matching → removed. The list is returned new.
 */
export function placeConversation(list: Conversation[], c: Conversation, f: ListFilter, meId: number): Conversation[] {
  const i = list.findIndex((x) => x.id === c.id)
  const keep = matchesFilter(c, f, meId)
  if (!keep) return i < 0 ? list : list.filter((x) => x.id !== c.id)
  const next = i < 0 ? [...list, c] : list.map((x) => (x.id === c.id ? c : x))
  return next.sort(compareConversations)
}

/** isShownInList reports whether a message changes the conversation's preview (not notes, not activity lines). */
export function changesPreview(m: Message): boolean {
  return !m.private && m.type !== 'activity' && m.type !== 'note' && m.type !== 'reaction'
}

/**
 * upsertMessage adds or replaces a message in a thread kept in id order. A
 * message from the server replaces the optimistic bubble with the same
 * client id; a stale update (a lower delivery status) never moves a message
 * backwards.
 */
export function upsertMessage(list: Message[], m: Message): Message[] {
  let i = list.findIndex((x) => x.id === m.id && !x.local)
  if (i < 0 && m.client_id) i = list.findIndex((x) => x.client_id === m.client_id)
  if (i >= 0) {
    const old = list[i] as Message
    const merged = !old.local && statusRank(m.status) < statusRank(old.status) && m.status !== 'failed' ? { ...m, status: old.status } : m
    const next = [...list]
    next[i] = { ...merged, local: false }
    return next.sort(compareMessages)
  }
  return [...list, m].sort(compareMessages)
}

const ranks: Record<string, number> = { queued: 0, sent: 1, delivered: 2, read: 3, played: 4 }

function statusRank(s: string): number {
  return ranks[s] ?? -1
}

/** compareMessages orders a thread: server messages by id, optimistic ones last, in the order they were made. */
export function compareMessages(a: Message, b: Message): number {
  if (!!a.local !== !!b.local) return a.local ? 1 : -1
  if (a.local && b.local) return a.created_at.localeCompare(b.created_at)
  return a.id - b.id
}
