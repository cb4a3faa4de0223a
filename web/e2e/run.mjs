// Browser tests of the web app against a real, running Switchboard server.
//
//   SWITCHBOARD_E2E_URL=http://127.0.0.1:18080 \
//   SWITCHBOARD_E2E_ADMIN_EMAIL=admin@example.com \
//   SWITCHBOARD_E2E_ADMIN_PASSWORD=... \
//   node e2e/run.mjs
//
// Optional: SWITCHBOARD_E2E_SCREENSHOTS (default web/e2e/screenshots),
// SWITCHBOARD_E2E_README_SHOTS (also copy the README's screenshots there, e.g.
// docs/screenshots), SWITCHBOARD_E2E_CHROMIUM (default /usr/bin/chromium). Run one test with
// `node --test-name-pattern="reload" e2e/run.mjs`.
//
// Each test opens its own browser context (its own cookies), so tests do not
// depend on each other. A failing test leaves failure-<test>.png beside the
// screenshots. The process exits non-zero when any test fails.
//
// This file holds the sign-in tests; workspace.mjs the inbox and the sandbox.
import assert from 'node:assert/strict'
import { atPath, e2e, EMAIL, isLogin, me, PASSWORD, PHONE, screenshot, signIn, submitLogin, visible } from './lib.mjs'

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
  await screenshot(page, 'sign-in.png')
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
  await screenshot(page, 'sign-in-error.png')
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
  await screenshot(page, 'inbox-shell.png')

  await page.setViewportSize(PHONE)
  await visible(page.getByRole('button', { name: 'Sign out' }), 'Sign out at phone width')
  await screenshot(page, 'inbox-shell-phone.png')
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

// The inbox and sandbox tests run after these.
await import('./workspace.mjs')
