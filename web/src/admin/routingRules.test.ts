import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { ref } from 'vue'
import ConditionRow from './components/ConditionRow.vue'
import RoutingRulesEditor from './components/RoutingRulesEditor.vue'
import {
  CONDITION_FIELDS,
  allowedOps,
  conditionToJSON,
  describeCondition,
  moveItem,
  newCondition,
  newRuleDraft,
  ruleToJSON,
  validateRule,
  valueKind,
  withField,
  withOp,
  type ConditionDraft,
} from './routingRules'
import { feedback } from './feedback'
import { json, stubFetch } from '../testing/fetch'
import type { AdminAgent, ConditionField, RoutingRule } from './types'

// The server's allowedOps (routing.go), which the builder must offer and nothing else.
const SERVER_OPS: Record<ConditionField, string[]> = {
  text: ['contains', 'matches', 'equals'],
  contact_phone: ['prefix', 'equals'],
  contact_country: ['in'],
  contact_name: ['contains', 'equals', 'matches'],
  contact_tag: ['has'],
  contact_returning: ['is'],
  business_hours: ['is'],
  weekday: ['in'],
  time: ['between'],
}

describe('condition fields and operators', () => {
  it('offers exactly the server’s operators for each field', () => {
    expect(Object.fromEntries(CONDITION_FIELDS.map((f) => [f.field, f.ops]))).toEqual(SERVER_OPS)
  })

  it('keeps an operator the new field allows and resets one it does not', () => {
    const c = withOp(newCondition('text'), 'equals')
    c.values = ['refund']
    const name = withField(c, 'contact_name')
    expect(name).toMatchObject({ field: 'contact_name', op: 'equals', values: ['refund'] })
    // equals exists for phone numbers too; contains does not.
    expect(withField(c, 'contact_phone')).toMatchObject({ field: 'contact_phone', op: 'equals', values: [''] })
    expect(withField(withOp(c, 'contains'), 'contact_phone')).toMatchObject({ op: 'prefix', values: [''] })
    expect(withField(c, 'weekday')).toMatchObject({ op: 'in', values: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] })
    expect(withField(c, 'time')).toMatchObject({ op: 'between', values: ['09:00', '17:00'] })
    expect(withField(c, 'business_hours')).toMatchObject({ op: 'is', values: ['inside'] })
  })

  it('refuses an operator the field does not allow', () => {
    const c = newCondition('contact_country')
    expect(withOp(c, 'contains')).toBe(c)
  })

  it('picks the value input for each field and operator', () => {
    expect(valueKind('text', 'contains')).toBe('text')
    expect(valueKind('text', 'matches')).toBe('pattern')
    expect(valueKind('contact_phone', 'prefix')).toBe('phone')
    expect(valueKind('contact_country', 'in')).toBe('list')
    expect(valueKind('contact_tag', 'has')).toBe('list')
    expect(valueKind('contact_returning', 'is')).toBe('choice')
    expect(valueKind('weekday', 'in')).toBe('weekdays')
    expect(valueKind('time', 'between')).toBe('time_range')
  })
})

describe('rule JSON', () => {
  const cond = (field: ConditionField, op: ConditionDraft['op'], values: string[]): ConditionDraft => ({ key: 1, field, op, values })

  it('cleans values the way the API expects', () => {
    expect(conditionToJSON(cond('text', 'contains', ['  refund '])).values).toEqual(['refund'])
    expect(conditionToJSON(cond('text', 'matches', [' (?i)vip '])).values).toEqual([' (?i)vip '])
    expect(conditionToJSON(cond('contact_phone', 'prefix', ['+33 6-1'])).values).toEqual(['+3361'])
    expect(conditionToJSON(cond('contact_country', 'in', [' 33', '', '44 '])).values).toEqual(['33', '44'])
    expect(conditionToJSON(cond('weekday', 'in', ['sunday', 'monday'])).values).toEqual(['monday', 'sunday'])
    expect(conditionToJSON(cond('time', 'between', ['09:00'])).values).toEqual(['09:00', ''])
  })

  it('builds the body of POST /routing-rules', () => {
    const d = newRuleDraft()
    d.name = '  VIP  '
    d.conditions = [cond('text', 'contains', ['vip']), cond('business_hours', 'is', ['outside'])]
    d.target = { kind: 'team', id: 4 }
    expect(ruleToJSON(d)).toEqual({
      name: 'VIP',
      enabled: true,
      conditions: [
        { field: 'text', op: 'contains', values: ['vip'] },
        { field: 'business_hours', op: 'is', values: ['outside'] },
      ],
      target: { kind: 'team', id: 4 },
    })
  })

  it('reports problems under the server’s field paths', () => {
    const d = newRuleDraft()
    d.conditions = [cond('text', 'contains', [' ']), cond('contact_country', 'in', ['+33']), cond('weekday', 'in', []), cond('time', 'between', ['9am', '17:00'])]
    expect(validateRule(d)).toEqual({
      name: 'Give the rule a name.',
      'conditions.0.values': 'Enter a value.',
      'conditions.1.values': 'Country calling codes are 1–3 digits, e.g. 33.',
      'conditions.2.values': 'Choose at least one day.',
      'conditions.3.values': 'Give a start and an end, e.g. 09:00 and 17:00.',
      'target.id': 'Choose the agent that gets the conversation.',
    })
  })

  it('reads a condition as a sentence', () => {
    expect(describeCondition({ field: 'text', op: 'contains', values: ['refund'] })).toBe('Message text contains “refund”')
    expect(describeCondition({ field: 'contact_country', op: 'in', values: ['33', '44'] })).toBe('Country calling code is one of +33, +44')
    expect(describeCondition({ field: 'business_hours', op: 'is', values: ['outside'] })).toBe('Business hours is closed (outside hours)')
    expect(describeCondition({ field: 'time', op: 'between', values: ['09:00', '12:00'] })).toBe('Time of day is between 09:00 and 12:00')
  })
})

