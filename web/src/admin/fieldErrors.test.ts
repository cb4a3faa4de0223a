import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter, RouterView } from 'vue-router'
import { ApiError } from '../api'
import { json, stubFetch } from '../testing/fetch'
import ChannelCreateView from './views/ChannelCreateView.vue'
import ChannelSettingsPanel from './views/ChannelSettingsPanel.vue'
import { errorsUnder, humanPath, placeable, splitErrors, stripPrefix, useFormErrors } from './fieldErrors'
import { feedback } from './feedback'
import { keywordsFromJSON, keywordsToJSON, validateKeywords } from './keywords'
import type { Channel, ChannelSettings } from './types'

afterEach(() => {
  feedback.notices.splice(0)
})

describe('placing field errors', () => {
  it('matches exact paths and one-segment wildcards', () => {
    const placed = placeable('name', 'business_hours.weekly.*.*.start', /^keywords\.\d+\.response$/)
    expect(placed('name')).toBe(true)
    expect(placed('business_hours.weekly.monday.0.start')).toBe(true)
    expect(placed('business_hours.weekly.monday.0.end')).toBe(false)
    expect(placed('business_hours.weekly.monday.start')).toBe(false)
    expect(placed('keywords.2.response')).toBe(true)
    expect(placed('names')).toBe(false)
  })

  it('keeps the problems no input shows, readable', () => {
    const { placed, unplaced } = splitErrors({ name: 'Required.', 'settings.greeting': 'Not the expected shape.' }, placeable('name'))
    expect(placed).toEqual({ name: 'Required.' })
    expect(unplaced).toEqual(['Settings › greeting: Not the expected shape.'])
    expect(humanPath('business_hours.weekly.monday.0.start')).toBe('Business hours › weekly › monday › #1 › start')
  })

  it('strips a prefix and finds problems under a path', () => {
    expect(stripPrefix({ 'settings.csat.expiry_hours': 'x', name: 'y' }, 'settings')).toEqual({ 'csat.expiry_hours': 'x', name: 'y' })
    expect(errorsUnder({ 'conditions.0.values': 'a', 'conditions.1.op': 'b', conditionsX: 'c' }, 'conditions')).toEqual(['a', 'b'])
  })

  it('captures an ApiError: fields next to inputs, the rest in the summary', () => {
    const f = useFormErrors(placeable('phone_number'))
    const had = f.capture(
      new ApiError(422, 'invalid', 'Some fields are invalid.', { phone_number: 'Enter the number in international form.', type: 'Type must be "whatsapp".' }),
    )
    expect(had).toBe(true)
    expect(f.get('phone_number')).toBe('Enter the number in international form.')
    expect(f.get('type')).toBeUndefined()
    expect(f.message.value).toBe('Some fields are invalid. Type: Type must be "whatsapp".')
    f.clear('phone_number')
    expect(f.fields).toEqual({})
  })

  it('captures an error without fields as the summary', () => {
    const f = useFormErrors()
    expect(f.capture(new ApiError(409, 'conflict', 'This phone number is already connected.'))).toBe(false)
    expect(f.message.value).toBe('This phone number is already connected.')
    f.capture(new TypeError('boom'))
    expect(f.message.value).toBe('boom')
  })
})

describe('keyword replies', () => {
  it('orders the cards opt-out, opt-in, help and sends them in that order', () => {
    const d = keywordsFromJSON([
      { category: 'help', keywords: ['HELP'], response: 'h' },
      { category: 'opt_out', keywords: ['STOP'], response: 's', enabled: false },
    ])
    expect(d.map((x) => x.category)).toEqual(['opt_out', 'help'])
    expect(keywordsToJSON(d)).toEqual([
      { category: 'opt_out', enabled: false, keywords: ['STOP'], response: 's' },
      { category: 'help', enabled: true, keywords: ['HELP'], response: 'h' },
    ])
  })

  it('finds a keyword used twice, ignoring case, and empty lists', () => {
    const d = keywordsFromJSON([
      { category: 'opt_out', keywords: ['STOP'], response: 's' },
      { category: 'opt_in', keywords: ['stop'], response: 'i' },
      { category: 'help', keywords: [], response: '' },
    ])
    expect(validateKeywords(d)).toEqual({
      'keywords.1.keywords': '“stop” is already a keyword of the opt-out reply.',
      'keywords.2.keywords': 'Add at least one keyword.',
      'keywords.2.response': 'Write the reply the customer gets.',
    })
  })
})

const settings: ChannelSettings = {
  greeting: { enabled: false, text: 'Hi!', on_reopen: false },
  csat: { enabled: false, expiry_hours: 24, ask_comment: false },
  business_hours: {
    enabled: false,
    timezone: 'UTC',
    away_message: 'Closed.',
    weekly: { monday: [{ start: '09:00', end: '17:00' }] },
    overrides: null,
    away_while_ai: false,
  },
  keywords: [{ category: 'opt_out', keywords: ['STOP'], response: 'Bye.' }],
  reopen_window_hours: 24,
}

const channel = { id: 3, name: 'Support', settings } as Channel

