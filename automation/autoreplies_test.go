package automation_test

import (
	"slices"
	"testing"
	"time"

	"switchboard"
	"switchboard/automation"
)

func TestMatchKeyword(t *testing.T) {
	rules := switchboard.DefaultChannelSettings().Keywords
	off := false
	disabled := append(slices.Clone(rules), switchboard.KeywordRule{Category: switchboard.KeywordHelp, Enabled: &off, Keywords: []string{"INFO"}})
	for _, tc := range []struct {
		typ, text string
		want      switchboard.KeywordCategory
	}{
		{switchboard.TypeText, "STOP", switchboard.KeywordOptOut},
		{switchboard.TypeText, "stop", switchboard.KeywordOptOut},
		{switchboard.TypeText, " Stop \n", switchboard.KeywordOptOut},
		{switchboard.TypeText, "unsubscribe", switchboard.KeywordOptOut},
		{switchboard.TypeText, "Start", switchboard.KeywordOptIn},
		{switchboard.TypeText, "help", switchboard.KeywordHelp},
		{"button", "STOP", switchboard.KeywordOptOut},
		{switchboard.TypeText, "please stop", ""},
		{switchboard.TypeText, "INFO", ""},
		{"image", "STOP", ""},
	} {
		got := automation.MatchKeyword(disabled, &switchboard.Message{Type: tc.typ, Text: tc.text})
		if (got == nil && tc.want != "") || (got != nil && got.Category != tc.want) {
			t.Errorf("%s %q: got %+v, want %q", tc.typ, tc.text, got, tc.want)
		}
	}
}

func TestShouldGreet(t *testing.T) {
	on := switchboard.GreetingSettings{Enabled: true, Text: "Hi!"}
	onReopen := switchboard.GreetingSettings{Enabled: true, Text: "Hi!", OnReopen: true}
	newConv := switchboard.InboundJob{NewConversation: true}
	reopened := switchboard.InboundJob{Reopened: true}
	for i, tc := range []struct {
		g       switchboard.GreetingSettings
		job     switchboard.InboundJob
		keyword bool
		want    bool
	}{
		{on, newConv, false, true},
		{on, switchboard.InboundJob{}, false, false},
		{on, reopened, false, false},
		{onReopen, reopened, false, true},
		{on, newConv, true, false},
		{switchboard.GreetingSettings{Text: "Hi!"}, newConv, false, false},
		{switchboard.GreetingSettings{Enabled: true, Text: " "}, newConv, false, false},
	} {
		if got := automation.ShouldGreet(tc.g, tc.job, tc.keyword); got != tc.want {
			t.Errorf("case %d: got %v, want %v", i, got, tc.want)
		}
	}
}

func TestGreetingOnce(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	each(t, start, func(s *switchboard.ChannelSettings) {
		s.Greeting = switchboard.GreetingSettings{Enabled: true, Text: "Hello! An agent will be with you shortly."}
	}, func(t *testing.T, e *env) {
		job, out := e.text("33612345678", "Hi, my order is late")
		if !job.NewConversation || !out.Greeted || !out.Route || out.AwaySent || out.Keyword != "" {
			t.Fatalf("first message: %+v %+v", job, out)
		}
		e.clock.Advance(time.Minute)
		_, out = e.text("33612345678", "Order 1234")
		if out.Greeted {
			t.Fatal("a second message is not greeted")
		}
		e.handle(job) // the first job again, as after a crash
		if got := texts(e.automated(job.ConversationID)); len(got) != 1 || got[0] != "Hello! An agent will be with you shortly." {
			t.Fatalf("one greeting per conversation: %q", got)
		}
		// A reopen is not greeted unless the channel says so.
		e.resolve(job.ConversationID)
		e.clock.Advance(time.Hour)
		reopen, out := e.text("33612345678", "It came, thanks, but one more thing")
		if !reopen.Reopened || reopen.ConversationID != job.ConversationID || out.Greeted {
			t.Fatalf("reopen: %+v %+v", reopen, out)
		}
		if _, err := e.s.UpdateChannel(t.Context(), e.ch.ID, func(c *switchboard.Channel) error {
			c.Settings.Greeting.OnReopen = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		e.resolve(job.ConversationID)
		e.clock.Advance(time.Hour)
		if reopen, out = e.text("33612345678", "Hello again"); !reopen.Reopened || !out.Greeted {
			t.Fatalf("reopen greeted when configured: %+v %+v", reopen, out)
		}
		if n := len(e.automated(job.ConversationID)); n != 2 {
			t.Fatalf("greetings: %d", n)
		}
		// A message that a keyword answers is not greeted.
		help, out := e.text("14155550100", "HELP")
		if !help.NewConversation || out.Greeted || !out.KeywordAnswered {
			t.Fatalf("help: %+v %+v", help, out)
		}
	})
}

func TestKeywordsOptOutInHelp(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	defaults := switchboard.DefaultChannelSettings().Keywords
	each(t, start, func(s *switchboard.ChannelSettings) {
		s.Greeting = switchboard.GreetingSettings{Enabled: true, Text: "Hello!"}
	}, func(t *testing.T, e *env) {
		for i, word := range []string{"STOP", "stop", "Stop"} {
			waID := "3361234567" + string(rune('0'+i))
			job, out := e.text(waID, word)
			if out.Keyword != switchboard.KeywordOptOut || !out.KeywordAnswered || out.Greeted || !out.Route {
				t.Fatalf("%q: %+v", word, out)
			}
			conv := e.conversation(job.ConversationID)
			if !conv.Contact.OptedOut || conv.Contact.OptedOutAt == nil {
				t.Fatalf("%q: contact not opted out: %+v", word, conv.Contact)
			}
			if got := texts(e.automated(conv.ID)); len(got) != 1 || got[0] != defaults[0].Response {
				t.Fatalf("%q: response %q", word, got)
			}
			if got := texts(e.activities(conv.ID)); len(got) != 1 || got[0] != "The customer opted out with “"+word+"”: templates are no longer sent to them." {
				t.Fatalf("%q: activity %q", word, got)
			}
			e.handle(job) // retried: nothing twice
			if len(e.automated(conv.ID)) != 1 || len(e.activities(conv.ID)) != 1 {
				t.Fatalf("%q: a retried job repeated itself", word)
			}
		}
		job, out := e.text("33612345670", "start")
		conv := e.conversation(job.ConversationID)
		if out.Keyword != switchboard.KeywordOptIn || conv.Contact.OptedOut || conv.Contact.OptedOutAt != nil {
			t.Fatalf("opt in: %+v %+v", out, conv.Contact)
		}
		if got := texts(e.automated(conv.ID)); got[len(got)-1] != defaults[1].Response {
			t.Fatalf("opt-in response: %q", got)
		}
		job, out = e.text("33612345670", "Help")
		conv = e.conversation(job.ConversationID)
		if out.Keyword != switchboard.KeywordHelp || conv.Contact.OptedOut {
			t.Fatalf("help: %+v %+v", out, conv.Contact)
		}
		if got := texts(e.automated(conv.ID)); got[len(got)-1] != defaults[2].Response {
			t.Fatalf("help response: %q", got)
		}
		if _, out = e.text("33612345670", "stop sending me offers please"); out.Keyword != "" {
			t.Fatal("only a message that is exactly a keyword matches")
		}
	})
}
