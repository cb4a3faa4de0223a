package automation_test

import (
	"testing"
	"time"

	"switchboard"
	"switchboard/automation"
)

// TestNeedsWork is the ingestion's question "would the automations do anything for this message?",
// asked for the cases where the answer is known. (Every database test of this package also checks
// that a message judged to need nothing gets nothing: see env.handle.)
func TestNeedsWork(t *testing.T) {
	saturday := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) // closed under weekdays 09:00-17:00
	monday := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)   // open
	friday := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)   // the weekend's closed period starts here
	earlier := friday.Add(-7 * 24 * time.Hour)
	hours := switchboard.BusinessHours{Enabled: true, Timezone: "UTC", AwayMessage: "Closed.", Weekly: weekdays("09:00", "17:00")}
	settings := func(change func(*switchboard.ChannelSettings)) *switchboard.Channel {
		s := switchboard.DefaultChannelSettings()
		s.Greeting = switchboard.GreetingSettings{Enabled: true, Text: "Hello!"}
		if change != nil {
			change(&s)
		}
		return &switchboard.Channel{Settings: s}
	}
	withHours := settings(func(s *switchboard.ChannelSettings) { s.BusinessHours = hours })
	human := &switchboard.Assignee{Kind: switchboard.AssigneeHuman, ID: 7}
	ai := &switchboard.Assignee{Kind: switchboard.AssigneeAI, ID: 2}
	open := func(a *switchboard.Assignee) *switchboard.Conversation {
		return &switchboard.Conversation{Status: switchboard.StatusOpen, Assignee: a}
	}
	resolvedAt := monday.Add(-time.Hour)
	resolved := &switchboard.Conversation{Status: switchboard.StatusResolved, ResolvedAt: &resolvedAt, Assignee: human}
	text := func(body string, at time.Time) *switchboard.Message {
		return &switchboard.Message{Direction: switchboard.Inbound, Type: switchboard.TypeText, Text: body, Timestamp: &at, CreatedAt: at}
	}
	for _, tc := range []struct {
		name string
		ch   *switchboard.Channel
		conv *switchboard.Conversation
		msg  *switchboard.Message
		job  switchboard.InboundJob
		away *time.Time
		want bool
	}{
		{"a message in a conversation a person owns", settings(nil), open(human), text("where is my order?", monday), switchboard.InboundJob{}, nil, false},
		{"the first message of a conversation is greeted", settings(nil), open(nil), text("hi", monday), switchboard.InboundJob{NewConversation: true}, nil, true},
		{"no greeting when it is off", settings(func(s *switchboard.ChannelSettings) { s.Greeting.Enabled = false }), open(nil), text("hi", monday), switchboard.InboundJob{NewConversation: true}, nil, false},
		{"a reopened conversation is not greeted by default", settings(nil), open(human), text("hi", monday), switchboard.InboundJob{Reopened: true}, nil, false},
		{"a keyword", settings(nil), open(human), text(" stop ", monday), switchboard.InboundJob{}, nil, true},
		{"a keyword as a template button", settings(nil), open(human), &switchboard.Message{Direction: switchboard.Inbound, Type: "button", Text: "STOP", CreatedAt: monday}, switchboard.InboundJob{}, nil, true},
		{"a sentence containing a keyword is not one", settings(nil), open(human), text("please stop calling", monday), switchboard.InboundJob{}, nil, false},
		{"an answer to a CSAT survey", settings(nil), resolved, text("5", monday), switchboard.InboundJob{}, nil, true},
		{"closed, away message not yet sent", withHours, open(human), text("hello?", saturday), switchboard.InboundJob{}, nil, true},
		{"closed, away message sent for an earlier period", withHours, open(human), text("hello?", saturday), switchboard.InboundJob{}, &earlier, true},
		{"closed, away message already sent for this period", withHours, open(human), text("hello?", saturday), switchboard.InboundJob{}, &friday, false},
		{"open hours", withHours, open(human), text("hello?", monday), switchboard.InboundJob{}, nil, false},
		{"closed, but the AI agent owns it", withHours, open(ai), text("hello?", saturday), switchboard.InboundJob{}, nil, false},
		{"closed, the AI agent owns it and away_while_ai", settings(func(s *switchboard.ChannelSettings) {
			s.BusinessHours = hours
			s.BusinessHours.AwayWhileAI = true
		}), open(ai), text("hello?", saturday), switchboard.InboundJob{}, nil, true},
		{"an activity line", withHours, open(nil), &switchboard.Message{Direction: switchboard.Inbound, Type: switchboard.TypeActivity, CreatedAt: saturday}, switchboard.InboundJob{NewConversation: true}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := automation.New(automation.Options{})
			got := svc.NeedsWork(switchboard.InboundWork{Channel: tc.ch, Conversation: tc.conv, Message: tc.msg, Job: tc.job, AwaySentFor: tc.away})
			if got != tc.want {
				t.Fatalf("NeedsWork = %v, want %v", got, tc.want)
			}
		})
	}
}
