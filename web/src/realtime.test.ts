import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, NETWORK_ERROR } from './api'
import { RealtimeClient, type RealtimeOptions } from './realtime'
import { FakeSocket } from './testing/socket'

let urls: number[]

function client(opts: RealtimeOptions = {}): RealtimeClient {
  return new RealtimeClient({
    url: (seq) => {
      urls.push(seq)
      return seq > 0 ? `ws://test/api/v1/ws?last_seq=${seq}` : 'ws://test/api/v1/ws'
    },
    socket: (url) => new FakeSocket(url),
    random: () => 1,
    baseDelay: 500,
    maxDelay: 8000,
    ...opts,
  })
}

beforeEach(() => {
  vi.useFakeTimers()
  FakeSocket.reset()
  urls = []
})

afterEach(() => {
  vi.useRealTimers()
})

describe('realtime client', () => {
  it('is open after the hello and delivers events in order, keeping the highest seq', () => {
    const rt = client()
    const got: string[] = []
    rt.on('message.created', (d: { id: number }, f) => got.push(`${f.type}#${d.id}@${f.seq}`))
    rt.on('*', (_d, f) => got.push(`*${f.type}`))
    rt.start()
    expect(rt.status.value).toBe('connecting')
    FakeSocket.last().hello(41)
    expect(rt.status.value).toBe('open')
    expect(rt.connected).toBe(true)
    expect(rt.lastSeq).toBe(41)
    FakeSocket.last().receive({ type: 'message.created', seq: 42, data: { id: 7 } })
    FakeSocket.last().receive({ type: 'conversation.updated', seq: 43, data: { id: 3 } })
    expect(got).toEqual(['message.created#7@42', '*message.created', '*conversation.updated'])
    expect(rt.lastSeq).toBe(43)
    // A late event below the highest seq is still delivered, and the cursor does not go back.
    FakeSocket.last().receive({ type: 'message.created', seq: 40, data: { id: 5 } })
    expect(got).toContain('message.created#5@40')
    expect(rt.lastSeq).toBe(43)
    rt.stop()
  })

  it('resumes after a drop with ?last_seq= and gets the missed events without a resync', () => {
    const rt = client()
    const resyncs = vi.fn()
    const opens = vi.fn()
    const seen: number[] = []
    rt.onResync(resyncs)
    rt.onOpen(opens)
    rt.on('message.created', (_d, f) => seen.push(f.seq ?? 0))
    rt.start()
    FakeSocket.last().hello(10)
    FakeSocket.last().receive({ type: 'message.created', seq: 11, data: {} })

    FakeSocket.last().drop()
    expect(rt.status.value).toBe('reconnecting')
    expect(FakeSocket.instances).toHaveLength(1)
    vi.advanceTimersByTime(500)
    expect(FakeSocket.instances).toHaveLength(2)
    expect(FakeSocket.last().url).toBe('ws://test/api/v1/ws?last_seq=11')

    // The server greets with the resume cursor, then replays what was missed.
    FakeSocket.last().hello(11)
    FakeSocket.last().receive({ type: 'message.created', seq: 12, data: {} })
    FakeSocket.last().receive({ type: 'message.created', seq: 13, data: {} })
    expect(rt.status.value).toBe('open')
    expect(seen).toEqual([11, 12, 13])
    expect(rt.lastSeq).toBe(13)
    expect(resyncs).not.toHaveBeenCalled()
    expect(opens).toHaveBeenLastCalledWith({ resumed: true, reconnected: true })
    rt.stop()
  })

  it('asks for a reload when the server says resync, and carries on from its seq', () => {
    const rt = client()
    const resyncs = vi.fn()
    rt.onResync(resyncs)
    rt.start()
    FakeSocket.last().hello(5)
    FakeSocket.last().drop()
    vi.advanceTimersByTime(500)
    FakeSocket.last().hello(5)
    FakeSocket.last().receive({ type: 'resync', seq: 900 })
    expect(resyncs).toHaveBeenCalledTimes(1)
    expect(rt.lastSeq).toBe(900)
    FakeSocket.last().drop()
    vi.advanceTimersByTime(500)
    expect(FakeSocket.last().url).toBe('ws://test/api/v1/ws?last_seq=900')
    rt.stop()
  })

  it('asks for a reload after a reconnect that had nothing to resume from', () => {
    const rt = client()
    const resyncs = vi.fn()
    rt.onResync(resyncs)
    rt.start()
    FakeSocket.last().hello(0) // an empty event log: nothing seen yet
    FakeSocket.last().drop()
    vi.advanceTimersByTime(500)
    expect(FakeSocket.last().url).toBe('ws://test/api/v1/ws')
    FakeSocket.last().hello(3)
    expect(resyncs).toHaveBeenCalledTimes(1)
    expect(rt.lastSeq).toBe(3)
    rt.stop()
  })

  it('backs off exponentially up to a ceiling, with jitter, and starts over after a success', () => {
    const full = client({ random: () => 1 })
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => full.delayFor(n))).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000])
    const half = client({ random: () => 0 })
    expect([0, 1, 2, 3, 4].map((n) => half.delayFor(n))).toEqual([250, 500, 1000, 2000, 4000])

    const rt = client()
    rt.start()
    FakeSocket.last().hello(1)
    FakeSocket.last().drop()
    const waits: number[] = []
    // Each attempt fails before its hello: the waits grow.
    for (let i = 0; i < 5; i++) {
      const before = FakeSocket.instances.length
      const at = rt.retryAt.value - Date.now()
      waits.push(at)
      vi.advanceTimersByTime(at - 1)
      expect(FakeSocket.instances.length).toBe(before)
      vi.advanceTimersByTime(1)
      expect(FakeSocket.instances.length).toBe(before + 1)
      expect(rt.status.value).toBe('reconnecting')
      FakeSocket.last().drop()
    }
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000])
    // A greeted connection resets the backoff.
    vi.advanceTimersByTime(8000)
    FakeSocket.last().hello(1)
    FakeSocket.last().drop()
    expect(rt.retryAt.value - Date.now()).toBe(500)
    rt.stop()
  })

  it('reconnects at once on request (the banner button), skipping the wait', () => {
    const rt = client()
    rt.start()
    FakeSocket.last().hello(1)
    FakeSocket.last().drop()
    FakeSocket.last().drop() // harmless twice
    expect(FakeSocket.instances).toHaveLength(1)
    rt.reconnectNow()
    expect(FakeSocket.instances).toHaveLength(2)
    expect(rt.retryAt.value).toBe(0)
    FakeSocket.last().hello(1)
    expect(rt.status.value).toBe('open')
    rt.stop()
  })

  it('tells about handshakes that fail (a session that ended)', () => {
    const failures: number[] = []
    const rt = client({ onHandshakeFailure: (n) => failures.push(n) })
    rt.start()
    FakeSocket.last().drop()
    vi.advanceTimersByTime(500)
    FakeSocket.last().drop()
    expect(failures).toEqual([1, 2])
    vi.advanceTimersByTime(1000)
    FakeSocket.last().hello(1)
    FakeSocket.last().drop()
    expect(failures).toEqual([1, 2]) // a drop after a hello is not a handshake failure
    rt.stop()
  })

  it('answers requests with their ack, turns error frames into ApiErrors, and fails them on a drop', async () => {
    const rt = client()
    await expect(rt.request('read', { conversation_id: 1 })).rejects.toMatchObject({ code: NETWORK_ERROR })
    rt.start()
    const sock = FakeSocket.last()
    sock.hello(1)

    const ok = rt.request('message.send', { conversation_id: 1, text: 'hi' }, 'm-1')
    expect(sock.sent.at(-1)).toEqual({ type: 'message.send', id: 'm-1', data: { conversation_id: 1, text: 'hi' } })
    sock.receive({ type: 'ack', id: 'm-1', data: { message_id: 9, message: { id: 9 } } })
    await expect(ok).resolves.toEqual({ message_id: 9, message: { id: 9 } })

    const bad = rt.request('message.send', { conversation_id: 1, text: 'late' }, 'm-2')
    sock.receive({ type: 'error', id: 'm-2', data: { code: 'window_closed', message: 'Send a template.' } })
    const err = await bad.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ code: 'window_closed', message: 'Send a template.' })

    const lost = rt.request('read', { conversation_id: 1 }, 'r-1')
    sock.drop()
    await expect(lost).rejects.toMatchObject({ code: NETWORK_ERROR })
    rt.stop()
  })

  it('declares a silent connection dead when a ping gets no pong, and reconnects', () => {
    const rt = client({ pingInterval: 1000, pongTimeout: 500 })
    rt.start()
    const sock = FakeSocket.last()
    sock.hello(1)
    vi.advanceTimersByTime(1000)
    const ping = sock.sent.at(-1)
    expect(ping?.type).toBe('ping')
    sock.receive({ type: 'pong', id: ping?.id })
    vi.advanceTimersByTime(600)
    expect(rt.status.value).toBe('open')

    vi.advanceTimersByTime(400) // next ping
    vi.advanceTimersByTime(500) // no pong
    expect(rt.status.value).toBe('reconnecting')
    expect(sock.closed).toBe(true)
    vi.advanceTimersByTime(500)
    expect(FakeSocket.instances).toHaveLength(2)
    expect(FakeSocket.last().url).toBe('ws://test/api/v1/ws?last_seq=1')
    rt.stop()
  })

  it('stays closed after stop and forgets the resume cursor', () => {
    const rt = client()
    rt.start()
    FakeSocket.last().hello(7)
    rt.stop()
    expect(rt.status.value).toBe('idle')
    expect(rt.lastSeq).toBe(0)
    vi.advanceTimersByTime(60_000)
    expect(FakeSocket.instances).toHaveLength(1)
    rt.start()
    expect(FakeSocket.instances).toHaveLength(2)
    expect(FakeSocket.last().url).toBe('ws://test/api/v1/ws')
    rt.stop()
  })
})
