package agents

import (
	"context"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"switchboard"
)

// Reason is why a run handed off or skipped; stable, for logs and metrics.
type Reason string

// Handoff reasons.
const (
	ReasonModel         Reason = "model_handoff"    // the model called handoff_to_human
	ReasonCustomerAsked Reason = "customer_asked"   // the message matched a handoff phrase
	ReasonAPIError      Reason = "api_error"        // the chat API failed (after retries)
	ReasonTimeout       Reason = "timeout"          // no answer within the agent's timeout
	ReasonRateLimited   Reason = "rate_limited"     // the chat API kept answering 429
	ReasonTurnLimit     Reason = "turn_limit"       // the AI already answered turn_limit times
	ReasonWindowClosed  Reason = "window_closed"    // WhatsApp's 24-hour window is closed
	ReasonUnreadable    Reason = "unreadable"       // an image, voice note... (or replied to one)
	ReasonEmptyAnswer   Reason = "empty_answer"     // the model answered nothing usable
	ReasonAgentDisabled Reason = "agent_disabled"   // the AI agent was disabled
	ReasonAgentMissing  Reason = "agent_missing"    // the AI agent was deleted
	ReasonContentFilter Reason = "content_filtered" // the provider's filter stopped the answer
)

// Reasons for skipping a run.
const (
	SkipNotCustomer Reason = "not_customer_message"
	SkipNotOwner    Reason = "not_ai_owned"
	SkipResolved    Reason = "resolved"
	SkipSuperseded  Reason = "superseded"
	SkipAnswered    Reason = "already_answered"
)

// describe is the reason as a sentence for agents (the activity line) and for the handoff; detail
// adds the phrase, the limit, the model's own reason or the error's category. It never holds a
// secret: errors are described by status and code only.
func (r Reason) describe(detail string) string {
	switch r {
	case ReasonModel:
		if detail != "" {
			return "the AI asked for a person: " + detail
		}
		return "the AI asked for a person"
	case ReasonCustomerAsked:
		return "the customer asked for a person (“" + detail + "”)"
	case ReasonAPIError:
		return "the AI service failed (" + detail + ")"
	case ReasonTimeout:
		return "the AI service did not answer in time (" + detail + ")"
	case ReasonRateLimited:
		return "the AI service is rate limited (" + detail + ")"
	case ReasonTurnLimit:
		return "the AI reached its limit of " + detail + " replies"
	case ReasonWindowClosed:
		return "WhatsApp's 24-hour window is closed"
	case ReasonUnreadable:
		return "the customer sent a message the AI cannot read (" + detail + ")"
	case ReasonEmptyAnswer:
		return "the AI gave no usable answer"
	case ReasonAgentDisabled:
		return "the AI agent is disabled"
	case ReasonAgentMissing:
		return "the AI agent no longer exists"
	case ReasonContentFilter:
		return "the AI service's content filter stopped the answer"
	case SkipNotCustomer:
		return "only customers' messages are answered"
	case SkipNotOwner:
		return "the AI agent does not own this conversation"
	case SkipResolved:
		return "the conversation is resolved"
	case SkipSuperseded:
		return "a newer customer message will be answered instead"
	case SkipAnswered:
		return "the message was already answered"
	}
	return string(r)
}

// handOff gives the conversation to people: the agent's handoff message when one is set and the
// window is open, an activity line with the reason for the agents, then the Handoff call. Each step
// is idempotent for a retried run (client ids derive from the customer's message).
func (r *Runtime) handOff(ctx context.Context, rn *run, reason Reason, detail string) (Result, error) {
	res := Result{Outcome: HandedOff, Reason: reason, Detail: clip(reason.describe(detail), 500)}
	msgID := strconv.FormatInt(rn.msg.ID, 10)
	if rn.agent != nil && rn.agent.HandoffMessage != "" && reason != ReasonWindowClosed && rn.conv.WindowOpen(r.clock.Now()) {
		id := rn.agent.ID
		m := &switchboard.Message{ConversationID: rn.conv.ID, Sender: switchboard.SenderAI, SenderID: &id, SenderName: rn.agent.Name,
			Type: switchboard.TypeText, Text: rn.agent.HandoffMessage, ClientID: "ai-handoff:" + msgID}
		out, events, err := r.store.QueueOutbound(ctx, m)
		if err != nil {
			return Result{}, err
		}
		r.publish(ctx, events)
		res.Message = out
	}
	who := "The AI agent"
	if rn.agent != nil {
		who += " " + rn.agent.Name
	}
	_, events, err := r.store.LogActivity(ctx, rn.conv.ID, who+" handed the conversation to a person: "+res.Detail+".", "ai-handoff-activity:"+msgID)
	if err != nil {
		return Result{}, err
	}
	r.publish(ctx, events)
	if err := r.handoff.HandOff(ctx, rn.conv.ID, res.Detail); err != nil {
		return Result{}, err
	}
	attrs := []any{"conversation_id", rn.conv.ID, "message_id", rn.msg.ID, "reason", string(reason)}
	if rn.agent != nil {
		attrs = append(attrs, "ai_agent_id", rn.agent.ID)
	}
	r.log.Info("ai handed off", attrs...)
	return res, nil
}

// clip shortens s to at most n runes, with an ellipsis when it cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// MatchHandoffPhrase returns the first phrase the customer's text contains as whole words, ignoring
// case and accents ("Je veux un CONSEILLER" matches "conseiller", "humano" matches "humáno",
// "l'agent" matches "agent"), or "" when none does. "agents" does not match "agent", nor "agenda".
func MatchHandoffPhrase(text string, phrases []string) string {
	words := foldWords(text)
	if len(words) == 0 {
		return ""
	}
	for _, p := range phrases {
		if want := foldWords(p); len(want) > 0 && containsRun(words, want) {
			return p
		}
	}
	return ""
}

// foldWords splits s into lower-case words without accents: letters and digits make words, anything
// else (spaces, punctuation, apostrophes, emoji) separates them.
func foldWords(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// A combining accent left by the decomposition: drop it.
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// containsRun reports whether want occurs in words as consecutive words.
func containsRun(words, want []string) bool {
	for i := 0; i+len(want) <= len(words); i++ {
		match := true
		for j := range want {
			if words[i+j] != want[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
