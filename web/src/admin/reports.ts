// Report helpers: the period picker's dates and the numbers' formatting.

export type PeriodPreset = '7d' | '30d' | 'custom'

export interface Period {
  preset: PeriodPreset
  /** YYYY-MM-DD, the first day included. */
  from: string
  /** YYYY-MM-DD, the last day included. */
  to: string
}

/** isoDate formats a date as YYYY-MM-DD in the browser's time zone. */
export function isoDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

/** presetPeriod returns the last n days, today included. */
export function presetPeriod(preset: '7d' | '30d', now = new Date()): Period {
  const days = preset === '7d' ? 7 : 30
  const from = new Date(now.getFullYear(), now.getMonth(), now.getDate() - (days - 1))
  return { preset, from: isoDate(from), to: isoDate(now) }
}

/** validatePeriod checks a custom period; it returns a problem per field. */
export function validatePeriod(p: Period): Record<string, string> {
  const out: Record<string, string> = {}
  const re = /^\d{4}-\d{2}-\d{2}$/
  if (!re.test(p.from)) out.from = 'Choose the first day.'
  if (!re.test(p.to)) out.to = 'Choose the last day.'
  if (!out.from && !out.to) {
    if (p.from > p.to) out.to = 'The last day must be on or after the first.'
    else if ((Date.parse(p.to) - Date.parse(p.from)) / 86_400_000 > 366) out.to = 'A report covers at most a year.'
  }
  return out
}

/** browserZone is the IANA zone the report's days are cut in. */
export function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  } catch {
    return 'UTC'
  }
}

/** formatDuration reads seconds as "45 s", "3 min", "1 h 20 min", "2 d 4 h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s} s`
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min`
  const h = Math.floor(m / 60)
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`
  const d = Math.floor(h / 24)
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`
}

/** formatPercent reads a rate in [0, 1] as a whole percentage. */
export const formatPercent = (rate: number): string => `${Math.round(rate * 100)}%`

/** formatDay reads YYYY-MM-DD as "Mon 3 Nov" in the browser's locale. */
export function formatDay(day: string, opts: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short' }): string {
  const [y, m, d] = day.split('-').map(Number)
  if (!y || !m || !d) return day
  return new Date(y, m - 1, d).toLocaleDateString(undefined, opts)
}

/** daysBetween lists every YYYY-MM-DD from from to to, inclusive (at most 400). */
export function daysBetween(from: string, to: string): string[] {
  const [y, m, d] = from.split('-').map(Number)
  if (!y || !m || !d) return []
  const out: string[] = []
  for (let i = 0; i < 400; i++) {
    const day = isoDate(new Date(y, m - 1, d + i))
    if (day > to) break
    out.push(day)
  }
  return out
}

/** formatDateTime reads an RFC 3339 time in the browser's locale. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const t = new Date(iso)
  if (Number.isNaN(t.getTime())) return iso
  return t.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}
