package routing

import (
	"context"
	"errors"

	"switchboard"
)

// drainBatch is how many waiting conversations a drain reads at a time.
const drainBatch = 100

// Drain assigns the channel's waiting conversations, oldest first, while anyone is eligible. Each
// conversation goes to the target it waits for (an agent or a team named by a rule, or any member);
// one whose target has nobody eligible keeps waiting and the drain moves on. Call it whenever
// capacity may have appeared: an agent comes online or back from away, resolves or hands over a
// conversation, joins the channel or gets a higher capacity. It returns how many it assigned.
func (r *Router) Drain(ctx context.Context, channelID int64) (int, error) {
	ch, err := r.store.Channel(ctx, channelID)
	if err != nil {
		return 0, err
	}
	pool, err := r.pool(ctx, channelID)
	if err != nil {
		return 0, err
	}
	teams := map[int64]map[int64]bool{}
	var after *switchboard.Conversation
	assigned := 0
	for anyEligible(pool.Candidates(r.presence, nil)) {
		convs, targets, err := r.store.UnassignedWaiting(ctx, channelID, after, drainBatch)
		if err != nil {
			return assigned, err
		}
		if len(convs) == 0 {
			break
		}
		for i, conv := range convs {
			after = conv
			only, err := r.queueMembers(ctx, targets[i], pool, teams)
			if err != nil {
				return assigned, err
			}
			done := r.turns.take(channelID)
			ok, err := r.drainOne(ctx, ch, conv, only, &pool)
			done()
			if err != nil {
				return assigned, err
			}
			if ok {
				assigned++
			}
			if !anyEligible(pool.Candidates(r.presence, nil)) {
				break
			}
		}
	}
	return assigned, nil
}

func anyEligible(cands []Candidate) bool {
	for i := range cands {
		if cands[i].Eligible() {
			return true
		}
	}
	return false
}

// queueMembers returns the agents a queue target may go to: the agent, the team's members (read once
// per drain), or nil for anyone. A target without members in the channel any more falls back to
// anyone, so nothing waits forever for a queue nobody serves.
func (r *Router) queueMembers(ctx context.Context, t switchboard.RuleTarget, pool *Pool, teams map[int64]map[int64]bool) (map[int64]bool, error) {
	var only map[int64]bool
	switch t.Kind {
	case switchboard.TargetAgent:
		only = map[int64]bool{t.ID: true}
	case switchboard.TargetTeam:
		if m, ok := teams[t.ID]; ok {
			only = m
			break
		}
		team, err := r.store.Team(ctx, t.ID)
		if err != nil && !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			return nil, err
		}
		only = map[int64]bool{}
		if team != nil {
			for _, id := range team.AgentIDs {
				only[id] = true
			}
		}
		teams[t.ID] = only
	default:
		return nil, nil
	}
	if len(pool.Candidates(nil, only)) == 0 {
		return nil, nil
	}
	return only, nil
}

// drainOne assigns one waiting conversation if someone in only is eligible, retrying on a fresh pool
// when a claim loses a race. It reports false when the conversation keeps waiting or was meanwhile
// taken, resolved or routed elsewhere.
func (r *Router) drainOne(ctx context.Context, ch *switchboard.Channel, conv *switchboard.Conversation, only map[int64]bool, pool **Pool) (bool, error) {
	for attempt := 1; ; attempt++ {
		p := *pool
		c, ok := Pick(ch.AssignmentMode, p.Candidates(r.presence, only), p.RRLast)
		if !ok {
			return false, nil
		}
		relaxed := attempt >= r.attempts
		seen, rrFrom := guards(ch, p, c, relaxed)
		to := switchboard.Assignee{Kind: switchboard.AssigneeHuman, ID: c.AgentID, Name: c.Name}
		events, err := r.store.AssignConversation(ctx, conv.ID, nil, to, ReasonQueue, nil, seen, rrFrom)
		if switchboard.IsCode(err, switchboard.ECONFLICT) {
			err = errLost
		}
		if err == nil {
			r.publish(ctx, events)
			p.Assigned(c.AgentID, r.now(), ch.AssignmentMode == switchboard.AssignByRoundRobin)
			return true, nil
		}
		if !errors.Is(err, errLost) {
			return false, err
		}
		fresh, err := r.store.Conversation(ctx, conv.ID)
		if err != nil {
			return false, err
		}
		if fresh.Assignee != nil || fresh.WaitingSince == nil || fresh.Status == switchboard.StatusResolved || relaxed {
			return false, nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return false, err
		}
		if *pool, err = r.pool(ctx, ch.ID); err != nil {
			return false, err
		}
	}
}

// DrainAgent drains the queues of every channel the agent belongs to: call it when they come online
// or set themselves available again.
func (r *Router) DrainAgent(ctx context.Context, agentID int64) (int, error) {
	ids, err := r.store.AgentChannelIDs(ctx, agentID)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, id := range ids {
		n, err := r.Drain(ctx, id)
		total += n
		if err != nil && !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			return total, err
		}
	}
	return total, nil
}

// HandOff takes a conversation from the AI agent that owns it and gives it to the channel's people by
// the channel's mode (the people step), or puts it in the channel's queue. Afterwards the AI agent
// does not take it again unless it is assigned back explicitly. Handing off a conversation the AI no
// longer owns changes nothing.
func (r *Router) HandOff(ctx context.Context, conversationID int64, reason string) error {
	events, err := r.store.HandOff(ctx, conversationID, reason)
	if err != nil {
		return err
	}
	r.publish(ctx, events)
	if len(events) == 0 {
		return nil
	}
	_, err = r.Assign(ctx, conversationID, Trigger{Kind: TriggerHandoff})
	return err
}

// Release puts back in the queue the open conversations an agent holds on a channel (they left the
// channel, or went away and asked for their conversations to be reassigned), then drains the queue
// so others take them. It returns how many the drain assigned.
func (r *Router) Release(ctx context.Context, channelID, agentID int64) (int, error) {
	events, err := r.store.ReleaseAgent(ctx, channelID, agentID)
	if err != nil {
		return 0, err
	}
	r.publish(ctx, events)
	return r.Drain(ctx, channelID)
}
