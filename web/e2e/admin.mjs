// Browser tests of the admin screens against a real, running Switchboard server (sandbox on).
//
//   SWITCHBOARD_E2E_URL=http://127.0.0.1:18080 \
//   SWITCHBOARD_E2E_ADMIN_EMAIL=admin@example.com \
//   SWITCHBOARD_E2E_ADMIN_PASSWORD=... \
//   node e2e/admin.mjs
//
// Same variables and browser as e2e/run.mjs: SWITCHBOARD_E2E_SCREENSHOTS (default
// web/e2e/screenshots), SWITCHBOARD_E2E_CHROMIUM (default /usr/bin/chromium). Run one test with
// `node --test-name-pattern="routing" e2e/admin.mjs`.
//
// Each test opens its own browser context and creates the channels it needs, so tests neither depend
// on each other nor on what other suites left on the server. A failing test leaves
// failure-admin-<test>.png beside the screenshots. The process exits non-zero when any test fails.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'

import {
  answerSurvey,
  atPath,
  BASE,
  call,
  conversationOf,
  csatOn,
  customerNumber,
  customerSays,
  distribution,
  e2e as sharedE2E,
  EMAIL,
  eventually,
  PASSWORD,
  PHONE,
  request,
  sandboxChannel,
  screenshot,
  visible,
  WAIT,
} from './lib.mjs'

const DESKTOP = { width: 1280, height: 900 }
const RUN = Date.now().toString(36)

/**
 * e2e declares an admin test: lib.mjs's, on a taller page in the Europe/Paris time zone (the business
 * hours under test), with failure screenshots named failure-admin-<test>.png.
 * @param {string} name
 * @param {(page: import('playwright-core').Page) => Promise<void>} fn
 */
function e2e(name, fn) {
  sharedE2E(name, fn, { viewport: DESKTOP, timezoneId: 'Europe/Paris', timeout: 180_000, prefix: 'failure-admin' })
}

/**
 * signIn opens path, signs in on the sign-in page it is sent to, and waits to be back at path. A
 * rate-limited attempt (429, left over from an earlier run) is waited out once.
 * @param {import('playwright-core').Page} page
 */
async function signIn(page, path, email = EMAIL, password = PASSWORD) {
  await page.goto(path)
  await atPath(page, (url) => url.pathname === '/login', 'the sign-in page')
  for (let attempt = 1; ; attempt++) {
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password', { exact: true }).fill(password)
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ])
    if (res.status() === 429 && attempt === 1) {
      const wait = Math.min(Number(res.headers()['retry-after']) || 30, 65)
      console.log(`# login rate limited; waiting ${wait}s before retrying once`)
      await sleep(wait * 1000)
      continue
    }
    assert.equal(res.status(), 200, `signing in as ${email} answered ${res.status()}`)
    break
  }
  const want = new URL(path, BASE).pathname
  await atPath(page, (url) => url.pathname === want, want)
}

/**
 * waitForApi clicks (or does) something and returns the API response it causes.
 * @param {import('playwright-core').Page} page
 * @param {string} method
 * @param {RegExp} path
 * @param {() => Promise<unknown>} action
 */
async function waitForApi(page, method, path, action) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === method && path.test(new URL(r.url()).pathname)),
    action(),
  ])
  return res
}

/**
 * markedInvalid waits until the field is marked invalid: an answer may arrive a tick before the page
 * renders it.
 */
async function markedInvalid(page, input) {
  await input.and(page.locator('[aria-invalid="true"]')).waitFor({ timeout: WAIT })
}

/**
 * errorOf returns the text of the error an input points to with aria-describedby.
 * @param {import('playwright-core').Locator} input
 */
async function errorOf(input) {
  return input.evaluate((el) => {
    const ids = (el.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean)
    return ids
      .map((id) => document.getElementById(id))
      .filter((n) => n && n.hasAttribute('data-field-error'))
      .map((n) => n.textContent.trim())
      .join(' ')
  })
}

/**
 * shoot saves a screenshot of the whole page, or of one element. The admin page scrolls inside the
 * app's frame, not the window: for the picture the frame is let out to its full height, at least the
 * window's (and notices are hidden), then put back.
 * @param {import('playwright-core').Page} page
 * @param {string} file
 * @param {import('playwright-core').Locator} [locator] only this element
 */
