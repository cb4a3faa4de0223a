// Browser tests of the agents' workspace and the sandbox, against the real
// server (embedded SQLite, sandbox on). Each test makes its own sandbox
// channel and customers, so tests are independent and can run again on the
// same server. Writes the README screenshots: inbox.png (a conversation open,
// desktop), composer-templates.png, sandbox-phone.png and inbox-phone.png; and
// composer-template-document.png, composer-hours-note.png, assign-presence.png
// and people-presence.png.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  atPath,
  BASE,
  call,
  conversationOf,
  customerNumber,
  customerSays,
  DESKTOP,
  distribution,
  e2e,
  eventually,
  me,
  PHONE,
  sandboxChannel,
  screenshot,
  signIn,
  submitLogin,
  uniq,
  visible,
} from './lib.mjs'

/** live waits until the page's websocket is connected (the admin is then online for assignment). */
async function live(page) {
  await visible(page.locator('.shell[data-live="open"]'), 'live updates connected')
}

/** openPhone opens the sandbox phone of a channel for a customer in a second tab. */
async function openPhone(page, channelId, waId, name) {
  const phone = await page.context().newPage()
  await phone.goto(`/sandbox?channel=${channelId}&wa_id=${waId}&name=${encodeURIComponent(name)}`)
  await visible(phone.getByTestId('sandbox-phone'), 'the customer phone')
  return phone
}

e2e('an admin creates a sandbox channel from the Sandbox page', async (page) => {
  await signIn(page)
  await page.getByRole('link', { name: 'Sandbox' }).click()
  await atPath(page, (url) => url.pathname === '/sandbox', '/sandbox')
  assert.equal(await page.title(), 'Sandbox · Switchboard')

  const name = `E2E phone ${uniq()}`
  await page.getByLabel('New channel name').fill(name)
  await page.getByRole('button', { name: 'Create sandbox channel' }).click()
  await visible(page.getByTestId('sandbox-channels').getByText(name), 'the new channel in the list')
  await visible(page.getByTestId('sandbox-phone').getByText(name), "the new channel's phone")
  await atPath(page, (url) => url.searchParams.has('channel'), 'the new channel chosen in the address')

  const channels = await call(page, 'GET', '/channels')
  const ch = channels.data.find((c) => c.name === name)
  assert.ok(ch, `GET /channels has no channel named ${name}`)
  assert.equal(ch.sandbox, true, 'the new channel is not a sandbox channel')
  const who = await me(page)
  const members = await call(page, 'GET', `/channels/${ch.id}/members`)
  assert.ok(
    members.data.some((m) => m.agent_id === who.body.agent.id),
    'the page did not add the admin to the channel ("Add me as an agent" is on by default)',
  )
})

