// Field errors: the server's {"fields": {"path": "problem"}} (and the same paths from checks made in
// the browser) placed next to the inputs they concern. A problem no input claims is never dropped: it
// joins the form's summary message.
import { nextTick, reactive, ref } from 'vue'
import { ApiError } from '../api'

export type FieldErrorMap = Record<string, string>

/** Placement decides whether a form shows an input for a field path. */
export type Placement = (path: string) => boolean

/**
 * placeable builds a Placement from exact paths and patterns; "*" in a pattern stands for one path
 * segment (an index or a name), so "weekly.*.*.start" claims "weekly.monday.0.start".
 */
export function placeable(...patterns: (string | RegExp)[]): Placement {
  const tests = patterns.map((p) => {
    if (p instanceof RegExp) return (path: string) => p.test(path)
    if (!p.includes('*')) return (path: string) => path === p
    const re = new RegExp(`^${p.split('.').map((s) => (s === '*' ? '[^.]+' : s.replace(/[$()+?[\\\]^{|}]/g, '\\$&'))).join('\\.')}$`)
    return (path: string) => re.test(path)
  })
  return (path) => tests.some((t) => t(path))
}

/** stripPrefix keeps the fields under prefix (e.g. "settings") without it; others are kept as they are. */
export function stripPrefix(fields: FieldErrorMap, prefix: string): FieldErrorMap {
  const out: FieldErrorMap = {}
  const p = `${prefix}.`
  for (const [k, v] of Object.entries(fields)) out[k.startsWith(p) ? k.slice(p.length) : k] = v
  return out
}

/** splitErrors divides field problems into those an input shows and the rest. */
export function splitErrors(fields: FieldErrorMap, placed: Placement): { placed: FieldErrorMap; unplaced: string[] } {
  const out: FieldErrorMap = {}
  const rest: string[] = []
  for (const [k, v] of Object.entries(fields)) {
    if (placed(k)) out[k] = v
    else rest.push(k ? `${humanPath(k)}: ${v}` : v)
  }
  return { placed: out, unplaced: rest }
}

/** humanPath turns "business_hours.weekly.monday.0.start" into "Business hours › weekly › monday › 1 › start". */
export function humanPath(path: string): string {
  return path
    .split('.')
    .map((s, i) => {
      if (/^\d+$/.test(s)) return `#${Number(s) + 1}`
      const words = s.replace(/_/g, ' ')
      return i === 0 ? words.charAt(0).toUpperCase() + words.slice(1) : words
    })
    .join(' › ')
}

/** errorsUnder returns the problems at path or below it. */
export function errorsUnder(fields: FieldErrorMap, path: string): string[] {
  return Object.entries(fields)
    .filter(([k]) => k === path || k.startsWith(`${path}.`))
    .map(([, v]) => v)
}

/** describe returns the message of an error of any kind, for a form's summary. */
export function describe(e: unknown): string {
  if (e instanceof ApiError) return e.message
  if (e instanceof Error && e.message) return e.message
  return 'Something went wrong. Try again.'
}

/**
 * useFormErrors holds one form's field errors and its summary message. capture() takes a thrown
 * error: field problems the form places go next to their inputs, the rest into the summary.
 */
export function useFormErrors(placed: Placement = () => true) {
  const fields = reactive<FieldErrorMap>({})
  const message = ref('')

  function clear(path?: string): void {
    if (path === undefined) {
      for (const k of Object.keys(fields)) delete fields[k]
      message.value = ''
      return
    }
    for (const k of Object.keys(fields)) if (k === path || k.startsWith(`${path}.`)) delete fields[k]
  }

  function set(next: FieldErrorMap, summary = ''): void {
    clear()
    const { placed: p, unplaced } = splitErrors(next, placed)
    Object.assign(fields, p)
    const parts = [summary, ...unplaced].filter(Boolean)
    message.value = parts.join(' ')
  }

  /** capture shows a thrown error; it returns true when it had field problems. */
  function capture(e: unknown, transform: (f: FieldErrorMap) => FieldErrorMap = (f) => f): boolean {
    if (e instanceof ApiError && Object.keys(e.fields).length > 0) {
      const { placed: p, unplaced } = splitErrors(transform(e.fields), placed)
      clear()
      Object.assign(fields, p)
      message.value = unplaced.length > 0 ? `${e.message} ${unplaced.join(' ')}` : Object.keys(p).length > 0 ? 'Some fields need attention.' : e.message
      return true
    }
    clear()
    message.value = describe(e)
    return false
  }

  const get = (path: string): string | undefined => fields[path]
  const has = (): boolean => Object.keys(fields).length > 0 || message.value !== ''
  const under = (path: string): string[] => errorsUnder(fields, path)

  return { fields, message, clear, set, capture, get, has, under }
}

export type FormErrors = ReturnType<typeof useFormErrors>

/** focusFirstInvalid moves focus to the first input marked invalid inside root, after the DOM updated. */
export async function focusFirstInvalid(root: HTMLElement | null | undefined): Promise<void> {
  await nextTick()
  const el = root?.querySelector<HTMLElement>('[aria-invalid="true"]')
  if (el) {
    el.focus()
    return
  }
  root?.querySelector<HTMLElement>('[role="alert"]')?.focus?.()
}