async function shoot(page, file, locator) {
  await page.addStyleTag({
    content: `.shell, .content, .adm, .adm-scroll { height: auto !important; min-height: 0 !important; overflow: visible !important; }
      .shell { min-height: 100vh !important; }
      .notices { display: none !important; }`,
  }).then((h) => h.evaluate((el) => el.setAttribute('data-e2e-shot', '')))
  try {
    if (locator) await screenshot(locator, file)
    else await screenshot(page, file, { fullPage: true })
  } finally {
    await page.evaluate(() => document.querySelectorAll('style[data-e2e-shot]').forEach((el) => el.remove()))
  }
}

const digits = (n) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('').replace(/^0/, '1')

e2e('admin home lists every area', async (page) => {
  await signIn(page, '/admin')
  const areas = page.getByRole('list', { name: 'Admin areas' })
  for (const title of ['Channels', 'Agents & teams', 'AI agents', 'Templates', 'Reports', 'System']) {
    await visible(areas.getByRole('link', { name: title, exact: true }), `the ${title} card`)
  }
  const nav = page.getByRole('navigation', { name: 'Admin' })
  await visible(nav, 'the admin navigation')
  assert.equal(await nav.getByRole('link', { name: 'Overview' }).getAttribute('aria-current'), 'page')
  assert.equal(await page.title(), 'Admin · Switchboard')
  await areas.getByRole('link', { name: 'System', exact: true }).click()
  await atPath(page, (u) => u.pathname === '/admin/system', '/admin/system')
  await visible(page.getByRole('heading', { name: /Dead jobs/ }), 'the dead jobs section')
  await visible(page.getByRole('heading', { name: /Dead letters/ }), 'the dead letters section')
})

e2e('connecting a WhatsApp number: errors next to fields, then the webhook URL and verify token', async (page) => {
  await signIn(page, '/admin/channels/new')
  await visible(page.getByRole('heading', { name: 'Connect a WhatsApp number' }), 'the new channel form')

  const phone = page.getByLabel('Phone number', { exact: true })
  await page.getByLabel('Name', { exact: true }).fill(`Support ${RUN}`)
  await phone.fill('12345')
  await page.getByLabel('WhatsApp Business Account ID').fill(digits(15))
  await page.getByLabel('Phone number ID').fill(digits(15))
  await page.getByLabel('API key').fill(`EAAtest${RUN}`)
  await page.getByLabel('App secret').fill(`secret-${RUN}`)

  const bad = await waitForApi(page, 'POST', /\/api\/v1\/channels$/, () => page.getByRole('button', { name: 'Create channel' }).click())
  assert.equal(bad.status(), 422, `a bad phone number answered ${bad.status()}`)
  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-invalid') === 'true')
  assert.equal(await phone.getAttribute('aria-invalid'), 'true', 'the phone number is not marked invalid')
  assert.match(await errorOf(phone), /international form/, 'the phone number problem is not shown next to it')
  assert.ok(await phone.evaluate((el) => el === document.activeElement), 'focus did not move to the phone number')
  await shoot(page, 'admin-channel-errors.png')

  const number = `+1415${digits(7)}`
  await phone.fill(number)
  const ok = await waitForApi(page, 'POST', /\/api\/v1\/channels$/, () => page.getByRole('button', { name: 'Create channel' }).click())
  assert.equal(ok.status(), 201, `creating the channel answered ${ok.status()}`)
  const created = await ok.json()

  const url = page.getByRole('textbox', { name: 'Callback URL' })
  const token = page.getByRole('textbox', { name: 'Verify token' })
  await visible(url, 'the callback URL')
  assert.equal(await url.inputValue(), created.webhook_url)
  assert.ok(created.webhook_url.endsWith(`/webhooks/whatsapp/${created.id}`), `unexpected webhook URL ${created.webhook_url}`)
  assert.equal(await token.inputValue(), created.verify_token)
  assert.ok(created.verify_token.length >= 16, 'the verify token is too short')
  await visible(page.getByRole('button', { name: 'Copy Callback URL' }), 'a copy button for the callback URL')
  await visible(page.getByRole('button', { name: 'Copy Verify token' }), 'a copy button for the verify token')
  const steps = await page.getByTestId('connect-steps').innerText()
  for (const want of ['WhatsApp → Configuration', 'Verify and save', 'messages']) assert.ok(steps.includes(want), `the steps do not mention ${want}`)

  // The values shown are the ones Meta's handshake is checked against.
  const challenge = await page.evaluate(
    async ({ id, token }) => {
      const q = new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.verify_token': token, 'hub.challenge': '4242' })
      const r = await fetch(`/webhooks/whatsapp/${id}?${q}`)
      return `${r.status} ${await r.text()}`
    },
    { id: created.id, token: await token.inputValue() },
  )
  assert.equal(challenge, '200 4242', 'Meta’s verification handshake failed with the token shown')
  await shoot(page, 'admin-channel-connect.png')

  // The channel is listed, and deleting it asks first.
  await page.getByRole('link', { name: 'Channels', exact: true }).first().click()
  const link = page.getByRole('link', { name: `Support ${RUN}`, exact: true })
  await visible(link, 'the new channel in the list')
  await link.click()
  await page.getByRole('button', { name: 'Delete channel' }).click()
  const dialog = page.getByRole('alertdialog')
  await visible(dialog, 'the delete confirmation')
  assert.match(await dialog.innerText(), /history.*kept|kept for reports/i)
  const del = await waitForApi(page, 'DELETE', /\/api\/v1\/channels\/\d+$/, () => dialog.getByRole('button', { name: 'Delete channel' }).click())
  assert.equal(del.status(), 204)
  await atPath(page, (u) => u.pathname === '/admin/channels', 'the channel list after deleting')
})