// The settings panel asks before leaving with unsaved changes: it is mounted as a route's page.
async function mountSettings(attach = false) {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: ChannelSettingsPanel, props: { channel } }] })
  await router.push('/')
  const w = mount(RouterView, { global: { plugins: [router] }, attachTo: attach ? document.body : undefined })
  await flushPromises()
  return w
}

describe('channel settings', () => {
  it('saves only the part that was edited', async () => {
    const calls = stubFetch({
      'GET /api/v1/channels/3/settings': () => json(200, settings),
      'GET /api/v1/templates': () => json(200, { data: [] }),
      'PUT /api/v1/channels/3/settings': (c) => json(200, { ...settings, ...(c.body as object) }),
    })
    const w = await mountSettings()
    const greeting = w.get('[data-section="greeting"]')
    await greeting.get('textarea').setValue('Hello there!')
    // Another card edited but not saved.
    await w.get('[data-section="reopen_window_hours"] input').setValue('48')
    await greeting.get('form').trigger('submit')
    await flushPromises()
    const put = calls.filter((c) => c.method === 'PUT')
    expect(put).toHaveLength(1)
    expect(put[0]!.body).toEqual({ greeting: { enabled: false, text: 'Hello there!', on_reopen: false } })
    // The unsaved edit elsewhere is kept and still marked.
    expect((w.get('[data-section="reopen_window_hours"] input').element as HTMLInputElement).value).toBe('48')
    expect(w.get('[data-section="reopen_window_hours"]').text()).toContain('Unsaved changes')
    expect(w.get('[data-section="greeting"]').text()).not.toContain('Unsaved changes')
  })

  it('shows the server’s business-hours problems next to their fields', async () => {
    stubFetch({
      'GET /api/v1/channels/3/settings': () => json(200, settings),
      'GET /api/v1/templates': () => json(200, { data: [] }),
      'PUT /api/v1/channels/3/settings': () =>
        json(422, {
          error: {
            code: 'invalid',
            message: 'Some fields are invalid.',
            fields: {
              'business_hours.timezone': 'Use an IANA time zone such as Europe/Paris.',
              'business_hours.weekly.monday.0.end': 'End must differ from start.',
              'business_hours.weekly.funday': 'Unknown weekday; use monday … sunday.',
            },
          },
        }),
    })
    const w = await mountSettings(true)
    const hours = w.get('[data-section="business_hours"]')
    await hours.get('textarea').setValue('We are closed, back soon.')
    await hours.get('form').trigger('submit')
    await flushPromises()
    const monday = hours.get('[data-testid="day-monday"]')
    expect(monday.text()).toContain('End must differ from start.')
    expect(monday.findAll('input[type="time"]')[1]!.attributes('aria-invalid')).toBe('true')
    expect(hours.get('input[role="combobox"]').attributes('aria-invalid')).toBe('true')
    expect(hours.text()).toContain('Use an IANA time zone such as Europe/Paris.')
    // A path no input shows lands in the card's summary.
    expect(hours.get('[role="alert"]').text()).toContain('Business hours › weekly › funday: Unknown weekday')
    expect(document.activeElement).toBe(hours.get('input[role="combobox"]').element)
    w.unmount()
  })
})

describe('connecting a channel', () => {
  it('shows the server’s problems next to the fields, then the webhook values', async () => {
    let attempt = 0
    const calls = stubFetch({
      'POST /api/v1/channels': () =>
        ++attempt === 1
          ? json(422, { error: { code: 'invalid', message: 'Some fields are invalid.', fields: { phone_number: 'Enter the number in international form, e.g. +14155550123.' } } })
          : json(201, { ...channel, phone_number: '+14155550123', webhook_url: 'https://sb.example.com/webhooks/whatsapp/3', verify_token: 'tok-0123456789abcdef', sandbox: false }),
    })
    const w = mount(ChannelCreateView, { global: { stubs: { RouterLink: { template: '<a><slot /></a>' } } }, attachTo: document.body })
    const inputs = w.findAll('input')
    const values = ['Support', '12345', '1029384756', '5647382910', 'EAAtoken', 'app-secret']
    for (const [i, v] of values.entries()) await inputs[i]!.setValue(v)
    await w.get('form').trigger('submit')
    await flushPromises()
    const phone = inputs[1]!
    expect(phone.attributes('aria-invalid')).toBe('true')
    const err = w.get(`#${phone.attributes('aria-describedby')!.split(' ')[0]}`)
    expect(err.text()).toContain('Enter the number in international form')
    expect(document.activeElement).toBe(phone.element)
    expect(calls[0]!.body).toMatchObject({ phone_number: '12345', name: 'Support' })

    await phone.setValue('+1 415 555 0123')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls[1]!.body).toMatchObject({ phone_number: '+14155550123' })
    expect((w.get('[data-testid="copy-callback-url"]').element as HTMLInputElement).value).toBe('https://sb.example.com/webhooks/whatsapp/3')
    expect((w.get('[data-testid="copy-verify-token"]').element as HTMLInputElement).value).toBe('tok-0123456789abcdef')
    expect(w.text()).toContain('WhatsApp → Configuration')
    expect(w.text()).toContain('messages')
    w.unmount()
  })
})
