import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { deferred, json, stubFetch } from '../testing/fetch'
import type { AgentSummary } from '../types'
import { directory } from './directory'
import { byPresence, isPresenceUpdate, presenceLabels, presenceOf } from './presence'

function colleague(id: number, name: string, fields: Partial<AgentSummary> = {}): AgentSummary {
  return { id, name, email: `${name.toLowerCase()}@example.com`, role: 'agent', availability: 'available', online: false, ...fields }
}

describe('presenceOf', () => {
  it('is offline unless connected, then away or online by their own setting', () => {
    expect(presenceOf({ online: true, availability: 'available' })).toBe('online')
    expect(presenceOf({ online: true, availability: 'away' })).toBe('away')
    expect(presenceOf({ online: false, availability: 'available' })).toBe('offline')
    expect(presenceOf({ online: false, availability: 'away' })).toBe('offline')
    expect(presenceOf({ availability: 'available' })).toBe('offline')
    expect(Object.values(presenceLabels)).toEqual(['Online', 'Away', 'Offline'])
  })
})

describe('byPresence', () => {
  it('puts online and available first, then away, then offline, by name within each', () => {
    const list = [
      colleague(1, 'Zed', { online: false }),
      colleague(2, 'Bea', { online: true, availability: 'away' }),
      colleague(3, 'Yan', { online: true }),
      colleague(4, 'Abe', { online: false, availability: 'away' }),
      colleague(5, 'Cleo', { online: true }),
    ]
    expect(list.sort(byPresence).map((a) => a.name)).toEqual(['Cleo', 'Yan', 'Bea', 'Abe', 'Zed'])
  })
})

describe('isPresenceUpdate', () => {
  it('takes the two shapes of presence.updated and nothing else', () => {
    expect(isPresenceUpdate({ agent_id: 2, availability: 'away' })).toBe(true)
    expect(isPresenceUpdate({ agent_id: 2, availability: 'available', online: false })).toBe(true)
    expect(isPresenceUpdate({ agent_id: '2', availability: 'away' })).toBe(false)
    expect(isPresenceUpdate({ agent_id: 2, availability: 'busy' })).toBe(false)
    expect(isPresenceUpdate({ agent_id: 2, availability: 'away', online: 'yes' })).toBe(false)
    expect(isPresenceUpdate(null)).toBe(false)
  })
})

describe("the directory's presence", () => {
  let agents: AgentSummary[]

  beforeEach(() => {
    directory.reset()
    agents = [colleague(1, 'Ada', { online: true }), colleague(2, 'Bo', { online: false })]
    stubFetch({ 'GET /api/v1/agents': () => json(200, { data: agents }) })
  })

  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('takes online from the list, then follows the events', async () => {
    await directory.loadAgents()
    expect(directory.agent(1)?.online).toBe(true)
    expect(directory.agent(2)?.online).toBe(false)

    // Bo comes online (an event with "online").
    directory.applyPresence({ agent_id: 2, availability: 'available', online: true })
    expect(presenceOf(directory.agent(2)!)).toBe('online')

    // Bo sets themselves away: no "online" in the event, so they stay online.
    directory.applyPresence({ agent_id: 2, availability: 'away' })
    expect(directory.agent(2)).toMatchObject({ availability: 'away', online: true })
    expect(presenceOf(directory.agent(2)!)).toBe('away')

    // Ada goes offline.
    directory.applyPresence({ agent_id: 1, availability: 'available', online: false })
    expect(presenceOf(directory.agent(1)!)).toBe('offline')

    // An agent the directory does not know is ignored.
    directory.applyPresence({ agent_id: 9, availability: 'away', online: true })
    expect(directory.agent(9)).toBeUndefined()
  })

  it('applies again an event that arrived while the list was being read', async () => {
    const answer = deferred<Response>()
    stubFetch({ 'GET /api/v1/agents': () => answer.promise })
    const loading = directory.loadAgents()
    // Bo comes online after the server read the list (which still says offline).
    directory.applyPresence({ agent_id: 2, availability: 'available', online: true })
    answer.resolve(json(200, { data: agents }))
    await loading
    expect(directory.agent(2)?.online).toBe(true)

    // Afterwards, events are not applied again on the next read.
    agents = [colleague(1, 'Ada', { online: true }), colleague(2, 'Bo', { online: false })]
    stubFetch({ 'GET /api/v1/agents': () => json(200, { data: agents }) })
    await directory.loadAgents(true)
    expect(directory.agent(2)?.online).toBe(false)
  })

  it('keeps the newest read when an older one answers last', async () => {
    const older = deferred<Response>()
    let n = 0
    stubFetch({ 'GET /api/v1/agents': () => (++n === 1 ? older.promise : json(200, { data: [colleague(2, 'Bo', { online: true })] })) })
    const first = directory.loadAgents()
    await directory.loadAgents(true)
    older.resolve(json(200, { data: [colleague(2, 'Bo', { online: false })] }))
    await first
    expect(directory.agent(2)?.online).toBe(true)
  })

  it('takes a list read elsewhere; an agent without "online" is offline', () => {
    const { online: _, ...noOnline } = colleague(3, 'Cy')
    directory.setAgents([{ ...colleague(1, 'Ada'), online: true }, noOnline])
    expect(directory.state.agentsLoaded).toBe(true)
    expect(directory.agent(1)?.online).toBe(true)
    expect(directory.agent(3)?.online).toBe(false)
  })
})
