// A channel's business hours as of now, for people: "Open now", "Closed since Fri 17:30 · opens
// Mon 09:00 (Europe/Paris)" in the settings, "Outside business hours · opens Mon 09:00" near the
// composer. Times are written in the channel's time zone (Intl.DateTimeFormat), since the hours
// were set in it. No DOM, no Vue: unit tested directly.
import type { BusinessHoursStatus } from '../types'

const DAY = 86_400_000

/** knownZone returns the zone when the browser knows it, else UTC (as the server falls back). */
export function knownZone(timeZone: string | null | undefined): string {
  if (!timeZone) return 'UTC'
  try {
    new Intl.DateTimeFormat('en', { timeZone })
    return timeZone
  } catch {
    return 'UTC'
  }
}

/** browserZone is the agent's own time zone. */
export function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  } catch {
    return 'UTC'
  }
}

/**
 * zonedTime writes an instant in a time zone: the weekday and time ("Mon 09:00") when it is less
 * than six days away (either way), so the weekday is unambiguous; with the date ("Mon 6 Jan, 09:00")
 * otherwise, and the year when it is not this year's. An unreadable time gives ''.
 */
export function zonedTime(iso: string, timeZone: string, now: number = Date.now(), locale?: string): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  const zone = knownZone(timeZone)
  const near = Math.abs(t - now) < 6 * DAY
  const year = new Intl.DateTimeFormat('en', { timeZone: zone, year: 'numeric' })
  const dateOpts: Intl.DateTimeFormatOptions = { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short' }
  if (year.format(t) !== year.format(now)) dateOpts.year = 'numeric'
  // The day and the time are written apart so the time reads the same either way ("09:00").
  const day = new Intl.DateTimeFormat(locale, near ? { timeZone: zone, weekday: 'short' } : dateOpts)
  const time = new Intl.DateTimeFormat(locale, { timeZone: zone, timeStyle: 'short' })
  return `${day.format(t)}${near ? ' ' : ', '}${time.format(t)}`
}

/**
 * hoursState is "off" when the channel has no business hours, "closed" while the status says closed
 * and its next opening has not come yet, "open" otherwise.
 */
export function hoursState(s: BusinessHoursStatus, now: number = Date.now()): 'off' | 'open' | 'closed' {
  if (!s.enabled) return 'off'
  if (s.open) return 'open'
  const next = s.next_opening ? Date.parse(s.next_opening) : Number.NaN
  return Number.isNaN(next) || next > now ? 'closed' : 'open'
}

/**
 * hoursStatusText is the settings' line: "Open now", "Closed since Fri 17:30 · opens Mon 09:00
 * (Europe/Paris)", or that the schedule is off. A status read before its next opening went by
 * says open.
 */
export function hoursStatusText(s: BusinessHoursStatus, now: number = Date.now(), locale?: string): string {
  const state = hoursState(s, now)
  if (state === 'off') return 'Business hours are off: customers can write at any time and get no away message.'
  if (state === 'open') return 'Open now'
  const zone = knownZone(s.timezone)
  const parts = [s.closed_since ? `Closed since ${zonedTime(s.closed_since, zone, now, locale)}` : 'Closed']
  parts.push(s.next_opening ? `opens ${zonedTime(s.next_opening, zone, now, locale)}` : 'no opening in the coming year')
  return `${parts.join(' · ')} (${zone})`
}

/**
 * closedNote is the inbox's note when the conversation's channel is closed: "Outside business hours
 * · opens Mon 09:00", with the zone when it is not the agent's own; '' while open or when the
 * schedule is off.
 */
export function closedNote(s: BusinessHoursStatus, now: number = Date.now(), locale?: string, ownZone: string = browserZone()): string {
  if (hoursState(s, now) !== 'closed') return ''
  if (!s.next_opening) return 'Outside business hours'
  const zone = knownZone(s.timezone)
  const at = zonedTime(s.next_opening, zone, now, locale)
  return `Outside business hours · opens ${at}${zone === ownZone ? '' : ` (${zone})`}`
}
