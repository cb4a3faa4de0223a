package agents_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/agents"
	"switchboard/agents/openaitest"
	"switchboard/store"
)

func TestNormalAnswer(t *testing.T) {
	each(t, nil, func(t *testing.T, e *env) {
		e.ai.Script(openaitest.Text("**Bonjour** Marie ! We are open from 9:00 to 18:00.\n## Details\nSee [our site](https://bikes.example)."))
		convID, msgID := e.text("Hello, when are you open?")
		res := e.reply(convID, msgID)
		if res.Outcome != agents.Answered || res.Message == nil || res.Message.Sender != switchboard.SenderAI ||
			res.Message.Status != switchboard.MsgQueued || res.Message.SenderName != "Ava" {
			t.Fatalf("result: %+v %+v", res, res.Message)
		}
		want := "*Bonjour* Marie ! We are open from 9:00 to 18:00.\n*Details*\nSee our site (https://bikes.example)."
		if res.Message.Text != want {
			t.Fatalf("WhatsApp formatting:\n got %q\nwant %q", res.Message.Text, want)
		}
		jobs, _ := e.st.ListJobs(t.Context(), store.JobFilter{Kind: switchboard.SendJobKind})
		if len(jobs) != 1 || !strings.Contains(string(jobs[0].Payload), `"message_id"`) {
			t.Fatalf("the answer takes the one outbound path: %+v", jobs)
		}
		if e.typing.count() != 1 || len(e.handoffs.calls()) != 0 {
			t.Fatalf("typing %d, handoffs %v", e.typing.count(), e.handoffs.calls())
		}
		reqs := e.ai.Requests()
		if len(reqs) != 1 {
			t.Fatalf("requests: %d", len(reqs))
		}
		r := reqs[0]
		sys := r.Chat.Messages[0]
		if r.Path != "/v1/chat/completions" || r.Authorization != "Bearer "+agentKey || r.Chat.Model != "gpt-4o-mini" ||
			r.Chat.Temperature == nil || *r.Chat.Temperature < 0.29 || *r.Chat.Temperature > 0.31 ||
			len(r.Chat.Tools) != 1 || r.Chat.Tools[0].Function.Name != "handoff_to_human" ||
			!strings.Contains(string(r.Chat.Tools[0].Function.Parameters), `"reason"`) {
			t.Fatalf("request: %+v", r.Chat)
		}
		for _, s := range []string{"You help customers of Dupont Bikes.", "Opening hours: 9:00-18:00", "handoff_to_human", "WhatsApp", "Marie"} {
			if sys.Role != "system" || !strings.Contains(sys.Text(), s) {
				t.Errorf("system prompt lacks %q:\n%s", s, sys.Text())
			}
		}
		// A retried job does not answer twice, and the AI never answers its own message.
		if res := e.reply(convID, msgID); res.Outcome != agents.Skipped || res.Reason != agents.SkipAnswered {
			t.Fatalf("retried run: %+v", res)
		}
		if res := e.reply(convID, res.Message.ID); res.Outcome != agents.Skipped || res.Reason != agents.SkipNotCustomer {
			t.Fatalf("own message: %+v", res)
		}
		if len(e.ai.Requests()) != 1 {
			t.Fatal("a skipped run called the model")
		}
	})
}