e2e('business hours: intervals, an overnight interval and a holiday are saved and persist', async (page) => {
  await signIn(page, '/admin')
  const ch = await sandboxChannel(page, { name: `Hours ${RUN}` })
  await page.goto(`/admin/channels/${ch.id}/settings`)
  const section = page.locator('[data-section="business_hours"]')
  await visible(section.getByTestId('business-hours-editor'), 'the business-hours editor')

  // A new channel has no business hours: the status line says so.
  const status = section.getByTestId('hours-status')
  await visible(status, 'the business-hours status line')
  assert.match(await status.innerText(), /^Business hours are off/)

  await section.getByRole('switch', { name: 'Use business hours' }).check()

  // Time zone: search, arrows, Enter.
  const tz = section.getByRole('combobox', { name: 'Time zone' })
  await tz.click()
  await tz.fill('paris')
  await visible(section.getByRole('option', { name: /Europe\/Paris/ }), 'Europe/Paris among the zones')
  await tz.press('Enter')
  assert.equal(await tz.inputValue(), 'Europe/Paris')

  // Monday: 09:00–12:00 and an added 13:00–17:30.
  await section.getByRole('switch', { name: 'Monday open' }).check()
  await section.getByLabel('Monday interval 1 closes').fill('12:00')
  await section.getByRole('button', { name: 'Add hours on Monday' }).click()
  await section.getByLabel('Monday interval 2 opens').fill('13:00')
  await section.getByLabel('Monday interval 2 closes').fill('17:30')

  // Friday: an overnight interval.
  await section.getByRole('switch', { name: 'Friday open' }).check()
  await section.getByLabel('Friday interval 1 opens').fill('22:00')
  await section.getByLabel('Friday interval 1 closes').fill('02:00')
  await visible(section.getByTestId('day-friday').getByText('closes next day'), 'the overnight mark on Friday')

  // A holiday.
  await section.getByRole('button', { name: 'Add a holiday' }).click()
  const overrides = section.getByTestId('overrides')
  await overrides.getByLabel('Date').fill('2030-12-25')
  await overrides.getByLabel('Note (optional)').fill('Christmas Day')

  // A missing away message is caught next to its field.
  const away = section.getByLabel('Away message', { exact: true })
  await away.fill('')
  await section.getByRole('button', { name: 'Save business hours' }).click()
  await markedInvalid(page, away)
  assert.match(await errorOf(away), /required/i)
  await away.fill("We're closed right now; we'll answer when we're back.")

  const put = await waitForApi(page, 'PUT', new RegExp(`/api/v1/channels/${ch.id}/settings$`), () =>
    section.getByRole('button', { name: 'Save business hours' }).click(),
  )
  assert.equal(put.status(), 200, `saving business hours answered ${put.status()}: ${await put.text()}`)
  const sent = put.request().postDataJSON()
  assert.deepEqual(Object.keys(sent), ['business_hours'], 'the save sent more than the business hours')
  assert.deepEqual(sent.business_hours.weekly, {
    monday: [
      { start: '09:00', end: '12:00' },
      { start: '13:00', end: '17:30' },
    ],
    friday: [{ start: '22:00', end: '02:00' }],
  })
  assert.deepEqual(sent.business_hours.overrides, [{ date: '2030-12-25', closed: true, intervals: [], note: 'Christmas Day' }])
  await visible(page.getByText('Business hours saved.'), 'the saved notice')

  // The status line is read again after the save: open now, or closed and when it opens (Paris
  // time), as GET /channels/:id/business-hours says at this moment.
  const now = await call(page, 'GET', `/channels/${ch.id}/business-hours`)
  assert.equal(now.enabled, true, 'the saved hours are not on')
  assert.equal(now.timezone, 'Europe/Paris')
  const want = now.open ? /^Open now$/ : /^Closed( since .+)? · opens .+ \(Europe\/Paris\)$/
  await eventually(async () => want.test((await status.innerText()).replace(/\s+/g, ' ').trim()), `the status line to match ${want}`)
  await shoot(page, 'settings-business-hours.png', section)

  // After a reload the editor shows what was saved.
  await page.reload()
  await visible(section.getByTestId('business-hours-editor'), 'the editor after a reload')
  assert.equal(await section.getByRole('combobox', { name: 'Time zone' }).inputValue(), 'Europe/Paris')
  assert.ok(await section.getByRole('switch', { name: 'Use business hours' }).isChecked())
  const times = async (day) => section.getByTestId(`day-${day}`).locator('input[type="time"]').evaluateAll((els) => els.map((e) => e.value))
  assert.deepEqual(await times('monday'), ['09:00', '12:00', '13:00', '17:30'])
  assert.deepEqual(await times('friday'), ['22:00', '02:00'])
  assert.deepEqual(await times('tuesday'), [])
  await visible(section.getByTestId('day-friday').getByText('closes next day'), 'the overnight mark after a reload')
  assert.equal(await overrides.getByLabel('Date').inputValue(), '2030-12-25')
  assert.equal(await overrides.getByLabel('Note (optional)').inputValue(), 'Christmas Day')
  assert.equal(await overrides.getByLabel('On that day').inputValue(), 'closed')

  const stored = await request(page, 'GET', `/channels/${ch.id}/settings`)
  assert.equal(stored.body.business_hours.timezone, 'Europe/Paris')
  assert.deepEqual(stored.body.business_hours.weekly.friday, [{ start: '22:00', end: '02:00' }])

  await page.setViewportSize(PHONE)
  await shoot(page, 'settings-business-hours-phone.png', section)
})

