// What an agent does to a conversation. Sends go over the websocket when it
// is up (the frame's id is the idempotency key) and over REST otherwise, or
// when the socket drops before the ack — with the same key, so a message is
// never sent twice.
import { api, ApiError, NETWORK_ERROR } from '../api'
import { realtime } from '../realtime'
import type { Conversation, Message } from '../types'
import type { HeaderParam } from './format'

export interface TemplateSend {
  name: string
  language: string
  params?: string[] | Record<string, string>
  /** header_params fill the header: a TEXT header's variables, or a media header's file by link. */
  header_params?: HeaderParam[]
}

export interface SendBody {
  text?: string
  private?: boolean
  template?: TemplateSend
  reply_to?: string
}

function retryable(e: unknown): boolean {
  return e instanceof ApiError && (e.code === NETWORK_ERROR || e.code === 'timeout')
}

/** sendMessage sends a text, a note or a template and returns the stored (queued) message. */
export async function sendMessage(conversationId: number, body: SendBody, clientId: string): Promise<Message> {
  if (realtime.connected) {
    try {
      const ack = await realtime.request<{ message: Message }>('message.send', { ...body, conversation_id: conversationId }, clientId)
      return ack.message
    } catch (e) {
      if (!retryable(e)) throw e
    }
  }
  return api.post<Message>(`/conversations/${conversationId}/messages`, { ...body, client_id: clientId }, {
    headers: { 'Idempotency-Key': clientId },
  })
}

/** uploadAttachment sends a file (multipart "file" and "caption") over REST. */
export function uploadAttachment(conversationId: number, file: File, caption: string, clientId: string): Promise<Message> {
  const form = new FormData()
  form.append('file', file, file.name)
  if (caption.trim()) form.append('caption', caption)
  form.append('client_id', clientId)
  return api.upload<Message>(`/conversations/${conversationId}/messages`, form, { headers: { 'Idempotency-Key': clientId } })
}

/** retryMessage queues a failed message again. */
export function retryMessage(conversationId: number, messageId: number): Promise<Message> {
  return api.post<Message>(`/conversations/${conversationId}/messages/${messageId}/retry`)
}

/** markRead clears the unread count and tells WhatsApp the customer's messages were read. */
export async function markRead(conversationId: number): Promise<void> {
  if (realtime.connected) {
    try {
      await realtime.request('read', { conversation_id: conversationId })
      return
    } catch (e) {
      if (!retryable(e)) throw e
    }
  }
  await api.post<void>(`/conversations/${conversationId}/read`)
}

export function assignConversation(conversationId: number, agentId: number): Promise<Conversation> {
  return api.post<Conversation>(`/conversations/${conversationId}/assign`, { agent_id: agentId })
}

export function resolveConversation(conversationId: number): Promise<Conversation> {
  return api.post<Conversation>(`/conversations/${conversationId}/resolve`)
}

export function reopenConversation(conversationId: number): Promise<Conversation> {
  return api.post<Conversation>(`/conversations/${conversationId}/reopen`)
}

/** setTyping tells colleagues (and the customer, via WhatsApp) that the agent is typing; best effort. */
export function setTyping(conversationId: number, on: boolean): void {
  realtime.notify('typing', { conversation_id: conversationId, on })
}