func TestHistoryInOrder(t *testing.T) {
	each(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		convID, _ := e.text("Hi, I bought a bike")
		for _, m := range []*switchboard.Message{
			{ConversationID: convID, Sender: switchboard.SenderAI, Type: switchboard.TypeText, Text: "Great! How can I help?"},
			{ConversationID: convID, Sender: switchboard.SenderAgent, Type: switchboard.TypeNote, Text: "internal: VIP customer", Private: true},
		} {
			e.clock.Advance(time.Second)
			if _, _, err := e.st.QueueOutbound(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := e.st.LogActivity(ctx, convID, "Assigned to Ava.", ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		e.customer(switchboard.TypeText, "The chain is broken")
		e.clock.Advance(time.Second)
		_, msgID := e.customer(switchboard.TypeText, "Can you repair it?")
		e.reply(convID, msgID)

		got := e.ai.Requests()[0].Chat.Messages
		want := []struct{ role, text string }{
			{"system", ""},
			{"user", "Hi, I bought a bike"},
			{"assistant", "Great! How can I help?"},
			{"user", "The chain is broken\n\nCan you repair it?"},
		}
		if len(got) != len(want) {
			t.Fatalf("messages: %s", texts(got))
		}
		for i, w := range want[1:] {
			if got[i+1].Role != w.role || got[i+1].Text() != w.text {
				t.Errorf("message %d: %s %q, want %s %q", i+1, got[i+1].Role, got[i+1].Text(), w.role, w.text)
			}
		}
		for _, m := range got {
			if strings.Contains(m.Text(), "VIP") || strings.Contains(m.Text(), "Assigned to") {
				t.Fatalf("notes and activities are not sent to the model: %q", m.Text())
			}
		}
	})
}

func TestHistoryBudget(t *testing.T) {
	each(t, func(a *switchboard.AIAgent, o *agents.Options) { o.HistoryChars = 20 }, func(t *testing.T, e *env) {
		convID, _ := e.text("An old message that is long enough to fall out of the budget")
		e.clock.Advance(time.Second)
		e.customer(switchboard.TypeText, "Older")
		if _, _, err := e.st.QueueOutbound(t.Context(), &switchboard.Message{ConversationID: convID, Sender: switchboard.SenderAgent,
			Type: switchboard.TypeText, Text: "Recent answer"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		_, msgID := e.customer(switchboard.TypeText, "Newest")
		e.reply(convID, msgID)
		got := e.ai.Requests()[0].Chat.Messages
		if len(got) != 3 || got[1].Text() != "Recent answer" || got[2].Text() != "Newest" {
			t.Fatalf("the newest messages within the budget: %s", texts(got))
		}
	})
}

func TestToolCallHandoff(t *testing.T) {
	each(t, nil, func(t *testing.T, e *env) {
		e.ai.Script(openaitest.CallTool("handoff_to_human", map[string]string{"reason": "wants a refund for order 1042"}))
		convID, msgID := e.text("I want my money back")
		res := e.reply(convID, msgID)
		if res.Outcome != agents.HandedOff || res.Reason != agents.ReasonModel || !strings.Contains(res.Detail, "wants a refund for order 1042") {
			t.Fatalf("result: %+v", res)
		}
		ai, activities := e.outbound(convID)
		if len(ai) != 1 || ai[0] != "A colleague will take over shortly." {
			t.Fatalf("handoff message: %q", ai)
		}
		if len(activities) != 1 || !strings.Contains(activities[0], "Ava") || !strings.Contains(activities[0], "wants a refund") {
			t.Fatalf("activity: %q", activities)
		}
		if calls := e.handoffs.calls(); len(calls) != 1 || !strings.Contains(calls[0], "wants a refund") {
			t.Fatalf("handoff: %v", calls)
		}
		// After the handoff the AI never answers this conversation again.
		e.clock.Advance(time.Minute)
		_, next := e.customer(switchboard.TypeText, "Hello?")
		if res := e.reply(convID, next); res.Outcome != agents.Skipped || res.Reason != agents.SkipNotOwner {
			t.Fatalf("after handoff: %+v", res)
		}
		if len(e.ai.Requests()) != 1 {
			t.Fatal("the model was asked after the handoff")
		}
	})
}

func TestPhraseHandoff(t *testing.T) {
	each(t, nil, func(t *testing.T, e *env) {
		convID, msgID := e.text("Je veux parler à un CONSEILLER, s'il vous plaît")
		res := e.reply(convID, msgID)
		if res.Outcome != agents.HandedOff || res.Reason != agents.ReasonCustomerAsked || !strings.Contains(res.Detail, "conseiller") {
			t.Fatalf("result: %+v", res)
		}
		if len(e.ai.Requests()) != 0 || e.typing.count() != 0 {
			t.Fatal("a phrase hands off without asking the model")
		}
		if ai, activities := e.outbound(convID); len(ai) != 1 || len(activities) != 1 || len(e.handoffs.calls()) != 1 {
			t.Fatalf("handoff: %q %q %v", ai, activities, e.handoffs.calls())
		}
	})
}

func TestTurnLimitHandoff(t *testing.T) {
	each(t, func(a *switchboard.AIAgent, o *agents.Options) { a.TurnLimit = 2 }, func(t *testing.T, e *env) {
		e.ai.Script(openaitest.Text("First answer"), openaitest.Text("Second answer"), openaitest.Text("Third answer"))
		var convID, msgID int64
		for i, q := range []string{"Question one", "Question two", "Question three"} {
			e.clock.Advance(time.Minute)
			convID, msgID = e.text(q)
			res := e.reply(convID, msgID)
			if i < 2 && res.Outcome != agents.Answered {
				t.Fatalf("turn %d: %+v", i+1, res)
			}
			if i == 2 && (res.Outcome != agents.HandedOff || res.Reason != agents.ReasonTurnLimit || !strings.Contains(res.Detail, "2 replies")) {
				t.Fatalf("turn 3: %+v", res)
			}
		}
		if n := len(e.ai.Requests()); n != 2 {
			t.Fatalf("the model was asked %d times, want 2", n)
		}
		if ai, _ := e.outbound(convID); len(ai) != 3 || ai[2] != "A colleague will take over shortly." {
			t.Fatalf("AI messages: %q", ai)
		}
	})
}

func TestOneRunPerConversation(t *testing.T) {
	each(t, nil, func(t *testing.T, e *env) {
		e.ai.Script(openaitest.Slow(150*time.Millisecond, openaitest.Text("Only once")))
		convID, msgID := e.text("Hello")
		var wg sync.WaitGroup
		results := make([]agents.Result, 3)
		for i := range results {
			wg.Go(func() {
				res, err := e.rt.Reply(t.Context(), convID, msgID)
				if err != nil {
					t.Error(err)
				}
				results[i] = res
			})
		}
		wg.Wait()
		answered := 0
		for _, r := range results {
			if r.Outcome == agents.Answered {
				answered++
			}
		}
		if answered != 1 || len(e.ai.Requests()) != 1 {
			t.Fatalf("concurrent runs: %+v, %d requests", results, len(e.ai.Requests()))
		}
		// A newer customer message supersedes an older one: its own run answers both.
		e.clock.Advance(time.Minute)
		_, first := e.customer(switchboard.TypeText, "One more thing")
		_, second := e.customer(switchboard.TypeText, "Actually two")
		if res := e.reply(convID, first); res.Outcome != agents.Skipped || res.Reason != agents.SkipSuperseded {
			t.Fatalf("superseded: %+v", res)
		}
		if res := e.reply(convID, second); res.Outcome != agents.Answered {
			t.Fatalf("newest: %+v", res)
		}
	})
}

// texts shows chat messages readably in failures.
func texts(msgs []openaitest.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("\n" + m.Role + ": " + m.Text())
	}
	return b.String()
}
