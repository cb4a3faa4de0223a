// Package routing assigns conversations (DESIGN §2 "Assignment"): the channel's routing rules in
// order, then the channel's AI agent, then its human agents by load or round-robin; nobody eligible
// puts the conversation in a queue that drains, oldest first, when someone becomes eligible.
//
//	Assign(conversation, trigger)
//	  reopened, still eligible ─▶ stays with the previous assignee
//	  first matching rule ─▶ AI agent | the agent | a team member by the channel's mode
//	  else the channel's enabled AI agent (unless it handed this conversation off)
//	  else a member by mode: load (fewest open) | round-robin (next after the rotation's pointer)
//	  else WaitInQueue ─▶ Drain(channel) when an agent comes online, frees or gains capacity
//
// Decisions are pure (FirstMatch, PickLoad, PickRoundRobin) over a snapshot; claims are atomic in the
// store, which re-checks membership and capacity under a lock at commit time. A claim that lost a
// race (the rotation moved, the agent's load changed, the agent filled up) is retried on a fresh
// snapshot, so concurrent webhooks and several replicas never assign a conversation twice nor push
// an agent over capacity.
package routing

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"switchboard"
)

// Reasons an assignment was made, written into the conversation's activity line and the
// conversation.assigned event.
const (
	ReasonRule       = "rule"        // a routing rule matched
	ReasonAI         = "ai"          // the channel's AI agent
	ReasonLoad       = "load"        // the member with the fewest open conversations
	ReasonRoundRobin = "round_robin" // the next member in the channel's rotation
	ReasonManual     = "manual"      // an admin assigned or transferred it, or an agent took it
	ReasonHandoff    = "handoff"     // the AI agent handed it to people
	ReasonQueue      = "queue"       // it waited in the queue until someone became eligible
	ReasonReopen     = "reopen"      // reopened: the previous assignee keeps it
)

// Trigger kinds: why a conversation is being routed.
const (
	TriggerNew      = "new"      // a new conversation
	TriggerReopened = "reopened" // a resolved conversation was reopened by the customer
	TriggerMessage  = "message"  // a customer message on an open conversation (routed only if unowned)
	TriggerHandoff  = "handoff"  // the AI agent handed it off: straight to the people step
)

// Trigger says why Assign is called and which customer message caused it (for text conditions).
type Trigger struct {
	Kind      string
	MessageID int64
}

// Outcome is what Assign did. Assignee is the owner afterwards (nil when the conversation waits in a
// queue or is resolved); Reason and Rule say why when this call assigned it; Events were committed
// (and published when the router has a publisher).
type Outcome struct {
	Assignee *switchboard.Assignee
	Reason   string
	Rule     *switchboard.RoutingRule
	Waiting  bool
	Events   []switchboard.Event
}

// Store is the storage the router needs.
type Store interface {
	Channel(ctx context.Context, id int64) (*switchboard.Channel, error)
	Conversation(ctx context.Context, id int64) (*switchboard.Conversation, error)
	Message(ctx context.Context, id int64) (*switchboard.Message, error)
	Team(ctx context.Context, id int64) (*switchboard.Team, error)
	AgentChannelIDs(ctx context.Context, agentID int64) ([]int64, error)
	ListRoutingRules(ctx context.Context, channelID int64) ([]*switchboard.RoutingRule, error)
	ContactReturning(ctx context.Context, conversationID int64) (bool, error)
	AssignmentPool(ctx context.Context, channelID int64) (members []switchboard.ChannelMember, agents map[int64]*switchboard.Agent, open map[int64]int, rrLast int64, err error)
	AssignConversation(ctx context.Context, conversationID int64, from *switchboard.Assignee, to switchboard.Assignee, reason string, rule *switchboard.RoutingRule, seenOpen int, rrFrom int64) ([]switchboard.Event, error)
	WaitInQueue(ctx context.Context, conversationID int64, from *switchboard.Assignee, rule *switchboard.RoutingRule) ([]switchboard.Event, error)
	UnassignedWaiting(ctx context.Context, channelID int64, after *switchboard.Conversation, limit int) ([]*switchboard.Conversation, []switchboard.RuleTarget, error)
	HandOff(ctx context.Context, conversationID int64, reason string) ([]switchboard.Event, error)
	ReleaseAgent(ctx context.Context, channelID, agentID int64) ([]switchboard.Event, error)
}

