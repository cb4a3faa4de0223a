// Runs before every test file. jsdom's WebSocket would try to reach a real
// server; components that open the app's live connection get one that stays
// connecting instead. Tests of the realtime client pass their own fake.
class InertWebSocket {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSING = 2
  static readonly CLOSED = 3
  readonly readyState = 0
  onopen: ((ev: Event) => void) | null = null
  onmessage: ((ev: MessageEvent) => void) | null = null
  onclose: ((ev: CloseEvent) => void) | null = null
  onerror: ((ev: Event) => void) | null = null
  constructor(readonly url: string) {}
  send(): void {}
  close(): void {}
}

Object.defineProperty(globalThis, 'WebSocket', { value: InertWebSocket, writable: true, configurable: true })
