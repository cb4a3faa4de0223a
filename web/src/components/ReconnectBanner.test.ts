import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RealtimeClient } from '../realtime'
import { FakeSocket } from '../testing/socket'
import ReconnectBanner from './ReconnectBanner.vue'

function client(): RealtimeClient {
  return new RealtimeClient({ url: (s) => `ws://test/ws?last_seq=${s}`, socket: (u) => new FakeSocket(u), random: () => 1, baseDelay: 2000 })
}

beforeEach(() => {
  vi.useFakeTimers()
  FakeSocket.reset()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('reconnect banner', () => {
  it('says when live updates are paused, counts down, and recovers without a reload', async () => {
    const rt = client()
    const w = mount(ReconnectBanner, { props: { client: rt } })
    rt.start()
    FakeSocket.last().hello(5)
    await flushPromises()
    expect(w.find('[data-testid="reconnect-banner"]').exists()).toBe(false)

    FakeSocket.last().drop()
    await flushPromises()
    const banner = w.get('[data-testid="reconnect-banner"]')
    expect(banner.text()).toContain('Live updates paused')
    expect(banner.text()).toContain('Reconnecting in 2 s')
    expect(w.find('[role="status"]').exists()).toBe(true)

    vi.advanceTimersByTime(2000) // the retry starts
    FakeSocket.last().hello(5)
    await flushPromises()
    expect(w.find('[data-testid="reconnect-banner"]').exists()).toBe(false)
    expect(w.get('[data-testid="reconnected-banner"]').text()).toContain('Back online')
    expect(FakeSocket.last().url).toBe('ws://test/ws?last_seq=5')
    vi.advanceTimersByTime(3000)
    await flushPromises()
    expect(w.find('[data-testid="reconnected-banner"]').exists()).toBe(false)
    rt.stop()
  })

  it('reconnects at once with "Reconnect now"', async () => {
    const rt = client()
    const w = mount(ReconnectBanner, { props: { client: rt } })
    rt.start()
    FakeSocket.last().hello(1)
    FakeSocket.last().drop()
    await flushPromises()
    await w.get('[data-testid="reconnect-banner"] button').trigger('click')
    expect(FakeSocket.instances).toHaveLength(2)
    FakeSocket.last().hello(1)
    await flushPromises()
    expect(w.find('[data-testid="reconnect-banner"]').exists()).toBe(false)
    rt.stop()
  })

  it('gives the first connection a moment before showing anything', async () => {
    const rt = client()
    const w = mount(ReconnectBanner, { props: { client: rt, graceMs: 3000 } })
    rt.start()
    await flushPromises()
    expect(w.find('[data-testid="reconnect-banner"]').exists()).toBe(false)
    vi.advanceTimersByTime(3000)
    await flushPromises()
    expect(w.get('[data-testid="reconnect-banner"]').text()).toContain('Connecting')
    rt.stop()
  })
})
