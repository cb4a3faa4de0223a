// The routing-rule editor's model: which operators each condition field allows (the server's
// allowedOps in routing.go), what kind of value each takes, drafts ⇄ JSON, and reordering.
import type { ConditionField, ConditionOp, RoutingRule, RuleCondition, TargetKind } from './types'
import type { RuleInput } from './adminApi'
import { WEEKDAYS, WEEKDAY_LABELS, validClock } from './businessHours'

export interface FieldSpec {
  field: ConditionField
  label: string
  ops: ConditionOp[]
  hint?: string
}

/** CONDITION_FIELDS mirrors the server's allowed field/operator pairs, in the order the picker shows them. */
export const CONDITION_FIELDS: FieldSpec[] = [
  { field: 'text', label: 'Message text', ops: ['contains', 'matches', 'equals'] },
  { field: 'contact_phone', label: 'Phone number', ops: ['prefix', 'equals'] },
  { field: 'contact_country', label: 'Country calling code', ops: ['in'], hint: 'Digits only, e.g. 33 for France, 1 for the US.' },
  { field: 'contact_name', label: 'Contact name', ops: ['contains', 'equals', 'matches'] },
  { field: 'contact_tag', label: 'Contact tag', ops: ['has'] },
  { field: 'contact_returning', label: 'Customer', ops: ['is'] },
  { field: 'business_hours', label: 'Business hours', ops: ['is'] },
  { field: 'weekday', label: 'Weekday', ops: ['in'], hint: "In the channel's business-hours time zone." },
  { field: 'time', label: 'Time of day', ops: ['between'], hint: "In the channel's business-hours time zone." },
]

export const OP_LABELS: Record<ConditionOp, string> = {
  contains: 'contains',
  matches: 'matches pattern',
  equals: 'is exactly',
  prefix: 'starts with',
  in: 'is one of',
  has: 'has any of',
  is: 'is',
  between: 'is between',
}

export const TARGET_LABELS: Record<TargetKind, string> = { agent: 'Agent', team: 'Team', ai_agent: 'AI agent' }

export type ValueKind = 'text' | 'pattern' | 'phone' | 'list' | 'choice' | 'weekdays' | 'time_range'

export interface Choice {
  value: string
  label: string
}

export const CHOICES: Partial<Record<ConditionField, Choice[]>> = {
  contact_returning: [
    { value: 'true', label: 'a returning customer' },
    { value: 'false', label: 'a new customer' },
  ],
  business_hours: [
    { value: 'inside', label: 'open (inside hours)' },
    { value: 'outside', label: 'closed (outside hours)' },
  ],
}

export function fieldSpec(field: ConditionField): FieldSpec {
  return CONDITION_FIELDS.find((f) => f.field === field) ?? (CONDITION_FIELDS[0] as FieldSpec)
}

/** allowedOps returns the operators the server accepts for a field. */
export const allowedOps = (field: ConditionField): ConditionOp[] => fieldSpec(field).ops

/** valueKind tells which input a condition's values need. */
export function valueKind(field: ConditionField, op: ConditionOp): ValueKind {
  if (op === 'matches') return 'pattern'
  switch (field) {
    case 'contact_phone':
      return 'phone'
    case 'contact_country':
    case 'contact_tag':
      return 'list'
    case 'contact_returning':
    case 'business_hours':
      return 'choice'
    case 'weekday':
      return 'weekdays'
    case 'time':
      return 'time_range'
    default:
      return 'text'
  }
}

/** defaultValues are a new condition's values for a field and operator. */
export function defaultValues(field: ConditionField, op: ConditionOp): string[] {
  switch (valueKind(field, op)) {
    case 'choice':
      return [CHOICES[field]?.[0]?.value ?? '']
    case 'weekdays':
      return ['monday', 'tuesday', 'wednesday', 'thursday', 'friday']
    case 'time_range':
      return ['09:00', '17:00']
    case 'list':
      return []
    default:
      return ['']
  }
}

export interface ConditionDraft extends RuleCondition {
  key: number
}

let seq = 0
const nextKey = (): number => ++seq

export function newCondition(field: ConditionField = 'text'): ConditionDraft {
  const op = allowedOps(field)[0] as ConditionOp
  return { key: nextKey(), field, op, values: defaultValues(field, op) }
}

/** withField changes a condition's field: the operator is kept when allowed, the values when they still fit. */
export function withField(c: ConditionDraft, field: ConditionField): ConditionDraft {
  const ops = allowedOps(field)
  const op = ops.includes(c.op) ? c.op : (ops[0] as ConditionOp)
  const sameKind = valueKind(c.field, c.op) === valueKind(field, op) && !['choice'].includes(valueKind(field, op))
  return { key: c.key, field, op, values: sameKind ? [...c.values] : defaultValues(field, op) }
}

/** withOp changes a condition's operator (one the field allows), keeping the values when they still fit. */
export function withOp(c: ConditionDraft, op: ConditionOp): ConditionDraft {
  if (!allowedOps(c.field).includes(op)) return c
  const sameKind = valueKind(c.field, c.op) === valueKind(c.field, op) || (['text', 'pattern'].includes(valueKind(c.field, c.op)) && ['text', 'pattern'].includes(valueKind(c.field, op)))
  return { key: c.key, field: c.field, op, values: sameKind ? [...c.values] : defaultValues(c.field, op) }
}

