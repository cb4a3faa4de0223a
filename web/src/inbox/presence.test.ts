import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { deferred, json, stubFetch } from '../testing/fetch'
import type { AgentSummary } from '../types'
import { directory } from './directory'
import { byPresence, isPresenceUpdate, presenceLabels, presenceOf } from './presence'

function colleague(id: number, name: string, fields: Partial<AgentSummary> = {}): AgentSummary {
  return { id, name, email: `${name.toLowerCase()}@example.com`, role: 'agent', availability: 'available', connected: false, ...fields }
}

describe('presenceOf', () => {
  it('is offline unless connected, then away or online by their own setting', () => {
    expect(presenceOf({ connected: true, availability: 'available' })).toBe('online')
    expect(presenceOf({ connected: true, availability: 'away' })).toBe('away')
    expect(presenceOf({ connected: false, availability: 'available' })).toBe('offline')
    expect(presenceOf({ connected: false, availability: 'away' })).toBe('offline')
    expect(presenceOf({ availability: 'available' })).toBe('offline')
    expect(Object.values(presenceLabels)).toEqual(['Online', 'Away', 'Offline'])
  })
})

describe('byPresence', () => {
  it('puts online and available first, then away, then offline, by name within each', () => {
    const list = [
      colleague(1, 'Zed', { connected: false }),
      colleague(2, 'Bea', { connected: true, availability: 'away' }),
      colleague(3, 'Yan', { connected: true }),
      colleague(4, 'Abe', { connected: false, availability: 'away' }),
      colleague(5, 'Cleo', { connected: true }),
    ]
    expect(list.sort(byPresence).map((a) => a.name)).toEqual(['Cleo', 'Yan', 'Bea', 'Abe', 'Zed'])
  })
})

describe('isPresenceUpdate', () => {
  it('takes the two shapes of presence.updated and nothing else', () => {
    expect(isPresenceUpdate({ agent_id: 2, availability: 'away' })).toBe(true)
    expect(isPresenceUpdate({ agent_id: 2, availability: 'available', connected: false })).toBe(true)
    expect(isPresenceUpdate({ agent_id: '2', availability: 'away' })).toBe(false)
    expect(isPresenceUpdate({ agent_id: 2, availability: 'busy' })).toBe(false)
    expect(isPresenceUpdate({ agent_id: 2, availability: 'away', connected: 'yes' })).toBe(false)
    expect(isPresenceUpdate(null)).toBe(false)
  })
})

describe("the directory's presence", () => {
  let agents: AgentSummary[]

  beforeEach(() => {
    directory.reset()
    agents = [colleague(1, 'Ada', { connected: true }), colleague(2, 'Bo', { connected: false })]
    stubFetch({ 'GET /api/v1/agents': () => json(200, { data: agents }) })
  })

  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('takes connected from the list, then follows the events', async () => {
    await directory.loadAgents()
    expect(directory.agent(1)?.connected).toBe(true)
    expect(directory.agent(2)?.connected).toBe(false)

    // Bo comes online (an event with "connected").
    directory.applyPresence({ agent_id: 2, availability: 'available', connected: true })
    expect(presenceOf(directory.agent(2)!)).toBe('online')

    // Bo sets themselves away: no "connected" in the event, so they stay connected.
    directory.applyPresence({ agent_id: 2, availability: 'away' })
    expect(directory.agent(2)).toMatchObject({ availability: 'away', connected: true })
    expect(presenceOf(directory.agent(2)!)).toBe('away')

    // Ada goes offline.
    directory.applyPresence({ agent_id: 1, availability: 'available', connected: false })
    expect(presenceOf(directory.agent(1)!)).toBe('offline')

    // An agent the directory does not know is ignored.
    directory.applyPresence({ agent_id: 9, availability: 'away', connected: true })
    expect(directory.agent(9)).toBeUndefined()
  })

  it('applies again an event that arrived while the list was being read', async () => {
    const answer = deferred<Response>()
    stubFetch({ 'GET /api/v1/agents': () => answer.promise })
    const loading = directory.loadAgents()
    // Bo comes online after the server read the list (which still says offline).
    directory.applyPresence({ agent_id: 2, availability: 'available', connected: true })
    answer.resolve(json(200, { data: agents }))
    await loading
    expect(directory.agent(2)?.connected).toBe(true)

    // Afterwards, events are not applied again on the next read.
    agents = [colleague(1, 'Ada', { connected: true }), colleague(2, 'Bo', { connected: false })]
    stubFetch({ 'GET /api/v1/agents': () => json(200, { data: agents }) })
    await directory.loadAgents(true)
    expect(directory.agent(2)?.connected).toBe(false)
  })

  it('keeps the newest read when an older one answers last', async () => {
    const older = deferred<Response>()
    let n = 0
    stubFetch({ 'GET /api/v1/agents': () => (++n === 1 ? older.promise : json(200, { data: [colleague(2, 'Bo', { connected: true })] })) })
    const first = directory.loadAgents()
    await directory.loadAgents(true)
    older.resolve(json(200, { data: [colleague(2, 'Bo', { connected: false })] }))
    await first
    expect(directory.agent(2)?.connected).toBe(true)
  })

  it('takes a list read elsewhere; an agent without "connected" is offline', () => {
    const { connected: _, ...notConnected } = colleague(3, 'Cy')
    directory.setAgents([{ ...colleague(1, 'Ada'), connected: true }, notConnected])
    expect(directory.state.agentsLoaded).toBe(true)
    expect(directory.agent(1)?.connected).toBe(true)
    expect(directory.agent(3)?.connected).toBe(false)
  })
})
