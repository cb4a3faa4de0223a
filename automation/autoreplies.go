package automation

import (
	"context"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// ReplyStore is the storage of keyword actions and away messages.
type ReplyStore interface {
	SetContactOptOut(ctx context.Context, contactID int64, optedOut bool) (*switchboard.Contact, bool, error)
	AwaySentFor(ctx context.Context, conversationID int64) (*time.Time, error)
	MarkAwaySent(ctx context.Context, conversationID int64, period time.Time) (bool, error)
}

// MatchKeyword returns the first enabled keyword rule that the message is exactly one of the
// keywords of (trimmed, case-insensitive: "STOP", "stop" and " Stop " all match STOP), or nil. Only
// typed text and template quick-reply buttons are read.
func MatchKeyword(rules []switchboard.KeywordRule, m *switchboard.Message) *switchboard.KeywordRule {
	if m.Type != switchboard.TypeText && m.Type != "button" {
		return nil
	}
	for i := range rules {
		if rules[i].IsEnabled() && rules[i].Matches(m.Text) {
			return &rules[i]
		}
	}
	return nil
}

// keywordNote is the activity line logged for a keyword.
func keywordNote(rule *switchboard.KeywordRule, text string, changed bool) string {
	word := "“" + strings.TrimSpace(text) + "”"
	switch rule.Category {
	case switchboard.KeywordOptOut:
		if !changed {
			return "The customer sent " + word + " again; they were already opted out."
		}
		return "The customer opted out with " + word + ": templates are no longer sent to them."
	case switchboard.KeywordOptIn:
		if !changed {
			return "The customer sent " + word + "; they were already opted in."
		}
		return "The customer opted in again with " + word + "."
	}
	return "The customer asked for help with " + word + "."
}

// keyword applies a matched rule: the opt-out or opt-in is recorded on the contact, the action is
// logged in the conversation, and the rule's response is sent. It reports whether a response went.
func (s *Service) keyword(ctx context.Context, conv *switchboard.Conversation, m *switchboard.Message, rule *switchboard.KeywordRule) (bool, error) {
	changed := false
	if rule.Category == switchboard.KeywordOptOut || rule.Category == switchboard.KeywordOptIn {
		var err error
		if _, changed, err = s.store.SetContactOptOut(ctx, conv.ContactID, rule.Category == switchboard.KeywordOptOut); err != nil {
			return false, err
		}
	}
	if err := s.note(ctx, conv.ID, keywordNote(rule, m.Text, changed), "auto:keyword:"+itoa(m.ID)); err != nil {
		return false, err
	}
	if strings.TrimSpace(rule.Response) == "" {
		return false, nil
	}
	return s.reply(ctx, conv, rule.Response, "auto:keyword-reply:"+itoa(m.ID))
}

// ShouldGreet reports whether a message gets the greeting: it is on, the message started the
// conversation (or reopened it, when configured), and no keyword reply answered it already.
func ShouldGreet(g switchboard.GreetingSettings, job switchboard.InboundJob, keywordMatched bool) bool {
	if !g.Enabled || strings.TrimSpace(g.Text) == "" || keywordMatched {
		return false
	}
	return job.NewConversation || (job.Reopened && g.OnReopen)
}

// neverOpen identifies the one closed period of a schedule that has no opening hours at all.
var neverOpen = time.Unix(0, 0).UTC()

// AwayPeriod returns the closed period that at falls in, identified by the moment it began (the end
// of the last opening), and false when the business is open at at or the schedule is off. The
// period, not the day, is what an away message is sent once for: a night that spans midnight, a
// weekend or a holiday is one period; DST changes move the wall clock, not the period.
func AwayPeriod(bh *switchboard.BusinessHours, at time.Time) (time.Time, bool) {
	if !bh.Enabled || bh.IsOpen(at) {
		return time.Time{}, false
	}
	if since, ok := bh.ClosedSince(at); ok {
		return since, true
	}
	return neverOpen, true
}

// AwayAllowed reports whether the away message may go to this conversation: the message is set,
// and the AI agent does not own the conversation (unless away_while_ai is on).
func AwayAllowed(bh *switchboard.BusinessHours, conv *switchboard.Conversation) bool {
	if strings.TrimSpace(bh.AwayMessage) == "" {
		return false
	}
	return bh.AwayWhileAI || conv.Assignee == nil || conv.Assignee.Kind != switchboard.AssigneeAI
}

// away sends the away message when the message arrived while the business was closed, at most once
// per conversation per closed period, and reports whether it did.
func (s *Service) away(ctx context.Context, ch *switchboard.Channel, conv *switchboard.Conversation, m *switchboard.Message) (bool, error) {
	bh := &ch.Settings.BusinessHours
	at := m.CreatedAt
	if m.Timestamp != nil {
		at = *m.Timestamp
	}
	period, closed := AwayPeriod(bh, at)
	if !closed || !AwayAllowed(bh, conv) {
		return false, nil
	}
	sentFor, err := s.store.AwaySentFor(ctx, conv.ID)
	if err != nil {
		return false, err
	}
	if sentFor != nil && sentFor.Equal(period) {
		return false, nil
	}
	// The client id names the period, so a retried job finds the message it already queued.
	sent, err := s.reply(ctx, conv, bh.AwayMessage, "auto:away:"+itoa(conv.ID)+":"+itoa(period.Unix()))
	if err != nil || !sent {
		return false, err
	}
	if _, err := s.store.MarkAwaySent(ctx, conv.ID, period); err != nil {
		return false, err
	}
	return true, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
