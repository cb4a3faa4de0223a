package routing

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"switchboard"
)

// errLost says a claim lost a race (the conversation, the rotation or the agent's load changed since
// the snapshot); the decision is taken again on fresh data.
var errLost = errors.New("routing: claim lost a race")

// Assign routes one conversation (DESIGN §2): it is a no-op for a resolved conversation and for one
// that already has an owner, except on reopen, where the previous assignee keeps it when still
// eligible and it is routed again otherwise. A claim that loses a race is retried on fresh data; if
// meanwhile someone else assigned the conversation, that assignment stands.
func (r *Router) Assign(ctx context.Context, conversationID int64, t Trigger) (*Outcome, error) {
	var first *switchboard.Assignee
	for attempt := 1; ; attempt++ {
		conv, err := r.store.Conversation(ctx, conversationID)
		if err != nil {
			return nil, err
		}
		if attempt == 1 {
			first = conv.Assignee
		} else if !sameAssignee(conv.Assignee, first) {
			return &Outcome{Assignee: conv.Assignee}, nil
		}
		d := &decision{r: r, conv: conv, trigger: t, relaxed: attempt >= r.attempts}
		done := r.turns.take(conv.ChannelID)
		out, err := d.run(ctx)
		done()
		if errors.Is(err, errLost) {
			if attempt < r.attempts {
				if err := backoff(ctx, attempt); err != nil {
					return nil, err
				}
				continue
			}
			return nil, switchboard.WrapError(switchboard.EUNAVAILABLE, "The assignment kept colliding with others; try again.", err)
		}
		if err != nil {
			return nil, err
		}
		r.publish(ctx, out.Events)
		return out, nil
	}
}

func sameAssignee(a, b *switchboard.Assignee) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Kind == b.Kind && a.ID == b.ID
}

// decision is one attempt at routing one conversation.
type decision struct {
	r       *Router
	conv    *switchboard.Conversation
	ch      *switchboard.Channel
	trigger Trigger
	pool    *Pool
	// relaxed is set on the last attempt: the load and rotation guards are dropped so the decision
	// makes progress; capacity is still enforced by the claim.
	relaxed bool
}

