// Pure formatting helpers of the inbox: times, the 24-hour window, ticks,
// template variables and previews. No DOM, no Vue: unit tested directly.
import type { Message, MessageStatus, Template } from '../types'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

function toDate(v: string | number | Date): Date {
  return v instanceof Date ? v : new Date(v)
}

/** relativeTime is the short "when" of the conversation list: now, 5m, 3h, Tue, 12 Mar. */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return ''
  const t = toDate(iso).getTime()
  if (Number.isNaN(t)) return ''
  const diff = now - t
  if (diff < MINUTE) return 'now'
  if (diff < HOUR) return `${Math.floor(diff / MINUTE)}m`
  if (diff < DAY) return `${Math.floor(diff / HOUR)}h`
  if (diff < 7 * DAY) return toDate(t).toLocaleDateString(undefined, { weekday: 'short' })
  const d = toDate(t)
  const sameYear = d.getFullYear() === new Date(now).getFullYear()
  return d.toLocaleDateString(undefined, sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' })
}

/** clockTime is a message's time of day. */
export function clockTime(iso: string): string {
  const d = toDate(iso)
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
}

/** fullTime is a precise time for tooltips. */
export function fullTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = toDate(iso)
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

/** dayLabel names the day separators of a thread: Today, Yesterday, or the date. */
export function dayLabel(iso: string, now: number = Date.now()): string {
  const d = toDate(iso)
  const start = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime()
  const days = Math.round((start(new Date(now)) - start(d)) / DAY)
  if (days === 0) return 'Today'
  if (days === 1) return 'Yesterday'
  return d.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' })
}

