// Shared setup of the browser tests: configuration from the environment, one
// chromium for the whole run, a fresh browser context per test, helpers that
// sign in and call the API from inside a page (with its session cookie and
// CSRF token), the sandbox customer's side through the API, and screenshots.
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
export const BASE = (process.env.SWITCHBOARD_E2E_URL ?? '').replace(/\/+$/, '')
export const EMAIL = process.env.SWITCHBOARD_E2E_ADMIN_EMAIL ?? ''
export const PASSWORD = process.env.SWITCHBOARD_E2E_ADMIN_PASSWORD ?? ''
export const SHOTS = resolve(process.env.SWITCHBOARD_E2E_SCREENSHOTS || join(here, 'screenshots'))
// SWITCHBOARD_E2E_README_SHOTS=<dir> also copies the screenshots the repository's README shows there
// (docs/screenshots), and only those: not sign-in, error, phone-width or failure pictures.
const README_DIR = process.env.SWITCHBOARD_E2E_README_SHOTS ? resolve(process.env.SWITCHBOARD_E2E_README_SHOTS) : ''

/** README_SHOTS are the screenshots the README uses, by file name: the only list of them. */
export const README_SHOTS = new Set([
  'inbox.png',
  'inbox-phone.png',
  'composer-templates.png',
  'sandbox-phone.png',
  'settings-business-hours.png',
  'routing-rules.png',
  'admin-channel-connect.png',
  'reports.png',
])
const CHROMIUM = process.env.SWITCHBOARD_E2E_CHROMIUM || '/usr/bin/chromium'

const missing = [
  ['SWITCHBOARD_E2E_URL', BASE],
  ['SWITCHBOARD_E2E_ADMIN_EMAIL', EMAIL],
  ['SWITCHBOARD_E2E_ADMIN_PASSWORD', PASSWORD],
]
  .filter(([, v]) => !v)
  .map(([k]) => k)
if (missing.length > 0) {
  console.error(`e2e: set ${missing.join(', ')} (the base URL of a running Switchboard server and its admin).`)
  process.exit(2)
}
if (!existsSync(CHROMIUM)) {
  console.error(`e2e: no browser at ${CHROMIUM}; install Debian's chromium (apt-get install -y chromium).`)
  process.exit(2)
}

export const DESKTOP = { width: 1280, height: 800 }
export const PHONE = { width: 390, height: 844 }
export const WAIT = 15_000

/** @type {import('playwright-core').Browser} */
let browser

const copied = []

before(async () => {
  mkdirSync(SHOTS, { recursive: true })
  if (README_DIR) mkdirSync(README_DIR, { recursive: true })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  const res = await fetch(`${BASE}/healthz`).catch((e) => e)
  if (res instanceof Error) throw new Error(`e2e: cannot reach ${BASE}: ${res.message}`)
})

after(async () => {
  await browser?.close()
  if (README_DIR) console.log(`# README screenshots written to ${README_DIR}: ${copied.join(', ') || 'none'}`)
})

/**
 * e2e declares a test that gets a fresh page in its own browser context (more
 * pages may be opened with page.context().newPage()). It fails when any page
 * throws an uncaught error or opens a dialog (alert, confirm: nothing in the
 * app should). On failure it saves a screenshot of every page and adds their
 * URLs and errors to the message.
 * @param {string} name
 * @param {(page: import('playwright-core').Page) => Promise<void>} fn
 * @param {{viewport?: {width: number, height: number}, timezoneId?: string, timeout?: number, prefix?: string}} [opts]
 *   the page size, the browser's time zone, the test's timeout and the failure screenshots' prefix
 */
