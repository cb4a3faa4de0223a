import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../api'
import type { TemplateSend } from '../../inbox/actions'
import type { Template } from '../../types'
import TemplatePicker from './TemplatePicker.vue'

const base = { channel_id: 3, category: 'UTILITY', status: 'APPROVED' }
const templates: Template[] = [
  {
    ...base,
    id: 1,
    name: 'invoice_ready',
    language: 'en_US',
    components: [
      { type: 'HEADER', format: 'DOCUMENT' },
      { type: 'BODY', text: 'Hi {{1}}, your invoice is attached.' },
    ],
  },
  {
    ...base,
    id: 2,
    name: 'new_arrivals',
    language: 'en',
    category: 'MARKETING',
    components: [
      { type: 'HEADER', format: 'IMAGE' },
      { type: 'BODY', text: 'Our new collection is here.' },
    ],
  },
  {
    ...base,
    id: 3,
    name: 'order_ready',
    language: 'en',
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
      { type: 'BODY', text: 'Hi {{1}}, it is ready.' },
    ],
  },
  {
    ...base,
    id: 4,
    name: 'store_location',
    language: 'en',
    components: [
      { type: 'HEADER', format: 'LOCATION' },
      { type: 'BODY', text: 'Find us here.' },
    ],
  },
]

type Send = (t: TemplateSend, preview: string) => Promise<void>

