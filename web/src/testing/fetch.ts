// Helpers for tests that talk to a fake API through a stubbed fetch.
import { vi } from 'vitest'
import type { Agent } from '../api'

export interface Call {
  method: string
  url: string
  headers: Record<string, string>
  body: unknown
  credentials: RequestCredentials | undefined
}

export type Route = (call: Call) => Response | Promise<Response>

/** json builds a JSON response. */
export function json(status: number, body?: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
  })
}

export const agent: Agent = {
  id: 1,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  role: 'admin',
  availability: 'available',
  created_at: '2025-01-01T00:00:00Z',
}

/** stubFetch replaces fetch with routes keyed "METHOD /path" and records every call. */
export function stubFetch(routes: Record<string, Route>): Call[] {
  const calls: Call[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const url = String(input)
      const method = init.method ?? 'GET'
      const call: Call = {
        method,
        url,
        headers: { ...(init.headers as Record<string, string>) },
        body: typeof init.body === 'string' ? JSON.parse(init.body) : init.body,
        credentials: init.credentials,
      }
      calls.push(call)
      const route = routes[`${method} ${url.split('?')[0]}`]
      if (!route) return json(404, { error: { code: 'not_found', message: `No fake for ${method} ${url}` } })
      return route(call)
    }),
  )
  return calls
}

/** deferred is a promise with its resolve exposed, to hold a request open. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}
