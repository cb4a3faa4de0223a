import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { json, stubFetch } from '../testing/fetch'
import type { BusinessHoursStatus } from '../types'
import { directory, HOURS_TTL } from './directory'
import { closedNote, hoursState, hoursStatusText, knownZone, zonedTime } from './hours'

// Wednesday 11 March 2026, 19:00 in Paris (UTC+1).
const NOW = Date.parse('2026-03-11T18:00:00Z')
const closed: BusinessHoursStatus = {
  enabled: true,
  timezone: 'Europe/Paris',
  open: false,
  closed_since: '2026-03-11T16:30:00Z', // Wed 17:30 in Paris
  next_opening: '2026-03-12T08:00:00Z', // Thu 09:00 in Paris
}

describe('zonedTime', () => {
  it("writes a time in the channel's zone, not the browser's", () => {
    expect(zonedTime('2026-03-12T08:00:00Z', 'Europe/Paris', NOW, 'en-GB')).toBe('Thu 09:00')
    expect(zonedTime('2026-03-12T08:00:00Z', 'America/New_York', NOW, 'en-GB')).toBe('Thu 04:00')
    expect(zonedTime('2026-03-12T08:00:00Z', 'Europe/Paris', NOW, 'en-US')).toBe('Thu 9:00 AM')
  })

  it('adds the date when the weekday alone would be ambiguous', () => {
    expect(zonedTime('2026-03-20T08:00:00Z', 'Europe/Paris', NOW, 'en-GB')).toBe('Fri 20 Mar, 09:00')
    expect(zonedTime('2026-02-27T16:30:00Z', 'Europe/Paris', NOW, 'en-GB')).toBe('Fri 27 Feb, 17:30')
    expect(zonedTime('2027-01-04T08:00:00Z', 'Europe/Paris', NOW, 'en-GB')).toBe('Mon, 4 Jan 2027, 09:00')
  })

  it('falls back to UTC for a zone the browser does not know, and to nothing for a bad time', () => {
    expect(knownZone('Mars/Olympus')).toBe('UTC')
    expect(knownZone('')).toBe('UTC')
    expect(zonedTime('2026-03-12T08:00:00Z', 'Mars/Olympus', NOW, 'en-GB')).toBe('Thu 08:00')
    expect(zonedTime('soon', 'Europe/Paris', NOW, 'en-GB')).toBe('')
  })
})

describe('hoursStatusText', () => {
  it('says open, closed with since and next opening, or off', () => {
    expect(hoursStatusText({ ...closed, open: true, closed_since: null, next_opening: null }, NOW, 'en-GB')).toBe('Open now')
    expect(hoursStatusText(closed, NOW, 'en-GB')).toBe('Closed since Wed 17:30 · opens Thu 09:00 (Europe/Paris)')
    expect(hoursStatusText({ ...closed, enabled: false, open: true, closed_since: null, next_opening: null }, NOW, 'en-GB')).toMatch(/^Business hours are off/)
  })

  it('copes with a closed period without a start or an end', () => {
    expect(hoursStatusText({ ...closed, closed_since: null }, NOW, 'en-GB')).toBe('Closed · opens Thu 09:00 (Europe/Paris)')
    expect(hoursStatusText({ ...closed, next_opening: null }, NOW, 'en-GB')).toBe('Closed since Wed 17:30 · no opening in the coming year (Europe/Paris)')
  })

  it('says open once the next opening read earlier has come', () => {
    const later = Date.parse(closed.next_opening as string) + 1
    expect(hoursState(closed, NOW)).toBe('closed')
    expect(hoursState(closed, later)).toBe('open')
    expect(hoursStatusText(closed, later, 'en-GB')).toBe('Open now')
  })
})

describe('closedNote', () => {
  it("is the composer's note while closed, with the zone only when it is not the agent's", () => {
    expect(closedNote(closed, NOW, 'en-GB', 'Europe/Paris')).toBe('Outside business hours · opens Thu 09:00')
    expect(closedNote(closed, NOW, 'en-GB', 'America/New_York')).toBe('Outside business hours · opens Thu 09:00 (Europe/Paris)')
    expect(closedNote({ ...closed, next_opening: null }, NOW, 'en-GB', 'Europe/Paris')).toBe('Outside business hours')
  })

  it('is empty while open, when off, and once the opening time has passed', () => {
    expect(closedNote({ ...closed, open: true, next_opening: null, closed_since: null }, NOW)).toBe('')
    expect(closedNote({ ...closed, enabled: false, open: true }, NOW)).toBe('')
    expect(closedNote(closed, Date.parse('2026-03-12T08:00:01Z'))).toBe('')
  })
})

describe('directory.businessHours', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
    directory.reset()
  })
  afterEach(() => {
    vi.useRealTimers()
    directory.reset()
  })

  it('reads a channel once a minute however often it is asked; force reads it again', async () => {
    const calls = stubFetch({
      'GET /api/v1/channels/3/business-hours': () => json(200, closed),
      'GET /api/v1/channels/4/business-hours': () => json(200, { ...closed, open: true }),
    })
    expect(await directory.businessHours(3)).toEqual(closed)
    await directory.businessHours(3)
    await directory.businessHours(4)
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/channels/3/business-hours', '/api/v1/channels/4/business-hours'])

    vi.setSystemTime(NOW + HOURS_TTL - 1)
    await directory.businessHours(3)
    expect(calls).toHaveLength(2)
    vi.setSystemTime(NOW + HOURS_TTL)
    await directory.businessHours(3)
    expect(calls).toHaveLength(3)
    await directory.businessHours(3, true)
    expect(calls).toHaveLength(4)
  })

  it('forgets a failed read, so the next ask tries again', async () => {
    let fail = true
    const calls = stubFetch({
      'GET /api/v1/channels/3/business-hours': () => (fail ? json(503, { error: { code: 'unavailable', message: 'Busy' } }) : json(200, closed)),
    })
    await expect(directory.businessHours(3)).rejects.toThrow('Busy')
    fail = false
    expect(await directory.businessHours(3)).toEqual(closed)
    expect(calls).toHaveLength(2)
  })
})
