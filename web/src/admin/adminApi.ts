// Typed calls of the admin endpoints, on top of the app's fetch client (CSRF, ApiError, 401).
import { api, type Page, type Role } from '../api'
import type {
  AdminAgent,
  AIAgent,
  APIToken,
  AssignmentMode,
  Channel,
  ChannelEvent,
  ChannelMember,
  ChannelSettings,
  CreatedToken,
  CSATReport,
  DeadLetter,
  Job,
  OverviewReport,
  RoutingRule,
  RuleCondition,
  RuleTarget,
  Team,
  Template,
} from './types'

const q = (params: Record<string, string | number | undefined | null>): string => {
  const s = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') s.set(k, String(v))
  }
  const out = s.toString()
  return out ? `?${out}` : ''
}

export interface ChannelInput {
  name?: string
  phone_number?: string
  business_account_id?: string
  phone_number_id?: string
  api_key?: string
  app_secret?: string
  default_capacity?: number
  rotate_verify_token?: boolean
}

export interface RuleInput {
  name: string
  enabled: boolean
  conditions: RuleCondition[]
  target: RuleTarget
}

export interface AgentInput {
  name: string
  email: string
  password: string
  role: Role
}

export interface AgentPatch {
  name?: string
  email?: string
  role?: Role
  disabled?: boolean
  password?: string
}

export type AIAgentInput = Partial<Omit<AIAgent, 'id' | 'has_api_key' | 'created_at' | 'updated_at' | 'effective_base_url' | 'uses_server_api_key'>> & {
  api_key?: string
}

export interface ReportQuery {
  from?: string
  to?: string
  tz?: string
  channel_id?: number | null
}

const list = async <T>(path: string): Promise<T[]> => (await api.get<Page<T>>(path)).data ?? []

export const adminApi = {
  // Channels
  channels: () => list<Channel>('/channels'),
  channel: (id: number) => api.get<Channel>(`/channels/${id}`),
  createChannel: (body: ChannelInput) => api.post<Channel>('/channels', body),
  updateChannel: (id: number, body: ChannelInput) => api.patch<Channel>(`/channels/${id}`, body),
  deleteChannel: (id: number) => api.delete(`/channels/${id}`),
  createSandboxChannel: (name: string) => api.post<Channel>('/sandbox/channels', { name }),

  /** channelEvents reads a page of what Meta reported about the channel, newest first. */
  channelEvents: (id: number, cursor?: string, limit?: number) =>
    api.get<Page<ChannelEvent>>(`/channels/${id}/events${q({ cursor, limit })}`),

  // Settings: a PUT carries only the parts it changes.
  settings: (id: number) => api.get<ChannelSettings>(`/channels/${id}/settings`),
  putSettings: (id: number, parts: Partial<ChannelSettings>) => api.put<ChannelSettings>(`/channels/${id}/settings`, parts),

  // Members and assignment
  members: (id: number) => list<ChannelMember>(`/channels/${id}/members`),
  putMember: (id: number, agentId: number, capacity: number) =>
    api.post<ChannelMember>(`/channels/${id}/members`, { agent_id: agentId, capacity }),
  removeMember: (id: number, agentId: number) => api.delete(`/channels/${id}/members/${agentId}`),
  putAssignment: (id: number, body: { mode?: AssignmentMode; ai_agent_id?: number | null }) =>
    api.put<{ mode: AssignmentMode; ai_agent_id: number | null }>(`/channels/${id}/assignment`, body),

  // Routing rules
  rules: (id: number) => list<RoutingRule>(`/channels/${id}/routing-rules`),
  createRule: (id: number, body: RuleInput) => api.post<RoutingRule>(`/channels/${id}/routing-rules`, body),
  updateRule: (id: number, ruleId: number, body: Partial<RuleInput>) =>
    api.patch<RoutingRule>(`/channels/${id}/routing-rules/${ruleId}`, body),
  deleteRule: (id: number, ruleId: number) => api.delete(`/channels/${id}/routing-rules/${ruleId}`),
  reorderRules: async (id: number, ids: number[]) =>
    (await api.put<Page<RoutingRule>>(`/channels/${id}/routing-rules/order`, { ids })).data ?? [],

  // People
  agents: () => list<AdminAgent>('/agents'),
  createAgent: (body: AgentInput) => api.post<AdminAgent>('/agents', body),
  updateAgent: (id: number, body: AgentPatch) => api.patch<AdminAgent>(`/agents/${id}`, body),
  teams: () => list<Team>('/teams'),
  createTeam: (body: { name: string; agent_ids: number[] }) => api.post<Team>('/teams', body),
  updateTeam: (id: number, body: { name?: string; agent_ids?: number[] }) => api.patch<Team>(`/teams/${id}`, body),
  deleteTeam: (id: number) => api.delete(`/teams/${id}`),
  tokens: () => list<APIToken>('/tokens'),
  createToken: (body: { name: string; agent_id?: number; expires_in?: string }) => api.post<CreatedToken>('/tokens', body),
  deleteToken: (id: number) => api.delete(`/tokens/${id}`),

  // AI agents
  aiAgents: () => list<AIAgent>('/ai-agents'),
  aiAgent: (id: number) => api.get<AIAgent>(`/ai-agents/${id}`),
  createAIAgent: (body: AIAgentInput) => api.post<AIAgent>('/ai-agents', body),
  updateAIAgent: (id: number, body: AIAgentInput) => api.patch<AIAgent>(`/ai-agents/${id}`, body),
  deleteAIAgent: (id: number) => api.delete(`/ai-agents/${id}`),

  // Templates
  templates: (channelId: number) => list<Template>(`/templates${q({ channel_id: channelId })}`),
  syncTemplates: async (channelId: number) =>
    (await api.post<Page<Template>>(`/channels/${channelId}/templates/sync`)).data ?? [],

  // Reports
  csatReport: (query: ReportQuery) => api.get<CSATReport>(`/reports/csat${q({ ...query })}`),
  overviewReport: (query: ReportQuery) => api.get<OverviewReport>(`/reports/overview${q({ ...query })}`),

  // System
  deadJobs: () => list<Job>('/jobs?state=dead&limit=200'),
  retryJob: (id: number) => api.post<void>(`/jobs/${id}/retry`),
  deadLetters: () => list<DeadLetter>('/dead-letters?limit=200'),
  /** retryDeadLetter processes a stored webhook again (needs POST /dead-letters/:id/retry on the server). */
  retryDeadLetter: (id: number) => api.post<void>(`/dead-letters/${id}/retry`),
}
