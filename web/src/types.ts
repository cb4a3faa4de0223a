// The domain shapes the app reads from the API and the websocket (DESIGN §4).
// Fields the server may leave out are optional; the app never assumes more.
import type { Availability, Role } from './api'

export type ConversationStatus = 'open' | 'pending' | 'resolved'
export type MessageStatus = 'received' | 'queued' | 'sent' | 'delivered' | 'read' | 'played' | 'failed'
export type Direction = 'inbound' | 'outbound'
export type Sender = 'customer' | 'agent' | 'ai' | 'system'

export interface Contact {
  id: number
  name: string
  wa_id: string
  phone: string
  tags?: string[]
  opted_out: boolean
  opted_out_at?: string
  created_at?: string
}

export interface Assignee {
  kind: 'human' | 'ai'
  id: number
  name: string
}

export interface Conversation {
  id: number
  channel_id: number
  contact_id: number
  contact?: Contact
  status: ConversationStatus
  assignee: Assignee | null
  team_id?: number | null
  ai_handed_off?: boolean
  last_inbound_at: string | null
  window_expires_at: string | null
  last_message_at?: string | null
  last_message_preview?: string
  unread_count?: number
  waiting_since?: string | null
  assigned_at?: string | null
  resolved_at?: string | null
  resolutions?: number
  created_at: string
  updated_at?: string
}

export interface MessageError {
  code: number
  title: string
  details?: string
}

export interface Media {
  external_id?: string
  mime_type: string
  filename?: string
  size?: number
  voice?: boolean
  status: 'pending' | 'ready' | 'unavailable'
  url?: string
}

export interface Reaction {
  emoji: string
  sender: string
  at: string
}

export interface Message {
  id: number
  conversation_id: number
  channel_id: number
  direction: Direction
  sender: Sender
  sender_id?: number
  sender_name?: string
  type: string
  text: string
  private: boolean
  external_id?: string
  status: MessageStatus
  error: MessageError | null
  media?: Media
  reactions: Reaction[] | null
  reply_to?: string
  payload?: unknown
  client_id?: string
  timestamp?: string
  sent_at?: string
  delivered_at?: string
  read_at?: string
  failed_at?: string
  created_at: string
  /** local marks a bubble the app drew before the server answered (optimistic send). */
  local?: boolean
}

export interface Channel {
  id: number
  type: string
  name: string
  phone_number: string
  phone_number_id?: string
  status?: string
  status_reason?: string
  sandbox?: boolean
  created_at?: string
}

export interface ChannelMember {
  channel_id: number
  agent_id: number
  capacity: number
}

/**
 * BusinessHoursStatus is whether a channel is open now by its business hours (GET
 * /channels/:id/business-hours): when closed, since when and when it opens next (RFC 3339 UTC; null
 * while open, when the schedule is off, or when it never opens within a year).
 */
export interface BusinessHoursStatus {
  enabled: boolean
  timezone: string
  open: boolean
  next_opening: string | null
  closed_since: string | null
}

export interface TemplateComponent {
  type: string
  format?: string
  text?: string
  buttons?: { type: string; text?: string; url?: string }[]
}

export interface Template {
  id: number
  channel_id: number
  name: string
  language: string
  category: string
  status: string
  parameter_format?: string
  components: TemplateComponent[] | null
}

export interface AgentSummary {
  id: number
  name: string
  email: string
  role: Role
  availability: Availability
  disabled?: boolean
  /**
   * connected: a live connection on any replica, whatever their availability (kept current by
   * presence.updated events); shown as online when also available.
   */
  connected: boolean
}
