// The agent websocket (GET /api/v1/ws): live events, and requests answered by
// ack/error frames.
//
// The server sends {"type", "seq", "data"} frames: hello first, then domain
// events in seq order; ack/error answer a request by its id; resync says the
// missed events are gone (reload over REST, then carry on from its seq). The
// client keeps the highest seq it has seen and, after a drop, reconnects with
// ?last_seq= so the server replays what was missed. Reconnects back off
// exponentially (with jitter) up to a ceiling; a successful hello resets it.
// A ping frame every so often detects a dead connection that never closed.
//
// The session cookie authenticates the socket; the server only accepts it from
// the public URL's origin, which is this page's origin.
import { ref, type Ref } from 'vue'
import { api, ApiError, NETWORK_ERROR } from './api'

export type RealtimeStatus = 'idle' | 'connecting' | 'open' | 'reconnecting'

/** ServerFrame is one frame from the server. */
export interface ServerFrame {
  type: string
  seq?: number
  id?: string
  data?: unknown
}

/** WebSocketLike is the part of the browser's WebSocket the client uses (tests pass a fake). */
export interface WebSocketLike {
  readonly readyState: number
  onopen: ((ev: Event) => void) | null
  onmessage: ((ev: MessageEvent) => void) | null
  onclose: ((ev: CloseEvent) => void) | null
  onerror: ((ev: Event) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export type WebSocketFactory = (url: string) => WebSocketLike

export interface RealtimeOptions {
  /** url builds the socket's address from the last seq seen (0: none). */
  url?: (lastSeq: number) => string
  /** socket opens a connection; the browser's WebSocket by default. */
  socket?: WebSocketFactory
  /** Reconnect delays: base * 2^attempt, capped at max, then jittered into [d/2, d]. */
  baseDelay?: number
  maxDelay?: number
  random?: () => number
  /** How often a ping frame goes out, and how long its pong may take before the socket counts as dead. */
  pingInterval?: number
  pongTimeout?: number
  /** How long a request waits for its ack. */
  requestTimeout?: number
  /**
   * onHandshakeFailure is told each time a connection closes before its hello,
   * with the count of such failures in a row (e.g. to check whether the
   * session ended).
   */
  onHandshakeFailure?: (failures: number) => void
}

// Event data is whatever the server sent for that type; each subscriber knows its shape.
type Handler = (data: any, frame: ServerFrame) => void

interface Pending {
  resolve: (data: unknown) => void
  reject: (err: ApiError) => void
  timer: ReturnType<typeof setTimeout>
}

const OPEN = 1

function defaultURL(lastSeq: number): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
  const q = lastSeq > 0 ? `?last_seq=${lastSeq}` : ''
  return `${proto}//${location.host}/api/v1/ws${q}`
}

function defaultSocket(url: string): WebSocketLike {
  return new WebSocket(url)
}

function dropped(): ApiError {
  return new ApiError(0, NETWORK_ERROR, 'The live connection dropped before the server answered.')
}

/** RealtimeClient is one agent websocket with resume, resync and reconnects. */
export class RealtimeClient {
  /** status is reactive: the reconnect banner and the composer's send path read it. */
  readonly status: Ref<RealtimeStatus> = ref('idle')
  /** retryAt is when the next reconnect attempt starts (ms since epoch), or 0. */
  readonly retryAt: Ref<number> = ref(0)
  /** lastSeq is the highest event sequence seen: the resume cursor. */
  lastSeq = 0

  private readonly opts: Required<Omit<RealtimeOptions, 'onHandshakeFailure'>> & Pick<RealtimeOptions, 'onHandshakeFailure'>
  private ws: WebSocketLike | null = null
  private helloSeen = false
  private everOpen = false
  private attempt = 0
  private handshakeFailures = 0
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private pingTimer: ReturnType<typeof setInterval> | null = null
  private pongTimer: ReturnType<typeof setTimeout> | null = null
  private seqAtConnect = 0
  private counter = 0
  private readonly handlers = new Map<string, Set<Handler>>()
  private readonly resyncHandlers = new Set<() => void>()
  private readonly openHandlers = new Set<(info: { resumed: boolean; reconnected: boolean }) => void>()
  private readonly pending = new Map<string, Pending>()
  private readonly onOnline = () => {
    if (this.status.value === 'reconnecting') this.reconnectNow()
  }

