// The business-hours editor's model: the server's JSON ⇄ an editable state, and the checks made in the
// browser. Field paths are the server's ("business_hours.weekly.monday.0.start"), so a problem found
// here and one sent back by the API show in the same place.
import type { BusinessHours, DateOverride, Interval } from './types'

/** WEEKDAYS in the order the editor lists them (the week starts on Monday). */
export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const
export type Weekday = (typeof WEEKDAYS)[number]

export const WEEKDAY_LABELS: Record<Weekday, string> = {
  monday: 'Monday',
  tuesday: 'Tuesday',
  wednesday: 'Wednesday',
  thursday: 'Thursday',
  friday: 'Friday',
  saturday: 'Saturday',
  sunday: 'Sunday',
}

export const BH = 'business_hours'

export interface IntervalState {
  key: number
  start: string
  end: string
}

export interface DayState {
  open: boolean
  /** Kept while the day is closed, so reopening it brings its hours back; never sent when closed. */
  intervals: IntervalState[]
}

export interface OverrideState {
  key: number
  date: string
  closed: boolean
  intervals: IntervalState[]
  note: string
}

export interface HoursState {
  enabled: boolean
  timezone: string
  away_message: string
  away_while_ai: boolean
  days: Record<Weekday, DayState>
  overrides: OverrideState[]
}

let seq = 0
const nextKey = (): number => ++seq

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/

/** validClock reports whether s is "HH:MM" (00:00–23:59). */
export const validClock = (s: string): boolean => CLOCK.test(s)

/** toMinutes turns "HH:MM" into minutes after midnight ("24:00" is 1440). */
export function toMinutes(s: string): number {
  const [h, m] = s.split(':').map(Number)
  return (h ?? 0) * 60 + (m ?? 0)
}

/** fromMinutes turns minutes after midnight into "HH:MM", wrapping at a day. */
export function fromMinutes(n: number): string {
  const v = ((n % 1440) + 1440) % 1440
  return `${String(Math.floor(v / 60)).padStart(2, '0')}:${String(v % 60).padStart(2, '0')}`
}

/**
 * Midnight as an end is stored "24:00" (the end of the day); a time input cannot show that, so the
 * editor shows "00:00". Both mean the same to the server for any start, and "24:00" also allows a
 * whole day, 00:00 to 24:00.
 */
const endForInput = (end: string): string => (end === '24:00' ? '00:00' : end)
const endForServer = (end: string): string => (end === '00:00' ? '24:00' : end)

/** endsAtMidnight reports whether the interval closes at midnight. */
export const endsAtMidnight = (iv: Interval): boolean => iv.end === '00:00' || iv.end === '24:00'

/** isOvernight reports whether the interval runs past midnight into the next day. */
export function isOvernight(iv: Interval): boolean {
  if (!validClock(iv.start) || !validClock(endForInput(iv.end)) || endsAtMidnight(iv)) return false
  return toMinutes(iv.end) < toMinutes(iv.start)
}

/** durationMinutes is how long the interval is open (an overnight one wraps). */
export function durationMinutes(iv: Interval): number {
  if (!validClock(iv.start) || !validClock(endForInput(iv.end))) return 0
  const end = endsAtMidnight(iv) ? 1440 : toMinutes(iv.end)
  const d = end - toMinutes(iv.start)
  return d > 0 ? d : d + 1440
}

const toState = (iv: Interval): IntervalState => ({ key: nextKey(), start: iv.start, end: endForInput(iv.end) })
const toJSONInterval = (iv: IntervalState): Interval => ({ start: iv.start, end: endForServer(iv.end) })

/** newInterval proposes the next interval of a list: after the last one, or 09:00–17:00. */
export function newInterval(list: Interval[]): IntervalState {
  const last = list[list.length - 1]
  if (!last || !validClock(last.start) || !validClock(endForInput(last.end))) return { key: nextKey(), start: '09:00', end: '17:00' }
  if (endsAtMidnight(last) || isOvernight(last)) return { key: nextKey(), start: '09:00', end: '17:00' }
  const start = toMinutes(last.end) + 60
  if (start >= 1440) return { key: nextKey(), start: '09:00', end: '17:00' }
  return { key: nextKey(), start: fromMinutes(start), end: fromMinutes(Math.min(start + 240, 1440)) }
}

/** fromJSON turns the server's schedule into the editor's state. */
export function fromJSON(bh: BusinessHours): HoursState {
  const weekly = bh.weekly ?? {}
  const days = {} as Record<Weekday, DayState>
  for (const d of WEEKDAYS) {
    const ivs = weekly[d] ?? []
    days[d] = { open: ivs.length > 0, intervals: ivs.map(toState) }
  }
  const overrides = [...(bh.overrides ?? [])]
    .sort((a, b) => a.date.localeCompare(b.date))
    .map((o) => ({ key: nextKey(), date: o.date, closed: o.closed, intervals: (o.intervals ?? []).map(toState), note: o.note ?? '' }))
  return {
    enabled: bh.enabled,
    timezone: bh.timezone || 'UTC',
    away_message: bh.away_message ?? '',
    away_while_ai: bh.away_while_ai ?? false,
    days,
    overrides,
  }
}

