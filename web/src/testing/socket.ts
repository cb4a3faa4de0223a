// A controllable websocket for tests of the realtime client and of the views
// that use it: open it, hand it server frames, drop it, read what was sent.
import type { WebSocketLike } from '../realtime'

export class FakeSocket implements WebSocketLike {
  static instances: FakeSocket[] = []

  readyState = 0
  sent: { type: string; id?: string; data?: unknown }[] = []
  closed = false
  onopen: ((ev: Event) => void) | null = null
  onmessage: ((ev: MessageEvent) => void) | null = null
  onclose: ((ev: CloseEvent) => void) | null = null
  onerror: ((ev: Event) => void) | null = null

  constructor(readonly url: string) {
    FakeSocket.instances.push(this)
  }

  /** last is the most recent socket made. */
  static last(): FakeSocket {
    const s = FakeSocket.instances[FakeSocket.instances.length - 1]
    if (!s) throw new Error('no socket was opened')
    return s
  }

  static reset(): void {
    FakeSocket.instances = []
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('socket not open')
    this.sent.push(JSON.parse(data))
  }

  close(): void {
    this.closed = true
    this.readyState = 3
  }

  /** open completes the handshake. */
  open(): void {
    this.readyState = 1
    this.onopen?.(new Event('open'))
  }

  /** receive delivers a server frame. */
  receive(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) } as MessageEvent)
  }

  /** hello opens the socket and greets it, as the server does first. */
  hello(seq = 0): void {
    this.open()
    this.receive({ type: 'hello', seq, data: { agent_id: 1, role: 'admin', channel_ids: [1] } })
  }

  /** drop ends the connection from the network's side. */
  drop(): void {
    this.readyState = 3
    this.onclose?.({ code: 1006 } as CloseEvent)
  }
}

/** installFakeSockets makes the browser's WebSocket a FakeSocket (for the app's singleton client). */
export function installFakeSockets(): void {
  FakeSocket.reset()
  Object.defineProperty(globalThis, 'WebSocket', { value: FakeSocket, writable: true, configurable: true })
}
