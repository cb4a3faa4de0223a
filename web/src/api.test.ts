import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, NETWORK_ERROR, onUnauthorized, parseError, request, setCsrfToken } from './api'
import { agent, json, stubFetch } from './testing/fetch'

afterEach(() => {
  setCsrfToken('')
  onUnauthorized(null)
})

describe('request', () => {
  it('sends JSON with the same-origin session and decodes the answer', async () => {
    const calls = stubFetch({ 'POST /api/v1/things': () => json(201, { id: 7 }) })
    const res = await api.post<{ id: number }>('/things', { name: 'x' })
    expect(res).toEqual({ id: 7 })
    expect(calls).toHaveLength(1)
    expect(calls[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/things',
      credentials: 'same-origin',
      body: { name: 'x' },
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    })
  })

  it('sends the CSRF token on every write and never on reads', async () => {
    const ok = () => json(200, {})
    const calls = stubFetch({
      'GET /api/v1/x': ok,
      'POST /api/v1/x': ok,
      'PUT /api/v1/x': ok,
      'PATCH /api/v1/x': ok,
      'DELETE /api/v1/x': () => json(204),
    })
    setCsrfToken('tok-123')
    await api.get('/x')
    await api.post('/x', {})
    await api.put('/x', {})
    await api.patch('/x', {})
    await api.delete('/x')
    const tokens = Object.fromEntries(calls.map((c) => [c.method, c.headers['X-CSRF-Token']]))
    expect(tokens).toEqual({ GET: undefined, POST: 'tok-123', PUT: 'tok-123', PATCH: 'tok-123', DELETE: 'tok-123' })
  })

  it('returns undefined for 204 No Content', async () => {
    stubFetch({ 'POST /api/v1/auth/logout': () => json(204) })
    await expect(api.logout()).resolves.toBeUndefined()
  })

  it('parses the error shape into an ApiError', async () => {
    stubFetch({
      'POST /api/v1/agents': () =>
        json(422, { error: { code: 'invalid', message: 'Check the fields.', fields: { email: 'Email is taken.' } } }),
    })
    const err = await api.post('/agents', {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 422, code: 'invalid', message: 'Check the fields.', fields: { email: 'Email is taken.' } })
  })

  it('falls back to a code and message when the body is not ours', async () => {
    stubFetch({ 'GET /api/v1/x': () => new Response('<html>Bad gateway</html>', { status: 502 }) })
    const err = await api.get('/x').catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 502, code: 'internal', fields: {} })
    expect((err as ApiError).message).toMatch(/server/i)
  })

  it('turns a failed fetch into a network ApiError', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')))
    const err = await api.get('/x').catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 0, code: NETWORK_ERROR })
  })

  it('calls the unauthorized handler on a 401', async () => {
    const handler = vi.fn()
    onUnauthorized(handler)
    stubFetch({ 'GET /api/v1/conversations': () => json(401, { error: { code: 'unauthorized', message: 'Sign in.' } }) })
    const err = await request('GET', '/conversations').catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 401, code: 'unauthorized' })
    expect(handler).toHaveBeenCalledTimes(1)
  })

  it('does not redirect on the expected 401s of login and /me', async () => {
    const handler = vi.fn()
    onUnauthorized(handler)
    const unauthorized = () => json(401, { error: { code: 'unauthorized', message: 'Invalid email or password.' } })
    stubFetch({ 'POST /api/v1/auth/login': unauthorized, 'GET /api/v1/me': unauthorized })
    await expect(api.login('a@b.c', 'x')).rejects.toMatchObject({ message: 'Invalid email or password.' })
    await expect(api.me()).rejects.toBeInstanceOf(ApiError)
    expect(handler).not.toHaveBeenCalled()
  })

  it('sends the login body', async () => {
    const calls = stubFetch({ 'POST /api/v1/auth/login': () => json(200, { agent, csrf_token: 't' }) })
    await api.login('ada@example.com', 'secret')
    expect(calls[0]?.body).toEqual({ email: 'ada@example.com', password: 'secret' })
  })
})

describe('parseError', () => {
  it('keeps only string field messages', () => {
    const err = parseError(422, { error: { code: 'invalid', message: 'm', fields: { a: 'x', b: 3, c: null } } })
    expect(err.fields).toEqual({ a: 'x' })
  })

  it('names common statuses without a body', () => {
    expect(parseError(429, undefined).code).toBe('rate_limited')
    expect(parseError(403, undefined).code).toBe('forbidden')
    expect(parseError(404, 'nope').code).toBe('not_found')
  })
})