/**
 * toJSON turns the editor's state into the server's schedule: open days with their intervals (closed
 * days are left out), overrides in the editor's order (a closed one has no intervals), midnight ends
 * as "24:00".
 */
export function toJSON(s: HoursState): BusinessHours {
  const weekly: Record<string, Interval[]> = {}
  for (const d of WEEKDAYS) {
    const day = s.days[d]
    if (day.open && day.intervals.length > 0) weekly[d] = day.intervals.map(toJSONInterval)
  }
  const overrides: DateOverride[] = s.overrides.map((o) => {
    const out: DateOverride = { date: o.date, closed: o.closed, intervals: o.closed ? [] : o.intervals.map(toJSONInterval) }
    if (o.note.trim()) out.note = o.note.trim()
    return out
  })
  return {
    enabled: s.enabled,
    timezone: s.timezone,
    away_message: s.away_message,
    away_while_ai: s.away_while_ai,
    weekly,
    overrides,
  }
}

/** cloneIntervals copies intervals with fresh keys (to copy one day's hours to another). */
export const cloneIntervals = (list: IntervalState[]): IntervalState[] => list.map((iv) => ({ key: nextKey(), start: iv.start, end: iv.end }))

/** openDay opens a day; one with no hours starts with 09:00–17:00. */
export function openDay(day: DayState): void {
  day.open = true
  if (day.intervals.length === 0) day.intervals.push({ key: nextKey(), start: '09:00', end: '17:00' })
}

/** addOverride adds a date override: a holiday (closed) by default, on the given date. */
export function newOverride(date: string, closed = true): OverrideState {
  return { key: nextKey(), date, closed, intervals: closed ? [] : [{ key: nextKey(), start: '10:00', end: '14:00' }], note: '' }
}

function checkIntervals(out: Record<string, string>, field: string, ivs: IntervalState[]): void {
  ivs.forEach((iv, i) => {
    const f = `${field}.${i}`
    if (!validClock(iv.start)) out[`${f}.start`] = 'Use HH:MM, e.g. 09:00.'
    if (!validClock(iv.end)) out[`${f}.end`] = 'Use HH:MM, e.g. 17:30.'
    else if (validClock(iv.start) && iv.start === iv.end && !(iv.start === '00:00')) out[`${f}.end`] = 'End must differ from start.'
  })
}

/**
 * validate checks what the browser can: well-formed times, an away message when the schedule is on,
 * override dates present and unique. It returns problems keyed by the server's field paths.
 */
export function validate(s: HoursState): Record<string, string> {
  const out: Record<string, string> = {}
  if (!s.timezone) out[`${BH}.timezone`] = 'Choose a time zone.'
  if (s.enabled && !s.away_message.trim()) out[`${BH}.away_message`] = 'Away message is required when business hours are on.'
  for (const d of WEEKDAYS) {
    const day = s.days[d]
    if (day.open) checkIntervals(out, `${BH}.weekly.${d}`, day.intervals)
  }
  const seen = new Set<string>()
  s.overrides.forEach((o, i) => {
    const f = `${BH}.overrides.${i}`
    if (!/^\d{4}-\d{2}-\d{2}$/.test(o.date)) out[`${f}.date`] = 'Choose a date.'
    else if (seen.has(o.date)) out[`${f}.date`] = 'This date already has an override.'
    seen.add(o.date)
    if (!o.closed) {
      if (o.intervals.length === 0) out[`${f}.intervals`] = 'Add opening hours or mark the day closed.'
      checkIntervals(out, `${f}.intervals`, o.intervals)
    }
  })
  return out
}

/** summary describes a day's hours in a few words, for screen readers and collapsed views. */
export function daySummary(day: DayState): string {
  if (!day.open || day.intervals.length === 0) return 'Closed'
  return day.intervals.map((iv) => `${iv.start}–${endsAtMidnight(iv) ? '24:00' : iv.end}${isOvernight(iv) ? ' (next day)' : ''}`).join(', ')
}

/** timeZones lists the IANA zones the browser knows, with UTC first. */
export function timeZones(): string[] {
  let zones: string[] = []
  try {
    zones = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? []
  } catch {
    zones = []
  }
  if (zones.length === 0) zones = ['Europe/London', 'Europe/Paris', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo']
  return ['UTC', ...zones.filter((z) => z !== 'UTC')]
}

/** zoneOffset returns the zone's current UTC offset, e.g. "UTC+01:00", or "" when unknown. */
export function zoneOffset(zone: string, at = new Date()): string {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(at)
    const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? ''
    return name === 'GMT' ? 'UTC+00:00' : name.replace('GMT', 'UTC')
  } catch {
    return ''
  }
}

/** searchZones filters zones by every word of the query (case-insensitive; "new york" finds America/New_York). */
export function searchZones(zones: string[], query: string, limit = 60): string[] {
  const words = query.toLowerCase().split(/[\s/_]+/).filter(Boolean)
  if (words.length === 0) return zones.slice(0, limit)
  const out: string[] = []
  for (const z of zones) {
    const hay = z.toLowerCase().replace(/_/g, ' ')
    if (words.every((w) => hay.includes(w))) out.push(z)
    if (out.length >= limit) break
  }
  return out
}
