package pipeline

import (
	"context"
	"encoding/json"
	"log/slog"

	"switchboard"
	"switchboard/agents"
	"switchboard/automation"
	"switchboard/routing"
)

// Automations are the server's own replies (keywords, greeting, away message, CSAT).
type Automations interface {
	HandleInbound(ctx context.Context, job switchboard.InboundJob) (automation.Outcome, error)
	// NeedsWork reports whether HandleInbound could do anything for a message just stored.
	NeedsWork(w switchboard.InboundWork) bool
}

// Assigner decides who owns a conversation.
type Assigner interface {
	Assign(ctx context.Context, conversationID int64, t routing.Trigger) (*routing.Outcome, error)
}

// AIReplier lets the AI agent answer a conversation it owns.
type AIReplier interface {
	Reply(ctx context.Context, conversationID, messageID int64) (agents.Result, error)
}

// ProcessStore is the storage the inbound job needs.
type ProcessStore interface {
	Channel(ctx context.Context, id int64) (*switchboard.Channel, error)
	Conversation(ctx context.Context, id int64) (*switchboard.Conversation, error)
	Message(ctx context.Context, id int64) (*switchboard.Message, error)
}

// Processor is the inbound job (DESIGN §2 "Work"): for each stored customer message, in order,
// keyword replies → greeting → business hours → routing of a new, reopened or unowned conversation →
// the AI agent's reply when it owns the conversation. The runner runs one conversation's jobs one at
// a time, so these steps never interleave for a conversation; every step is idempotent, so a retried
// job does not repeat what was already done.
type Processor struct {
	store       ProcessStore
	automations Automations
	router      Assigner
	ai          AIReplier
	log         *slog.Logger
}

// ProcessorOptions configure NewProcessor.
type ProcessorOptions struct {
	Store       ProcessStore
	Automations Automations
	Router      Assigner
	AI          AIReplier
	Logger      *slog.Logger
}

// NewProcessor returns the inbound job handler.
func NewProcessor(o ProcessorOptions) *Processor {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Processor{store: o.Store, automations: o.Automations, router: o.Router, ai: o.AI, log: o.Logger}
}

// NeedsWork reports whether Handle could do anything for a message the ingestion has just stored; the
// ingestion enqueues the inbound job only then. Nothing to do means: no automation applies, and the
// conversation is open, neither new nor reopened, and owned by a person (routing leaves it alone and
// the AI agent does not answer). It is judged on the conversation as this message left it; a job
// still queued before this one can only make that owner change through routing, which runs for
// conversations that had no owner (and whose messages therefore all get their jobs).
func (p *Processor) NeedsWork(w switchboard.InboundWork) bool {
	if w.Message.Type == switchboard.TypeActivity {
		return false
	}
	if p.automations != nil && p.automations.NeedsWork(w) {
		return true
	}
	if p.router == nil {
		return false
	}
	conv := w.Conversation
	if w.Job.NewConversation || w.Job.Reopened || conv.Status == switchboard.StatusResolved || conv.Assignee == nil {
		return true
	}
	return p.ai != nil && conv.Assignee.Kind == switchboard.AssigneeAI
}

// Handle is the inbound job.
func (p *Processor) Handle(ctx context.Context, j *switchboard.Job) error {
	var job switchboard.InboundJob
	if err := json.Unmarshal(j.Payload, &job); err != nil {
		return Permanent(err)
	}
	msg, err := p.store.Message(ctx, job.MessageID)
	if err != nil {
		if switchboard.IsCode(err, switchboard.ENOTFOUND) {
			return Permanent(err)
		}
		return err
	}
	if msg.Type == switchboard.TypeActivity {
		return nil // a note about the contact (a number change): nothing to answer or route
	}
	// The ingestion judged this message by the conversation as it stored it; an earlier job may have
	// given the conversation an owner since (a burst of first messages arrives before routing runs).
	// Judged again now, most such jobs have nothing left to do.
	if idle, err := p.nothingToDo(ctx, job, msg); idle || err != nil {
		return ignoreGone(err)
	}
	log := p.log.With("conversation_id", job.ConversationID, "message_id", job.MessageID)
	out := automation.Outcome{Route: true}
	if p.automations != nil {
		if out, err = p.automations.HandleInbound(ctx, job); err != nil {
			return err
		}
	}
	if !out.Route || p.router == nil {
		return nil
	}
	trigger := routing.Trigger{Kind: routing.TriggerMessage, MessageID: job.MessageID}
	switch {
	case job.NewConversation:
		trigger.Kind = routing.TriggerNew
	case job.Reopened:
		trigger.Kind = routing.TriggerReopened
	}
	assigned, err := p.router.Assign(ctx, job.ConversationID, trigger)
	if err != nil {
		return err
	}
	if p.ai == nil || out.Keyword != "" {
		return nil // keyword messages (STOP, HELP...) were answered by the automation, not the AI
	}
	owner := assigned.Assignee
	if owner == nil {
		conv, err := p.store.Conversation(ctx, job.ConversationID)
		if err != nil {
			return err
		}
		owner = conv.Assignee
	}
	if owner == nil || owner.Kind != switchboard.AssigneeAI {
		return nil
	}
	res, err := p.ai.Reply(ctx, job.ConversationID, job.MessageID)
	if err != nil {
		return err
	}
	log.Info("ai agent", "outcome", res.Outcome, "reason", res.Reason)
	return nil
}

// nothingToDo reports whether NeedsWork, asked again with the conversation and channel as they are
// now, finds nothing to do for the message. (The away message's period is not known here, so a
// closed channel always runs the automations, which know it.)
func (p *Processor) nothingToDo(ctx context.Context, job switchboard.InboundJob, msg *switchboard.Message) (bool, error) {
	if job.NewConversation || job.Reopened {
		return false, nil
	}
	conv, err := p.store.Conversation(ctx, job.ConversationID)
	if err != nil {
		return false, err
	}
	ch, err := p.store.Channel(ctx, conv.ChannelID)
	if err != nil {
		return false, err
	}
	return !p.NeedsWork(switchboard.InboundWork{Channel: ch, Conversation: conv, Message: msg, Job: job}), nil
}

// ignoreGone turns "the conversation or channel no longer exists" into nothing to do.
func ignoreGone(err error) error {
	if switchboard.IsCode(err, switchboard.ENOTFOUND) {
		return nil
	}
	return err
}