  constructor(opts: RealtimeOptions = {}) {
    this.opts = {
      url: opts.url ?? defaultURL,
      socket: opts.socket ?? defaultSocket,
      baseDelay: opts.baseDelay ?? 500,
      maxDelay: opts.maxDelay ?? 15_000,
      random: opts.random ?? Math.random,
      pingInterval: opts.pingInterval ?? 25_000,
      pongTimeout: opts.pongTimeout ?? 10_000,
      requestTimeout: opts.requestTimeout ?? 15_000,
      onHandshakeFailure: opts.onHandshakeFailure,
    }
  }

  /** connected reports whether the socket is open and greeted (requests can go out). */
  get connected(): boolean {
    return this.status.value === 'open' && this.ws !== null && this.ws.readyState === OPEN
  }

  /** start opens the connection once; later calls do nothing until stop. */
  start(): void {
    if (this.status.value !== 'idle') return
    if (typeof window !== 'undefined') window.addEventListener('online', this.onOnline)
    this.connect()
  }

  /** stop closes the connection, forgets the resume cursor and fails the requests in flight. */
  stop(): void {
    if (typeof window !== 'undefined') window.removeEventListener('online', this.onOnline)
    this.clearRetry()
    this.stopHeartbeat()
    const ws = this.ws
    this.ws = null
    if (ws) this.detach(ws)
    this.failPending()
    this.status.value = 'idle'
    this.lastSeq = 0
    this.attempt = 0
    this.handshakeFailures = 0
    this.everOpen = false
  }

  /** reconnectNow skips the backoff wait (the banner's "Reconnect now", the browser coming online). */
  reconnectNow(): void {
    if (this.status.value === 'idle' || this.status.value === 'open') return
    this.clearRetry()
    if (this.ws) {
      const ws = this.ws
      this.ws = null
      this.detach(ws)
    }
    this.connect()
  }

  /** delayFor is the wait before reconnect attempt n (0-based): exponential, capped, jittered. */
  delayFor(attempt: number): number {
    const d = Math.min(this.opts.maxDelay, this.opts.baseDelay * 2 ** Math.min(attempt, 30))
    return Math.round(d / 2 + (this.opts.random() * d) / 2)
  }

  /** on subscribes to one frame type ("message.created", "typing", ...) or "*" for every event. */
  on(type: string, fn: Handler): () => void {
    let set = this.handlers.get(type)
    if (!set) {
      set = new Set()
      this.handlers.set(type, set)
    }
    set.add(fn)
    return () => set.delete(fn)
  }

  /** onResync is called when events were missed and cannot be replayed: reload over REST. */
  onResync(fn: () => void): () => void {
    this.resyncHandlers.add(fn)
    return () => this.resyncHandlers.delete(fn)
  }

  /** onOpen is called after each hello; reconnected is true after a drop, resumed when missed events are replayed. */
  onOpen(fn: (info: { resumed: boolean; reconnected: boolean }) => void): () => void {
    this.openHandlers.add(fn)
    return () => this.openHandlers.delete(fn)
  }

  /** newId returns a fresh request id (for message.send it is also the idempotency key). */
  newId(prefix = 'c'): string {
    this.counter++
    const rand = Math.floor(this.opts.random() * 1e9).toString(36)
    return `${prefix}-${Date.now().toString(36)}-${this.counter.toString(36)}${rand}`
  }