describe('moveItem', () => {
  it('moves an item and clamps the target', () => {
    expect(moveItem(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b'])
    expect(moveItem(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c'])
    expect(moveItem(['a', 'b', 'c'], 0, 9)).toEqual(['b', 'c', 'a'])
    expect(moveItem(['a', 'b', 'c'], 5, 0)).toEqual(['a', 'b', 'c'])
  })
})

describe('ConditionRow', () => {
  it('lists only the operators the chosen field allows', async () => {
    const c = ref<ConditionDraft>(newCondition('text'))
    const w = mount(ConditionRow, {
      props: { modelValue: c.value, 'onUpdate:modelValue': (v: ConditionDraft) => (c.value = v), index: 0, errors: {}, removable: false },
    })
    const ops = () => w.findAll('select')[1]!.findAll('option').map((o) => o.attributes('value'))
    expect(ops()).toEqual(allowedOps('text'))
    await w.findAll('select')[0]!.setValue('contact_phone')
    await w.setProps({ modelValue: c.value })
    expect(c.value).toMatchObject({ field: 'contact_phone', op: 'prefix' })
    expect(ops()).toEqual(['prefix', 'equals'])
    await w.findAll('select')[0]!.setValue('weekday')
    await w.setProps({ modelValue: c.value })
    expect(ops()).toEqual(['in'])
    expect(w.findAll('input[type="checkbox"]')).toHaveLength(7)
  })

  it('shows the values problem next to the condition', () => {
    const w = mount(ConditionRow, {
      props: { modelValue: newCondition('text'), index: 2, errors: { 'conditions.2.values': 'Not a valid regular expression.' }, removable: true },
    })
    const input = w.get('input')
    expect(input.attributes('aria-invalid')).toBe('true')
    expect(w.text()).toContain('Not a valid regular expression.')
  })
})

describe('RoutingRulesEditor reorder', () => {
  afterEach(() => {
    feedback.notices.splice(0)
  })

  const rule = (id: number, name: string): RoutingRule => ({
    id,
    channel_id: 7,
    position: id,
    name,
    enabled: true,
    conditions: [{ field: 'text', op: 'contains', values: [name.toLowerCase()] }],
    target: { kind: 'agent', id: 1 },
    created_at: '',
    updated_at: '',
  })
  const agents = [{ id: 1, name: 'Ada', email: 'ada@example.com', role: 'admin', availability: 'available', disabled: false, created_at: '' }] as AdminAgent[]
  const names = (w: ReturnType<typeof mount>) => w.findAll('[data-testid="rule-row"]').map((r) => r.attributes('data-rule-name'))

  it('moves a rule with the keyboard buttons and saves the new order', async () => {
    const rules = [rule(1, 'A'), rule(2, 'B'), rule(3, 'C')]
    const calls = stubFetch({
      'GET /api/v1/channels/7/routing-rules': () => json(200, { data: rules }),
      'PUT /api/v1/channels/7/routing-rules/order': (c) => {
        const ids = (c.body as { ids: number[] }).ids
        return json(200, { data: ids.map((id) => rules.find((r) => r.id === id)) })
      },
    })
    const w = mount(RoutingRulesEditor, { props: { channelId: 7, agents, teams: [], aiAgents: [] }, attachTo: document.body })
    await flushPromises()
    expect(names(w)).toEqual(['A', 'B', 'C'])
    expect(w.get('button[aria-label="Move A up"]').attributes('disabled')).toBeDefined()

    await w.get('button[aria-label="Move C up"]').trigger('click')
    await flushPromises()
    expect(names(w)).toEqual(['A', 'C', 'B'])
    const put = calls.filter((c) => c.method === 'PUT')
    expect(put).toHaveLength(1)
    expect(put[0]!.body).toEqual({ ids: [1, 3, 2] })
    // Focus stays on the moved rule's button, and the move is announced.
    expect(document.activeElement?.getAttribute('aria-label')).toBe('Move C up')
    expect(w.text()).toContain('C moved to position 2 of 3.')

    await w.get('button[aria-label="Move A down"]').trigger('click')
    await flushPromises()
    expect(names(w)).toEqual(['C', 'A', 'B'])
    expect(calls.filter((c) => c.method === 'PUT')[1]!.body).toEqual({ ids: [3, 1, 2] })
    w.unmount()
  })

  it('puts the old order back when the server refuses the new one', async () => {
    const rules = [rule(1, 'A'), rule(2, 'B')]
    stubFetch({
      'GET /api/v1/channels/7/routing-rules': () => json(200, { data: rules }),
      'PUT /api/v1/channels/7/routing-rules/order': () =>
        json(422, { error: { code: 'invalid', message: 'The rules changed meanwhile.', fields: { ids: 'List every rule once.' } } }),
    })
    const w = mount(RoutingRulesEditor, { props: { channelId: 7, agents, teams: [], aiAgents: [] } })
    await flushPromises()
    await w.get('button[aria-label="Move B up"]').trigger('click')
    await flushPromises()
    expect(names(w)).toEqual(['A', 'B'])
    expect(w.get('[role="alert"]').text()).toContain('The new order was not saved.')
  })

  it('reorders by drag and drop', async () => {
    const rules = [rule(1, 'A'), rule(2, 'B'), rule(3, 'C')]
    const calls = stubFetch({
      'GET /api/v1/channels/7/routing-rules': () => json(200, { data: rules }),
      'PUT /api/v1/channels/7/routing-rules/order': (c) =>
        json(200, { data: (c.body as { ids: number[] }).ids.map((id) => rules.find((r) => r.id === id)) }),
    })
    const w = mount(RoutingRulesEditor, { props: { channelId: 7, agents, teams: [], aiAgents: [] } })
    await flushPromises()
    const rows = w.findAll('[data-testid="rule-row"]')
    // Drag A below C: over the lower half of C.
    await rows[0]!.trigger('dragstart')
    rows[2]!.element.getBoundingClientRect = () => ({ top: 100, height: 40, bottom: 140, left: 0, right: 0, width: 0, x: 0, y: 100, toJSON: () => ({}) })
    await rows[2]!.trigger('dragover', { clientY: 135 })
    await w.get('[data-testid="routing-rules"]').trigger('drop')
    await flushPromises()
    expect(names(w)).toEqual(['B', 'C', 'A'])
    expect(calls.find((c) => c.method === 'PUT')!.body).toEqual({ ids: [2, 3, 1] })
  })

  it('shows the server’s problems next to the rule form’s fields', async () => {
    const calls = stubFetch({
      'GET /api/v1/channels/7/routing-rules': () => json(200, { data: [] }),
      'POST /api/v1/channels/7/routing-rules': () =>
        json(422, {
          error: { code: 'invalid', message: 'Some fields are invalid.', fields: { 'conditions.0.values': 'Not a valid regular expression.', 'target.id': 'No such agent.' } },
        }),
    })
    const w = mount(RoutingRulesEditor, { props: { channelId: 7, agents, teams: [], aiAgents: [] }, attachTo: document.body })
    await flushPromises()
    await w.get('button[data-add-rule]').trigger('click')
    await w.get('.rule-form input').setValue('Refunds')
    await w.get('.rule-form select').setValue('text')
    const selects = w.findAll('.rule-form select')
    await selects[1]!.setValue('matches')
    await w.get('.rule-form input.value').setValue('(?<x>')
    await w.get('.rule-form select.target-select').setValue('1')
    await w.get('.rule-form').trigger('submit')
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')
    expect(post!.body).toEqual({ name: 'Refunds', enabled: true, conditions: [{ field: 'text', op: 'matches', values: ['(?<x>'] }], target: { kind: 'agent', id: 1 } })
    const cond = w.get('[data-testid="condition-0"]')
    expect(cond.text()).toContain('Not a valid regular expression.')
    expect(cond.get('input.value').attributes('aria-invalid')).toBe('true')
    expect(w.get('.rule-form').text()).toContain('No such agent.')
    expect(document.activeElement).toBe(cond.get('input.value').element)
    w.unmount()
  })
})
