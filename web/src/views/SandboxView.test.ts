// The Sandbox page's channel creation: a problem with the name is shown next to its field, linked to
// it (aria-describedby, aria-invalid) and focused; any other problem above the button.
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, RouterView } from 'vue-router'
import { auth } from '../auth'
import { directory } from '../inbox/directory'
import { createAppRouter } from '../router'
import { agent, json, stubFetch, type Route } from '../testing/fetch'

let wrapper: VueWrapper | null = null

async function open(create: Route): Promise<void> {
  stubFetch({
    'GET /api/v1/me': () => json(200, { agent, csrf_token: 'csrf-1' }),
    'GET /api/v1/channels': () => json(200, { data: [] }),
    'POST /api/v1/sandbox/channels': create,
  })
  const router = createAppRouter(createMemoryHistory())
  await router.push('/sandbox')
  wrapper = mount(RouterView, { global: { plugins: [router] }, attachTo: document.body })
  await flushPromises()
}

async function submit(name: string): Promise<void> {
  await wrapper!.get('#sandbox-name').setValue(name)
  await wrapper!.get('form.create').trigger('submit')
  await vi.waitFor(async () => {
    await flushPromises()
    expect(wrapper!.get('[data-testid="create-sandbox-channel"]').text()).toContain('Create sandbox channel')
  })
  await flushPromises()
}

beforeEach(() => {
  auth.reset()
  directory.reset()
  localStorage.clear()
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
  vi.unstubAllGlobals()
})

describe('sandbox channel creation', () => {
  it('links a problem with the name to its input and focuses it', async () => {
    await open(() => json(422, { error: { code: 'invalid', message: 'Some fields need attention.', fields: { name: 'Name must be at most 100 characters.' } } }))
    await submit('A name the server refuses')
    const input = wrapper!.get('#sandbox-name')
    expect(input.attributes('aria-invalid')).toBe('true')
    expect(input.attributes('aria-describedby')).toBe('sandbox-name-error')
    const error = wrapper!.get('#sandbox-name-error')
    expect(error.text()).toBe('Name must be at most 100 characters.')
    expect(error.attributes()).toHaveProperty('data-field-error')
    expect(document.activeElement).toBe(input.element)
    expect(wrapper!.find('[data-testid="create-error"]').exists()).toBe(false)

    // Editing the name clears its error.
    await input.setValue('Better')
    expect(input.attributes('aria-invalid')).toBeUndefined()
    expect(input.attributes('aria-describedby')).toBeUndefined()
    expect(wrapper!.find('#sandbox-name-error').exists()).toBe(false)
  })

  it('shows other problems above the button, not on the name', async () => {
    await open(() => json(404, { error: { code: 'not_found', message: 'Not found.' } }))
    await submit('Sandbox')
    expect(wrapper!.get('[data-testid="create-error"]').attributes('role')).toBe('alert')
    expect(wrapper!.get('[data-testid="create-error"]').text()).toContain('The sandbox is turned off')
    expect(wrapper!.get('#sandbox-name').attributes('aria-invalid')).toBeUndefined()
  })
})