func (d *decision) run(ctx context.Context) (*Outcome, error) {
	if d.conv.Status == switchboard.StatusResolved {
		return &Outcome{}, nil
	}
	ch, err := d.r.store.Channel(ctx, d.conv.ChannelID)
	if err != nil {
		return nil, err
	}
	d.ch = ch
	if d.conv.Assignee != nil {
		if d.trigger.Kind != TriggerReopened {
			return &Outcome{Assignee: d.conv.Assignee}, nil
		}
		if out, kept, err := d.keep(ctx); kept || err != nil {
			return out, err
		}
	}
	if d.trigger.Kind == TriggerHandoff {
		return d.people(ctx, nil, nil, ReasonHandoff)
	}
	rules, err := d.r.store.ListRoutingRules(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	if len(rules) > 0 {
		f, err := d.r.facts(ctx, d.conv, ch, d.trigger)
		if err != nil {
			return nil, err
		}
		if rule := FirstMatch(rules, f); rule != nil {
			if out, handled, err := d.byRule(ctx, rule); handled || err != nil {
				return out, err
			}
		}
	}
	if ch.AIAgentID != nil && !d.conv.AIHandedOff {
		ai, ok, err := d.r.aiAgent(ctx, *ch.AIAgentID)
		if err != nil {
			return nil, err
		}
		if ok {
			return d.claim(ctx, ai, ReasonAI, nil, -1, -1)
		}
	}
	return d.people(ctx, nil, nil, "")
}

// keep gives a reopened conversation back to its previous assignee when they are still eligible
// (their load already counts this conversation).
func (d *decision) keep(ctx context.Context) (*Outcome, bool, error) {
	a := *d.conv.Assignee
	switch a.Kind {
	case switchboard.AssigneeHuman:
		pool, err := d.loadPool(ctx)
		if err != nil {
			return nil, false, err
		}
		cands := pool.Candidates(d.r.presence, map[int64]bool{a.ID: true})
		if len(cands) == 0 {
			return nil, false, nil
		}
		c := cands[0]
		c.Open--
		if !c.Eligible() {
			return nil, false, nil
		}
		a.Name = c.Name
	case switchboard.AssigneeAI:
		if d.conv.AIHandedOff {
			return nil, false, nil
		}
		ai, ok, err := d.r.aiAgent(ctx, a.ID)
		if err != nil || !ok {
			return nil, false, err
		}
		a = ai
	default:
		return nil, false, nil
	}
	out, err := d.claim(ctx, a, ReasonReopen, nil, -1, -1)
	return out, true, err
}

// byRule sends the conversation to the matching rule's target. handled is false when the target
// cannot take conversations at all (a disabled AI agent, or one the AI already handed this
// conversation off; an agent or team without members in the channel): the next steps apply.
func (d *decision) byRule(ctx context.Context, rule *switchboard.RoutingRule) (*Outcome, bool, error) {
	var only map[int64]bool
	switch rule.Target.Kind {
	case switchboard.TargetAIAgent:
		if d.conv.AIHandedOff {
			return nil, false, nil
		}
		ai, ok, err := d.r.aiAgent(ctx, rule.Target.ID)
		if err != nil || !ok {
			return nil, false, err
		}
		out, err := d.claim(ctx, ai, ReasonRule, rule, -1, -1)
		return out, true, err
	case switchboard.TargetAgent:
		only = map[int64]bool{rule.Target.ID: true}
	case switchboard.TargetTeam:
		team, err := d.r.store.Team(ctx, rule.Target.ID)
		if switchboard.IsCode(err, switchboard.ENOTFOUND) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		only = make(map[int64]bool, len(team.AgentIDs))
		for _, id := range team.AgentIDs {
			only[id] = true
		}
	default:
		return nil, false, nil
	}
	pool, err := d.loadPool(ctx)
	if err != nil {
		return nil, false, err
	}
	if len(pool.Candidates(nil, only)) == 0 {
		return nil, false, nil
	}
	out, err := d.people(ctx, only, rule, ReasonRule)
	return out, true, err
}

// people gives the conversation to an eligible member (of only, when set) by the channel's mode, or
// puts it in the queue of the rule's target (the channel's queue without a rule).
func (d *decision) people(ctx context.Context, only map[int64]bool, rule *switchboard.RoutingRule, reason string) (*Outcome, error) {
	pool, err := d.loadPool(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := Pick(d.ch.AssignmentMode, pool.Candidates(d.r.presence, only), pool.RRLast)
	if !ok {
		events, err := d.r.store.WaitInQueue(ctx, d.conv.ID, d.conv.Assignee, rule)
		if switchboard.IsCode(err, switchboard.ECONFLICT) {
			return nil, errLost
		}
		if err != nil {
			return nil, err
		}
		return &Outcome{Waiting: true, Rule: rule, Events: events}, nil
	}
	seen, rrFrom := guards(d.ch, pool, c, d.relaxed)
	if reason == "" {
		reason = strategyReason(d.ch.AssignmentMode)
	}
	return d.claim(ctx, switchboard.Assignee{Kind: switchboard.AssigneeHuman, ID: c.AgentID, Name: c.Name}, reason, rule, seen, rrFrom)
}

// guards returns what the claim of candidate c, chosen by the channel's mode, re-checks under its
// locks. Load: the open count the decision saw (-1: no check). Round-robin: the agent the channel's
// rotation pointed at (-1: no check), which the claim's transaction moves to c if nobody moved it
// first. A claim whose guard fails loses the race and the decision is taken again on fresh data; a
// relaxed decision (the last attempt) drops the guards, and capacity alone is checked (round-robin
// still moves its rotation to c, unchecked).
func guards(ch *switchboard.Channel, pool *Pool, c Candidate, relaxed bool) (seenOpen int, rrFrom int64) {
	roundRobin := ch.AssignmentMode == switchboard.AssignByRoundRobin
	switch {
	case relaxed && roundRobin:
		return -1, switchboard.RotationUnchecked
	case relaxed:
		return -1, -1
	case roundRobin:
		return -1, pool.RRLast
	default:
		return c.Open, -1
	}
}

func strategyReason(mode string) string {
	if mode == switchboard.AssignByRoundRobin {
		return ReasonRoundRobin
	}
	return ReasonLoad
}

// claim asks the store to give the conversation to `to`, from the owner this decision saw, with the
// guards of the channel's mode (see guards; -1 for none).
func (d *decision) claim(ctx context.Context, to switchboard.Assignee, reason string, rule *switchboard.RoutingRule, seen int, rrFrom int64) (*Outcome, error) {
	events, err := d.r.store.AssignConversation(ctx, d.conv.ID, d.conv.Assignee, to, reason, rule, seen, rrFrom)
	if switchboard.IsCode(err, switchboard.ECONFLICT) {
		return nil, errLost
	}
	if err != nil {
		return nil, err
	}
	return &Outcome{Assignee: &to, Reason: reason, Rule: rule, Events: events}, nil
}

func (d *decision) loadPool(ctx context.Context) (*Pool, error) {
	if d.pool == nil {
		p, err := d.r.pool(ctx, d.ch.ID)
		if err != nil {
			return nil, err
		}
		d.pool = p
	}
	return d.pool, nil
}

// backoff waits a random moment, growing with the attempt, before a decision that lost a race is
// taken again: deciders that all chose the same agent from the same snapshot spread out instead of
// colliding again.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(min(attempt, 20)) * int64(250*time.Microsecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return switchboard.WrapError(switchboard.EUNAVAILABLE, "The request was cancelled.", ctx.Err())
	case <-t.C:
		return nil
	}
}
