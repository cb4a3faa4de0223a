// Browser tests of the web app against a real, running Switchboard server.
//
//   SWITCHBOARD_E2E_URL=http://127.0.0.1:18080 \
//   SWITCHBOARD_E2E_ADMIN_EMAIL=admin@example.com \
//   SWITCHBOARD_E2E_ADMIN_PASSWORD=... \
//   node e2e/run.mjs
//
// Optional: SWITCHBOARD_E2E_SCREENSHOTS (default web/e2e/screenshots),
// SWITCHBOARD_E2E_CHROMIUM (default /usr/bin/chromium). Run one test with
// `node --test-name-pattern="reload" e2e/run.mjs`.
//
// Each test opens its own browser context (its own cookies), so tests do not
// depend on each other. A failing test leaves failure-<test>.png beside the
// screenshots. The process exits non-zero when any test fails.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
const BASE = (process.env.SWITCHBOARD_E2E_URL ?? '').replace(/\/+$/, '')
const EMAIL = process.env.SWITCHBOARD_E2E_ADMIN_EMAIL ?? ''
const PASSWORD = process.env.SWITCHBOARD_E2E_ADMIN_PASSWORD ?? ''
const SHOTS = resolve(process.env.SWITCHBOARD_E2E_SCREENSHOTS || join(here, 'screenshots'))
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

const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }
const WAIT = 15_000

/** @type {import('playwright-core').Browser} */
let browser

before(async () => {
  mkdirSync(SHOTS, { recursive: true })
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
})

/**
 * e2e declares a test that gets a fresh page in its own browser context. On
 * failure it saves a screenshot and adds the page's URL and uncaught errors to
 * the message.
 * @param {string} name
 * @param {(page: import('playwright-core').Page) => Promise<void>} fn
 */
function e2e(name, fn) {
  test(name, { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ baseURL: BASE, viewport: DESKTOP, locale: 'en-US' })
    context.setDefaultTimeout(WAIT)
    const page = await context.newPage()
    const pageErrors = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    try {
      await fn(page)
      assert.deepEqual(pageErrors, [], 'the page threw uncaught errors')
    } catch (err) {
      const shot = join(SHOTS, `failure-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`)
      await page.screenshot({ path: shot }).catch(() => undefined)
      const extra = [`at ${page.url()}`, `screenshot ${shot}`]
      if (pageErrors.length > 0) extra.push(`page errors: ${pageErrors.join(' | ')}`)
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
 */
async function visible(locator, what) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: WAIT })
  } catch {
    throw new Error(`expected ${what} to be visible within ${WAIT / 1000}s`)
  }
}

/**
 * atPath waits until the page's path (and query) matches.
 * @param {import('playwright-core').Page} page
 * @param {(url: URL) => boolean} ok
 * @param {string} what
 */
async function atPath(page, ok, what) {
  try {
    await page.waitForURL((url) => ok(url), { timeout: WAIT })
  } catch {
    throw new Error(`expected to be at ${what}, but the page is at ${page.url()}`)
  }
}

const isLogin = (url) => url.pathname === '/login'

/**
 * submitLogin fills and submits the sign-in form and returns the login
 * response's status. A rate-limited attempt (429, left over from an earlier
 * run) is waited out once rather than failing the test.
 * @param {import('playwright-core').Page} page
 * @param {string} email
 * @param {string} password
 */
async function submitLogin(page, email, password) {
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
async function signIn(page, path = '/') {
  await page.goto(path)
  await atPath(page, isLogin, 'the sign-in page')
  const status = await submitLogin(page, EMAIL, PASSWORD)
  assert.equal(status, 200, `signing in as ${EMAIL} answered ${status}; check SWITCHBOARD_E2E_ADMIN_PASSWORD`)
  await atPath(page, (url) => url.pathname.startsWith('/inbox/'), 'the inbox after signing in')
}

/**
 * me asks the server, from inside the page (with its cookies), who is signed in.
 * @param {import('playwright-core').Page} page
 */
async function me(page) {
  return page.evaluate(async () => {
    const res = await fetch('/api/v1/me', { credentials: 'same-origin' })
    return { status: res.status, body: res.ok ? await res.json() : null }
  })
}

e2e('sign-in page renders', async (page) => {
  await page.goto('/')
  await atPath(page, isLogin, 'the sign-in page (signed out visitors are sent there)')
  await visible(page.getByRole('heading', { name: 'Sign in' }), 'the "Sign in" heading')
  await visible(page.getByLabel('Email'), 'a field labelled Email')
  await visible(page.getByLabel('Password', { exact: true }), 'a field labelled Password')
  assert.equal(await page.getByLabel('Email').getAttribute('autocomplete'), 'username')
  assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('autocomplete'), 'current-password')
  assert.ok(await page.getByRole('button', { name: 'Sign in' }).isEnabled(), 'the Sign in button is disabled')
  assert.equal(await page.title(), 'Sign in · Switchboard')
  await page.screenshot({ path: join(SHOTS, 'sign-in.png') })
})

