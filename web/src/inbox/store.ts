// The conversations the inbox knows, by id: the list and the open thread read
// the same objects, so a live event updates both at once.
import { onBeforeUnmount, reactive, ref, type Ref } from 'vue'
import type { Conversation } from '../types'
import { mergeConversation } from './logic'

const byId = reactive(new Map<number, Conversation>())

export const conversations = {
  get(id: number): Conversation | undefined {
    return byId.get(id)
  },

  /** put merges a conversation (from the API or an event) into what is known and returns the result. */
  put(c: Conversation): Conversation {
    const merged = mergeConversation(byId.get(c.id), c)
    byId.set(c.id, merged)
    return byId.get(c.id) as Conversation
  },

  /** patch changes a few fields of a known conversation (e.g. the preview after a send). */
  patch(id: number, fields: Partial<Conversation>): Conversation | undefined {
    const old = byId.get(id)
    if (!old) return undefined
    byId.set(id, { ...old, ...fields })
    return byId.get(id)
  },

  clear(): void {
    byId.clear()
  },
}

/** useNow is a clock for relative times and countdowns, ticking every interval ms while the component lives. */
export function useNow(interval = 30_000): Ref<number> {
  const now = ref(Date.now())
  const timer = setInterval(() => (now.value = Date.now()), interval)
  onBeforeUnmount(() => clearInterval(timer))
  return now
}
