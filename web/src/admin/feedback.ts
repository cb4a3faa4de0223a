// Page feedback shared by the admin pages: short notices ("Saved") and confirmation questions.
import { reactive } from 'vue'

export interface Notice {
  id: number
  text: string
  tone: 'success' | 'error' | 'info'
}

export interface ConfirmRequest {
  title: string
  body: string
  confirmLabel: string
  danger: boolean
  resolve: (ok: boolean) => void
}

export const feedback = reactive<{ notices: Notice[]; confirm: ConfirmRequest | null }>({ notices: [], confirm: null })

let seq = 0

/** notify shows a short notice for a few seconds (read out by screen readers). */
export function notify(text: string, tone: Notice['tone'] = 'success', ms = 4000): void {
  const id = ++seq
  feedback.notices.push({ id, text, tone })
  setTimeout(() => dismiss(id), ms)
}

export function dismiss(id: number): void {
  const i = feedback.notices.findIndex((n) => n.id === id)
  if (i >= 0) feedback.notices.splice(i, 1)
}

/** confirmAction asks a yes/no question in a modal dialog; it resolves true when confirmed. */
export function confirmAction(opts: { title: string; body: string; confirmLabel?: string; danger?: boolean }): Promise<boolean> {
  feedback.confirm?.resolve(false)
  return new Promise((resolve) => {
    feedback.confirm = {
      title: opts.title,
      body: opts.body,
      confirmLabel: opts.confirmLabel ?? 'Confirm',
      danger: opts.danger ?? false,
      resolve: (ok) => {
        feedback.confirm = null
        resolve(ok)
      },
    }
  })
}
