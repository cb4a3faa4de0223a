package store_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

func mustAIAgent(t *testing.T, s *store.Store, name, key string) *switchboard.AIAgent {
	t.Helper()
	a := &switchboard.AIAgent{Name: name, Model: "gpt-4o-mini", Instructions: "Be kind.", Temperature: 0.2, TurnLimit: 5,
		APIKey: key, Enabled: true, HandoffMessage: "A colleague will answer you shortly."}
	if err := s.CreateAIAgent(t.Context(), a); err != nil {
		t.Fatalf("create AI agent: %v", err)
	}
	return a
}

func TestAIAgents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		a := mustAIAgent(t, s, " Ava ", "sk-test-secret-0001")
		if a.ID == 0 || a.Name != "Ava" || !a.HasAPIKey || a.UnreadableAction != switchboard.UnreadableHandoff ||
			strings.Join(a.HandoffPhrases, ",") != strings.Join(switchboard.DefaultHandoffPhrases, ",") {
			t.Fatalf("created: %+v", a)
		}
		var stored string
		if err := s.SQL().QueryRowContext(ctx, "SELECT api_key_enc FROM ai_agents WHERE id = "+strconv.FormatInt(a.ID, 10)).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == "" || strings.Contains(stored, "sk-test-secret") {
			t.Fatalf("the API key is not encrypted at rest: %q", stored)
		}
		got, err := s.AIAgent(ctx, a.ID)
		if err != nil || got.APIKey != "sk-test-secret-0001" || got.Temperature != 0.2 || got.TurnLimit != 5 || !got.Enabled {
			t.Fatalf("read back: %+v %v", got, err)
		}

		dup := &switchboard.AIAgent{Name: "AVA", Model: "llama3.1"}
		if err := s.CreateAIAgent(ctx, dup); !switchboard.IsCode(err, switchboard.ECONFLICT) || switchboard.ErrorFields(err)["name"] == "" {
			t.Fatalf("duplicate name: %v", err)
		}
		bad := &switchboard.AIAgent{Name: "", Model: "", Temperature: 3, UnreadableAction: switchboard.UnreadableReply, BaseURL: "ftp://x"}
		err = s.CreateAIAgent(ctx, bad)
		for _, f := range []string{"name", "model", "temperature", "unreadable_reply", "base_url"} {
			if switchboard.ErrorFields(err)[f] == "" {
				t.Errorf("no problem for %s: %v", f, err)
			}
		}

		// An empty phrase list is kept: that agent never hands off on a phrase.
		quiet := &switchboard.AIAgent{Name: "Quiet", Model: "llama3.1", HandoffPhrases: []string{}}
		if err := s.CreateAIAgent(ctx, quiet); err != nil || len(quiet.HandoffPhrases) != 0 || quiet.HasAPIKey {
			t.Fatalf("quiet: %+v %v", quiet, err)
		}
		list, err := s.ListAIAgents(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "Ava" || list[0].APIKey != "" || !list[0].HasAPIKey || list[1].HasAPIKey {
			t.Fatalf("list: %+v %v", list, err)
		}

		// Updating keeps the key unless it is changed; clearing it falls back to the server's key.
		up, err := s.UpdateAIAgent(ctx, a.ID, func(x *switchboard.AIAgent) error {
			x.Model, x.HandoffPhrases = "gpt-4.1-mini", []string{" agent ", "Agent", "", "humain"}
			return nil
		})
		if err != nil || up.Model != "gpt-4.1-mini" || up.APIKey != "sk-test-secret-0001" || strings.Join(up.HandoffPhrases, ",") != "agent,humain" {
			t.Fatalf("update: %+v %v", up, err)
		}
		if _, err := s.UpdateAIAgent(ctx, a.ID, func(x *switchboard.AIAgent) error { x.Name = "quiet"; return nil }); !switchboard.IsCode(err, switchboard.ECONFLICT) {
			t.Fatalf("rename onto another agent: %v", err)
		}
		if _, err := s.UpdateAIAgent(ctx, a.ID, func(x *switchboard.AIAgent) error { x.TurnLimit = -1; return nil }); !switchboard.IsCode(err, switchboard.EINVALID) {
			t.Fatalf("invalid update: %v", err)
		}
		up, err = s.UpdateAIAgent(ctx, a.ID, func(x *switchboard.AIAgent) error { x.APIKey = ""; return nil })
		if err != nil || up.HasAPIKey {
			t.Fatalf("clear key: %+v %v", up, err)
		}
		if _, err := s.UpdateAIAgent(ctx, 9999, func(*switchboard.AIAgent) error { return nil }); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("update missing: %v", err)
		}

		// A channel that uses the agent keeps it from being deleted.
		ch := mustChannel(t, s, "106540352242922")
		if _, err := s.UpdateChannel(ctx, ch.ID, func(c *switchboard.Channel) error { c.AIAgentID = &a.ID; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAIAgent(ctx, a.ID); !switchboard.IsCode(err, switchboard.ECONFLICT) || !strings.Contains(err.Error(), ch.Name) {
			t.Fatalf("delete while in use: %v", err)
		}
		if _, err := s.UpdateChannel(ctx, ch.ID, func(c *switchboard.Channel) error { c.AIAgentID = nil; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAIAgent(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AIAgent(ctx, a.ID); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("deleted agent: %v", err)
		}
		if err := s.DeleteAIAgent(ctx, a.ID); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

func TestAIRepliesAndActivities(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		clock.Set(t0)
		ch := mustChannel(t, s, "106540352242922")
		batch := &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("33612345678", "Marie", "wamid.A1", "Bonjour", t0)}}
		if _, err := s.IngestInbound(ctx, ch, batch); err != nil {
			t.Fatal(err)
		}
		convs, _, err := s.ListConversations(ctx, store.ConversationFilter{})
		if err != nil || len(convs) != 1 {
			t.Fatalf("conversations: %v %v", convs, err)
		}
		conv := convs[0]
		for _, sender := range []string{switchboard.SenderAI, switchboard.SenderAgent, switchboard.SenderAI} {
			clock.Advance(time.Minute)
			m := &switchboard.Message{ConversationID: conv.ID, Sender: sender, Type: switchboard.TypeText, Text: "Reply from " + sender}
			if _, _, err := s.QueueOutbound(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.CountAIReplies(ctx, conv.ID, time.Time{}); err != nil || n != 2 {
			t.Fatalf("AI replies: %d %v", n, err)
		}
		if n, err := s.CountAIReplies(ctx, conv.ID, t0.Add(150*time.Second)); err != nil || n != 1 {
			t.Fatalf("AI replies since the assignment: %d %v", n, err)
		}

		act, events, err := s.LogActivity(ctx, conv.ID, "Handed to a person: the customer asked for one.", "ai-handoff:1")
		if err != nil || act.ID == 0 || act.Type != switchboard.TypeActivity || act.Sender != switchboard.SenderSystem ||
			len(events) != 1 || events[0].Type != switchboard.EventMessageCreated || events[0].ConversationID != conv.ID {
			t.Fatalf("activity: %+v %+v %v", act, events, err)
		}
		again, events, err := s.LogActivity(ctx, conv.ID, "Handed to a person: the customer asked for one.", "ai-handoff:1")
		if err != nil || again.ID != act.ID || len(events) != 0 {
			t.Fatalf("a retried activity is written once: %+v %v", again, err)
		}
		if _, _, err := s.LogActivity(ctx, 9999, "x", ""); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("activity in a missing conversation: %v", err)
		}
		msgs, _, _ := s.ListMessages(ctx, conv.ID, "", 0)
		if len(msgs) != 5 || msgs[4].Type != switchboard.TypeActivity {
			t.Fatalf("messages: %d", len(msgs))
		}
		jobs, _ := s.ListJobs(ctx, store.JobFilter{Kind: switchboard.SendJobKind})
		if len(jobs) != 3 {
			t.Fatalf("an activity is never sent: %d send jobs", len(jobs))
		}
		if jobs[0].MaxAttempts != switchboard.SendMaxAttempts {
			t.Fatalf("a send job has %d attempts, want %d (minutes of Graph API outage)", jobs[0].MaxAttempts, switchboard.SendMaxAttempts)
		}
	})
}