e2e('wrong password shows the error', async (page) => {
  await page.goto('/login')
  const status = await submitLogin(page, EMAIL, `${PASSWORD}-wrong`)
  assert.equal(status, 401, `a wrong password answered ${status}, want 401`)
  const alert = page.getByRole('alert')
  await visible(alert, 'an error message after a wrong password')
  const text = (await alert.first().innerText()).trim()
  assert.match(text, /invalid|incorrect|wrong/i, `the error message reads "${text}"`)
  assert.ok(isLogin(new URL(page.url())), 'a wrong password left the sign-in page')
  assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'the wrong password was kept')
  await page.screenshot({ path: join(SHOTS, 'sign-in-error.png') })
})

e2e('signing in as the admin opens the inbox shell', async (page) => {
  await signIn(page)
  const session = await me(page)
  assert.equal(session.status, 200, `/api/v1/me after signing in answered ${session.status}`)
  const { name, role } = session.body.agent
  assert.equal(role, 'admin', `${EMAIL} is not an admin`)

  await visible(page.getByTestId('agent-name'), "the signed-in agent's name in the header")
  assert.equal((await page.getByTestId('agent-name').innerText()).trim(), name)
  assert.equal((await page.getByTestId('agent-role').innerText()).trim(), 'Admin')
  await visible(page.getByRole('button', { name: 'Sign out' }), 'a Sign out button')
  await visible(page.getByRole('link', { name: 'Inbox' }), 'the Inbox navigation entry')
  for (const tab of ['Mine', 'Unassigned', 'All']) {
    await visible(page.getByRole('navigation', { name: 'Conversation lists' }).getByRole('link', { name: tab }), `the ${tab} tab`)
  }
  await visible(page.getByText('Select a conversation'), 'the empty thread pane')
  assert.equal(await page.title(), 'Inbox · Switchboard')
  await page.screenshot({ path: join(SHOTS, 'inbox.png') })

  await page.setViewportSize(PHONE)
  await visible(page.getByRole('button', { name: 'Sign out' }), 'Sign out at phone width')
  await page.screenshot({ path: join(SHOTS, 'inbox-phone.png') })
})

e2e('reload keeps the session', async (page) => {
  await signIn(page)
  await page.getByRole('link', { name: 'Unassigned' }).click()
  await atPath(page, (url) => url.pathname === '/inbox/unassigned', '/inbox/unassigned')
  await page.reload()
  await visible(page.getByTestId('agent-name'), 'the inbox after a reload')
  assert.equal(new URL(page.url()).pathname, '/inbox/unassigned', 'the reload did not stay on the same page')
  assert.equal(
    await page.getByRole('link', { name: 'Unassigned' }).getAttribute('aria-current'),
    'page',
    'the Unassigned tab is not the current one after the reload',
  )
})

e2e('a deep link comes back after sign-in', async (page) => {
  await page.goto('/inbox/all')
  await atPath(
    page,
    (url) => isLogin(url) && url.searchParams.get('redirect') === '/inbox/all',
    '/login?redirect=/inbox/all',
  )
  const status = await submitLogin(page, EMAIL, PASSWORD)
  assert.equal(status, 200, `signing in answered ${status}`)
  await atPath(page, (url) => url.pathname === '/inbox/all', '/inbox/all (the page asked for before signing in)')
})

e2e('sign out returns to sign-in', async (page) => {
  await signIn(page)
  await page.getByRole('button', { name: 'Sign out' }).click()
  await atPath(page, isLogin, 'the sign-in page after signing out')
  await visible(page.getByRole('heading', { name: 'Sign in' }), 'the sign-in form after signing out')
  const session = await me(page)
  assert.equal(session.status, 401, `/api/v1/me after signing out answered ${session.status}, want 401`)
  await page.goto('/inbox/mine')
  await atPath(page, isLogin, 'the sign-in page when opening the inbox after signing out')
})
