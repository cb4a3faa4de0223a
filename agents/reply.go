package agents

import (
	"context"
	"strconv"
	"strings"

	"switchboard"
)

// run is one Reply in progress.
type run struct {
	conv  *switchboard.Conversation
	msg   *switchboard.Message
	agent *switchboard.AIAgent // nil when the conversation's AI agent no longer exists
}

// Reply answers the customer's message messageID in a conversation the AI agent owns, or hands the
// conversation to people when it should: the customer asks for a person (a handoff phrase), the
// model calls handoff_to_human, the API fails after retries, times out or is rate limited, the
// turn limit is reached, the 24-hour window is closed, the message cannot be read (per the agent's
// unreadable_action), or the agent is disabled or gone. It never answers its own messages, a
// conversation it does not own or has handed off, nor a message a newer one supersedes.
//
// An error means the run should be retried (the database was unavailable, ctx ended); a model
// failure is not an error but a handoff.
func (r *Runtime) Reply(ctx context.Context, conversationID, messageID int64) (Result, error) {
	unlock, err := r.locks.lock(ctx, conversationID)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	conv, err := r.store.Conversation(ctx, conversationID)
	if err != nil {
		return Result{}, err
	}
	msg, err := r.store.Message(ctx, messageID)
	if err != nil {
		return Result{}, err
	}
	if msg.ConversationID != conv.ID || msg.Direction != switchboard.Inbound || msg.Sender != switchboard.SenderCustomer ||
		msg.Type == switchboard.TypeActivity { // WhatsApp's system notices ("security code changed") are not for the AI
		return skip(SkipNotCustomer), nil
	}
	if res, ok := r.notOwned(conv); ok {
		return res, nil
	}
	rn := &run{conv: conv, msg: msg}
	agent, err := r.store.AIAgent(ctx, conv.Assignee.ID)
	switch {
	case switchboard.IsCode(err, switchboard.ENOTFOUND):
		return r.handOff(ctx, rn, ReasonAgentMissing, "")
	case err != nil:
		return Result{}, err
	}
	rn.agent = agent
	if !agent.Enabled {
		return r.handOff(ctx, rn, ReasonAgentDisabled, "")
	}
	if !conv.WindowOpen(r.clock.Now()) {
		return r.handOff(ctx, rn, ReasonWindowClosed, "")
	}
	recent, _, err := r.store.ListMessages(ctx, conv.ID, "", min(2*r.histMsgs, 200))
	if err != nil {
		return Result{}, err
	}
	if reason, stale := staleMessage(recent, msg); stale {
		return skip(reason), nil
	}
	if readable(msg) {
		if phrase := MatchHandoffPhrase(msg.Text, agent.HandoffPhrases); phrase != "" {
			return r.handOff(ctx, rn, ReasonCustomerAsked, phrase)
		}
	}
	if agent.TurnLimit > 0 {
		since := conv.CreatedAt
		if conv.AssignedAt != nil {
			since = *conv.AssignedAt
		}
		n, err := r.store.CountAIReplies(ctx, conv.ID, since)
		if err != nil {
			return Result{}, err
		}
		if n >= agent.TurnLimit {
			return r.handOff(ctx, rn, ReasonTurnLimit, strconv.Itoa(agent.TurnLimit))
		}
	}
	if !readable(msg) {
		if agent.UnreadableAction == switchboard.UnreadableReply && strings.TrimSpace(agent.UnreadableReply) != "" {
			return r.send(ctx, rn, agent.UnreadableReply, ReasonUnreadable)
		}
		return r.handOff(ctx, rn, ReasonUnreadable, msg.Type)
	}
	if r.typing != nil {
		if err := r.typing.Typing(ctx, conv.ID); err != nil {
			r.log.Debug("typing indicator not shown", "conversation_id", conv.ID, "err", err)
		}
	}
	v, err := r.think(ctx, rn, recent)
	if err != nil {
		return Result{}, err
	}
	if v.handoff != "" {
		return r.handOff(ctx, rn, v.handoff, v.detail)
	}
	// The model took a while: a person may have taken the conversation meanwhile.
	if now, err := r.store.Conversation(ctx, conv.ID); err != nil {
		return Result{}, err
	} else if res, ok := r.notOwned(now); ok {
		return res, nil
	}
	return r.send(ctx, rn, v.text, "")
}

// notOwned reports a Skipped result when the AI must not answer the conversation.
func (r *Runtime) notOwned(conv *switchboard.Conversation) (Result, bool) {
	switch {
	case conv.Assignee == nil || conv.Assignee.Kind != switchboard.AssigneeAI || conv.AIHandedOff:
		return skip(SkipNotOwner), true
	case conv.Status == switchboard.StatusResolved:
		return skip(SkipResolved), true
	}
	return Result{}, false
}

// send queues text for the customer as the AI agent's message. The client id ties it to the
// customer's message, so a retried run does not send it twice.
func (r *Runtime) send(ctx context.Context, rn *run, text string, reason Reason) (Result, error) {
	id := rn.agent.ID
	m := &switchboard.Message{ConversationID: rn.conv.ID, Sender: switchboard.SenderAI, SenderID: &id, SenderName: rn.agent.Name,
		Type: switchboard.TypeText, Text: clip(text, switchboard.MaxTextLength), ClientID: "ai-reply:" + strconv.FormatInt(rn.msg.ID, 10)}
	out, events, err := r.store.QueueOutbound(ctx, m)
	if err != nil {
		return Result{}, err
	}
	r.publish(ctx, events)
	r.log.Info("ai answered", "conversation_id", rn.conv.ID, "ai_agent_id", id, "message_id", out.ID, "chars", len(text))
	return Result{Outcome: Answered, Reason: reason, Message: out}, nil
}

// staleMessage reports whether the customer's message no longer needs an answer from this run: a
// newer customer message supersedes it (its own run answers both, with the whole history), or a
// reply already followed it (a retried job, or a person stepped in).
func staleMessage(recent []*switchboard.Message, msg *switchboard.Message) (Reason, bool) {
	if len(recent) > 0 && recent[0].ID > msg.ID {
		return SkipSuperseded, true
	}
	for _, m := range recent {
		if m.ID <= msg.ID {
			continue
		}
		switch {
		case m.Direction == switchboard.Inbound && m.Type != switchboard.TypeActivity:
			return SkipSuperseded, true
		case m.Sender == switchboard.SenderAI || m.Sender == switchboard.SenderAgent:
			if m.Type != switchboard.TypeNote && m.Type != switchboard.TypeActivity {
				return SkipAnswered, true
			}
		}
	}
	return "", false
}

// readable reports whether the AI can read the message: text, or the title of a button or list
// reply. Images, voice notes, videos, documents, stickers, locations, contacts and orders it cannot.
func readable(m *switchboard.Message) bool {
	switch m.Type {
	case switchboard.TypeText, "interactive", "button":
		return strings.TrimSpace(m.Text) != ""
	}
	return false
}

func skip(reason Reason) Result {
	return Result{Outcome: Skipped, Reason: reason, Detail: reason.describe("")}
}