/** conditionToJSON is the condition as the API takes it: trimmed values, weekdays in calendar order. */
export function conditionToJSON(c: RuleCondition): RuleCondition {
  const kind = valueKind(c.field, c.op)
  let values: string[]
  switch (kind) {
    case 'list':
      values = c.values.map((v) => v.trim()).filter(Boolean)
      break
    case 'weekdays':
      values = WEEKDAYS.filter((d) => c.values.includes(d))
      break
    case 'pattern':
      values = [c.values[0] ?? '']
      break
    case 'phone':
      values = [(c.values[0] ?? '').replace(/[\s\-().]/g, '')]
      break
    case 'time_range':
      values = [c.values[0] ?? '', c.values[1] ?? '']
      break
    default:
      values = [(c.values[0] ?? '').trim()]
  }
  return { field: c.field, op: c.op, values }
}

export interface TargetDraft {
  kind: TargetKind
  id: number | null
}

export interface RuleDraft {
  name: string
  enabled: boolean
  conditions: ConditionDraft[]
  target: TargetDraft
}

export function newRuleDraft(): RuleDraft {
  return { name: '', enabled: true, conditions: [newCondition()], target: { kind: 'agent', id: null } }
}

export function draftFromRule(r: RoutingRule): RuleDraft {
  return {
    name: r.name,
    enabled: r.enabled,
    conditions: (r.conditions ?? []).map((c) => ({ key: nextKey(), field: c.field, op: c.op, values: [...(c.values ?? [])] })),
    target: { kind: r.target.kind, id: r.target.id || null },
  }
}

/** ruleToJSON is the rule as POST and PATCH take it. */
export function ruleToJSON(d: RuleDraft): RuleInput {
  return {
    name: d.name.trim(),
    enabled: d.enabled,
    conditions: d.conditions.map(conditionToJSON),
    target: { kind: d.target.kind, id: d.target.id ?? 0 },
  }
}

/**
 * validateRule checks what the browser can before sending; problems are keyed like the server's
 * ("name", "conditions.0.values", "target.id"). Regular expressions are left to the server (Go's
 * syntax is not JavaScript's).
 */
export function validateRule(d: RuleDraft): Record<string, string> {
  const out: Record<string, string> = {}
  if (!d.name.trim()) out.name = 'Give the rule a name.'
  if (d.conditions.length === 0) out.conditions = 'Add at least one condition.'
  d.conditions.forEach((c, i) => {
    const f = `conditions.${i}.values`
    const v = conditionToJSON(c).values
    switch (valueKind(c.field, c.op)) {
      case 'list':
        if (v.length === 0) out[f] = 'Add at least one value.'
        else if (c.field === 'contact_country' && v.some((x) => !/^[1-9]\d{0,2}$/.test(x))) out[f] = 'Country calling codes are 1–3 digits, e.g. 33.'
        break
      case 'weekdays':
        if (v.length === 0) out[f] = 'Choose at least one day.'
        break
      case 'time_range':
        if (!validClock(v[0] ?? '') || !(validClock(v[1] ?? '') || v[1] === '24:00')) out[f] = 'Give a start and an end, e.g. 09:00 and 17:00.'
        break
      case 'phone':
        if (!v[0]) out[f] = 'Enter a number or the start of one.'
        else if (c.op === 'prefix' && !/^\+?\d{1,15}$/.test(v[0])) out[f] = 'A phone prefix is digits, e.g. +3361.'
        break
      default:
        if (!(v[0] ?? '').trim()) out[f] = 'Enter a value.'
    }
  })
  if (!d.target.id) out['target.id'] = `Choose the ${TARGET_LABELS[d.target.kind].toLowerCase()} that gets the conversation.`
  return out
}

const quote = (s: string): string => `“${s}”`

/** describeCondition reads a condition as a sentence fragment, e.g. Message text contains “refund”. */
export function describeCondition(c: RuleCondition): string {
  const spec = fieldSpec(c.field)
  const values = c.values ?? []
  let v: string
  switch (valueKind(c.field, c.op)) {
    case 'choice':
      return `${spec.label} is ${CHOICES[c.field]?.find((x) => x.value === values[0])?.label ?? values[0] ?? ''}`
    case 'weekdays':
      v = values.map((d) => WEEKDAY_LABELS[d as keyof typeof WEEKDAY_LABELS] ?? d).join(', ')
      break
    case 'time_range':
      v = `${values[0] ?? ''} and ${values[1] ?? ''}`
      break
    case 'list':
      v = values.map((x) => (c.field === 'contact_country' ? `+${x}` : quote(x))).join(', ')
      break
    default:
      v = quote(values[0] ?? '')
  }
  return `${spec.label} ${OP_LABELS[c.op]} ${v}`
}

/** moveItem returns a copy of list with the item at from moved to index to. */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  const out = [...list]
  if (from < 0 || from >= out.length) return out
  const clamped = Math.max(0, Math.min(to, out.length - 1))
  const [item] = out.splice(from, 1)
  out.splice(clamped, 0, item as T)
  return out
}

/** sameOrder reports whether two lists of rules are in the same order. */
export const sameOrder = (a: readonly { id: number }[], b: readonly { id: number }[]): boolean =>
  a.length === b.length && a.every((r, i) => r.id === b[i]?.id)