// AIAgents tells whether an AI agent exists and is enabled.
type AIAgents interface {
	AIAgent(ctx context.Context, id int64) (*switchboard.AIAgent, error)
}

// Publisher delivers committed events to the agents' screens.
type Publisher interface {
	Publish(ctx context.Context, events []switchboard.Event)
}

// Deps are the router's dependencies. Store and Presence are required. Without AIAgents, an AI agent
// bound to a channel or named by a rule counts as enabled; without Publisher, events are only
// returned.
type Deps struct {
	Store     Store
	Presence  Presence
	AIAgents  AIAgents
	Publisher Publisher
	Clock     switchboard.Clock
	Logger    *slog.Logger
	// Attempts bounds how often one decision is retried after losing a race (default 50).
	Attempts int
}

// Router assigns conversations. It is safe for concurrent use, in one process or several.
type Router struct {
	store     Store
	presence  Presence
	ai        AIAgents
	publisher Publisher
	clock     switchboard.Clock
	log       *slog.Logger
	attempts  int
	turns     channelTurns
}

// channelTurns makes one process's assignment decisions on a channel take turns. Concurrent decisions
// on one channel would all see the same least-loaded agent (or rotation pointer) and all but one
// lose the race and decide again; taking turns, each sees the one before it. Decisions of other
// processes can still collide, which the claim detects as before.
type channelTurns struct {
	mu sync.Mutex
	m  map[int64]*sync.Mutex
}

// take waits for the channel's turn and returns the function that ends it.
func (t *channelTurns) take(channelID int64) (done func()) {
	t.mu.Lock()
	if t.m == nil {
		t.m = map[int64]*sync.Mutex{}
	}
	l := t.m[channelID]
	if l == nil {
		l = &sync.Mutex{}
		t.m[channelID] = l
	}
	t.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// New returns a router.
func New(d Deps) *Router {
	if d.Clock == nil {
		d.Clock = switchboard.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Attempts <= 0 {
		d.Attempts = 50
	}
	return &Router{store: d.Store, presence: d.Presence, ai: d.AIAgents, publisher: d.Publisher, clock: d.Clock,
		log: d.Logger, attempts: d.Attempts}
}

// publish hands committed events to the publisher, if any.
func (r *Router) publish(ctx context.Context, events []switchboard.Event) {
	if r.publisher != nil && len(events) > 0 {
		r.publisher.Publish(ctx, events)
	}
}

// pool reads the channel's members, their loads and the rotation's pointer.
func (r *Router) pool(ctx context.Context, channelID int64) (*Pool, error) {
	members, agents, open, rrLast, err := r.store.AssignmentPool(ctx, channelID)
	if err != nil {
		return nil, err
	}
	return &Pool{Members: members, Agents: agents, Open: open, RRLast: rrLast}, nil
}

// aiAgent returns the AI agent as an assignee when it may take conversations (ok false when it is
// disabled or gone). Without an AI agent lookup, any bound agent counts as enabled.
func (r *Router) aiAgent(ctx context.Context, id int64) (switchboard.Assignee, bool, error) {
	to := switchboard.Assignee{Kind: switchboard.AssigneeAI, ID: id}
	if r.ai == nil {
		return to, true, nil
	}
	a, err := r.ai.AIAgent(ctx, id)
	if switchboard.IsCode(err, switchboard.ENOTFOUND) {
		return to, false, nil
	}
	if err != nil {
		return to, false, err
	}
	to.Name = a.Name
	return to, a.Enabled, nil
}

// facts gathers what the rules test about the conversation now.
func (r *Router) facts(ctx context.Context, conv *switchboard.Conversation, ch *switchboard.Channel, t Trigger) (Facts, error) {
	f := Facts{Contact: conv.Contact, Now: r.clock.Now(), Hours: ch.Settings.BusinessHours}
	if t.MessageID > 0 {
		m, err := r.store.Message(ctx, t.MessageID)
		if err != nil && !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			return f, err
		}
		if m != nil && m.ConversationID == conv.ID {
			f.Text = m.Text
		}
	}
	returning, err := r.store.ContactReturning(ctx, conv.ID)
	if err != nil {
		return f, err
	}
	f.Returning = returning
	return f, nil
}

// now is the router's clock, for the in-memory pool after a claim.
func (r *Router) now() time.Time { return r.clock.Now() }