e2e('routing rules: three rules created, reordered by keyboard and by drag, the order persists', async (page) => {
  await signIn(page, '/admin')
  const ch = await sandboxChannel(page, { name: `Routing ${RUN}` })
  const me = (await request(page, 'GET', '/me')).body.agent
  await page.goto(`/admin/channels/${ch.id}/assignment`)
  const card = page.locator('section', { has: page.getByRole('heading', { name: 'Routing rules' }) })
  await visible(card.getByText('No routing rules'), 'the empty rules list')

  /**
   * addRule fills the rule form: a name, one condition, and the signed-in admin as the target.
   * @param {string} name
   * @param {(form: import('playwright-core').Locator) => Promise<void>} condition
   */
  async function addRule(name, condition) {
    await card.getByRole('button', { name: 'Add a rule' }).click()
    const form = card.getByRole('form', { name: 'New routing rule' })
    await form.getByLabel('Rule name').fill(name)
    await condition(form)
    await form.getByRole('radio', { name: 'Agent', exact: true }).check()
    await form.getByLabel('Assign to agent').selectOption({ label: `${me.name} (${me.email})` })
    const res = await waitForApi(page, 'POST', new RegExp(`/api/v1/channels/${ch.id}/routing-rules$`), () => form.getByRole('button', { name: 'Add rule' }).click())
    return { res, form }
  }

  // A problem only the server finds (Go's regular expressions) is shown next to the condition.
  const first = await addRule('VIP', async (form) => {
    await form.getByLabel('Condition 1 field').selectOption('text')
    await form.getByLabel('Condition 1 operator').selectOption('matches')
    await form.getByLabel('Condition 1 value').fill('(?<vip')
  })
  assert.equal(first.res.status(), 422, `an invalid pattern answered ${first.res.status()}`)
  const value = first.form.getByLabel('Condition 1 value')
  await markedInvalid(page, value)
  assert.match(await errorOf(value), /regular expression/i)
  await first.form.getByLabel('Condition 1 operator').selectOption('contains')
  await value.fill('vip')
  const fixed = await waitForApi(page, 'POST', new RegExp(`/api/v1/channels/${ch.id}/routing-rules$`), () =>
    first.form.getByRole('button', { name: 'Add rule' }).click(),
  )
  assert.equal(fixed.status(), 201)

  const second = await addRule('French speakers', async (form) => {
    await form.getByLabel('Condition 1 field').selectOption('contact_country')
    // The operator list follows the field: a country is only ever "one of".
    assert.deepEqual(await form.getByLabel('Condition 1 operator').locator('option').evaluateAll((o) => o.map((x) => x.value)), ['in'])
    await form.getByLabel('Condition 1 values').fill('33')
    await form.getByLabel('Condition 1 values').press('Enter')
  })
  assert.equal(second.res.status(), 201)

  const third = await addRule('After hours', async (form) => {
    await form.getByLabel('Condition 1 field').selectOption('business_hours')
    await form.getByLabel('Condition 1 value').selectOption('outside')
    await form.getByRole('button', { name: 'Add a condition' }).click()
    await form.getByLabel('Condition 2 field').selectOption('weekday')
    await form.getByRole('checkbox', { name: 'Saturday' }).check()
  })
  assert.equal(third.res.status(), 201)
  assert.deepEqual(third.res.request().postDataJSON().conditions, [
    { field: 'business_hours', op: 'is', values: ['outside'] },
    { field: 'weekday', op: 'in', values: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] },
  ])

  const rows = card.getByTestId('rule-row')
  const order = () => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-rule-name')))
  assert.deepEqual(await order(), ['VIP', 'French speakers', 'After hours'])

  // Keyboard: focus "Move After hours up" and press Enter.
  const up = card.getByRole('button', { name: 'Move After hours up' })
  await up.focus()
  const kb = await waitForApi(page, 'PUT', new RegExp(`/api/v1/channels/${ch.id}/routing-rules/order$`), () => page.keyboard.press('Enter'))
  assert.equal(kb.status(), 200)
  assert.deepEqual(await order(), ['VIP', 'After hours', 'French speakers'])
  assert.ok(await up.evaluate((el) => el === document.activeElement), 'focus did not stay on the moved rule')

  // Drag: VIP to below French speakers.
  const vip = rows.filter({ has: page.getByRole('heading', { name: 'VIP' }) })
  const french = rows.filter({ has: page.getByRole('heading', { name: 'French speakers' }) })
  const box = await french.boundingBox()
  const drag = await waitForApi(page, 'PUT', new RegExp(`/api/v1/channels/${ch.id}/routing-rules/order$`), () =>
    vip.dragTo(french, { sourcePosition: { x: 14, y: 18 }, targetPosition: { x: 40, y: Math.max(1, (box?.height ?? 40) - 6) } }),
  )
  assert.equal(drag.status(), 200)
  assert.deepEqual(await order(), ['After hours', 'French speakers', 'VIP'])
  await shoot(page, 'routing-rules.png', card)

  await page.reload()
  await visible(rows.first(), 'the rules after a reload')
  assert.deepEqual(await order(), ['After hours', 'French speakers', 'VIP'], 'the order did not persist')
  const stored = await request(page, 'GET', `/channels/${ch.id}/routing-rules`)
  assert.deepEqual(
    stored.body.data.map((r) => r.name),
    ['After hours', 'French speakers', 'VIP'],
  )
})

