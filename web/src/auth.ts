// The signed-in agent and the session's CSRF token, as one small reactive store.
import { computed, reactive, readonly } from 'vue'
import { api, ApiError, setCsrfToken, type Agent, type Session } from './api'

interface AuthState {
  agent: Agent | null
  /** restored is true once the first /me answered (or failed). */
  restored: boolean
}

const state = reactive<AuthState>({ agent: null, restored: false })
let restoring: Promise<void> | null = null

function accept(session: Session): void {
  state.agent = session.agent
  setCsrfToken(session.csrf_token)
}

/** auth is the app's session store. */
export const auth = {
  state: readonly(state),
  signedIn: computed(() => state.agent !== null),
  isAdmin: computed(() => state.agent?.role === 'admin'),

  /**
   * restore asks the server who is signed in, once; later calls share the
   * first answer. A failure (401, or an unreachable server) leaves the app
   * signed out: the sign-in page then reports what went wrong on submit.
   */
  restore(): Promise<void> {
    restoring ??= api
      .me()
      .then(accept, () => undefined)
      .finally(() => {
        state.restored = true
      })
    return restoring
  },

  async login(email: string, password: string): Promise<Agent> {
    const session = await api.login(email, password)
    accept(session)
    state.restored = true
    return session.agent
  },

  /** logout ends the session on the server; an already-ended session counts as success. */
  async logout(): Promise<void> {
    try {
      await api.logout()
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) throw e
    }
    auth.clear()
  },

  /** setAvailability records the signed-in agent's presence (after a change or a presence event). */
  setAvailability(availability: Agent['availability']): void {
    if (state.agent) state.agent = { ...state.agent, availability }
  },

  /** clear forgets the session locally (after a 401 or a sign-out). */
  clear(): void {
    state.agent = null
    setCsrfToken('')
  },

  /** reset returns the store to its first state; for tests. */
  reset(): void {
    auth.clear()
    state.restored = false
    restoring = null
  },
}
