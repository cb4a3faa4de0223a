import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Page } from '../../api'
import { ApiError } from '../../api'
import { json, stubFetch } from '../../testing/fetch'
import type { ChannelEvent } from '../types'
import ChannelEventsSection from './ChannelEventsSection.vue'

const ev = (id: number, field: string, details: unknown): ChannelEvent => ({ id, channel_id: 7, field, details, created_at: '2026-03-11T09:30:00Z' })

const newest = [
  ev(9, 'errors', [{ code: 131042, title: 'Business eligibility payment issue', details: 'Fix your payment method.' }]),
  ev(8, 'phone_number_quality_update', { event: 'FLAGGED', current_limit: 'TIER_1K' }),
]
const older = [ev(5, 'message_template_status_update', { event: 'REJECTED', message_template_name: 'order_update', message_template_language: 'en', reason: 'INVALID_FORMAT' })]

afterEach(() => {
  document.body.innerHTML = ''
})

describe('Meta notifications', () => {
  it('lists summaries newest first, with the time and the details, and loads older ones by cursor', async () => {
    const loader = vi.fn(async (_id: number, cursor: string): Promise<Page<ChannelEvent>> => (cursor === '' ? { data: newest, next_cursor: '8' } : { data: older }))
    const wrapper = mount(ChannelEventsSection, { props: { channelId: 7, pageSize: 2, loader } })
    await flushPromises()
    expect(loader).toHaveBeenCalledWith(7, '', 2)
    const titles = () => wrapper.findAll('[data-testid="channel-event-title"]').map((t) => t.text())
    expect(titles()).toEqual(['Error 131042 Business eligibility payment issue: Fix your payment method.', 'Quality rating: flagged as low'])
    const first = wrapper.get('[data-testid="channel-event"]')
    expect(first.attributes('data-field')).toBe('errors')
    expect(first.get('time').attributes('datetime')).toBe('2026-03-11T09:30:00Z')
    expect(first.get('pre').text()).toContain('"code": 131042')

    await wrapper.get('[data-testid="channel-events-more"]').trigger('click')
    await flushPromises()
    expect(loader).toHaveBeenLastCalledWith(7, '8', 2)
    expect(titles()).toEqual([
      'Error 131042 Business eligibility payment issue: Fix your payment method.',
      'Quality rating: flagged as low',
      'Template order_update (en) REJECTED: INVALID_FORMAT',
    ])
    // The oldest page has no next cursor: nothing more to load.
    expect(wrapper.find('[data-testid="channel-events-more"]').exists()).toBe(false)
  })

  it('says when there is nothing yet', async () => {
    const wrapper = mount(ChannelEventsSection, { props: { channelId: 7, loader: async () => ({ data: [] }) } })
    await flushPromises()
    expect(wrapper.text()).toContain('No notifications from Meta yet.')
    expect(wrapper.find('[data-testid="channel-events-more"]').exists()).toBe(false)
  })

  it('keeps the list when an older page fails, and says so', async () => {
    const loader = vi.fn(async (_id: number, cursor: string): Promise<Page<ChannelEvent>> => {
      if (cursor) throw new ApiError(503, 'unavailable', 'Try again in a moment.')
      return { data: newest, next_cursor: '8' }
    })
    const wrapper = mount(ChannelEventsSection, { props: { channelId: 7, loader } })
    await flushPromises()
    await wrapper.get('[data-testid="channel-events-more"]').trigger('click')
    await flushPromises()
    expect(wrapper.findAll('[data-testid="channel-event"]')).toHaveLength(2)
    expect(wrapper.get('[role="alert"]').text()).toBe('Could not load older notifications. Try again in a moment.')
    expect(wrapper.find('[data-testid="channel-events-more"]').exists()).toBe(true)
  })

  it("shows an unknown kind's field and JSON as text, never as HTML", async () => {
    const wrapper = mount(ChannelEventsSection, {
      props: { channelId: 7, loader: async () => ({ data: [ev(3, 'brand_new_field', { note: '<img src=x onerror=alert(1)>' })] }) },
    })
    await flushPromises()
    expect(wrapper.get('[data-testid="channel-event-title"]').text()).toBe('brand_new_field')
    expect(wrapper.text()).toContain('{"note":"<img src=x onerror=alert(1)>"}')
    expect(wrapper.find('img').exists()).toBe(false)
  })

  it('reads GET /channels/:id/events with the page size and cursor', async () => {
    const calls = stubFetch({ 'GET /api/v1/channels/7/events': () => json(200, { data: newest, next_cursor: '8' }) })
    const wrapper = mount(ChannelEventsSection, { props: { channelId: 7, pageSize: 2 } })
    await flushPromises()
    await wrapper.get('[data-testid="channel-events-more"]').trigger('click')
    await flushPromises()
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/channels/7/events?limit=2', '/api/v1/channels/7/events?cursor=8&limit=2'])
    // The same events again are not listed twice.
    expect(wrapper.findAll('[data-testid="channel-event"]')).toHaveLength(2)
  })
})