e2e('a customer message appears live in the inbox; the reply reaches the phone and turns read', async (page) => {
  await signIn(page, '/inbox/mine')
  const ch = await sandboxChannel(page)
  await live(page)

  const waId = customerNumber()
  const name = `Maya ${uniq()}`
  const phone = await openPhone(page, ch.id, waId, name)
  const hello = `Hi! My order has not arrived yet. ${uniq()}`
  await phone.getByTestId('phone-input').fill(hello)
  await phone.getByTestId('phone-input').press('Enter')
  await visible(phone.getByTestId('phone-message').filter({ hasText: hello }), "the customer's message on the phone")

  // The inbox was open all along: the conversation arrives over the websocket, assigned to the admin.
  const item = page.getByTestId('conversation-item').filter({ hasText: name })
  await visible(item, `the new conversation of ${name} in Mine, without a reload`)
  await visible(item.getByTestId('conversation-preview').filter({ hasText: hello }), 'the message as the preview')
  await visible(item.getByTestId('unread-badge'), 'an unread badge')

  await item.click()
  await atPath(page, (url) => /^\/inbox\/mine\/\d+$/.test(url.pathname), 'the conversation in the address')
  await visible(page.getByTestId('messages').getByText(hello), "the customer's message in the thread")
  await visible(page.getByTestId('contact-conversation').getByText('assigned to you'), 'the conversation assigned to the admin')
  await item.getByTestId('unread-badge').waitFor({ state: 'detached' })

  // Enter sends, Shift+Enter makes a new line.
  const first = `Sorry about that, ${name}!`
  const second = `Let me check with the courier. ${uniq()}`
  const input = page.getByTestId('composer-input')
  await input.fill(first)
  await input.press('Shift+Enter')
  await input.pressSequentially(second)
  assert.equal(await input.inputValue(), `${first}\n${second}`, 'Shift+Enter did not add a new line')
  await input.press('Enter')
  assert.equal(await input.inputValue(), '', 'Enter did not send the reply')

  const bubble = page.getByTestId('message').filter({ hasText: second })
  await visible(bubble, 'the reply in the thread')
  assert.equal((await bubble.getByTestId('message-text').innerText()).trim(), `${first}\n${second}`)
  await visible(bubble.locator('[data-testid="ticks"][data-status="read"]'), 'the reply marked read in the inbox (sent → delivered → read)')
  await visible(item.getByTestId('conversation-preview').filter({ hasText: first }), 'the reply as the preview')

  const onPhone = phone.getByTestId('phone-message').filter({ hasText: second })
  await visible(onPhone, 'the reply on the phone')
  await visible(onPhone.locator('[data-testid="ticks"][data-status="read"]'), 'read ticks on the phone')

  await page.getByTestId('composer-input').focus()
  await screenshot(page, 'inbox.png')
  await screenshot(phone, 'sandbox-phone.png')

  // At phone width the list is the page and the thread opens on its own screen.
  await page.setViewportSize(PHONE)
  await visible(page.getByRole('link', { name: 'Back to the conversations' }), 'a way back to the list at phone width')
  await page.getByRole('link', { name: 'Back to the conversations' }).click()
  await visible(item, 'the conversation list at phone width')
  await screenshot(page, 'inbox-phone.png')
})