/** dayKey groups messages by local day. */
export function dayKey(iso: string): string {
  const d = toDate(iso)
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`
}

export interface WindowState {
  /** open is true while free-form messages may be sent. */
  open: boolean
  /** ms left (0 when closed). */
  remaining: number
  /** label is what the composer shows: "23h 5m left to reply", "Window closed". */
  label: string
  /** urgent is the last hour. */
  urgent: boolean
}

/** durationLabel writes a duration as "2h 5m", "45m" or "under a minute". */
export function durationLabel(ms: number): string {
  if (ms < MINUTE) return 'under a minute'
  const h = Math.floor(ms / HOUR)
  const m = Math.floor((ms % HOUR) / MINUTE)
  if (h === 0) return `${m}m`
  return m === 0 ? `${h}h` : `${h}h ${m}m`
}

/**
 * windowState is WhatsApp's 24-hour customer-service window as of now, from
 * the conversation's window_expires_at (null: the customer never wrote, so
 * only templates can start it).
 */
export function windowState(expiresAt: string | null | undefined, now: number = Date.now()): WindowState {
  if (!expiresAt) return { open: false, remaining: 0, label: 'No customer message yet: send a template', urgent: false }
  const remaining = toDate(expiresAt).getTime() - now
  if (!(remaining > 0)) return { open: false, remaining: 0, label: 'The 24-hour window is closed', urgent: false }
  return { open: true, remaining, label: `${durationLabel(remaining)} left to reply`, urgent: remaining < HOUR }
}

export interface TickInfo {
  /** kind picks the icon: clock, one check, two checks, two blue checks, alert. */
  kind: 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'none'
  label: string
}

/** ticks describes an outbound message's delivery state for its bubble. */
export function ticks(status: MessageStatus | string): TickInfo {
  switch (status) {
    case 'queued':
      return { kind: 'queued', label: 'Sending' }
    case 'sent':
      return { kind: 'sent', label: 'Sent' }
    case 'delivered':
      return { kind: 'delivered', label: 'Delivered' }
    case 'read':
    case 'played':
      return { kind: 'read', label: 'Read' }
    case 'failed':
      return { kind: 'failed', label: 'Not delivered' }
    default:
      return { kind: 'none', label: '' }
  }
}

/** TemplateVars are the variables of a template's BODY: numbered ({{1}}..{{n}}) or named ({{first_name}}). */
export interface TemplateVars {
  named: boolean
  /** keys are "1".."n" for numbered variables, the names in order of first appearance otherwise. */
  keys: string[]
}

const VAR = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g

/** bodyText returns the text of a template's BODY component. */
export function bodyText(t: Pick<Template, 'components'>): string {
  const body = (t.components ?? []).find((c) => c.type?.toUpperCase() === 'BODY')
  return body?.text ?? ''
}

/**
 * templateVars counts the variables of a template's BODY text the way the
 * server does: numbered ones up to the highest {{n}}, or each distinct name.
 */
export function templateVars(t: Pick<Template, 'components' | 'parameter_format'>): TemplateVars {
  return varsOf(bodyText(t), t.parameter_format)
}

function varsOf(text: string, parameterFormat: string | undefined): TemplateVars {
  let highest = 0
  const names: string[] = []
  for (const m of text.matchAll(VAR)) {
    const v = m[1] ?? ''
    if (/^[0-9]+$/.test(v)) highest = Math.max(highest, Number(v))
    else if (!names.includes(v)) names.push(v)
  }
  const named = (parameterFormat ?? '').toUpperCase() === 'NAMED' || (highest === 0 && names.length > 0)
  if (named) return { named: true, keys: names }
  return { named: false, keys: Array.from({ length: highest }, (_, i) => String(i + 1)) }
}

/** fillTemplate shows the body with the values typed so far; empty ones keep their {{placeholder}}. */
export function fillTemplate(text: string, values: Record<string, string>): string {
  return text.replace(VAR, (whole, key: string) => {
    const v = values[key]
    return v && v.trim() ? v : whole
  })
}

/** templateParams is the "params" of a template send: a list for numbered variables, an object for named ones. */
export function templateParams(vars: TemplateVars, values: Record<string, string>): string[] | Record<string, string> | undefined {
  if (vars.keys.length === 0) return undefined
  if (vars.named) return Object.fromEntries(vars.keys.map((k) => [k, values[k] ?? '']))
  return vars.keys.map((k) => values[k] ?? '')
}

/** MediaHeaderKind is the file a media header carries. */
export type MediaHeaderKind = 'image' | 'video' | 'document'

/**
 * TemplateHeader is what a template's HEADER asks of the agent: nothing (no header, or a text
 * header without variables), the variables of a TEXT header, or the file of an IMAGE, VIDEO or
 * DOCUMENT header. "unsupported" is a header Switchboard cannot fill (a location, ...).
 */
export type TemplateHeader =
  | { kind: 'none' }
  | { kind: 'text'; text: string; vars: TemplateVars }
  | { kind: MediaHeaderKind }
  | { kind: 'unsupported'; format: string }

const MEDIA_KINDS: readonly string[] = ['image', 'video', 'document']

/** templateHeader reads a template's HEADER component as the server checks it (by its format). */
export function templateHeader(t: Pick<Template, 'components' | 'parameter_format'>): TemplateHeader {
  const h = (t.components ?? []).find((c) => c.type?.toUpperCase() === 'HEADER')
  if (!h) return { kind: 'none' }
  const format = (h.format ?? '').toLowerCase()
  if (format === '' || format === 'text') return { kind: 'text', text: h.text ?? '', vars: varsOf(h.text ?? '', t.parameter_format) }
  if (MEDIA_KINDS.includes(format)) return { kind: format as MediaHeaderKind }
  return { kind: 'unsupported', format }
}

/** mediaLabels name a media header's file for people. */
export const mediaLabels: Record<MediaHeaderKind, string> = { image: 'Image', video: 'Video', document: 'Document' }

/**
 * linkProblem checks a media header's link the way WhatsApp needs it: an absolute https URL it can
 * download. It returns what is wrong, or '' for a good link (an empty one is "missing", not wrong).
 */
export function linkProblem(link: string): string {
  const s = link.trim()
  if (!s) return ''
  let u: URL
  try {
    u = new URL(s)
  } catch {
    return 'Paste the full link, starting with https://.'
  }
  if (u.protocol !== 'https:') return 'Use an https:// link: WhatsApp downloads the file from it.'
  if (!u.hostname) return 'Paste the full link, starting with https://.'
  return ''
}

/** linkFileName is the last part of a link's path ("invoice.pdf"), for previews. */
export function linkFileName(link: string): string {
  try {
    const path = new URL(link.trim()).pathname
    return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1))
  } catch {
    return ''
  }
}

/** HeaderParam fills a template header: a TEXT header's variable, or a media header's file by link. */
export type HeaderParam = string | { type: MediaHeaderKind; link: string; filename?: string }

/**
 * headerParams is the "header_params" of a template send: the text header's values in order, or the
 * one file of a media header ({"type", "link"}, plus "filename" for a document when given).
 */
export function headerParams(
  header: TemplateHeader,
  input: { values?: Record<string, string>; link?: string; filename?: string },
): HeaderParam[] | undefined {
  if (header.kind === 'text') {
    if (header.vars.keys.length === 0) return undefined
    return header.vars.keys.map((k) => input.values?.[k] ?? '')
  }
  if (header.kind === 'image' || header.kind === 'video' || header.kind === 'document') {
    const p: HeaderParam = { type: header.kind, link: (input.link ?? '').trim() }
    const filename = (input.filename ?? '').trim()
    if (header.kind === 'document' && filename) p.filename = filename
    return [p]
  }
  return undefined
}

const typeLabels: Record<string, string> = {
  image: 'Photo',
  video: 'Video',
  audio: 'Audio',
  voice: 'Voice message',
  document: 'Document',
  sticker: 'Sticker',
  location: 'Location',
  contacts: 'Contact card',
  template: 'Template',
  interactive: 'Interactive message',
  reaction: 'Reaction',
}

/** typeLabel names a message type for people. */
export function typeLabel(type: string): string {
  return typeLabels[type] ?? type.charAt(0).toUpperCase() + type.slice(1)
}

/** messagePreview is a one-line summary of a message (quotes, list previews). */
export function messagePreview(m: Pick<Message, 'text' | 'type'>): string {
  const t = (m.text ?? '').replace(/\s+/g, ' ').trim()
  if (t) return t.length > 140 ? `${t.slice(0, 140)}…` : t
  return `[${typeLabel(m.type)}]`
}

/** fileSize writes a byte count for people. */
export function fileSize(bytes: number | undefined): string {
  if (!bytes || bytes < 0) return ''
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`
}

