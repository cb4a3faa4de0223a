// Routes, the sign-in guard and page titles.
import {
  createRouter,
  type NavigationGuardWithThis,
  type RouteLocationRaw,
  type Router,
  type RouterHistory,
} from 'vue-router'
import { onUnauthorized } from './api'
import { auth } from './auth'
import AppShell from './components/AppShell.vue'
import InboxView from './views/InboxView.vue'
import LoginView from './views/LoginView.vue'
import NotFoundView from './views/NotFoundView.vue'

declare module 'vue-router' {
  interface RouteMeta {
    /** title is the page's name in the browser tab. */
    title?: string
    /** public routes are reachable without a session. */
    public?: boolean
    /** admin routes are for admins only; agents are sent to their inbox. */
    admin?: boolean
  }
}

export const APP_NAME = 'Switchboard'

/** SHELL names the signed-in frame's route; the admin routes are added under it. */
const SHELL = 'shell'

/** INBOX_VIEWS are the inbox's lists, in the order of its tabs. */
export const INBOX_VIEWS = ['mine', 'unassigned', 'all'] as const
export type InboxViewName = (typeof INBOX_VIEWS)[number]

/**
 * safeRedirect returns the in-app path to go back to after sign-in, or null
 * when the value is not one (absent, absolute, protocol-relative, or the
 * sign-in page itself), so ?redirect= cannot send anyone to another site.
 */
export function safeRedirect(value: unknown): string | null {
  if (typeof value !== 'string' || !value.startsWith('/')) return null
  if (value.startsWith('//') || value.startsWith('/\\')) return null
  if (value === '/login' || value.startsWith('/login?') || value.startsWith('/login#')) return null
  return value
}

/** authGuard sends signed-out visitors to sign-in and signed-in ones away from it. */
export const authGuard: NavigationGuardWithThis<undefined> = async (to): Promise<true | RouteLocationRaw> => {
  await auth.restore()
  if (to.meta.public) {
    if (to.name === 'login' && auth.signedIn.value) return safeRedirect(to.query.redirect) ?? '/'
    return true
  }
  if (!auth.signedIn.value) {
    // Landing on the home page needs no way back: sign-in goes there anyway.
    const home = (to.redirectedFrom?.fullPath ?? to.fullPath) === '/'
    return home ? { name: 'login' } : { name: 'login', query: { redirect: to.fullPath } }
  }
  if (to.matched.some((r) => r.meta.admin) && !auth.isAdmin.value) {
    return { name: 'inbox', params: { view: 'mine' } }
  }
  return true
}

/** createAppRouter builds the router on the given history (web history in the app, memory in tests). */
export function createAppRouter(history: RouterHistory): Router {
  const router = createRouter({
    history,
    routes: [
      { path: '/login', name: 'login', component: LoginView, meta: { title: 'Sign in', public: true } },
      {
        path: '/',
        name: SHELL,
        component: AppShell,
        children: [
          { path: '', name: 'home', redirect: '/inbox/mine' },
          { path: 'inbox', redirect: '/inbox/mine' },
          {
            // The open conversation is part of the address, so it survives a reload and can be shared.
            path: `inbox/:view(${INBOX_VIEWS.join('|')})/:conversationId(\\d+)?`,
            name: 'inbox',
            component: InboxView,
            meta: { title: 'Inbox' },
          },
          {
            path: 'sandbox',
            name: 'sandbox',
            component: () => import('./views/SandboxView.vue'),
            meta: { title: 'Sandbox' },
          },
        ],
      },
      {
        path: '/:pathMatch(.*)*',
        name: 'not-found',
        component: NotFoundView,
        meta: { title: 'Page not found', public: true },
      },
    ],
  })

  // The admin screens' routes live in their own chunk, loaded on the first
  // visit to an address the app does not know yet (such as /admin/...): once
  // added, the same address is resolved again.
  let adminRoutes: Promise<boolean> | null = null
  const loadAdminRoutes = (): Promise<boolean> =>
    (adminRoutes ??= import('./admin/routes').then(
      (m) => {
        for (const r of m.adminRoutes) router.addRoute(SHELL, r)
        return m.adminRoutes.length > 0
      },
      (e: unknown) => {
        console.error('Could not load the admin screens', e)
        adminRoutes = null
        return false
      },
    ))
  router.beforeEach(async (to) => {
    if (to.name !== 'not-found' || adminRoutes) return true
    const added = await loadAdminRoutes()
    return added && router.resolve(to.fullPath).name !== 'not-found' ? to.fullPath : true
  })
  router.beforeEach(authGuard)
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · ${APP_NAME}` : APP_NAME
  })

  // A 401 from any call means the session ended elsewhere (expired, signed out
  // in another tab): forget it and ask to sign in, then come back here.
  onUnauthorized(() => {
    auth.clear()
    const current = router.currentRoute.value
    if (current.name === 'login') return
    void router.replace({ name: 'login', query: { redirect: current.fullPath } })
  })

  return router
}
