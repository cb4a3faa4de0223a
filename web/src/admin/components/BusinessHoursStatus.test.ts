import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../api'
import type { BusinessHoursStatus as Status } from '../../types'
import BusinessHoursStatus from './BusinessHoursStatus.vue'

const NOW = Date.parse('2026-03-11T18:00:00Z') // Wednesday, 19:00 in Paris
const closed: Status = {
  enabled: true,
  timezone: 'Europe/Paris',
  open: false,
  closed_since: '2026-03-11T16:30:00Z',
  next_opening: '2026-03-12T08:00:00Z',
}
const open: Status = { ...closed, open: true, closed_since: null, next_opening: null }
const off: Status = { ...open, enabled: false }

function setup(loader: (id: number, force: boolean) => Promise<Status>, props: { version?: number; unsaved?: boolean } = {}) {
  return mount(BusinessHoursStatus, { props: { channelId: 4, loader, now: () => NOW, locale: 'en-GB', ...props } })
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('business hours status line', () => {
  it('says when the channel is closed and when it opens, in its zone', async () => {
    const wrapper = setup(async () => closed)
    await flushPromises()
    const line = wrapper.get('[data-testid="hours-status"]')
    expect(line.text()).toBe('Closed since Wed 17:30 · opens Thu 09:00 (Europe/Paris)')
    expect(line.attributes('data-state')).toBe('closed')
    expect(line.attributes('role')).toBe('status')
  })

  it('says open now, or that the schedule is off', async () => {
    const a = setup(async () => open)
    await flushPromises()
    expect(a.get('[data-testid="hours-status"]').text()).toBe('Open now')
    expect(a.get('[data-testid="hours-status"]').attributes('data-state')).toBe('open')
    const b = setup(async () => off)
    await flushPromises()
    expect(b.get('[data-testid="hours-status"]').text()).toMatch(/^Business hours are off/)
    expect(b.get('[data-testid="hours-status"]').attributes('data-state')).toBe('off')
  })

  it('reads again, past the cache, after a save; and notes unsaved edits', async () => {
    const loader = vi.fn(async (_id: number, force: boolean) => (force ? open : closed))
    const wrapper = setup(loader)
    await flushPromises()
    expect(loader).toHaveBeenLastCalledWith(4, false)
    await wrapper.setProps({ unsaved: true })
    expect(wrapper.get('[data-testid="hours-status"]').text()).toContain('· by the saved hours')
    await wrapper.setProps({ version: 1, unsaved: false })
    await flushPromises()
    expect(loader).toHaveBeenLastCalledWith(4, true)
    expect(wrapper.get('[data-testid="hours-status"]').text()).toBe('Open now')
  })

  it('offers another try when the status cannot be read', async () => {
    let fail = true
    const wrapper = setup(async () => {
      if (fail) throw new ApiError(503, 'unavailable', 'Busy')
      return open
    })
    await flushPromises()
    expect(wrapper.text()).toContain('Could not tell whether the channel is open now.')
    fail = false
    await wrapper.get('button').trigger('click')
    await flushPromises()
    expect(wrapper.get('[data-testid="hours-status"]').text()).toBe('Open now')
  })
})