/** InteractiveOption is a button or list row of an interactive message. */
export interface InteractiveOption {
  id: string
  title: string
  description?: string
}

export interface Interactive {
  kind: 'list' | 'button'
  body: string
  /** button is the list's opening button ("Rate us"). */
  button: string
  sections: { title: string; options: InteractiveOption[] }[]
}

function rec(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

/**
 * interactiveOf reads a business message's interactive list or reply buttons
 * from its payload (Meta's send body), or null for anything else.
 */
export function interactiveOf(payload: unknown): Interactive | null {
  const p = rec(payload)
  const inter = rec(p?.interactive)
  if (!inter) return null
  const kind = str(inter.type)
  const body = str(rec(inter.body)?.text)
  const action = rec(inter.action)
  if (kind === 'list') {
    const sections = Array.isArray(action?.sections) ? action.sections : []
    return {
      kind: 'list',
      body,
      button: str(action?.button) || 'Choose',
      sections: sections.map((s) => {
        const sec = rec(s)
        const rows = Array.isArray(sec?.rows) ? sec.rows : []
        return {
          title: str(sec?.title),
          options: rows
            .map((r) => rec(r))
            .filter((r): r is Record<string, unknown> => r !== null && str(r.id) !== '')
            .map((r) => ({ id: str(r.id), title: str(r.title), description: str(r.description) || undefined })),
        }
      }),
    }
  }
  if (kind === 'button') {
    const buttons = Array.isArray(action?.buttons) ? action.buttons : []
    const options = buttons
      .map((b) => rec(rec(b)?.reply))
      .filter((r): r is Record<string, unknown> => r !== null && str(r.id) !== '')
      .map((r) => ({ id: str(r.id), title: str(r.title) }))
    return { kind: 'button', body, button: '', sections: [{ title: '', options }] }
  }
  return null
}