async function setup(key: string, send: Send = vi.fn<Send>(async () => undefined)) {
  const wrapper = mount(TemplatePicker, { props: { channelId: 3, send, loader: async () => templates }, attachTo: document.body })
  await flushPromises()
  await wrapper.get('[data-testid="template-select"]').setValue(key)
  return { wrapper, send }
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('template picker: media headers', () => {
  it('asks for the document link and an optional file name, and sends them as header_params', async () => {
    const { wrapper, send } = await setup('invoice_ready::en_US')
    expect(wrapper.findAll('label').map((l) => l.text())).toEqual(['Template', 'Document link', 'File name (optional)', 'Variable {{1}}'])
    expect(wrapper.get('[data-testid="template-preview-header"]').text()).toBe('Document header')
    const sendButton = wrapper.get('[data-testid="template-send"]')
    expect(sendButton.attributes('disabled')).toBeDefined()
    expect(wrapper.text()).toContain("Give the document's link and fill the variables to send.")

    await wrapper.get('[data-testid="template-variable"]').setValue('Ana')
    expect(wrapper.text()).toContain("Give the document's link to send.")
    await wrapper.get('[data-testid="template-header-link"]').setValue('  https://files.example.com/inv/2026-03.pdf ')
    expect(wrapper.get('[data-testid="template-preview-header"]').text()).toBe('Document · 2026-03.pdf')
    await wrapper.get('[data-testid="template-header-filename"]').setValue('Invoice March.pdf')
    expect(wrapper.get('[data-testid="template-preview-header"]').text()).toBe('Document · Invoice March.pdf')
    expect(sendButton.attributes('disabled')).toBeUndefined()

    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(send).toHaveBeenCalledWith(
      {
        name: 'invoice_ready',
        language: 'en_US',
        params: ['Ana'],
        header_params: [{ type: 'document', link: 'https://files.example.com/inv/2026-03.pdf', filename: 'Invoice March.pdf' }],
      },
      'Hi Ana, your invoice is attached.',
    )
    // Sent: the fields are empty for the next one.
    expect((wrapper.get('[data-testid="template-header-link"]').element as HTMLInputElement).value).toBe('')
  })

  it('sends an image by link, without a file name field', async () => {
    const { wrapper, send } = await setup('new_arrivals::en')
    expect(wrapper.find('[data-testid="template-header-filename"]').exists()).toBe(false)
    expect(wrapper.get('label[for="tpl-header-link"]').text()).toBe('Image link')
    expect(wrapper.get('[data-testid="template-preview-header"]').text()).toBe('Image header')
    await wrapper.get('[data-testid="template-header-link"]').setValue('https://cdn.example.com/spring.jpg')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(send).toHaveBeenCalledWith(
      { name: 'new_arrivals', language: 'en', header_params: [{ type: 'image', link: 'https://cdn.example.com/spring.jpg' }] },
      'Our new collection is here.',
    )
  })

  it('checks the link locally: only https, shown next to the field once left', async () => {
    const { wrapper, send } = await setup('new_arrivals::en')
    const link = wrapper.get('[data-testid="template-header-link"]')
    await link.setValue('http://cdn.example.com/spring.jpg')
    // Not shouted while typing…
    expect(wrapper.find('[data-testid="template-header-link-error"]').exists()).toBe(false)
    await link.trigger('blur')
    const err = wrapper.get('[data-testid="template-header-link-error"]')
    expect(err.text()).toBe('Use an https:// link: WhatsApp downloads the file from it.')
    expect(link.attributes('aria-invalid')).toBe('true')
    expect(link.attributes('aria-describedby')).toContain(err.attributes('id'))
    expect(wrapper.get('[data-testid="template-send"]').attributes('disabled')).toBeDefined()
    await wrapper.get('form').trigger('submit')
    expect(send).not.toHaveBeenCalled()

    await link.setValue('spring.jpg')
    expect(wrapper.get('[data-testid="template-header-link-error"]').text()).toBe('Paste the full link, starting with https://.')
    await link.setValue('https://cdn.example.com/spring.jpg')
    expect(wrapper.find('[data-testid="template-header-link-error"]').exists()).toBe(false)
    expect(link.attributes('aria-invalid')).toBeUndefined()
  })

  it("shows the server's refusal of the header next to the link, and clears it on edit", async () => {
    const send = vi.fn<Send>(async () => {
      throw new ApiError(422, 'invalid', 'Some fields need attention.', { 'template.header_params': "This template's header is an image, not a video." })
    })
    const { wrapper } = await setup('new_arrivals::en', send)
    const link = wrapper.get('[data-testid="template-header-link"]')
    await link.setValue('https://cdn.example.com/spring.jpg')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    const err = wrapper.get('[data-testid="template-header-error"]')
    expect(err.text()).toBe("This template's header is an image, not a video.")
    expect(link.attributes('aria-invalid')).toBe('true')
    expect(link.attributes('aria-describedby')).toContain('tpl-header-error')
    expect(link.element.parentElement?.contains(err.element)).toBe(true)
    // Not repeated as a general error.
    expect(wrapper.find('.alert').exists()).toBe(false)
    // The link is kept for another try; editing it clears the refusal.
    expect((link.element as HTMLInputElement).value).toBe('https://cdn.example.com/spring.jpg')
    await link.setValue('https://cdn.example.com/spring-2.jpg')
    expect(wrapper.find('[data-testid="template-header-error"]').exists()).toBe(false)
  })

  it('fills the variable of a text header and previews it', async () => {
    const { wrapper, send } = await setup('order_ready::en')
    await wrapper.get('[data-testid="template-header-variable"]').setValue('#A-77')
    await wrapper.get('[data-testid="template-variable"]').setValue('Ana')
    expect(wrapper.get('[data-testid="template-preview-header"]').text()).toBe('Order #A-77')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(send).toHaveBeenCalledWith({ name: 'order_ready', language: 'en', params: ['Ana'], header_params: ['#A-77'] }, 'Hi Ana, it is ready.')
  })

  it('says when a header cannot be filled from here, and does not send', async () => {
    const { wrapper } = await setup('store_location::en')
    expect(wrapper.text()).toContain("This template's header (location) cannot be filled from Switchboard.")
    expect(wrapper.get('[data-testid="template-send"]').attributes('disabled')).toBeDefined()
  })

  it('puts a header problem in the general error when the template shows no header field', async () => {
    const send = vi.fn<Send>(async () => {
      throw new ApiError(422, 'invalid', 'Some fields need attention.', { 'template.header_params': 'This template has no header.' })
    })
    const wrapper = mount(TemplatePicker, {
      props: { channelId: 3, send, loader: async () => [{ ...base, id: 9, name: 'plain', language: 'en', components: [{ type: 'BODY', text: 'Hello' }] }] },
    })
    await flushPromises()
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('.alert').text()).toBe('This template has no header.')
  })
})
