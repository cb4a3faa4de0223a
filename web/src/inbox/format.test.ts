import { describe, expect, it } from 'vitest'
import type { Template } from '../types'
import {
  durationLabel,
  fillTemplate,
  headerParams,
  interactiveOf,
  linkFileName,
  linkProblem,
  relativeTime,
  templateHeader,
  templateParams,
  templateVars,
  ticks,
  windowState,
} from './format'

const NOW = Date.parse('2026-03-10T12:00:00Z')
const H = 3_600_000

function template(text: string, parameter_format = ''): Template {
  return { id: 1, channel_id: 1, name: 't', language: 'en_US', category: 'UTILITY', status: 'APPROVED', parameter_format, components: [{ type: 'HEADER', text: 'Hi {{9}}' }, { type: 'BODY', text }] }
}

describe('windowState', () => {
  it('counts down the 24-hour window', () => {
    const w = windowState(new Date(NOW + 23 * H + 5 * 60_000).toISOString(), NOW)
    expect(w).toMatchObject({ open: true, label: '23h 5m left to reply', urgent: false })
    expect(windowState(new Date(NOW + 42 * 60_000).toISOString(), NOW)).toMatchObject({ open: true, label: '42m left to reply', urgent: true })
    expect(windowState(new Date(NOW + 20_000).toISOString(), NOW).label).toBe('under a minute left to reply')
  })

  it('is closed once expired, and before the customer ever wrote', () => {
    expect(windowState(new Date(NOW - 1).toISOString(), NOW)).toMatchObject({ open: false, remaining: 0 })
    expect(windowState(null, NOW).open).toBe(false)
  })

  it('writes durations', () => {
    expect(durationLabel(2 * H)).toBe('2h')
    expect(durationLabel(2 * H + 60_000)).toBe('2h 1m')
  })
})

describe('ticks', () => {
  it.each([
    ['queued', 'queued', 'Sending'],
    ['sent', 'sent', 'Sent'],
    ['delivered', 'delivered', 'Delivered'],
    ['read', 'read', 'Read'],
    ['played', 'read', 'Read'],
    ['failed', 'failed', 'Not delivered'],
    ['received', 'none', ''],
  ])('%s → %s', (status, kind, label) => {
    expect(ticks(status)).toEqual({ kind, label })
  })
})

describe('template variables', () => {
  it('counts numbered variables of the BODY up to the highest, ignoring the header', () => {
    expect(templateVars(template('Hi {{1}}, order {{2}} arrives {{3}}. Again {{1}}.'))).toEqual({ named: false, keys: ['1', '2', '3'] })
    expect(templateVars(template('Code {{ 2 }} only'))).toEqual({ named: false, keys: ['1', '2'] })
    expect(templateVars(template('No variables.')).keys).toEqual([])
  })

  it('lists named variables once, in order', () => {
    expect(templateVars(template('Hi {{first_name}}, {{order_id}} for {{first_name}}', 'NAMED'))).toEqual({
      named: true,
      keys: ['first_name', 'order_id'],
    })
  })

  it('previews the filled body and builds the params', () => {
    const t = template('Hi {{1}}, your order {{2}} has shipped.')
    const vars = templateVars(t)
    expect(fillTemplate('Hi {{1}}, your order {{2}} has shipped.', { '1': 'Ana' })).toBe('Hi Ana, your order {{2}} has shipped.')
    expect(templateParams(vars, { '1': 'Ana', '2': 'A-7' })).toEqual(['Ana', 'A-7'])
    expect(templateParams(templateVars(template('Hi {{name}}', 'NAMED')), { name: 'Ana' })).toEqual({ name: 'Ana' })
    expect(templateParams(templateVars(template('Hello')), {})).toBeUndefined()
  })
})

describe('relativeTime', () => {
  it('is short', () => {
    expect(relativeTime(new Date(NOW - 10_000).toISOString(), NOW)).toBe('now')
    expect(relativeTime(new Date(NOW - 5 * 60_000).toISOString(), NOW)).toBe('5m')
    expect(relativeTime(new Date(NOW - 3 * H).toISOString(), NOW)).toBe('3h')
    expect(relativeTime(null, NOW)).toBe('')
  })
})

