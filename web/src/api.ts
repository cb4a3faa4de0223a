// A small typed client for the Switchboard API (same origin, cookie session).
//
// Every request sends and receives JSON. Writes (any method but GET/HEAD) carry
// the CSRF token handed out by login and /me in X-CSRF-Token. Failures are
// thrown as ApiError, parsed from the server's error shape
// {"error": {"code", "message", "fields"}}. A 401 calls the handler installed
// with onUnauthorized (the router sends the agent to sign-in), unless the
// request opts out because a 401 is an expected answer there (login, /me).

export type Role = 'admin' | 'agent'
export type Availability = 'available' | 'away'

/** Agent is a person (or admin) who signs in to the inbox. */
export interface Agent {
  id: number
  name: string
  email: string
  role: Role
  availability: Availability
  created_at: string
}

/** Session is the answer of login and /me. */
export interface Session {
  agent: Agent
  csrf_token: string
}

/** Page is the shape of every list endpoint. */
export interface Page<T> {
  data: T[]
  next_cursor?: string
}

/** ApiError is a failed request: the server's error code, message and field errors. */
export class ApiError extends Error {
  readonly code: string
  readonly status: number
  readonly fields: Record<string, string>

  constructor(status: number, code: string, message: string, fields: Record<string, string> = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields
  }
}

/** NETWORK_ERROR is the code of an ApiError for a request that never got an answer. */
export const NETWORK_ERROR = 'network_error'

export interface RequestOptions {
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Set to false where a 401 is an expected answer (sign-in, session restore). */
  redirectOnUnauthorized?: boolean
}

const BASE = '/api/v1'

let csrfToken = ''
let unauthorizedHandler: (() => void) | null = null

/** setCsrfToken sets the token sent with every write; the auth store calls it. */
export function setCsrfToken(token: string): void {
  csrfToken = token
}

/** onUnauthorized installs what happens when any request answers 401. */
export function onUnauthorized(handler: (() => void) | null): void {
  unauthorizedHandler = handler
}

const fallbackMessages: Record<number, string> = {
  400: 'The request was not understood.',
  401: 'Your session has ended. Sign in again.',
  403: 'You do not have permission to do that.',
  404: 'Not found.',
  409: 'That conflicts with a change made elsewhere. Reload and try again.',
  422: 'Some fields need attention.',
  429: 'Too many attempts. Wait a moment and try again.',
}

function fallbackMessage(status: number): string {
  return fallbackMessages[status] ?? (status >= 500 ? 'The server had a problem. Try again in a moment.' : `Request failed (${status}).`)
}

function fallbackCode(status: number): string {
  switch (status) {
    case 401: return 'unauthorized'
    case 403: return 'forbidden'
    case 404: return 'not_found'
    case 409: return 'conflict'
    case 422: return 'invalid'
    case 429: return 'rate_limited'
    case 503: return 'unavailable'
    default: return status >= 500 ? 'internal' : 'error'
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** parseError turns a failed response body into an ApiError, tolerating bodies that are not ours. */
export function parseError(status: number, body: unknown): ApiError {
  const err = isRecord(body) && isRecord(body.error) ? body.error : null
  const code = err && typeof err.code === 'string' && err.code ? err.code : fallbackCode(status)
  const message = err && typeof err.message === 'string' && err.message ? err.message : fallbackMessage(status)
  const fields: Record<string, string> = {}
  if (err && isRecord(err.fields)) {
    for (const [k, v] of Object.entries(err.fields)) {
      if (typeof v === 'string') fields[k] = v
    }
  }
  return new ApiError(status, code, message, fields)
}

async function readJSON(res: Response): Promise<unknown> {
  const text = await res.text()
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** request performs one API call and returns the decoded JSON body (undefined for 204). */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers }
  const init: RequestInit = { method, headers, credentials: 'same-origin', signal: opts.signal }
  if (opts.body instanceof FormData) {
    // The browser sets the multipart Content-Type with its boundary.
    init.body = opts.body
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(opts.body)
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) {
    headers['X-CSRF-Token'] = csrfToken
  }

  let res: Response
  try {
    res = await fetch(BASE + path, init)
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError(0, NETWORK_ERROR, 'Cannot reach the server. Check your connection and try again.')
  }

  const body = await readJSON(res)
  if (!res.ok) {
    const err = parseError(res.status, body)
    if (res.status === 401 && opts.redirectOnUnauthorized !== false) unauthorizedHandler?.()
    throw err
  }
  return body as T
}

/** api holds the typed calls of the endpoints the app uses. */
export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body }),
  delete: <T = void>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
  /** upload posts a multipart form (an attachment); the CSRF header is sent as for any write. */
  upload: <T>(path: string, form: FormData, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body: form }),

  login: (email: string, password: string) =>
    request<Session>('POST', '/auth/login', { body: { email, password }, redirectOnUnauthorized: false }),
  me: () => request<Session>('GET', '/me', { redirectOnUnauthorized: false }),
  logout: () => request<void>('POST', '/auth/logout', { redirectOnUnauthorized: false }),
}
