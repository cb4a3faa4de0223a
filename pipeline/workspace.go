package pipeline

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"switchboard"
	"switchboard/routing"
)

// WorkspaceStore is the storage the agents' actions need.
type WorkspaceStore interface {
	Conversation(ctx context.Context, id int64) (*switchboard.Conversation, error)
	Channel(ctx context.Context, id int64) (*switchboard.Channel, error)
	IsChannelMember(ctx context.Context, channelID, agentID int64) (bool, error)
	ResolveConversation(ctx context.Context, id int64, by *switchboard.Agent) (*switchboard.Conversation, []switchboard.Event, bool, error)
	ReopenConversation(ctx context.Context, id int64, by *switchboard.Agent) (*switchboard.Conversation, []switchboard.Event, bool, error)
	MarkConversationRead(ctx context.Context, id int64) (string, []switchboard.Event, error)
	EnqueueJob(ctx context.Context, j *switchboard.Job) error
	Agent(ctx context.Context, id int64) (*switchboard.Agent, error)
	SetAvailability(ctx context.Context, agentID int64, a switchboard.Availability) (*switchboard.Agent, []switchboard.Event, error)
	AssignManually(ctx context.Context, conversationID, agentID int64, by *switchboard.Agent) (*switchboard.Conversation, []switchboard.Event, error)
}

// Drainer assigns waiting conversations when capacity frees or someone comes online.
type Drainer interface {
	Assign(ctx context.Context, conversationID int64, t routing.Trigger) (*routing.Outcome, error)
	Drain(ctx context.Context, channelID int64) (int, error)
	DrainAgent(ctx context.Context, agentID int64) (int, error)
	Release(ctx context.Context, channelID, agentID int64) (int, error)
}

// ReadJobKind marks a customer's message read at WhatsApp (blue ticks) after an agent opened it.
const ReadJobKind = "whatsapp.read"

// readJob is the payload of a read job.
type readJob struct {
	ChannelID int64  `json:"channel_id"`
	WAMID     string `json:"wamid"`
}

// Workspace carries out what agents do in the inbox besides writing: resolve, reopen, read, typing,
// presence. Each action publishes its events and lets assignment react (a resolve frees capacity, an
// agent coming online takes waiting conversations).
type Workspace struct {
	store     WorkspaceStore
	router    Drainer
	presence  *routing.PresenceSet
	graph     GraphClients
	publisher Publisher
	log       *slog.Logger
}

// WorkspaceOptions configure NewWorkspace.
type WorkspaceOptions struct {
	Store     WorkspaceStore
	Router    Drainer
	Presence  *routing.PresenceSet
	Graph     GraphClients
	Publisher Publisher
	Logger    *slog.Logger
}

// NewWorkspace returns the workspace service.
func NewWorkspace(o WorkspaceOptions) *Workspace {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Workspace{store: o.Store, router: o.Router, presence: o.Presence, graph: o.Graph, publisher: o.Publisher, log: o.Logger}
}

// visible returns the conversation if the agent may act on it.
func (w *Workspace) visible(ctx context.Context, agent *switchboard.Agent, id int64) (*switchboard.Conversation, error) {
	conv, err := w.store.Conversation(ctx, id)
	if err != nil {
		return nil, err
	}
	if agent != nil && agent.Role != switchboard.RoleAdmin {
		ok, err := w.store.IsChannelMember(ctx, conv.ChannelID, agent.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "Conversation not found.")
		}
	}
	return conv, nil
}

// Resolve closes a conversation (queuing its CSAT survey) and gives the freed capacity to the queue.
func (w *Workspace) Resolve(ctx context.Context, agent *switchboard.Agent, id int64) (*switchboard.Conversation, error) {
	if _, err := w.visible(ctx, agent, id); err != nil {
		return nil, err
	}
	conv, events, changed, err := w.store.ResolveConversation(ctx, id, agent)
	if err != nil {
		return nil, err
	}
	publish(ctx, w.publisher, events)
	if changed && w.router != nil {
		if _, err := w.router.Drain(ctx, conv.ChannelID); err != nil {
			w.log.Warn("drain after resolve", "channel_id", conv.ChannelID, "err", err)
		}
	}
	return conv, nil
}

// Reopen opens a conversation again; it goes back to its previous assignee when still eligible,
// otherwise it is routed again.
func (w *Workspace) Reopen(ctx context.Context, agent *switchboard.Agent, id int64) (*switchboard.Conversation, error) {
	if _, err := w.visible(ctx, agent, id); err != nil {
		return nil, err
	}
	conv, events, changed, err := w.store.ReopenConversation(ctx, id, agent)
	if err != nil {
		return nil, err
	}
	publish(ctx, w.publisher, events)
	if changed && w.router != nil {
		if _, err := w.router.Assign(ctx, id, routing.Trigger{Kind: routing.TriggerReopened}); err != nil {
			return nil, err
		}
		return w.store.Conversation(ctx, id)
	}
	return conv, nil
}