export function e2e(name, fn, { viewport = DESKTOP, timezoneId = undefined, timeout = 120_000, prefix = 'failure' } = {}) {
  test(name, { timeout }, async () => {
    const context = await browser.newContext({ baseURL: BASE, viewport, locale: 'en-US', timezoneId })
    context.setDefaultTimeout(WAIT)
    const pageErrors = []
    const dialogs = []
    const watch = (p) => {
      p.on('pageerror', (err) => pageErrors.push(err.message))
      p.on('dialog', (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`)
        void d.dismiss().catch(() => undefined)
      })
    }
    context.on('page', watch)
    const page = await context.newPage()
    try {
      await fn(page)
      assert.deepEqual(dialogs, [], 'a page opened a dialog')
      assert.deepEqual(pageErrors, [], 'the page threw uncaught errors')
    } catch (err) {
      const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()
      const extra = []
      for (const [i, p] of context.pages().entries()) {
        const shot = join(SHOTS, `${prefix}-${slug}${i > 0 ? `-${i + 1}` : ''}.png`)
        await p.screenshot({ path: shot }).catch(() => undefined)
        extra.push(`page ${i + 1} at ${p.url()}, screenshot ${shot}`)
      }
      if (pageErrors.length > 0) extra.push(`page errors: ${pageErrors.join(' | ')}`)
      if (dialogs.length > 0) extra.push(`dialogs: ${dialogs.join(' | ')}`)
      if (err instanceof Error) err.message += `\n  (${extra.join('; ')})`
      throw err
    } finally {
      await context.close()
    }
  })
}

/**
 * visible waits for a locator and fails with a message saying what was expected.
 * @param {import('playwright-core').Locator} locator
 * @param {string} what
 * @param {number} [timeout]
 */
export async function visible(locator, what, timeout = WAIT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout })
  } catch {
    throw new Error(`expected ${what} to be visible within ${timeout / 1000}s`)
  }
}

/**
 * eventually polls fn until it returns a truthy value, or fails saying what was expected.
 * @template T
 * @param {() => Promise<T>} fn
 * @param {string} what
 * @param {number} [timeout]
 * @returns {Promise<T>}
 */
export async function eventually(fn, what, timeout = WAIT) {
  const end = Date.now() + timeout
  let last
  for (;;) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e
    }
    if (Date.now() > end) {
      throw new Error(`expected ${what} within ${timeout / 1000}s (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
    }
    await sleep(200)
  }
}

/**
 * atPath waits until the page's path (and query) matches.
 * @param {import('playwright-core').Page} page
 * @param {(url: URL) => boolean} ok
 * @param {string} what
 */
export async function atPath(page, ok, what) {
  try {
    await page.waitForURL((url) => ok(url), { timeout: WAIT })
  } catch {
    throw new Error(`expected to be at ${what}, but the page is at ${page.url()}`)
  }
}

export const isLogin = (url) => url.pathname === '/login'

/**
 * submitLogin fills and submits the sign-in form and returns the login
 * response's status. A rate-limited attempt (429, left over from an earlier
 * run) is waited out once rather than failing the test.
 * @param {import('playwright-core').Page} page
 * @param {string} email
 * @param {string} password
 */
export async function submitLogin(page, email, password) {
  for (let attempt = 1; ; attempt++) {
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password', { exact: true }).fill(password)
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ])
    if (res.status() !== 429 || attempt > 1) return res.status()
    const wait = Math.min(Number(res.headers()['retry-after']) || 30, 65)
    console.log(`# login rate limited; waiting ${wait}s before retrying once`)
    await sleep(wait * 1000)
  }
}

/**
 * signIn signs in as the admin through the form, starting from path.
 * @param {import('playwright-core').Page} page
 */
export async function signIn(page, path = '/') {
  await page.goto(path)
  await atPath(page, isLogin, 'the sign-in page')
  const status = await submitLogin(page, EMAIL, PASSWORD)
  assert.equal(status, 200, `signing in as ${EMAIL} answered ${status}; check SWITCHBOARD_E2E_ADMIN_PASSWORD`)
  await atPath(page, (url) => !isLogin(url), 'the app after signing in')
}

/**
 * me asks the server, from inside the page (with its cookies), who is signed in.
 * @param {import('playwright-core').Page} page
 */
export async function me(page) {
  return page.evaluate(async () => {
    const res = await fetch('/api/v1/me', { credentials: 'same-origin' })
    return { status: res.status, body: res.ok ? await res.json() : null }
  })
}

/**
 * request makes an API request from inside a signed-in page: its session
 * cookie, and for writes the CSRF token from /api/v1/me. It returns the
 * status and the decoded body, whatever the status.
 * @param {import('playwright-core').Page} page
 * @param {string} method
 * @param {string} path  under /api/v1
 * @param {unknown} [body]
 * @returns {Promise<{status: number, body: any}>}
 */
export async function request(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const headers = { Accept: 'application/json' }
      if (method !== 'GET') {
        const who = await fetch('/api/v1/me', { credentials: 'same-origin' }).then((r) => r.json())
        headers['X-CSRF-Token'] = who.csrf_token
      }
      if (body !== undefined) headers['Content-Type'] = 'application/json'
      const r = await fetch(`/api/v1${path}`, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await r.text()
      return { status: r.status, body: text ? JSON.parse(text) : null }
    },
    { method, path, body },
  )
}

/**
 * call is request that fails on an error answer and returns the body.
 * @param {import('playwright-core').Page} page
 * @param {string} method
 * @param {string} path  under /api/v1
 * @param {unknown} [body]
 */
export async function call(page, method, path, body) {
  const res = await request(page, method, path, body)
  if (res.status >= 400) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body
}

/**
 * screenshot saves a picture of a page (or of one element) as SHOTS/name; one the README uses
 * (README_SHOTS) is also copied to SWITCHBOARD_E2E_README_SHOTS when that is set.
 * @param {import('playwright-core').Page | import('playwright-core').Locator} target
 * @param {string} name
 * @param {{fullPage?: boolean}} [options]  page.screenshot's options
 */
export async function screenshot(target, name, options = {}) {
  const path = join(SHOTS, name)
  await target.screenshot({ path, ...options })
  if (README_DIR && README_SHOTS.has(name)) {
    copyFileSync(path, join(README_DIR, name))
    copied.push(name)
  }
}

/** uniq returns a short random suffix so tests never collide with earlier runs on the same server. */
export function uniq() {
  return Math.random().toString(36).slice(2, 7)
}

/** customerNumber returns a fresh sandbox customer's number (digits, E.164 without +). */
export function customerNumber() {
  let n = '1555'
  for (let i = 0; i < 7; i++) n += Math.floor(Math.random() * 10)
  return n
}

/**
 * sandboxChannel creates a sandbox channel through the API and makes the
 * signed-in admin a member, so its conversations can be assigned to them;
 * optionally with CSAT surveys on.
 * @param {import('playwright-core').Page} page
 * @param {{name?: string, csat?: boolean}} [opts]
 */
export async function sandboxChannel(page, { name = `E2E ${uniq()}`, csat = false } = {}) {
  const res = await request(page, 'POST', '/sandbox/channels', { name })
  assert.equal(res.status, 201, `creating a sandbox channel answered ${res.status} ${JSON.stringify(res.body)} (is the sandbox on?)`)
  const ch = res.body
  const who = await me(page)
  await call(page, 'POST', `/channels/${ch.id}/members`, { agent_id: who.body.agent.id })
  if (csat) await csatOn(page, ch.id)
  return ch
}

/** csatOn turns a channel's CSAT survey on (sent on resolve, open for 24 hours). */
export async function csatOn(page, channelId) {
  await call(page, 'PUT', `/channels/${channelId}/settings`, { csat: { enabled: true, expiry_hours: 24 } })
}

/** customerSays plays the customer through the sandbox API (for tests about the inbox, not the phone). */
export async function customerSays(page, channelId, waId, name, text, extra = {}) {
  return call(page, 'POST', `/sandbox/channels/${channelId}/messages`, { wa_id: waId, name, type: 'text', text, ...extra })
}

/** conversationOf waits for the customer's conversation and returns it. */
export async function conversationOf(page, waId) {
  return eventually(async () => (await call(page, 'GET', `/conversations?q=${waId}`)).data?.[0], `the conversation of ${waId}`)
}

/**
 * answerSurvey plays the customer answering the CSAT survey through the sandbox API, as a tap on
 * the phone does: it waits for the survey (an interactive list whose rows are "csat:<survey>:<rating>")
 * in the customer's transcript, sent to WhatsApp, and replies with the row of the rating.
 * @param {import('playwright-core').Page} page
 * @param {number} channelId
 * @param {string} waId
 * @param {string} name
 * @param {1|2|3|4|5} rating
 */
export async function answerSurvey(page, channelId, waId, name, rating) {
  const { survey, row } = await eventually(async () => {
    const transcript = await call(page, 'GET', `/sandbox/channels/${channelId}/messages?wa_id=${waId}`)
    for (const m of (transcript.data ?? []).toReversed()) {
      const inter = m.direction === 'outbound' && m.external_id ? m.payload?.interactive : null
      const rows = inter?.type === 'list' ? (inter.action?.sections ?? []).flatMap((s) => s.rows ?? []) : []
      const row = rows.find((r) => new RegExp(`^csat:\\d+:${rating}$`).test(r.id))
      if (row) return { survey: m, row }
    }
    return null
  }, `the CSAT survey sent to ${waId}`)
  await customerSays(page, channelId, waId, name, row.title, { type: 'list_reply', reply_id: row.id, reply_to: survey.external_id })
}

/**
 * distribution reads the Reports page's CSAT distribution: the count of each rating, 5 to 1.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<Record<string, number>>}
 */
export async function distribution(page) {
  const rows = await page.getByTestId('csat-distribution').getByRole('listitem').allInnerTexts()
  return Object.fromEntries(
    rows.map((text) => {
      const row = text.replace(/\s+/g, ' ').trim()
      const m = /^([1-5])\D.*?(\d+) \(\d+%\)$/.exec(row)
      assert.ok(m, `cannot read the distribution row "${row}"`)
      return [m[1], Number(m[2])]
    }),
  )
}
