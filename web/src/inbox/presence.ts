// Colleagues' presence: whether an agent is connected (a live connection on any replica: "connected"
// from GET /agents and presence.updated events) combined with their own setting (available or away),
// as people choose a colleague. Online, as shown, is connected and available.
import type { Availability } from '../api'

/** Presence is what a colleague is shown as: online (connected and available), away, or offline. */
export type Presence = 'online' | 'away' | 'offline'

/**
 * PresenceUpdate is the data of a presence.updated event: availability always; connected only when the
 * agent connected or went offline (absent when they set themselves available or away).
 */
export interface PresenceUpdate {
  agent_id: number
  availability: Availability
  connected?: boolean
}

/** presenceOf tells how an agent is shown: offline unless connected, then away or online. */
export function presenceOf(a: { connected?: boolean; availability: Availability }): Presence {
  if (!a.connected) return 'offline'
  return a.availability === 'away' ? 'away' : 'online'
}

/** presenceLabels are the words said next to the dot (never the colour alone). */
export const presenceLabels: Record<Presence, string> = { online: 'Online', away: 'Away', offline: 'Offline' }

const rank: Record<Presence, number> = { online: 0, away: 1, offline: 2 }

/**
 * byPresence orders colleagues for a choice: online and available first, then away, then offline,
 * by name within each.
 */
export function byPresence<T extends { name: string; connected?: boolean; availability: Availability }>(a: T, b: T): number {
  return rank[presenceOf(a)] - rank[presenceOf(b)] || a.name.localeCompare(b.name)
}

/** isPresenceUpdate checks an event's data before it is applied. */
export function isPresenceUpdate(d: unknown): d is PresenceUpdate {
  if (!d || typeof d !== 'object') return false
  const u = d as Record<string, unknown>
  return (
    typeof u.agent_id === 'number' &&
    (u.availability === 'available' || u.availability === 'away') &&
    (u.connected === undefined || typeof u.connected === 'boolean')
  )
}
