// Keyword replies (opt-out, opt-in, help): the server's list ⇄ the editor's cards, and the checks the
// browser can make. Cards keep the order they are sent in, so "keywords.1.response" from the server
// is the second card.
import type { KeywordCategory, KeywordRule } from './types'

export const KEYWORD_CATEGORIES: { category: KeywordCategory; label: string; description: string; example: string[] }[] = [
  {
    category: 'opt_out',
    label: 'Opt-out',
    description: 'The customer stops receiving messages from you (they are marked opted out) and gets this confirmation.',
    example: ['STOP', 'UNSUBSCRIBE'],
  },
  {
    category: 'opt_in',
    label: 'Opt-in',
    description: 'An opted-out customer can receive messages again and gets this confirmation.',
    example: ['START', 'SUBSCRIBE'],
  },
  {
    category: 'help',
    label: 'Help',
    description: 'Answers with how to reach you; the conversation carries on as usual.',
    example: ['HELP'],
  },
]

const ORDER: Record<KeywordCategory, number> = { opt_out: 0, opt_in: 1, help: 2 }

export interface KeywordDraft {
  key: number
  category: KeywordCategory
  enabled: boolean
  keywords: string[]
  response: string
}

let seq = 0

export function keywordsFromJSON(rules: KeywordRule[] | null | undefined): KeywordDraft[] {
  return [...(rules ?? [])]
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (ORDER[a.r.category] ?? 9) - (ORDER[b.r.category] ?? 9) || a.i - b.i)
    .map(({ r }) => ({ key: ++seq, category: r.category, enabled: r.enabled !== false, keywords: [...(r.keywords ?? [])], response: r.response ?? '' }))
}

export function keywordsToJSON(drafts: KeywordDraft[]): KeywordRule[] {
  return drafts.map((d) => ({
    category: d.category,
    enabled: d.enabled,
    keywords: d.keywords.map((k) => k.trim()).filter(Boolean),
    response: d.response,
  }))
}

export function newKeywordDraft(category: KeywordCategory): KeywordDraft {
  const spec = KEYWORD_CATEGORIES.find((c) => c.category === category)
  return { key: ++seq, category, enabled: true, keywords: [...(spec?.example ?? [])], response: '' }
}

/** validateKeywords reports empty keyword lists and a keyword used twice (matching ignores case). */
export function validateKeywords(drafts: KeywordDraft[]): Record<string, string> {
  const out: Record<string, string> = {}
  const seen = new Map<string, KeywordCategory>()
  drafts.forEach((d, i) => {
    const f = `keywords.${i}`
    const words = d.keywords.map((k) => k.trim()).filter(Boolean)
    if (words.length === 0) out[`${f}.keywords`] = 'Add at least one keyword.'
    for (const w of words) {
      if (w.length > 50) out[`${f}.keywords`] = 'Keywords must be at most 50 characters.'
      const other = seen.get(w.toLowerCase())
      if (other !== undefined) out[`${f}.keywords`] = `“${w}” is already a keyword of the ${categoryLabel(other).toLowerCase()} reply.`
      seen.set(w.toLowerCase(), d.category)
    }
    if (d.enabled && !d.response.trim()) out[`${f}.response`] = 'Write the reply the customer gets.'
  })
  return out
}

export const categoryLabel = (c: KeywordCategory): string => KEYWORD_CATEGORIES.find((x) => x.category === c)?.label ?? c
