package routing

import (
	"sort"
	"time"

	"switchboard"
)

// Candidate is a channel member as one assignment decision sees them.
type Candidate struct {
	AgentID int64
	Name    string
	// Capacity is the most open conversations they take on the channel; Open is how many open and
	// pending conversations of the channel they hold.
	Capacity int
	Open     int
	// LastAssignedAt is when they were last given a conversation (nil: never).
	LastAssignedAt *time.Time
	Online         bool
	Available      bool
	Disabled       bool
}

// Eligible reports whether the candidate may be given a conversation: online, available (not away),
// not disabled and under capacity.
func (c *Candidate) Eligible() bool {
	return c.Online && c.Available && !c.Disabled && c.Open < c.Capacity
}

// Pick chooses among the candidates by the channel's mode: load or round-robin (after is the agent
// the channel's rotation last gave a conversation to, 0 for none). ok is false when nobody is
// eligible.
func Pick(mode string, cands []Candidate, after int64) (Candidate, bool) {
	if mode == switchboard.AssignByRoundRobin {
		return PickRoundRobin(cands, after)
	}
	return PickLoad(cands)
}

// PickLoad returns the eligible candidate with the fewest open conversations. Ties go to the least
// recently assigned (someone never assigned first), then to the lowest agent id, so the choice is
// deterministic.
func PickLoad(cands []Candidate) (Candidate, bool) {
	best := -1
	for i := range cands {
		c := &cands[i]
		if !c.Eligible() {
			continue
		}
		if best < 0 || lessLoaded(c, &cands[best]) {
			best = i
		}
	}
	if best < 0 {
		return Candidate{}, false
	}
	return cands[best], true
}

func lessLoaded(a, b *Candidate) bool {
	if a.Open != b.Open {
		return a.Open < b.Open
	}
	switch {
	case a.LastAssignedAt == nil && b.LastAssignedAt != nil:
		return true
	case a.LastAssignedAt != nil && b.LastAssignedAt == nil:
		return false
	case a.LastAssignedAt != nil && !a.LastAssignedAt.Equal(*b.LastAssignedAt):
		return a.LastAssignedAt.Before(*b.LastAssignedAt)
	}
	return a.AgentID < b.AgentID
}

// PickRoundRobin returns the first eligible candidate after the agent the rotation last served, in
// the stable order of agent ids, wrapping around to the start. An agent who is not eligible is
// skipped for this turn and keeps their place in the rotation.
func PickRoundRobin(cands []Candidate, after int64) (Candidate, bool) {
	order := make([]int, 0, len(cands))
	for i := range cands {
		if cands[i].Eligible() {
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		return Candidate{}, false
	}
	sort.Slice(order, func(i, j int) bool { return cands[order[i]].AgentID < cands[order[j]].AgentID })
	for _, i := range order {
		if cands[i].AgentID > after {
			return cands[i], true
		}
	}
	return cands[order[0]], true
}

// Pool is a channel's members as the store reports them, before presence is applied.
type Pool struct {
	Members []switchboard.ChannelMember
	Agents  map[int64]*switchboard.Agent
	// Open counts each member's open and pending conversations on the channel.
	Open map[int64]int
	// RRLast is the agent the channel's rotation last gave a conversation to (0: none yet).
	RRLast int64
}

// Candidates turns the pool into candidates, in agent id order, asking presence who is online. Only
// agents in only (when not nil) are kept: a team, or one agent named by a rule.
func (p *Pool) Candidates(presence Presence, only map[int64]bool) []Candidate {
	out := make([]Candidate, 0, len(p.Members))
	for _, m := range p.Members {
		a := p.Agents[m.AgentID]
		if a == nil || (only != nil && !only[m.AgentID]) {
			continue
		}
		out = append(out, Candidate{AgentID: a.ID, Name: a.Name, Capacity: m.Capacity, Open: p.Open[a.ID],
			LastAssignedAt: a.LastAssignedAt, Online: presence != nil && presence.Online(a.ID),
			Available: a.Availability == switchboard.Available, Disabled: a.Disabled})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AgentID < out[j].AgentID })
	return out
}

// Assigned records in the pool a claim it just won, so the next decision of a drain sees it without
// reading the database again.
func (p *Pool) Assigned(agentID int64, at time.Time, roundRobin bool) {
	p.Open[agentID]++
	if a := p.Agents[agentID]; a != nil {
		cp := *a
		cp.LastAssignedAt = &at
		p.Agents[agentID] = &cp
	}
	if roundRobin {
		p.RRLast = agentID
	}
}