// Assign gives a conversation to a person: admins assign and transfer, agents take unassigned
// conversations of their channels. Capacity the transfer freed goes to the queue.
func (w *Workspace) Assign(ctx context.Context, by *switchboard.Agent, conversationID, agentID int64) (*switchboard.Conversation, error) {
	before, err := w.visible(ctx, by, conversationID)
	if err != nil {
		return nil, err
	}
	conv, events, err := w.store.AssignManually(ctx, conversationID, agentID, by)
	if err != nil {
		return nil, err
	}
	publish(ctx, w.publisher, events)
	if before.Assignee != nil && w.router != nil {
		if _, err := w.router.Drain(ctx, conv.ChannelID); err != nil {
			w.log.Warn("drain after transfer", "channel_id", conv.ChannelID, "err", err)
		}
	}
	return conv, nil
}

// MarkRead clears the conversation's unread count for everyone and marks the customer's latest
// message read at WhatsApp (asynchronously, through a job).
func (w *Workspace) MarkRead(ctx context.Context, agentID, conversationID int64) error {
	agent, err := w.store.Agent(ctx, agentID)
	if err != nil {
		return err
	}
	conv, err := w.visible(ctx, agent, conversationID)
	if err != nil {
		return err
	}
	wamid, events, err := w.store.MarkConversationRead(ctx, conversationID)
	if err != nil {
		return err
	}
	publish(ctx, w.publisher, events)
	if wamid == "" || len(events) == 0 {
		return nil // nothing new was unread: WhatsApp already shows it read
	}
	payload, _ := json.Marshal(readJob{ChannelID: conv.ChannelID, WAMID: wamid})
	return w.store.EnqueueJob(ctx, &switchboard.Job{Kind: ReadJobKind, Key: "read:" + wamid, Payload: payload, MaxAttempts: 3})
}

// HandleRead is the read job: it tells WhatsApp the business read the customer's message.
func (w *Workspace) HandleRead(ctx context.Context, j *switchboard.Job) error {
	var p readJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(err)
	}
	ch, err := w.store.Channel(ctx, p.ChannelID)
	if err != nil {
		return Permanent(err)
	}
	return w.graph.For(ch).MarkRead(ctx, ch.APIKey, ch.PhoneNumberID, p.WAMID, false)
}

// Typing shows WhatsApp's typing indicator to the customer while an agent (or the AI) writes. It
// needs the customer's latest message, which the indicator also marks read.
func (w *Workspace) Typing(ctx context.Context, conversationID int64) error {
	conv, err := w.store.Conversation(ctx, conversationID)
	if err != nil {
		return err
	}
	ch, err := w.store.Channel(ctx, conv.ChannelID)
	if err != nil {
		return err
	}
	wamid, _, err := w.store.MarkConversationRead(ctx, conversationID)
	if err != nil || wamid == "" {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return w.graph.For(ch).MarkRead(ctx, ch.APIKey, ch.PhoneNumberID, wamid, true)
}

// MemberAdded lets a new member (or one whose capacity grew) take waiting conversations.
func (w *Workspace) MemberAdded(ctx context.Context, channelID int64) {
	if w == nil || w.router == nil {
		return
	}
	if _, err := w.router.Drain(ctx, channelID); err != nil {
		w.log.Warn("drain after membership change", "channel_id", channelID, "err", err)
	}
}

// MemberRemoved gives the conversations an agent held on a channel they left to the others.
func (w *Workspace) MemberRemoved(ctx context.Context, channelID, agentID int64) {
	if w == nil || w.router == nil {
		return
	}
	if _, err := w.router.Release(ctx, channelID, agentID); err != nil {
		w.log.Warn("release after leaving a channel", "channel_id", channelID, "agent_id", agentID, "err", err)
	}
}

// Connect records a new websocket of the agent; coming online lets them take waiting conversations.
func (w *Workspace) Connect(agentID int64) {
	if w.presence == nil || !w.presence.Connect(agentID) || w.router == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := w.router.DrainAgent(ctx, agentID); err != nil {
			w.log.Warn("drain for agent coming online", "agent_id", agentID, "err", err)
		}
	}()
}

// Disconnect records a closed websocket; the agent goes offline after the grace period.
func (w *Workspace) Disconnect(agentID int64) {
	if w.presence != nil {
		w.presence.Disconnect(agentID)
	}
}

// SetAvailability records an agent saying they are available or away; becoming available lets them
// take waiting conversations.
func (w *Workspace) SetAvailability(ctx context.Context, agentID int64, a switchboard.Availability) error {
	if !a.Valid() {
		return switchboard.FieldError("availability", `Use "available" or "away".`)
	}
	_, events, err := w.store.SetAvailability(ctx, agentID, a)
	if err != nil {
		return err
	}
	publish(ctx, w.publisher, events)
	if a == switchboard.Available && w.router != nil {
		if _, err := w.router.DrainAgent(ctx, agentID); err != nil {
			w.log.Warn("drain for available agent", "agent_id", agentID, "err", err)
		}
	}
	return nil
}
