package routing

import (
	"sort"
	"sync"
	"time"

	"switchboard"
)

// Presence tells whether an agent is connected. Whether they are available or away is their own
// setting, kept with the agent; an agent is online for assignment when both hold.
type Presence interface {
	Online(agentID int64) bool
}

// DefaultGrace is how long an agent stays online after their last connection closed: long enough
// to ride out a page reload or a flaky network without losing their place.
const DefaultGrace = 30 * time.Second

// PresenceSet is the in-memory presence of the agents connected to this process. The websocket hub
// calls Connect when a connection opens and Disconnect when it closes; an agent with several tabs
// is online until the last one closes, and for a grace period after. It is safe for concurrent use.
type PresenceSet struct {
	clock switchboard.Clock
	grace time.Duration

	mu     sync.Mutex
	agents map[int64]*presenceEntry
	// arrived is signalled (without blocking, coalesced) when an agent comes online.
	arrived chan struct{}
}

type presenceEntry struct {
	conns int
	// leftAt is when the last connection closed (meaningful when conns is 0).
	leftAt time.Time
}

// NewPresenceSet returns an empty set. A zero grace uses DefaultGrace; a nil clock the system clock.
func NewPresenceSet(clock switchboard.Clock, grace time.Duration) *PresenceSet {
	if clock == nil {
		clock = switchboard.SystemClock{}
	}
	if grace <= 0 {
		grace = DefaultGrace
	}
	return &PresenceSet{clock: clock, grace: grace, agents: map[int64]*presenceEntry{}, arrived: make(chan struct{}, 1)}
}

// Arrivals receives a value after one or more agents came online: SharedPresence syncs at once, so
// the other replicas and the agents' screens learn of it without waiting for the next heartbeat.
func (p *PresenceSet) Arrivals() <-chan struct{} { return p.arrived }

// Connect records a new connection of the agent. It reports whether the agent came online with it
// (they were offline, not merely within the grace period of a previous connection): the moment to
// drain the queues of their channels.
func (p *PresenceSet) Connect(agentID int64) (cameOnline bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.agents[agentID]
	if e == nil {
		e = &presenceEntry{}
		p.agents[agentID] = e
	}
	cameOnline = e.conns == 0 && !p.within(e)
	e.conns++
	if cameOnline {
		select {
		case p.arrived <- struct{}{}:
		default:
		}
	}
	return cameOnline
}

// Disconnect records that one connection of the agent closed. When it was the last, the agent stays
// online for the grace period.
func (p *PresenceSet) Disconnect(agentID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.agents[agentID]
	if e == nil || e.conns == 0 {
		return
	}
	e.conns--
	if e.conns == 0 {
		e.leftAt = p.clock.Now()
	}
}

// Online reports whether the agent has a connection, or had one less than the grace period ago.
func (p *PresenceSet) Online(agentID int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.agents[agentID]
	if e == nil {
		return false
	}
	if e.conns > 0 || p.within(e) {
		return true
	}
	delete(p.agents, agentID)
	return false
}

// within reports whether a disconnected entry is still in its grace period.
func (p *PresenceSet) within(e *presenceEntry) bool {
	return !e.leftAt.IsZero() && p.clock.Now().Before(e.leftAt.Add(p.grace))
}

// OnlineAgents returns the ids of the online agents, in order, and forgets those whose grace ended.
func (p *PresenceSet) OnlineAgents() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int64, 0, len(p.agents))
	for id, e := range p.agents {
		if e.conns > 0 || p.within(e) {
			out = append(out, id)
		} else {
			delete(p.agents, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
