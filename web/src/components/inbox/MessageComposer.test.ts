import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../api'
import type { BusinessHoursStatus, Template } from '../../types'
import MessageComposer from './MessageComposer.vue'

const H = 3_600_000
let now = Date.parse('2026-03-10T12:00:00Z')

const templates: Template[] = [
  {
    id: 1,
    channel_id: 3,
    name: 'order_update',
    language: 'en_US',
    category: 'UTILITY',
    status: 'APPROVED',
    components: [{ type: 'BODY', text: 'Hi {{1}}, your order {{2}} has shipped and will arrive {{3}}.' }],
  },
  {
    id: 2,
    channel_id: 3,
    name: 'greeting_named',
    language: 'pt_BR',
    category: 'MARKETING',
    status: 'APPROVED',
    parameter_format: 'NAMED',
    components: [{ type: 'BODY', text: 'Olá {{first_name}}!' }],
  },
]

const openNow: BusinessHoursStatus = { enabled: true, timezone: 'Europe/Paris', open: true, next_opening: null, closed_since: null }

function setup(
  windowHours: number | null,
  send = vi.fn(async () => undefined),
  hoursLoader = vi.fn(async (_channelId: number): Promise<BusinessHoursStatus> => openNow),
) {
  const expires = windowHours === null ? null : new Date(now + windowHours * H).toISOString()
  const wrapper = mount(MessageComposer, {
    props: {
      conversation: { id: 9, channel_id: 3, status: 'open' as const, window_expires_at: expires },
      send,
      now: () => now,
      templatesLoader: async () => templates,
      hoursLoader,
      tick: 1000,
    },
    attachTo: document.body,
  })
  return { wrapper, send, hoursLoader }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] })
  now = Date.parse('2026-03-10T12:00:00Z')
})

afterEach(() => {
  vi.useRealTimers()
  document.body.innerHTML = ''
})

