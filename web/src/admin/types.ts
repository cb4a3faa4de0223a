// The shapes of the admin API (snake_case, as the server sends them).
import type { Agent, Role } from '../api'

export type ChannelStatus = 'active' | 'token_invalid'
export type AssignmentMode = 'load' | 'round_robin'

export interface Interval {
  start: string
  end: string
}

export interface DateOverride {
  date: string
  closed: boolean
  intervals: Interval[] | null
  note?: string
}

export interface BusinessHours {
  enabled: boolean
  timezone: string
  away_message: string
  weekly: Record<string, Interval[] | null> | null
  overrides: DateOverride[] | null
  away_while_ai: boolean
}

export type KeywordCategory = 'opt_in' | 'opt_out' | 'help'

export interface KeywordRule {
  category: KeywordCategory
  enabled?: boolean
  keywords: string[]
  response: string
}

export interface GreetingSettings {
  enabled: boolean
  text: string
  on_reopen?: boolean
}

export interface CSATSettings {
  enabled: boolean
  question?: string
  expiry_hours: number
  ask_comment: boolean
  template_name?: string
  template_language?: string
}

export interface ChannelSettings {
  greeting: GreetingSettings
  csat: CSATSettings
  business_hours: BusinessHours
  keywords: KeywordRule[] | null
  reopen_window_hours: number
}

export type SettingsPart = keyof ChannelSettings

export interface Channel {
  id: number
  type: 'whatsapp'
  name: string
  phone_number: string
  phone_number_id: string
  business_account_id: string
  verify_token: string
  webhook_url: string
  has_api_key: boolean
  status: ChannelStatus
  status_reason?: string
  sandbox: boolean
  assignment_mode: AssignmentMode
  ai_agent_id: number | null
  default_capacity: number
  settings: ChannelSettings
  created_at: string
  updated_at: string
}

/**
 * ChannelEvent is something Meta reported about a channel besides messages: field is the webhook
 * field (phone_number_quality_update, account_update, message_template_status_update, ...), "errors"
 * for errors not tied to a message, "status:<x>" for a delivery status Switchboard does not know;
 * details is what Meta sent, with its field names.
 */
export interface ChannelEvent {
  id: number
  channel_id: number
  field: string
  details: unknown
  created_at: string
}

export interface ChannelMember {
  channel_id: number
  agent_id: number
  capacity: number
  created_at: string
  agent: AdminAgent | null
}

/** AdminAgent is an agent as the admin lists see it. */
export interface AdminAgent extends Agent {
  disabled: boolean
  updated_at?: string
  /**
   * connected (a live connection on any replica) is in the list (GET /agents), not in the answers to a
   * create or an update.
   */
  connected?: boolean
}

export interface Team {
  id: number
  name: string
  agent_ids: number[] | null
  created_at: string
  updated_at: string
}

export type ConditionField =
  | 'text'
  | 'contact_phone'
  | 'contact_country'
  | 'contact_name'
  | 'contact_tag'
  | 'contact_returning'
  | 'business_hours'
  | 'weekday'
  | 'time'

export type ConditionOp = 'contains' | 'matches' | 'equals' | 'prefix' | 'in' | 'has' | 'is' | 'between'

export interface RuleCondition {
  field: ConditionField
  op: ConditionOp
  values: string[]
}

export type TargetKind = 'agent' | 'team' | 'ai_agent'

export interface RuleTarget {
  kind: TargetKind
  id: number
}

export interface RoutingRule {
  id: number
  channel_id: number
  position: number
  name: string
  enabled: boolean
  conditions: RuleCondition[] | null
  target: RuleTarget
  created_at: string
  updated_at: string
}

export interface AIAgent {
  id: number
  name: string
  model: string
  instructions: string
  knowledge: string
  temperature: number
  turn_limit: number
  base_url: string
  has_api_key: boolean
  enabled: boolean
  handoff_message: string
  handoff_phrases: string[] | null
  unreadable_action: 'handoff' | 'reply' | ''
  unreadable_reply: string
  timeout_seconds: number
  effective_base_url?: string
  uses_server_api_key?: boolean
  created_at: string
  updated_at: string
}

export interface Template {
  id: number
  channel_id: number
  external_id: string
  name: string
  language: string
  category: string
  status: string
  parameter_format: string
  components: { type: string; text?: string; format?: string }[] | null
  rejected_reason?: string
  synced_at: string
  updated_at: string
}

export interface APIToken {
  id: number
  agent_id: number
  name: string
  prefix: string
  last_used_at: string | null
  expires_at: string | null
  created_at: string
}

export interface CreatedToken {
  token: string
  api_token: APIToken
}

export interface Job {
  id: number
  kind: string
  key: string
  payload: unknown
  state: 'queued' | 'running' | 'dead'
  run_at: string
  attempts: number
  max_attempts: number
  last_error?: string
  created_at: string
  updated_at: string
  finished_at?: string
}

export interface DeadLetter {
  id: number
  channel_id: number | null
  body: string
  error: string
  received_at: string
}

export interface CSATStats {
  sent: number
  answered: number
  skipped: number
  response_rate: number
  average: number | null
  distribution: Record<string, number>
}

export interface CSATReport extends CSATStats {
  from: string
  to: string
  by_agent: (CSATStats & { agent_id: number | null; name: string })[] | null
  by_channel: (CSATStats & { channel_id: number; name: string })[] | null
  by_period: (CSATStats & { day: string })[] | null
}

export interface OverviewReport {
  from: string
  to: string
  conversations_created: number
  conversations_resolved: number
  messages_in: number
  messages_out: number
  messages_out_by_sender: Record<string, number>
  median_first_response_seconds: number | null
  first_responses: number
  open: number
  pending: number
  unassigned: number
}

export type { Role }