e2e('after the 24-hour window closes the composer offers templates and sends one', async (page) => {
  await signIn(page, '/inbox/all')
  const ch = await sandboxChannel(page)
  const waId = customerNumber()
  const name = `Noor ${uniq()}`

  // The customer's only message is back-dated 25 hours on the phone: the window is already closed.
  const phone = await openPhone(page, ch.id, waId, name)
  await phone.getByTestId('phone-backdate').check()
  await phone.getByTestId('phone-input').fill('Is my refund on its way?')
  await phone.getByTestId('phone-send').click()
  await visible(phone.getByTestId('phone-message').filter({ hasText: 'Is my refund on its way?' }), 'the back-dated message on the phone')
  await phone.close()

  const conv = await conversationOf(page, waId)
  await page.goto(`/inbox/all/${conv.id}?status=any`)
  await visible(page.getByTestId('template-picker'), 'the template picker instead of the text box')
  assert.match(await page.getByTestId('window-state').innerText(), /closed/i)

  await page.getByTestId('template-select').selectOption('follow_up::en_US')
  const vars = page.getByTestId('template-variable')
  assert.equal(await vars.count(), 1, 'follow_up has one variable ({{1}})')
  assert.equal(await page.getByTestId('template-send').isDisabled(), true, 'a template can be sent with an empty variable')
  await vars.first().fill(name)
  const text = `Hi ${name}, we're following up on your request. Reply here to continue the conversation.`
  assert.equal((await page.getByTestId('template-preview').innerText()).trim(), text)
  await screenshot(page, 'composer-templates.png')

  await page.getByTestId('template-send').click()
  const bubble = page.getByTestId('message').filter({ hasText: text })
  await visible(bubble, 'the template in the thread')
  await visible(bubble.locator('[data-testid="ticks"]:not([data-status="queued"]):not([data-status="failed"])'), 'the template sent')
  const msgs = await call(page, 'GET', `/conversations/${conv.id}/messages`)
  const sent = msgs.data.filter((m) => m.type === 'template')
  assert.equal(sent.length, 1, 'one template message stored')
  assert.equal(sent[0].text, text)

  // order_receipt starts with a document: its link (https only, checked when the field is left)
  // and the name the customer sees, then the body's two variables.
  await page.getByTestId('template-select').selectOption('order_receipt::en_US')
  const link = page.getByTestId('template-header-link')
  await link.fill('http://files.example.com/receipts/A-1042.pdf')
  await link.blur()
  await visible(page.getByTestId('template-header-link-error'), 'the problem with an http:// link')
  assert.match(await page.getByTestId('template-header-link-error').innerText(), /https:\/\//)
  assert.equal(await link.getAttribute('aria-invalid'), 'true')
  const order = `A-${uniq()}`
  await page.getByTestId('template-variable').nth(0).fill(name)
  await page.getByTestId('template-variable').nth(1).fill(order)
  assert.equal(await page.getByTestId('template-send').isDisabled(), true, 'a template can be sent with an http:// document link')
  const url = `https://files.example.com/receipts/${order}.pdf`
  await link.fill(url)
  await page.getByTestId('template-header-link-error').waitFor({ state: 'detached' })
  assert.equal((await page.getByTestId('template-preview-header').innerText()).trim(), `Document · ${order}.pdf`)
  await page.getByTestId('template-header-filename').fill(`Receipt ${order}.pdf`)
  assert.equal((await page.getByTestId('template-preview-header').innerText()).trim(), `Document · Receipt ${order}.pdf`)
  const receipt = `Hi ${name}, here is the receipt for your order ${order}.`
  assert.equal((await page.getByTestId('template-preview').innerText()).trim(), receipt)
  await screenshot(page.getByTestId('composer'), 'composer-template-document.png')

  await page.getByTestId('template-send').click()
  const receiptBubble = page.getByTestId('message').filter({ hasText: receipt })
  await visible(receiptBubble, 'the receipt template in the thread')
  await visible(receiptBubble.locator('[data-testid="ticks"]:not([data-status="queued"]):not([data-status="failed"])'), 'the receipt template sent')
  // The thread shows the body, marked Template; the document is in the stored request, not shown.
  assert.match(await receiptBubble.innerText(), /Template/)
  const stored = (await call(page, 'GET', `/conversations/${conv.id}/messages`)).data.find((m) => m.text === receipt)
  assert.ok(stored, 'the receipt template is not stored with its text')
  assert.equal(stored.type, 'template')
  const head = stored.payload?.template?.components?.find((c) => c.type === 'header')
  assert.deepEqual(head?.parameters, [{ type: 'document', document: { link: url, filename: `Receipt ${order}.pdf` } }], 'the stored request has not the document')

  // The customer's phone shows the receipt's text (and nothing for its document header).
  const phoneAgain = await openPhone(page, ch.id, waId, name)
  await visible(phoneAgain.getByTestId('phone-message-text').filter({ hasText: receipt }), 'the receipt on the phone')
})

e2e('the assign menu and People show whether colleagues are online, live', async (page) => {
  await signIn(page, '/inbox/all')
  const ch = await sandboxChannel(page)
  await live(page)
  // Two colleagues on the channel, neither signed in; names that sort the other way round from
  // their presence once Zoe signs in.
  const tag = uniq()
  const password = `agent-pass-${tag}-${uniq()}`
  const zoe = await call(page, 'POST', '/agents', { name: `Zoe ${tag}`, email: `zoe-${tag}@example.com`, password, role: 'agent' })
  const adam = await call(page, 'POST', '/agents', { name: `Adam ${tag}`, email: `adam-${tag}@example.com`, password, role: 'agent' })
  for (const a of [zoe, adam]) await call(page, 'POST', `/channels/${ch.id}/members`, { agent_id: a.id })
  const listed = await call(page, 'GET', `/agents/${zoe.id}`)
  assert.equal(listed.connected, false, 'GET /agents/:id says a colleague who never signed in is connected')

  const waId = customerNumber()
  await customerSays(page, ch.id, waId, `Ines ${tag}`, 'Can someone help me with my order?')
  const conv = await conversationOf(page, waId)
  await page.goto(`/inbox/all/${conv.id}?status=any`)
  await live(page)
  await page.getByTestId('assign-button').click()
  const options = page.getByTestId('assign-option')
  const option = (a) => options.filter({ hasText: a.name })
  const presence = async (a) => (await option(a).getByTestId('agent-presence').innerText()).trim()
  const order = async () =>
    (await options.evaluateAll((els) => els.map((e) => `${e.querySelector('.candidate-name').textContent}, ${e.querySelector('[data-testid="agent-presence"]').textContent.trim()}`)))
      .filter((t) => t.includes(tag))
  await visible(option(zoe), 'Zoe in the assign menu')
  assert.deepEqual(await order(), [`Adam ${tag}, Offline`, `Zoe ${tag}, Offline`])

  // Zoe signs in on another browser: with the menu still open, she turns Online and moves up.
  const other = await page.context().browser().newContext({ baseURL: BASE, viewport: DESKTOP, locale: 'en-US' })
  try {
    const hers = await other.newPage()
    await hers.goto('/login')
    assert.equal(await submitLogin(hers, zoe.email, password), 200, 'Zoe could not sign in')
    await live(hers)
    await eventually(async () => (await presence(zoe)) === 'Online', 'Zoe shown Online in the open assign menu')
    assert.deepEqual(await order(), [`Zoe ${tag}, Online`, `Adam ${tag}, Offline`])
    // Said in words, not only by the dot's colour: the radio is named with the presence.
    await visible(page.getByRole('radio', { name: `Zoe ${tag}, Online`, exact: true }), 'a radio named "Zoe …, Online"')
    await screenshot(page.locator('#assign-panel'), 'assign-presence.png')

    // The admin's People page says the same.
    await page.goto('/admin/people')
    const row = (a) => page.getByTestId('agents-table').getByRole('row').filter({ hasText: a.email })
    await visible(row(zoe), "Zoe's row on People")
    assert.equal((await row(zoe).getByTestId('agent-presence').innerText()).trim(), 'Online')
    assert.equal((await row(adam).getByTestId('agent-presence').innerText()).trim(), 'Offline')
    await screenshot(page.getByTestId('agents-table'), 'people-presence.png')
  } finally {
    // She goes offline after the server's grace period (30 s) and the next presence sync (5 s):
    // too long to wait for here; the unit tests cover the event that says so.
    await other.close()
  }
})

e2e('outside business hours the composer notes when the channel opens', async (page) => {
  await signIn(page, '/inbox/all')
  const ch = await sandboxChannel(page)
  // Closed on every weekday; open only on one special day 200 days from now, so closed right now.
  const day = new Date(Date.now() + 200 * 86_400_000).toISOString().slice(0, 10)
  await call(page, 'PUT', `/channels/${ch.id}/settings`, {
    business_hours: {
      enabled: true,
      timezone: 'Europe/Paris',
      away_message: "We're closed right now.",
      weekly: {},
      overrides: [{ date: day, closed: false, intervals: [{ start: '09:00', end: '17:00' }] }],
      away_while_ai: false,
    },
  })
  const status = await call(page, 'GET', `/channels/${ch.id}/business-hours`)
  assert.equal(status.open, false, 'the channel is open')
  assert.ok(status.next_opening, 'the channel has no next opening')

  const waId = customerNumber()
  await customerSays(page, ch.id, waId, `Lea ${uniq()}`, 'Hello, anyone there?')
  const conv = await conversationOf(page, waId)
  await page.goto(`/inbox/all/${conv.id}?status=any`)
  const note = page.getByTestId('hours-note')
  await visible(note, 'the outside-business-hours note near the composer')
  // Written in the channel's zone (09:00 in Paris), the zone named when it is not the browser's.
  assert.match((await note.innerText()).trim(), /^Outside business hours · opens .+, 9:00 AM( \(Europe\/Paris\))?$/)
  await screenshot(page.getByTestId('composer'), 'composer-hours-note.png')

  // Open again (hours off): a fresh read of the status, and the note is gone.
  await call(page, 'PUT', `/channels/${ch.id}/settings`, {
    business_hours: { enabled: false, timezone: 'Europe/Paris', away_message: "We're closed right now.", weekly: {}, overrides: [], away_while_ai: false },
  })
  await page.reload()
  await visible(page.getByTestId('composer-input'), 'the composer after a reload')
  await sleep(300)
  assert.equal(await note.count(), 0, 'the note is still shown once the hours are off')
})

e2e('resolving sends the CSAT survey; the rating tapped on the phone reaches the reports', async (page) => {
  await signIn(page, '/inbox/all')
  const ch = await sandboxChannel(page, { csat: true })
  const waId = customerNumber()
  const name = `Sam ${uniq()}`
  await customerSays(page, ch.id, waId, name, 'It works now, thank you!')
  const conv = await conversationOf(page, waId)

  await page.goto(`/inbox/all/${conv.id}?status=any`)
  await visible(page.getByTestId('messages').getByText('It works now, thank you!'), 'the conversation')
  await page.getByTestId('resolve-button').click()
  await visible(page.getByTestId('reopen-button'), 'Reopen once resolved')
  assert.equal((await page.getByTestId('thread-status').innerText()).trim(), 'Resolved')

  const phone = await openPhone(page, ch.id, waId, name)
  await visible(phone.getByTestId('phone-list-button'), 'the survey list on the phone')
  await phone.getByTestId('phone-list-button').click()
  await phone.getByTestId('phone-list-row').filter({ hasText: /^5/ }).click()
  await visible(phone.getByTestId('phone-message').filter({ hasText: /5 .* Excellent/ }), "the customer's rating on the phone")

  const report = await eventually(async () => {
    const r = await call(page, 'GET', `/reports/csat?channel_id=${ch.id}`)
    return r.answered === 1 ? r : null
  }, 'the rating in GET /api/v1/reports/csat')
  assert.equal(report.average, 5)
  assert.equal(report.distribution['5'], 1)
  await visible(page.getByTestId('messages').getByText(/rated the conversation 5/), 'the rating as an activity line in the thread')

  // The resolved conversation is under the Resolved status tab (arrow keys move between the tabs).
  await page.goto('/inbox/all')
  const status = page.getByRole('tablist', { name: 'Status' })
  await status.getByRole('tab', { name: 'Resolved' }).click()
  await atPath(page, (url) => url.searchParams.get('status') === 'resolved', '?status=resolved')
  assert.equal(await status.getByRole('tab', { name: 'Resolved' }).getAttribute('aria-selected'), 'true')
  const item = page.getByTestId('conversation-item').filter({ hasText: name })
  await visible(item, 'the resolved conversation under Resolved')
  await page.keyboard.press('ArrowLeft')
  await atPath(page, (url) => url.searchParams.get('status') === 'pending', '?status=pending after ArrowLeft')
  assert.equal(await status.getByRole('tab', { name: 'Pending' }).evaluate((el) => el === document.activeElement), true, 'the focus did not follow')
  await page.keyboard.press('Home')
  await atPath(page, (url) => url.pathname === '/inbox/all' && !url.searchParams.has('status'), 'Open (no ?status=) after Home')
  await item.waitFor({ state: 'detached' })

  // The Reports page, for this channel: the customer's 5 as the average and in the distribution.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click()
  await atPath(page, (url) => url.pathname === '/admin/reports', 'the Reports page')
  await visible(page.getByTestId('reports'), 'the reports')
  await page.getByRole('combobox', { name: 'Channel' }).selectOption({ label: ch.name })
  await atPath(page, (url) => url.searchParams.get('channel') === String(ch.id), 'the channel in the address')
  await eventually(
    async () => (await page.getByTestId('csat-average').innerText()).trim().startsWith('5.00'),
    `an average rating of 5.00 for ${ch.name} on the Reports page`,
  )
  assert.deepEqual(await distribution(page), { 5: 1, 4: 0, 3: 0, 2: 0, 1: 0 }, 'the distribution does not show the one 5')
})

e2e("a customer's HTML is shown as text and never runs", async (page) => {
  await signIn(page, '/inbox/all')
  const ch = await sandboxChannel(page)
  const waId = customerNumber()
  const evil = '<img src=x onerror=alert(1)>'
  const evilName = `<b>Eve ${uniq()}</b>`
  await customerSays(page, ch.id, waId, evilName, evil)
  const conv = await conversationOf(page, waId)

  await page.goto(`/inbox/all/${conv.id}?status=any`)
  const text = page.getByTestId('message-text').filter({ hasText: evil })
  await visible(text, 'the HTML as text in the thread')
  assert.equal((await text.first().innerText()).trim(), evil)
  assert.equal((await page.getByTestId('thread-title').innerText()).trim(), evilName)
  await visible(page.getByTestId('conversation-preview').filter({ hasText: evil }), 'the HTML as text in the list')
  assert.equal(await page.locator('img[src="x"], b').count(), 0, 'the customer text became markup')

  const phone = await openPhone(page, ch.id, waId, evilName)
  await visible(phone.getByTestId('phone-message-text').filter({ hasText: evil }), 'the HTML as text on the phone')
  assert.equal(await phone.locator('img[src="x"]').count(), 0)
  await sleep(300) // an onerror handler would have fired by now; e2e() fails on any dialog
})

e2e('a dropped connection shows the reconnect banner and resumes without a reload', async (page) => {
  // The websocket goes through a route the test can cut, like a network failure.
  let offline = false
  let current = null
  const urls = []
  await page.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
    urls.push(new URL(ws.url()))
    if (offline) {
      void ws.close({ code: 4000, reason: 'offline (test)' })
      return
    }
    ws.connectToServer()
    current = ws
  })
  await signIn(page, '/inbox/all')
  const ch = await sandboxChannel(page)
  await live(page)
  await page.evaluate(() => (window.__sameDocument = true))

  offline = true
  await current.close({ code: 4000, reason: 'network drop (test)' })
  await visible(page.getByTestId('reconnect-banner'), 'the reconnect banner')
  assert.match(await page.getByTestId('reconnect-banner').innerText(), /Live updates paused/)

  // A customer writes while the agent is cut off: nothing arrives live...
  const waId = customerNumber()
  const name = `Lee ${uniq()}`
  await customerSays(page, ch.id, waId, name, 'Hello? Anyone?')
  await conversationOf(page, waId)
  const item = page.getByTestId('conversation-item').filter({ hasText: name })
  assert.equal(await item.count(), 0, 'a conversation arrived while the socket was down')

  // ...until the connection is back: the missed events are replayed from last_seq.
  offline = false
  await page.getByRole('button', { name: 'Reconnect now' }).click()
  await visible(page.getByTestId('reconnected-banner'), '"Back online" (shown for 3 s after the reconnect)')
  await visible(item, 'the conversation that arrived during the drop, without a reload')
  const resumed = urls.at(-1)
  assert.ok(Number(resumed.searchParams.get('last_seq')) > 0, `the reconnect did not resume: ${resumed}`)
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded')
})