describe('composer', () => {
  it('sends on Enter and clears the box', async () => {
    const { wrapper, send } = setup(5)
    const box = wrapper.get('textarea')
    await box.setValue('Hello there')
    await box.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(send).toHaveBeenCalledWith({ text: 'Hello there', private: undefined }, 'Hello there')
    expect((box.element as HTMLTextAreaElement).value).toBe('')
  })

  it('keeps Shift+Enter for a new line, and never sends an empty message', async () => {
    const { wrapper, send } = setup(5)
    const box = wrapper.get('textarea')
    await box.setValue('Line one')
    const ev = new KeyboardEvent('keydown', { key: 'Enter', shiftKey: true, cancelable: true })
    box.element.dispatchEvent(ev)
    await flushPromises()
    expect(ev.defaultPrevented).toBe(false)
    expect(send).not.toHaveBeenCalled()

    await box.setValue('   ')
    await box.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(send).not.toHaveBeenCalled()
  })

  it('sends a private note in note mode', async () => {
    const { wrapper, send } = setup(5)
    await wrapper.get('[data-testid="note-toggle"]').trigger('click')
    await wrapper.get('textarea').setValue('Customer is a VIP')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(send).toHaveBeenCalledWith({ text: 'Customer is a VIP', private: true }, 'Customer is a VIP')
  })

  it("shows the window's remaining time and counts down", async () => {
    const { wrapper } = setup(2 + 1 / 60)
    expect(wrapper.get('[data-testid="window-state"]').text()).toBe('2h 1m left to reply')
    now += 2 * H
    vi.advanceTimersByTime(1000)
    await flushPromises()
    expect(wrapper.get('[data-testid="window-state"]').text()).toBe('1m left to reply')
    expect(wrapper.get('[data-testid="window-state"]').classes()).toContain('urgent')
  })

  it('turns into the template picker when the window closes while open', async () => {
    const { wrapper } = setup(1 / 120) // 30 seconds left
    expect(wrapper.find('textarea').exists()).toBe(true)
    now += 60_000
    vi.advanceTimersByTime(1000)
    await flushPromises()
    expect(wrapper.find('textarea').exists()).toBe(false)
    expect(wrapper.find('[data-testid="template-picker"]').exists()).toBe(true)
    expect(wrapper.get('[data-testid="window-state"]').text()).toMatch(/closed/)
  })

  it('offers a field per template variable, a preview, and sends the params', async () => {
    const { wrapper, send } = setup(-1)
    await flushPromises()
    const picker = wrapper.get('[data-testid="template-picker"]')
    const fields = picker.findAll('[data-testid="template-variable"]')
    expect(fields).toHaveLength(3)
    expect(picker.findAll('label').map((l) => l.text())).toEqual(['Template', 'Variable {{1}}', 'Variable {{2}}', 'Variable {{3}}'])
    expect(picker.get('[data-testid="template-send"]').attributes('disabled')).toBeDefined()

    await fields[0]?.setValue('Ana')
    await fields[1]?.setValue('#A-77')
    expect(picker.get('[data-testid="template-preview"]').text()).toBe('Hi Ana, your order #A-77 has shipped and will arrive {{3}}.')
    expect(picker.get('[data-testid="template-send"]').attributes('disabled')).toBeDefined()
    await fields[2]?.setValue('tomorrow')
    await picker.trigger('submit')
    await flushPromises()
    expect(send).toHaveBeenCalledWith(
      { template: { name: 'order_update', language: 'en_US', params: ['Ana', '#A-77', 'tomorrow'] } },
      'Hi Ana, your order #A-77 has shipped and will arrive tomorrow.',
    )
  })

  it('sends named variables as an object', async () => {
    const { wrapper, send } = setup(null)
    await flushPromises()
    await wrapper.get('[data-testid="template-select"]').setValue('greeting_named::pt_BR')
    const fields = wrapper.findAll('[data-testid="template-variable"]')
    expect(fields).toHaveLength(1)
    expect(wrapper.get('label[for="tpl-var-first_name"]').text()).toBe('Variable {{first_name}}')
    await fields[0]?.setValue('Ana')
    await wrapper.get('[data-testid="template-picker"]').trigger('submit')
    await flushPromises()
    expect(send).toHaveBeenCalledWith({ template: { name: 'greeting_named', language: 'pt_BR', params: { first_name: 'Ana' } } }, 'Olá Ana!')
  })

  it('shows a refusal inline and gives the text back', async () => {
    const send = vi.fn(async () => {
      throw new ApiError(0, 'window_closed', 'More than 24 hours have passed since the customer’s last message; send an approved template instead.')
    })
    const { wrapper } = setup(3, send)
    await wrapper.get('textarea').setValue('Are you there?')
    await wrapper.get('textarea').trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(wrapper.get('[data-testid="composer-error"]').text()).toContain('More than 24 hours')
    expect(wrapper.get('[data-testid="composer-error"]').attributes('role')).toBe('alert')
    expect((wrapper.get('textarea').element as HTMLTextAreaElement).value).toBe('Are you there?')
  })

  it('tells colleagues while the agent types, and stops', async () => {
    const { wrapper } = setup(3)
    const box = wrapper.get('textarea')
    await box.setValue('H')
    await box.trigger('input')
    await box.setValue('He')
    await box.trigger('input')
    expect(wrapper.emitted('typing')).toEqual([[true]])
    vi.advanceTimersByTime(5000)
    expect(wrapper.emitted('typing')).toEqual([[true], [false]])
  })

  it('notes discreetly when the channel is outside its business hours, until it opens', async () => {
    const closed: BusinessHoursStatus = {
      enabled: true,
      timezone: 'Etc/GMT-14', // never the test machine's zone, so the zone is named
      open: false,
      closed_since: new Date(now - 2 * H).toISOString(),
      next_opening: new Date(now + 3 * H).toISOString(),
    }
    const loader = vi.fn(async (_channelId: number) => closed)
    const { wrapper } = setup(5, undefined, loader)
    await flushPromises()
    expect(loader).toHaveBeenCalledWith(3)
    const note = wrapper.get('[data-testid="hours-note"]')
    expect(note.text()).toMatch(/^Outside business hours · opens \w{3} .+ \(Etc\/GMT-14\)$/)
    expect(note.attributes('role')).toBe('note')

    // Private notes are for colleagues: no note there.
    await wrapper.get('[data-testid="note-toggle"]').trigger('click')
    expect(wrapper.find('[data-testid="hours-note"]').exists()).toBe(false)
    await wrapper.findAll('.mode')[0]?.trigger('click')
    expect(wrapper.find('[data-testid="hours-note"]').exists()).toBe(true)

    // Each tick asks again (the directory answers from its per-channel cache); once the opening
    // time has passed the note goes, even before a fresh status arrives.
    now += 3 * H + 1000
    vi.advanceTimersByTime(1000)
    await flushPromises()
    expect(loader.mock.calls.length).toBeGreaterThan(1)
    expect(wrapper.find('[data-testid="hours-note"]').exists()).toBe(false)
  })

  it('shows no note while open, and none when the status cannot be read', async () => {
    const open = setup(5)
    await flushPromises()
    expect(open.hoursLoader).toHaveBeenCalledWith(3)
    expect(open.wrapper.find('[data-testid="hours-note"]').exists()).toBe(false)
    open.wrapper.unmount()

    const failing = setup(5, undefined, vi.fn(async (): Promise<BusinessHoursStatus> => {
      throw new ApiError(503, 'unavailable', 'Busy')
    }))
    await flushPromises()
    expect(failing.wrapper.find('[data-testid="hours-note"]').exists()).toBe(false)
    expect(failing.wrapper.find('textarea').exists()).toBe(true)
  })
})