describe('interactiveOf', () => {
  it("reads the CSAT survey's list from Meta's send body", () => {
    const payload = {
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'How would you rate the help you received?' },
        action: { button: 'Rate us', sections: [{ title: 'Your rating', rows: [{ id: 'csat:1:5', title: '5 – Excellent' }, { id: 'csat:1:1', title: '1 – Very poor' }] }] },
      },
    }
    expect(interactiveOf(payload)).toEqual({
      kind: 'list',
      body: 'How would you rate the help you received?',
      button: 'Rate us',
      sections: [{ title: 'Your rating', options: [{ id: 'csat:1:5', title: '5 – Excellent' }, { id: 'csat:1:1', title: '1 – Very poor' }] }],
    })
  })

  it('reads reply buttons, and ignores anything else', () => {
    const buttons = { interactive: { type: 'button', body: { text: 'Yes?' }, action: { buttons: [{ type: 'reply', reply: { id: 'y', title: 'Yes' } }] } } }
    expect(interactiveOf(buttons)?.sections[0]?.options).toEqual([{ id: 'y', title: 'Yes' }])
    expect(interactiveOf({ text: { body: 'hi' } })).toBeNull()
    expect(interactiveOf('nonsense')).toBeNull()
  })
})

describe('template headers', () => {
  const withHeader = (header: Template['components'], parameter_format = ''): Template => ({
    id: 1, channel_id: 1, name: 't', language: 'en', category: 'UTILITY', status: 'APPROVED', parameter_format,
    components: [...(header ?? []), { type: 'BODY', text: 'Hello' }],
  })

  it('reads the header kind from its format', () => {
    expect(templateHeader(withHeader([]))).toEqual({ kind: 'none' })
    expect(templateHeader(withHeader([{ type: 'HEADER', format: 'IMAGE' }]))).toEqual({ kind: 'image' })
    expect(templateHeader(withHeader([{ type: 'header', format: 'video' }]))).toEqual({ kind: 'video' })
    expect(templateHeader(withHeader([{ type: 'HEADER', format: 'DOCUMENT' }]))).toEqual({ kind: 'document' })
    expect(templateHeader(withHeader([{ type: 'HEADER', format: 'LOCATION' }]))).toEqual({ kind: 'unsupported', format: 'location' })
    expect(templateHeader(withHeader([{ type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' }]))).toEqual({
      kind: 'text', text: 'Order {{1}}', vars: { named: false, keys: ['1'] },
    })
    // No format means text, as Meta lists older templates; named variables follow the template's format.
    expect(templateHeader(withHeader([{ type: 'HEADER', text: 'Hi {{name}}' }], 'NAMED'))).toEqual({
      kind: 'text', text: 'Hi {{name}}', vars: { named: true, keys: ['name'] },
    })
  })

  it('accepts only full https links', () => {
    expect(linkProblem('')).toBe('')
    expect(linkProblem('  ')).toBe('')
    expect(linkProblem('https://cdn.example.com/a.jpg')).toBe('')
    expect(linkProblem(' https://cdn.example.com/a.jpg ')).toBe('')
    expect(linkProblem('http://cdn.example.com/a.jpg')).toMatch(/https/)
    expect(linkProblem('ftp://cdn.example.com/a.jpg')).toMatch(/https/)
    expect(linkProblem('cdn.example.com/a.jpg')).toMatch(/full link/)
    expect(linkProblem('javascript:alert(1)')).toMatch(/https/)
  })

  it('names the file of a link', () => {
    expect(linkFileName('https://cdn.example.com/docs/Invoice%20March.pdf?sig=1')).toBe('Invoice March.pdf')
    expect(linkFileName('https://cdn.example.com/')).toBe('')
    expect(linkFileName('not a link')).toBe('')
  })

  it('builds header_params: a file by link (a filename on documents only), or text values', () => {
    expect(headerParams({ kind: 'image' }, { link: ' https://x.example/a.jpg ', filename: 'ignored.jpg' })).toEqual([{ type: 'image', link: 'https://x.example/a.jpg' }])
    expect(headerParams({ kind: 'document' }, { link: 'https://x.example/a.pdf', filename: ' a.pdf ' })).toEqual([
      { type: 'document', link: 'https://x.example/a.pdf', filename: 'a.pdf' },
    ])
    expect(headerParams({ kind: 'document' }, { link: 'https://x.example/a.pdf', filename: '  ' })).toEqual([{ type: 'document', link: 'https://x.example/a.pdf' }])
    expect(headerParams({ kind: 'text', text: 'Order {{1}}', vars: { named: false, keys: ['1'] } }, { values: { 1: 'A-7' } })).toEqual(['A-7'])
    expect(headerParams({ kind: 'text', text: 'Welcome', vars: { named: false, keys: [] } }, {})).toBeUndefined()
    expect(headerParams({ kind: 'none' }, { link: 'https://x.example/a.jpg' })).toBeUndefined()
  })
})
