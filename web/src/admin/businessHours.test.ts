import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { nextTick, ref } from 'vue'
import BusinessHoursEditor from './components/BusinessHoursEditor.vue'
import {
  durationMinutes,
  fromJSON,
  isOvernight,
  newInterval,
  newOverride,
  openDay,
  searchZones,
  toJSON,
  validate,
  type HoursState,
} from './businessHours'
import type { BusinessHours } from './types'

const base: BusinessHours = {
  enabled: true,
  timezone: 'Europe/Paris',
  away_message: 'We are closed.',
  weekly: {
    monday: [
      { start: '09:00', end: '12:00' },
      { start: '13:00', end: '17:30' },
    ],
    friday: [{ start: '22:00', end: '02:00' }],
    saturday: [{ start: '00:00', end: '24:00' }],
    sunday: [],
  },
  overrides: [
    { date: '2026-12-31', closed: false, intervals: [{ start: '10:00', end: '14:00' }] },
    { date: '2026-12-25', closed: true, intervals: null, note: 'Christmas' },
  ],
  away_while_ai: false,
}

describe('business hours JSON', () => {
  it('round-trips the server schedule', () => {
    const s = fromJSON(base)
    expect(s.days.monday.open).toBe(true)
    expect(s.days.tuesday.open).toBe(false)
    expect(s.days.sunday.open).toBe(false)
    // Overrides are listed by date.
    expect(s.overrides.map((o) => o.date)).toEqual(['2026-12-25', '2026-12-31'])
    expect(toJSON(s)).toEqual({
      enabled: true,
      timezone: 'Europe/Paris',
      away_message: 'We are closed.',
      away_while_ai: false,
      weekly: {
        monday: [
          { start: '09:00', end: '12:00' },
          { start: '13:00', end: '17:30' },
        ],
        friday: [{ start: '22:00', end: '02:00' }],
        saturday: [{ start: '00:00', end: '24:00' }],
      },
      overrides: [
        { date: '2026-12-25', closed: true, intervals: [], note: 'Christmas' },
        { date: '2026-12-31', closed: false, intervals: [{ start: '10:00', end: '14:00' }] },
      ],
    })
  })

  it('shows midnight as 00:00 in the editor and sends it as 24:00', () => {
    const s = fromJSON(base)
    expect(s.days.saturday.intervals[0]).toMatchObject({ start: '00:00', end: '00:00' })
    s.days.tuesday = { open: true, intervals: [{ key: 1, start: '18:00', end: '00:00' }] }
    expect(toJSON(s).weekly?.tuesday).toEqual([{ start: '18:00', end: '24:00' }])
    // A whole day (00:00–00:00 in the editor) is valid: it is 00:00–24:00.
    expect(validate(s)).toEqual({})
  })

  it('leaves closed days out, but keeps their hours in the editor for when they reopen', () => {
    const s = fromJSON(base)
    s.days.monday.open = false
    expect(toJSON(s).weekly).not.toHaveProperty('monday')
    expect(s.days.monday.intervals).toHaveLength(2)
    openDay(s.days.monday)
    expect(toJSON(s).weekly?.monday).toHaveLength(2)
  })

  it('opens an empty day at 09:00–17:00', () => {
    const s = fromJSON(base)
    openDay(s.days.wednesday)
    expect(toJSON(s).weekly?.wednesday).toEqual([{ start: '09:00', end: '17:00' }])
  })

  it('sends a closed override without intervals and trims its note', () => {
    const s = fromJSON({ ...base, overrides: [] })
    const o = newOverride('2027-01-01')
    o.note = '  New Year  '
    o.intervals = [{ key: 9, start: '10:00', end: '11:00' }]
    s.overrides.push(o)
    expect(toJSON(s).overrides).toEqual([{ date: '2027-01-01', closed: true, intervals: [], note: 'New Year' }])
  })

  it('treats a missing weekly map and null overrides as empty', () => {
    const s = fromJSON({ ...base, weekly: null, overrides: null })
    expect(toJSON(s)).toMatchObject({ weekly: {}, overrides: [] })
  })
})

describe('intervals', () => {
  it('recognises overnight intervals', () => {
    expect(isOvernight({ start: '22:00', end: '02:00' })).toBe(true)
    expect(isOvernight({ start: '09:00', end: '17:00' })).toBe(false)
    expect(isOvernight({ start: '18:00', end: '00:00' })).toBe(false) // until midnight
    expect(isOvernight({ start: '18:00', end: '24:00' })).toBe(false)
    expect(durationMinutes({ start: '22:00', end: '02:00' })).toBe(240)
    expect(durationMinutes({ start: '00:00', end: '00:00' })).toBe(1440)
  })

  it('proposes the next interval after the last one', () => {
    expect(newInterval([])).toMatchObject({ start: '09:00', end: '17:00' })
    expect(newInterval([{ start: '09:00', end: '12:00' }])).toMatchObject({ start: '13:00', end: '17:00' })
    expect(newInterval([{ start: '18:00', end: '22:00' }])).toMatchObject({ start: '23:00', end: '00:00' })
    expect(newInterval([{ start: '22:00', end: '02:00' }])).toMatchObject({ start: '09:00', end: '17:00' })
  })
})