  /**
   * request sends a frame with an id and resolves with its ack's data, or
   * rejects with an ApiError: the error frame's code and message, or
   * network_error when the socket is down or drops first (callers may then
   * fall back to REST with the same id as the idempotency key).
   */
  request<T = unknown>(type: string, data: unknown, id: string = this.newId()): Promise<T> {
    if (!this.connected || !this.ws) return Promise.reject(new ApiError(0, NETWORK_ERROR, 'Live updates are not connected.'))
    const ws = this.ws
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new ApiError(0, 'timeout', 'The server did not answer in time.'))
      }, this.opts.requestTimeout)
      this.pending.set(id, { resolve: resolve as (d: unknown) => void, reject, timer })
      try {
        ws.send(JSON.stringify({ type, id, data }))
      } catch {
        clearTimeout(timer)
        this.pending.delete(id)
        reject(dropped())
      }
    })
  }

  /** notify sends a frame that needs no answer (typing); it reports whether it went out. */
  notify(type: string, data: unknown): boolean {
    if (!this.connected || !this.ws) return false
    try {
      this.ws.send(JSON.stringify({ type, data }))
      return true
    } catch {
      return false
    }
  }

  private connect(): void {
    this.retryAt.value = 0
    this.status.value = this.everOpen || this.attempt > 0 ? 'reconnecting' : 'connecting'
    this.helloSeen = false
    this.seqAtConnect = this.lastSeq
    let ws: WebSocketLike
    try {
      ws = this.opts.socket(this.opts.url(this.lastSeq))
    } catch {
      this.scheduleReconnect()
      return
    }
    this.ws = ws
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return
      let frame: ServerFrame
      try {
        frame = JSON.parse(String(ev.data)) as ServerFrame
      } catch {
        return
      }
      if (frame && typeof frame.type === 'string') this.handleFrame(frame)
    }
    ws.onclose = () => {
      if (this.ws !== ws) return
      this.ws = null
      this.lost()
    }
    ws.onerror = () => {
      // A close event always follows; it does the work.
    }
  }

  private handleFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'hello': {
        const reconnected = this.everOpen
        const resumed = reconnected && this.seqAtConnect > 0
        if (!resumed && typeof frame.seq === 'number' && frame.seq > this.lastSeq) this.lastSeq = frame.seq
        this.helloSeen = true
        this.everOpen = true
        this.attempt = 0
        this.handshakeFailures = 0
        this.status.value = 'open'
        this.startHeartbeat()
        for (const fn of [...this.openHandlers]) fn({ resumed, reconnected })
        // Back after a drop with nothing to resume from: what happened meanwhile is unknown.
        if (reconnected && !resumed) this.emitResync()
        return
      }
      case 'resync':
        if (typeof frame.seq === 'number') this.lastSeq = frame.seq
        this.emitResync()
        return
      case 'ack':
      case 'error':
      case 'pong': {
        if (frame.type === 'pong') this.clearPong()
        const p = frame.id ? this.pending.get(frame.id) : undefined
        if (!p || !frame.id) return
        this.pending.delete(frame.id)
        clearTimeout(p.timer)
        if (frame.type === 'error') {
          const d = (frame.data ?? {}) as { code?: string; message?: string; fields?: Record<string, string> }
          p.reject(new ApiError(0, d.code || 'error', d.message || 'The request failed.', d.fields ?? {}))
        } else {
          p.resolve(frame.data)
        }
        return
      }
      default:
        if (typeof frame.seq === 'number' && frame.seq > this.lastSeq) this.lastSeq = frame.seq
        this.emit(frame.type, frame)
        this.emit('*', frame)
    }
  }

  private emit(type: string, frame: ServerFrame): void {
    const set = this.handlers.get(type)
    if (!set) return
    for (const fn of [...set]) {
      try {
        fn(frame.data, frame)
      } catch (e) {
        console.error(`realtime: a ${frame.type} handler failed`, e)
      }
    }
  }

  private emitResync(): void {
    for (const fn of [...this.resyncHandlers]) fn()
  }

  /** lost handles a connection that ended (closed, or declared dead by the heartbeat). */
  private lost(): void {
    this.stopHeartbeat()
    this.failPending()
    if (!this.helloSeen) {
      this.handshakeFailures++
      this.opts.onHandshakeFailure?.(this.handshakeFailures)
    }
    if (this.status.value === 'idle') return
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    this.status.value = 'reconnecting'
    const delay = this.delayFor(this.attempt)
    this.attempt++
    this.clearRetry()
    this.retryAt.value = Date.now() + delay
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.connect()
    }, delay)
  }

  private detach(ws: WebSocketLike): void {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null
    try {
      ws.close()
    } catch {
      // already closed
    }
  }

  private startHeartbeat(): void {
    this.stopHeartbeat()
    this.pingTimer = setInterval(() => {
      const ws = this.ws
      if (!ws || this.pongTimer) return
      try {
        ws.send(JSON.stringify({ type: 'ping', id: this.newId('ping') }))
      } catch {
        return
      }
      this.pongTimer = setTimeout(() => {
        this.pongTimer = null
        // No answer: the connection is dead even if it never said so.
        if (this.ws !== ws) return
        this.ws = null
        this.detach(ws)
        this.lost()
      }, this.opts.pongTimeout)
    }, this.opts.pingInterval)
  }

  private clearPong(): void {
    if (this.pongTimer) clearTimeout(this.pongTimer)
    this.pongTimer = null
  }

  private stopHeartbeat(): void {
    if (this.pingTimer) clearInterval(this.pingTimer)
    this.pingTimer = null
    this.clearPong()
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.retryAt.value = 0
  }

  private failPending(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      this.pending.delete(id)
      p.reject(dropped())
    }
  }
}

/**
 * realtime is the app's one connection, started by the signed-in shell. A
 * socket that keeps failing before its hello may mean the session ended: an
 * ordinary request then finds out, and a 401 sends the agent to sign-in.
 */
export const realtime = new RealtimeClient({
  onHandshakeFailure: (n) => {
    if (n % 3 === 1) void api.get('/me').catch(() => undefined)
  },
})
