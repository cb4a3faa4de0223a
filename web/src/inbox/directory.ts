// The inbox's reference data: channels, colleagues and templates, loaded once
// per session and shared by every inbox component.
import { reactive } from 'vue'
import { api, type Page } from '../api'
import type { AgentSummary, BusinessHoursStatus, Channel, ChannelMember, Template } from '../types'
import type { PresenceUpdate } from './presence'

interface DirectoryState {
  channels: Channel[]
  agents: AgentSummary[]
  channelsLoaded: boolean
  agentsLoaded: boolean
}

const state = reactive<DirectoryState>({ channels: [], agents: [], channelsLoaded: false, agentsLoaded: false })
let channelsLoading: Promise<void> | null = null
let agentsLoading: Promise<void> | null = null
// The latest read of the agents (an older read that answers later does not overwrite it), and
// whether it is still under way.
let agentsRead = 0
let readingAgents = false
// Presence events that arrived while the agents were being read: the list may predate them, so they
// are applied again on top of it.
let presenceDuringRead: PresenceUpdate[] = []
const templates = new Map<number, Promise<Template[]>>()
const members = new Map<number, Promise<ChannelMember[]>>()
const hours = new Map<number, { at: number; status: Promise<BusinessHoursStatus> }>()

/** HOURS_TTL is how long a channel's business-hours status is reused: one request a minute at most. */
export const HOURS_TTL = 60_000
// Channels asked for by id that the last list did not have: each is reloaded for once.
const missing = new Set<number>()

export const directory = {
  state,

  /** loadChannels reads the channels the agent can see (once; force reloads). */
  loadChannels(force = false): Promise<void> {
    if (force || !channelsLoading) {
      channelsLoading = api.get<Page<Channel>>('/channels').then(
        (res) => {
          state.channels = res.data ?? []
          state.channelsLoaded = true
        },
        (e) => {
          channelsLoading = null
          throw e
        },
      )
    }
    return channelsLoading
  },

  /**
   * loadAgents reads the colleagues (for names, the transfer picker and presence: whether each is
   * connected comes from this list, then from presence.updated events); once, force reads them again.
   */
  loadAgents(force = false): Promise<void> {
    if (force || !agentsLoading) {
      const read = ++agentsRead
      readingAgents = true
      presenceDuringRead = []
      agentsLoading = api.get<Page<AgentSummary>>('/agents').then(
        (res) => {
          if (read !== agentsRead) return
          readingAgents = false
          directory.setAgents(res.data ?? [])
        },
        (e) => {
          if (read === agentsRead) {
            readingAgents = false
            presenceDuringRead = []
            agentsLoading = null
          }
          throw e
        },
      )
    }
    return agentsLoading
  },

  /**
   * setAgents records a list of the agents read elsewhere (the admin's People page reads the same
   * GET /agents); one without "connected" (an answer to a create or an update) counts as offline.
   */
  setAgents(list: readonly (Omit<AgentSummary, 'connected'> & { connected?: boolean })[]): void {
    state.agents = list.map((a) => ({ ...a, connected: a.connected === true }))
    state.agentsLoaded = true
    if (!agentsLoading) agentsLoading = Promise.resolve()
    if (readingAgents) return
    const missed = presenceDuringRead
    presenceDuringRead = []
    for (const u of missed) directory.applyPresence(u)
  },

  channel(id: number | null | undefined): Channel | undefined {
    return id ? state.channels.find((c) => c.id === id) : undefined
  },

  /** channelName names a channel; one not known yet (created since the list was read) triggers a reload. */
  channelName(id: number | null | undefined): string {
    const ch = directory.channel(id)
    if (ch) return ch.name
    if (!id) return ''
    if (state.channelsLoaded && !missing.has(id)) {
      missing.add(id)
      void directory.loadChannels(true).catch(() => undefined)
    }
    return `Channel ${id}`
  },

  agent(id: number | null | undefined): AgentSummary | undefined {
    return id ? state.agents.find((a) => a.id === id) : undefined
  },

  /**
   * applyPresence applies a presence.updated event: the availability always, connected only when the
   * event says (an agent setting themselves away or available leaves it as it was).
   */
  applyPresence(u: PresenceUpdate): void {
    if (readingAgents) presenceDuringRead.push(u)
    const a = state.agents.find((x) => x.id === u.agent_id)
    if (!a) return
    a.availability = u.availability
    if (typeof u.connected === 'boolean') a.connected = u.connected
  },

  /** templates returns a channel's approved templates (cached for the session). */
  templates(channelId: number): Promise<Template[]> {
    let p = templates.get(channelId)
    if (!p) {
      p = api.get<Page<Template>>(`/templates?channel_id=${channelId}`).then(
        (res) => (res.data ?? []).filter((t) => t.status.toUpperCase() === 'APPROVED'),
        (e) => {
          templates.delete(channelId)
          throw e
        },
      )
      templates.set(channelId, p)
    }
    return p
  },

  /** members returns a channel's members (who a conversation may be assigned to). */
  members(channelId: number, force = false): Promise<ChannelMember[]> {
    let p = force ? undefined : members.get(channelId)
    if (!p) {
      p = api.get<Page<ChannelMember>>(`/channels/${channelId}/members`).then(
        (res) => res.data ?? [],
        (e) => {
          members.delete(channelId)
          throw e
        },
      )
      members.set(channelId, p)
    }
    return p
  },

  /**
   * businessHours returns whether a channel is open now and when it opens next, reused for a minute
   * per channel however many conversations ask; force reads it again (after the hours were saved).
   */
  businessHours(channelId: number, force = false): Promise<BusinessHoursStatus> {
    const cached = hours.get(channelId)
    if (cached && !force && Date.now() - cached.at < HOURS_TTL) return cached.status
    const entry = {
      at: Date.now(),
      status: api.get<BusinessHoursStatus>(`/channels/${channelId}/business-hours`).catch((e: unknown) => {
        if (hours.get(channelId) === entry) hours.delete(channelId)
        throw e
      }),
    }
    hours.set(channelId, entry)
    return entry.status
  },

  /** addChannel records a channel created on this page. */
  addChannel(c: Channel): void {
    if (!state.channels.some((x) => x.id === c.id)) state.channels = [...state.channels, c]
  },

  /** reset forgets everything (sign-out; tests). */
  reset(): void {
    state.channels = []
    state.agents = []
    state.channelsLoaded = false
    state.agentsLoaded = false
    channelsLoading = null
    agentsLoading = null
    agentsRead++
    readingAgents = false
    presenceDuringRead = []
    templates.clear()
    members.clear()
    hours.clear()
    missing.clear()
  },
}
