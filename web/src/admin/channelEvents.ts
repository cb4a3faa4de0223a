// What Meta reported about a channel besides messages (GET /channels/:id/events), summed up for
// people: quality rating and messaging limit changes, account updates, errors not tied to a message,
// template reviews, delivery statuses Switchboard does not know. Details keep Meta's field names
// (whatsapp/testdata has a fixture of each); anything else shows its field and compact JSON. The
// result is text, rendered with {{ }} only.
import type { ChannelEvent } from './types'

export type EventTone = 'neutral' | 'success' | 'warning' | 'danger'

/** EventSummary is one notification as the admin page lists it. */
export interface EventSummary {
  /** label is the kind, for the badge: Quality, Account, Error, Template, Status, or the field. */
  label: string
  title: string
  /** detail is a second line ("" for none). */
  detail: string
  tone: EventTone
}

function rec(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
}

/** str reads a text field; Meta sends some as numbers (ids, codes), which are kept as text. */
function str(v: unknown): string {
  if (typeof v === 'string') return v.trim()
  if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  return ''
}

/** words turns one of Meta's codes into words: ACCOUNT_VIOLATION → "account violation". */
export function words(code: string): string {
  return code.replace(/_/g, ' ').toLowerCase().trim()
}

/** compactJSON writes details on one line, cut at max characters. */
export function compactJSON(v: unknown, max = 300): string {
  let s: string
  try {
    s = JSON.stringify(v) ?? String(v)
  } catch {
    s = String(v)
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}

/** tier names a messaging limit: TIER_10K → "10K", TIER_UNLIMITED → "unlimited". */
export function tier(v: string): string {
  const t = v.replace(/^TIER_/i, '')
  if (/^unlimited$/i.test(t)) return 'unlimited'
  if (/^not_set$/i.test(t)) return 'not set'
  return t
}

const arrow = (from: string, to: string): string => (from && to ? `${from} → ${to}` : to || from)

/** templateName is "order_update (en_US)" from a template event's details. */
function templateName(d: Record<string, unknown>): string {
  const name = str(d.message_template_name) || str(d.message_template_id) || 'template'
  const lang = str(d.message_template_language)
  return lang ? `${name} (${lang})` : name
}

function quality(d: Record<string, unknown>): EventSummary {
  const event = str(d.event).toUpperCase()
  const before = str(d.previous_quality_score) || str(d.old_quality_score)
  const after = str(d.new_quality_score) || str(d.current_quality_score)
  const current = str(d.max_daily_conversations_per_business) || str(d.current_limit)
  const old = str(d.old_limit)
  const limits = current || old ? `${arrow(tier(old), tier(current))} a day` : ''
  const q = (title: string, tone: EventTone, detail = limits ? `Messaging limit ${limits}` : ''): EventSummary => ({ label: 'Quality', title, detail, tone })
  if (before || after) {
    return q(`Quality rating: ${arrow(before, after)}`, /^(RED|LOW)$/i.test(after) ? 'danger' : /^(YELLOW|MEDIUM)$/i.test(after) ? 'warning' : /^(GREEN|HIGH)$/i.test(after) ? 'success' : 'neutral')
  }
  if (event === 'FLAGGED') return q('Quality rating: flagged as low', 'danger')
  if (event === 'UNFLAGGED') return q('Quality rating: no longer flagged', 'success')
  if (event === 'UPGRADE' && limits) return q(`Messaging limit raised: ${limits}`, 'success', '')
  if (event === 'DOWNGRADE' && limits) return q(`Messaging limit lowered: ${limits}`, 'warning', '')
  return q(`Phone number quality: ${event ? words(event) : 'update'}`, 'neutral')
}

function account(d: Record<string, unknown>): EventSummary {
  const event = str(d.event)
  const notes: string[] = []
  const violation = str(rec(d.violation_info)?.violation_type)
  if (violation) notes.push(`violation: ${words(violation)}`)
  const ban = rec(d.ban_info)
  if (ban && str(ban.waba_ban_state)) notes.push(`ban: ${words(str(ban.waba_ban_state))}${str(ban.waba_ban_date) ? ` on ${str(ban.waba_ban_date)}` : ''}`)
  const restrictions = Array.isArray(d.restriction_info) ? d.restriction_info : []
  for (const r of restrictions) {
    const kind = str(rec(r)?.restriction_type)
    const until = str(rec(r)?.expiration)
    if (kind) notes.push(`restricted: ${words(kind)}${until ? ` until ${until}` : ''}`)
  }
  const serious = /VIOLATION|BAN|RESTRICT|DISABLE|LOCK|OFFBOARD/i.test(event)
  return {
    label: 'Account',
    title: `Account update: ${event ? words(event) : 'no event given'}${notes.length ? ` (${notes.join('; ')})` : ''}`,
    detail: '',
    tone: serious ? 'danger' : 'neutral',
  }
}

function errors(details: unknown): EventSummary {
  const list = Array.isArray(details) ? details : [details]
  const lines = list.map((x) => {
    const e = rec(x) ?? {}
    const code = str(e.code)
    const title = str(e.title) || str(e.message) || 'Unknown error'
    const more = str(e.details) || str(rec(e.error_data)?.details)
    return `Error ${code ? `${code} ` : ''}${title}${more && more !== title ? `: ${more}` : ''}`
  })
  return { label: 'Error', title: lines[0] ?? 'Error', detail: lines.slice(1).join(' '), tone: 'danger' }
}

function templateStatus(d: Record<string, unknown>): EventSummary {
  const event = str(d.event).toUpperCase()
  const reason = str(d.reason)
  const hasReason = reason !== '' && reason.toUpperCase() !== 'NONE'
  const notes: string[] = []
  const rejection = rec(d.rejection_info)
  if (rejection) notes.push(...[str(rejection.reason), str(rejection.recommendation)].filter(Boolean))
  const other = rec(d.other_info)
  if (other) notes.push(...[str(other.title), str(other.description)].filter(Boolean))
  const disabled = str(rec(d.disable_info)?.disable_date)
  if (disabled) notes.push(`Disabled on ${disabled}.`)
  const tone: EventTone = event === 'APPROVED' ? 'success' : /REJECTED|DISABLED|PAUSED|FLAGGED/.test(event) ? 'danger' : 'neutral'
  return {
    label: 'Template',
    title: `Template ${templateName(d)} ${event || 'updated'}${hasReason ? `: ${reason}` : ''}`,
    detail: notes.join(' · '),
    tone,
  }
}

/** summarize describes one event for the admin page. */
export function summarize(e: Pick<ChannelEvent, 'field' | 'details'>): EventSummary {
  const d = rec(e.details)
  switch (e.field) {
    case 'phone_number_quality_update':
      if (d) return quality(d)
      break
    case 'account_update':
      if (d) return account(d)
      break
    case 'errors':
      return errors(e.details)
    case 'message_template_status_update':
      if (d) return templateStatus(d)
      break
    case 'message_template_quality_update':
      if (d) {
        const after = str(d.new_quality_score)
        return {
          label: 'Template',
          title: `Template ${templateName(d)} quality: ${arrow(str(d.previous_quality_score), after) || 'updated'}`,
          detail: '',
          tone: /^RED$/i.test(after) ? 'danger' : /^YELLOW$/i.test(after) ? 'warning' : 'neutral',
        }
      }
      break
    case 'template_category_update':
      if (d) {
        return {
          label: 'Template',
          title: `Template ${templateName(d)} category: ${arrow(str(d.previous_category), str(d.new_category)) || 'updated'}`,
          detail: '',
          tone: 'neutral',
        }
      }
      break
  }
  if (e.field.startsWith('status:')) {
    const status = e.field.slice('status:'.length)
    return { label: 'Status', title: `Message status “${status}”, which Switchboard does not know`, detail: compactJSON(e.details), tone: 'neutral' }
  }
  return { label: e.field || 'Event', title: e.field || 'Event', detail: compactJSON(e.details), tone: 'neutral' }
}
