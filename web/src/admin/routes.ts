// The admin pages, under /admin. router.ts mounts these among the signed-in shell's children
// (children: [..., ...adminRoutes]); the paths are absolute, so they work wherever they are mounted.
// Every page but Reports is for admins: others are sent to the reports, which any signed-in agent
// may read for the channels they belong to (the server enforces the same).
import type { NavigationGuardWithThis, RouteLocationRaw, RouteRecordRaw } from 'vue-router'
import { auth } from '../auth'
import AdminLayout from './views/AdminLayout.vue'

declare module 'vue-router' {
  interface RouteMeta {
    /** adminOnly pages send other agents to the reports. */
    adminOnly?: boolean
  }
}

/** adminOnly lets admins through and sends other signed-in agents to the reports. */
export const adminOnly: NavigationGuardWithThis<undefined> = async (): Promise<true | RouteLocationRaw> => {
  await auth.restore()
  return auth.isAdmin.value ? true : { name: 'admin-reports' }
}

const admin = { adminOnly: true }

export const adminRoutes: RouteRecordRaw[] = [
  {
    path: '/admin',
    component: AdminLayout,
    children: [
      {
        path: '',
        name: 'admin',
        component: () => import('./views/AdminHomeView.vue'),
        meta: { title: 'Admin', ...admin },
        beforeEnter: adminOnly,
      },
      {
        path: 'channels',
        name: 'admin-channels',
        component: () => import('./views/ChannelsView.vue'),
        meta: { title: 'Channels', ...admin },
        beforeEnter: adminOnly,
      },
      {
        path: 'channels/new',
        name: 'admin-channel-new',
        component: () => import('./views/ChannelCreateView.vue'),
        meta: { title: 'Connect a WhatsApp number', ...admin },
        beforeEnter: adminOnly,
      },
      {
        path: 'channels/:id(\\d+)',
        component: () => import('./views/ChannelView.vue'),
        meta: { ...admin },
        beforeEnter: adminOnly,
        children: [
          {
            path: '',
            name: 'admin-channel',
            component: () => import('./views/ChannelConnectionPanel.vue'),
            meta: { title: 'Channel' },
          },
          {
            path: 'settings',
            name: 'admin-channel-settings',
            component: () => import('./views/ChannelSettingsPanel.vue'),
            meta: { title: 'Channel settings' },
          },
          {
            path: 'assignment',
            name: 'admin-channel-assignment',
            component: () => import('./views/ChannelAssignmentPanel.vue'),
            meta: { title: 'Channel assignment' },
          },
        ],
      },
      {
        path: 'people',
        name: 'admin-people',
        component: () => import('./views/PeopleView.vue'),
        meta: { title: 'Agents & teams', ...admin },
        beforeEnter: adminOnly,
      },
      {
        path: 'ai-agents',
        name: 'admin-ai-agents',
        component: () => import('./views/AIAgentsView.vue'),
        meta: { title: 'AI agents', ...admin },
        beforeEnter: adminOnly,
      },
      {
        path: 'ai-agents/new',
        name: 'admin-ai-agent-new',
        component: () => import('./views/AIAgentFormView.vue'),
        meta: { title: 'New AI agent', ...admin },
        beforeEnter: adminOnly,
      },
      {
        path: 'ai-agents/:id(\\d+)',
        name: 'admin-ai-agent',
        component: () => import('./views/AIAgentFormView.vue'),
        meta: { title: 'AI agent', ...admin },
        beforeEnter: adminOnly,
      },
      {
        path: 'templates',
        name: 'admin-templates',
        component: () => import('./views/TemplatesView.vue'),
        meta: { title: 'Templates', ...admin },
        beforeEnter: adminOnly,
      },
      {
        path: 'reports',
        name: 'admin-reports',
        component: () => import('./views/ReportsView.vue'),
        meta: { title: 'Reports' },
      },
      {
        path: 'system',
        name: 'admin-system',
        component: () => import('./views/SystemView.vue'),
        meta: { title: 'System', ...admin },
        beforeEnter: adminOnly,
      },
    ],
  },
]