describe('validate', () => {
  it('keys problems by the server field paths', () => {
    const s: HoursState = fromJSON(base)
    s.away_message = ' '
    s.days.monday.intervals[0]!.start = ''
    s.days.monday.intervals[1]!.end = '13:00'
    s.days.monday.intervals[1]!.start = '13:00'
    s.overrides.push(newOverride('2026-12-25'))
    s.overrides[1]!.closed = false
    s.overrides[1]!.intervals = []
    expect(validate(s)).toEqual({
      'business_hours.away_message': 'Away message is required when business hours are on.',
      'business_hours.weekly.monday.0.start': 'Use HH:MM, e.g. 09:00.',
      'business_hours.weekly.monday.1.end': 'End must differ from start.',
      'business_hours.overrides.1.intervals': 'Add opening hours or mark the day closed.',
      'business_hours.overrides.2.date': 'This date already has an override.',
    })
  })

  it('ignores the hours of closed days', () => {
    const s = fromJSON(base)
    s.days.monday.intervals[0]!.start = 'nope'
    s.days.monday.open = false
    expect(validate(s)).toEqual({})
  })
})

describe('time zone search', () => {
  const zones = ['UTC', 'America/New_York', 'America/Los_Angeles', 'Europe/Paris', 'Asia/Tokyo']
  it('matches every word, ignoring case and underscores', () => {
    expect(searchZones(zones, 'new york')).toEqual(['America/New_York'])
    expect(searchZones(zones, 'PAR')).toEqual(['Europe/Paris'])
    expect(searchZones(zones, 'america')).toEqual(['America/New_York', 'America/Los_Angeles'])
    expect(searchZones(zones, '')).toEqual(zones)
  })
})

describe('BusinessHoursEditor', () => {
  function setup(json: BusinessHours = base) {
    const state = ref(fromJSON(json))
    const changed: string[] = []
    const wrapper = mount(BusinessHoursEditor, {
      props: {
        modelValue: state.value,
        'onUpdate:modelValue': (v: HoursState) => (state.value = v),
        errors: {},
        onChanged: (p: string) => changed.push(p),
      },
      attachTo: document.body,
    })
    return { state, wrapper, changed }
  }

  it('adds an interval to a day', async () => {
    const { state, wrapper } = setup()
    await wrapper.get('button[aria-label="Add hours on Monday"]').trigger('click')
    expect(toJSON(state.value).weekly?.monday).toEqual([
      { start: '09:00', end: '12:00' },
      { start: '13:00', end: '17:30' },
      { start: '18:30', end: '22:30' },
    ])
    wrapper.unmount()
  })

  it('opens a closed day, and an overnight interval is marked and sent as typed', async () => {
    const { state, wrapper } = setup()
    const toggle = wrapper.get('[data-testid="day-thursday"] input[role="switch"]')
    ;(toggle.element as HTMLInputElement).checked = true
    await toggle.trigger('change')
    const [start, end] = wrapper.findAll('[data-testid="day-thursday"] input[type="time"]')
    await start!.setValue('21:00')
    await end!.setValue('03:00')
    await start!.trigger('change')
    await end!.trigger('change')
    await nextTick()
    expect(wrapper.find('[data-testid="day-thursday"]').text()).toContain('closes next day')
    expect(toJSON(state.value).weekly?.thursday).toEqual([{ start: '21:00', end: '03:00' }])
    wrapper.unmount()
  })

  it('removes an interval and closes a day', async () => {
    const { state, wrapper } = setup()
    await wrapper.get('button[aria-label="Remove Monday interval 1"]').trigger('click')
    expect(toJSON(state.value).weekly?.monday).toEqual([{ start: '13:00', end: '17:30' }])
    await wrapper.get('button[aria-label="Remove Monday interval 1"]').trigger('click')
    expect(toJSON(state.value).weekly).not.toHaveProperty('monday')
    expect(wrapper.find('[data-testid="day-monday"]').text()).toContain('Closed')
    wrapper.unmount()
  })

  it('adds a holiday as a closed override', async () => {
    const { state, wrapper } = setup({ ...base, overrides: [] })
    const add = wrapper.findAll('button').find((b) => b.text().includes('Add a holiday'))
    await add!.trigger('click')
    const date = wrapper.get('[data-testid="overrides"] input[type="date"]')
    await date.setValue('2026-12-25')
    expect(toJSON(state.value).overrides).toEqual([{ date: '2026-12-25', closed: true, intervals: [] }])
    wrapper.unmount()
  })

  it('shows a server error next to the interval it concerns', async () => {
    const state = ref(fromJSON(base))
    const wrapper = mount(BusinessHoursEditor, {
      props: { modelValue: state.value, errors: { 'business_hours.weekly.monday.1.start': 'Use HH:MM, e.g. 09:00.' } },
    })
    const monday = wrapper.get('[data-testid="day-monday"]')
    expect(monday.text()).toContain('Use HH:MM, e.g. 09:00.')
    const inputs = monday.findAll('input[type="time"]')
    expect(inputs[2]!.attributes('aria-invalid')).toBe('true')
    expect(inputs[0]!.attributes('aria-invalid')).toBeUndefined()
    const describedBy = inputs[2]!.attributes('aria-describedby')!
    expect(monday.get(`#${describedBy}`).text()).toContain('Use HH:MM')
  })
})