/**
 * postWebhook posts a webhook to a channel as Meta does, signed with the channel's app secret
 * (X-Hub-Signature-256), and fails unless the server took it.
 * @param {number} channelId
 * @param {string} appSecret
 * @param {{field: string, value: unknown}[]} changes  the changes of one entry
 */
async function postWebhook(channelId, appSecret, wabaId, changes) {
  const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: wabaId, time: Math.floor(Date.now() / 1000), changes }] })
  const signature = `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`
  const res = await fetch(`${BASE}/webhooks/whatsapp/${channelId}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature },
    body,
  })
  assert.equal(res.status, 200, `the signed webhook answered ${res.status}: ${await res.text()}`)
}

e2e('Meta notifications: what signed webhooks report about the number is listed in words, older ones on demand', async (page) => {
  await signIn(page, '/admin')
  const secret = `secret-${RUN}-${digits(6)}`
  const ids = { waba: digits(15), phone: digits(15) }
  const ch = await call(page, 'POST', '/channels', {
    name: `Notifications ${RUN}`,
    phone_number: `+1415${digits(7)}`,
    business_account_id: ids.waba,
    phone_number_id: ids.phone,
    api_key: `EAAtest${RUN}`,
    app_secret: secret,
  })

  await page.goto(`/admin/channels/${ch.id}`)
  const section = page.getByTestId('channel-events')
  await visible(section.getByText('No notifications from Meta yet.'), 'the empty notifications list')

  // Older news first (one webhook, 21 changes: more than a page), then one of each kind.
  const limits = ['TIER_250', 'TIER_1K', 'TIER_10K']
  await postWebhook(
    ch.id,
    secret,
    ids.waba,
    Array.from({ length: 21 }, (_, i) => ({
      field: 'phone_number_quality_update',
      value: { display_phone_number: ch.phone_number.slice(1), event: 'UPGRADE', old_limit: limits[i % 2], current_limit: limits[(i % 2) + 1] },
    })),
  )
  await postWebhook(ch.id, secret, ids.waba, [
    { field: 'phone_number_quality_update', value: { display_phone_number: ch.phone_number.slice(1), event: 'FLAGGED', current_limit: 'TIER_1K' } },
  ])
  await postWebhook(ch.id, secret, ids.waba, [
    { field: 'account_update', value: { phone_number: ch.phone_number.slice(1), event: 'ACCOUNT_VIOLATION', violation_info: { violation_type: 'SCAM' } } },
  ])
  await postWebhook(ch.id, secret, ids.waba, [
    {
      field: 'messages',
      value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: ch.phone_number.slice(1), phone_number_id: ids.phone },
        errors: [{ code: 131042, title: 'Business eligibility payment issue', message: 'Business eligibility payment issue', error_data: { details: 'Fix the payment method.' } }],
      },
    },
  ])
  await postWebhook(ch.id, secret, ids.waba, [
    {
      field: 'message_template_status_update',
      value: { event: 'REJECTED', message_template_id: Number(digits(12)), message_template_name: 'order_update', message_template_language: 'en_US', reason: 'INVALID_FORMAT' },
    },
  ])
  await postWebhook(ch.id, secret, ids.waba, [{ field: 'brand_new_field', value: { note: '<img src=x onerror=alert(1)>' } }])

  await section.getByRole('button', { name: 'Refresh' }).click()
  const titles = () => section.getByTestId('channel-event-title').allInnerTexts()
  await eventually(async () => (await titles()).length === 20, 'a first page of 20 notifications')
  assert.deepEqual((await titles()).slice(0, 5), [
    'brand_new_field',
    'Template order_update (en_US) REJECTED: INVALID_FORMAT',
    'Error 131042 Business eligibility payment issue: Fix the payment method.',
    'Account update: account violation (violation: scam)',
    'Quality rating: flagged as low',
  ])
  const raised = /^Messaging limit raised: (250 → 1K|1K → 10K) a day$/
  // An unknown kind shows its JSON as text (e2e() fails on any dialog an <img onerror> would open).
  assert.match(await section.getByTestId('channel-event').first().innerText(), /\{"note":"<img src=x onerror=alert\(1\)>"\}/)
  assert.equal(await section.locator('img').count(), 0)

  const more = section.getByRole('button', { name: 'Load more' })
  const res = await waitForApi(page, 'GET', new RegExp(`/api/v1/channels/${ch.id}/events$`), () => more.click())
  assert.equal(res.status(), 200)
  assert.ok(new URL(res.url()).searchParams.get('cursor'), 'Load more did not send the cursor')
  await eventually(async () => (await titles()).length === 26, 'all 26 notifications after Load more')
  const older = (await titles()).slice(5)
  assert.equal(older.filter((t) => raised.test(t)).length, 21, `the older notifications: ${older.join(' | ')}`)
  assert.equal(await more.count(), 0, 'Load more is still offered after the oldest notification')
  await shoot(page, 'admin-channel-notifications.png', section)
})

/**
 * CUSTOMERS are the supported customers of the reports test: what each asks, the answer, and the
 * rating they tap on the CSAT survey (null: they never answer it).
 * @type {[string, string, string, 1|2|3|4|5|null][]}
 */
const CUSTOMERS = [
  ['Maya Chen', 'My order #1042 has not arrived yet.', 'It left the warehouse this morning; the tracking link is on its way.', 5],
  ['Lucas Moreau', 'Can I change my delivery address?', 'Done: the new address is on the order.', 4],
  ['Aisha Bello', 'The app will not let me pay.', 'Fixed on our side, please try again.', 5],
  ['Tom Becker', 'I was charged twice.', 'The second charge is refunded; it takes 3 to 5 days.', 3],
  ['Sofia Rossi', 'Do you ship to Italy?', 'Yes, in 2 to 4 working days.', 5],
  ['Ken Sato', 'How do I return a jacket?', 'Print the label from your account and drop the parcel at any post office.', 4],
  ['Priya Nair', 'My discount code does not work.', 'It expired yesterday; here is a new one.', 2],
  ['Omar Haddad', 'Are you open on Sunday?', 'Yes, from 10:00 to 16:00.', null],
]

/**
 * supported plays one customer of CUSTOMERS on a channel with the CSAT survey on: they write, the
 * admin takes the conversation, answers and resolves it, and the customer taps their rating on the
 * survey through the sandbox (as the phone does).
 * @param {import('playwright-core').Page} page
 * @param {number} channelId
 * @param {number} agentId  the signed-in admin
 */
async function supported(page, channelId, agentId, [name, question, answer, rating]) {
  const waId = customerNumber()
  await customerSays(page, channelId, waId, name, question)
  const conv = await conversationOf(page, waId)
  if (conv.assignee?.id !== agentId) await call(page, 'POST', `/conversations/${conv.id}/assign`, { agent_id: agentId })
  await call(page, 'POST', `/conversations/${conv.id}/messages`, { text: answer })
  await call(page, 'POST', `/conversations/${conv.id}/resolve`)
  if (rating) await answerSurvey(page, channelId, waId, name, rating)
}

e2e('reports: volume, first response and the CSAT ratings customers gave', async (page) => {
  await signIn(page, '/admin')
  const ch = await sandboxChannel(page, { name: `Acme Shop ${RUN}` })
  for (const [wa, text] of [
    ['33611111111', 'Bonjour !'],
    ['14155550111', 'Where is my order?'],
  ]) {
    const res = await request(page, 'POST', `/sandbox/channels/${ch.id}/messages`, { wa_id: `${wa.slice(0, -4)}${digits(4)}`, name: 'E2E customer', text })
    assert.ok(res.status < 300, `a sandbox customer message answered ${res.status} ${JSON.stringify(res.body)}`)
  }
  await page.goto(`/admin/reports?period=7d&channel=${ch.id}`)
  const reports = page.getByTestId('reports')
  await visible(reports, 'the reports')
  // A customer message is stored before the customer API answers, so the overview counts it.
  assert.ok(Number(await page.getByTestId('stat-messages-in').innerText()) >= 2, 'the overview does not count the seeded messages')
  assert.ok(Number(await page.getByTestId('stat-created').innerText()) >= 2, 'the overview does not count the new conversations')
  await visible(page.getByTestId('stat-frt'), 'the first response time')
  // This channel has no surveys yet: the CSAT part says so.
  await visible(page.getByTestId('csat-empty'), 'the CSAT empty state')
  assert.match(await page.getByTestId('csat-empty').innerText(), /No CSAT surveys in this period/)

  // The survey on, customers are answered, their conversations resolved, and most rate them.
  await csatOn(page, ch.id)
  const admin = (await call(page, 'GET', '/me')).agent
  for (const customer of CUSTOMERS) await supported(page, ch.id, admin.id, customer)
  const ratings = CUSTOMERS.map((c) => c[3]).filter((r) => r !== null)
  const want = { 5: 0, 4: 0, 3: 0, 2: 0, 1: 0 }
  for (const r of ratings) want[r]++
  const average = (ratings.reduce((a, b) => a + b, 0) / ratings.length).toFixed(2)
  await eventually(async () => {
    const r = await call(page, 'GET', `/reports/csat?channel_id=${ch.id}`)
    return r.sent === CUSTOMERS.length && r.answered === ratings.length
  }, `${CUSTOMERS.length} surveys sent and ${ratings.length} answered in GET /api/v1/reports/csat`)

  await page.reload()
  await visible(page.getByTestId('csat-distribution'), 'the CSAT ratings')
  assert.equal((await page.getByTestId('csat-average').innerText()).replace(/\s+/g, ' ').trim(), `${average} / 5`)
  assert.deepEqual(await distribution(page), want, 'the distribution is not the ratings the customers gave')

  // All channels over 30 days: this channel's ratings are among them.
  await page.getByRole('combobox', { name: 'Channel' }).selectOption({ label: 'All channels' })
  await page.getByRole('radio', { name: 'Last 30 days' }).check()
  await atPath(page, (u) => u.searchParams.get('period') === '30d' && !u.searchParams.has('channel'), 'all channels over 30 days in the address')
  await visible(page.getByTestId('csat-distribution'), 'the CSAT ratings of all channels')
  await visible(page.getByRole('cell', { name: ch.name, exact: true }), 'this channel in the CSAT by channel table')

  // A custom period that ends before it starts is refused next to the dates.
  await page.getByRole('radio', { name: 'Custom' }).check()
  await page.getByLabel('From', { exact: true }).fill('2030-02-10')
  await page.getByLabel('To', { exact: true }).fill('2030-02-01')
  await page.getByRole('button', { name: 'Apply' }).click()
  await markedInvalid(page, page.getByLabel('To', { exact: true }))
  await visible(page.getByText('The last day must be on or after the first.'), 'the period problem')

  // Back to this channel's last 7 days for the picture.
  await page.getByRole('radio', { name: 'Last 7 days' }).check()
  await page.getByRole('combobox', { name: 'Channel' }).selectOption({ label: ch.name })
  await atPath(page, (u) => u.searchParams.get('period') === '7d' && u.searchParams.get('channel') === String(ch.id), "this channel's last 7 days")
  await visible(page.locator('[data-testid="reports"][aria-busy="false"]'), 'the reports again')
  await eventually(async () => (await page.getByTestId('csat-average').innerText()).startsWith(average), `the average ${average} again`)
  await shoot(page, 'reports.png')
  await page.setViewportSize(PHONE)
  await shoot(page, 'reports-phone.png')
})

e2e('an agent reads reports but not the admin settings', async (page) => {
  await signIn(page, '/admin')
  const email = `agent-${RUN}-${digits(4)}@example.com`
  const password = `agent-pass-${RUN}`
  const res = await request(page, 'POST', '/agents', { name: 'E2E Agent', email, password, role: 'agent' })
  assert.equal(res.status, 201, `creating an agent answered ${res.status} ${JSON.stringify(res.body)}`)
  await request(page, 'POST', '/auth/logout')

  await signIn(page, '/admin/reports', email, password)
  await visible(page.getByTestId('reports'), 'the reports for an agent')
  assert.equal(await page.getByRole('navigation', { name: 'Admin' }).count(), 0, 'an agent sees the admin navigation')
  await page.goto('/admin/channels')
  await atPath(page, (u) => u.pathname !== '/admin/channels', 'anywhere but the channels')
  assert.notEqual(new URL(page.url()).pathname, '/admin/channels')
})
