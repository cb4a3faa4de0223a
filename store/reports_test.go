package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

// reportSeed is a known week of activity on two channels.
type reportSeed struct {
	a, b        *switchboard.Channel
	alice, bob  *switchboard.Agent
	week        store.ReportFilter
	newYorkWeek store.ReportFilter
}

// seedReports builds, with the clock:
//
//	c0 (A) Oct 20, resolved, rated 1 by the customer  — before the period
//	c1 (A) Nov 2 09:00, Alice replies after 4 min, resolved 10:00 by Alice, rated 5
//	c2 (A) Nov 2 11:00, a greeting, the AI replies after 30 s, resolved, rated 4 (no agent)
//	c3 (B) Nov 3 23:30, Bob replies after 10 min, resolved Nov 4 00:10 by Bob, survey expires
//	c4 (B) Nov 4 12:00, two customer messages, a note, no reply: open and unassigned
//	c5 (A) Nov 4 13:00, resolved, survey skipped
//	c6 (B) Nov 5 08:00, pending, assigned to Bob
func seedReports(t *testing.T, s *store.Store, clock *switchboard.ManualClock) *reportSeed {
	t.Helper()
	ctx := t.Context()
	at := func(month time.Month, day, hour, min int) {
		clock.Set(time.Date(2026, month, day, hour, min, 0, 0, time.UTC))
	}
	sd := &reportSeed{a: mustChannel(t, s, "106540352242922"), b: mustChannel(t, s, "106540352242923"),
		alice: mustAgent(t, s, "Alice", "alice@example.com", switchboard.RoleAgent), bob: mustAgent(t, s, "Bob", "bob@example.com", switchboard.RoleAgent)}
	for _, m := range []switchboard.ChannelMember{{ChannelID: sd.a.ID, AgentID: sd.alice.ID, Capacity: 5}, {ChannelID: sd.b.ID, AgentID: sd.bob.ID, Capacity: 5}} {
		if err := s.PutChannelMember(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	send := func(conv *switchboard.Conversation, sender string, agentID *int64, text string) {
		if _, _, err := s.QueueOutbound(ctx, &switchboard.Message{ConversationID: conv.ID, Sender: sender, SenderID: agentID, Type: switchboard.TypeText, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	survey := func(conv *switchboard.Conversation, agentID *int64, status string, rating string) {
		res, err := s.ResolveForCSATTest(ctx, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		sv, _, err := s.CreateCSATSurvey(ctx, &switchboard.CSATSurvey{ConversationID: conv.ID, ChannelID: conv.ChannelID, AgentID: agentID,
			Resolution: res, Status: status}, "Skipped.")
		if err != nil || status == switchboard.SurveySkipped {
			return
		}
		msg, _, err := s.QueueOutbound(ctx, &switchboard.Message{ConversationID: conv.ID, Sender: switchboard.SenderSystem, Type: "interactive", Text: "Rate us"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CSATSurveySent(ctx, sv.ID, msg.ID, clock.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if rating != "" {
			ch := sd.a
			if conv.ChannelID == sd.b.ID {
				ch = sd.b
			}
			if id, err := s.CSATReplyForTest(ctx, ch, conv.ContactID, typed(rating)); err != nil || id != conv.ID {
				t.Fatalf("rating %s not captured: %v", rating, err)
			}
		}
	}
	at(10, 20, 9, 0)
	c0 := mustConversation(t, s, sd.a, "33600000000", "wamid.S0", "old", clock.Now())
	survey(c0, &sd.alice.ID, switchboard.SurveyPending, "1")

	at(11, 2, 9, 0)
	c1 := mustConversation(t, s, sd.a, "33600000001", "wamid.S1", "hello", clock.Now())
	at(11, 2, 9, 4)
	send(c1, switchboard.SenderAgent, &sd.alice.ID, "Hi, Alice here")
	at(11, 2, 10, 0)
	survey(c1, &sd.alice.ID, switchboard.SurveyPending, "5")

	at(11, 2, 11, 0)
	c2 := mustConversation(t, s, sd.a, "33600000002", "wamid.S2", "hello", clock.Now())
	send(c2, switchboard.SenderSystem, nil, "Welcome!")
	clock.Advance(30 * time.Second)
	send(c2, switchboard.SenderAI, nil, "I'm the assistant")
	survey(c2, nil, switchboard.SurveyPending, "⭐⭐⭐⭐")

	at(11, 3, 23, 30)
	c3 := mustConversation(t, s, sd.b, "33600000003", "wamid.S3", "late night", clock.Now())
	at(11, 3, 23, 40)
	send(c3, switchboard.SenderAgent, &sd.bob.ID, "Bob here")
	at(11, 4, 0, 10)
	survey(c3, &sd.bob.ID, switchboard.SurveyPending, "")

	at(11, 4, 12, 0)
	c4 := mustConversation(t, s, sd.b, "33600000004", "wamid.S4a", "anyone?", clock.Now())
	mustConversation(t, s, sd.b, "33600000004", "wamid.S4b", "hello??", clock.Now())
	if _, _, err := s.QueueOutbound(ctx, &switchboard.Message{ConversationID: c4.ID, Sender: switchboard.SenderAgent, SenderID: &sd.bob.ID,
		Type: switchboard.TypeNote, Private: true, Text: "VIP"}); err != nil {
		t.Fatal(err)
	}

	at(11, 4, 13, 0)
	c5 := mustConversation(t, s, sd.a, "33600000005", "wamid.S5", "hi", clock.Now())
	survey(c5, nil, switchboard.SurveySkipped, "")

	at(11, 5, 8, 0)
	c6 := mustConversation(t, s, sd.b, "33600000006", "wamid.S6", "hi", clock.Now())
	if _, err := s.SQL().ExecContext(ctx, `UPDATE conversations SET status = 'pending', assignee_kind = 'human', assignee_id = $1 WHERE id = $2`, sd.bob.ID, c6.ID); err != nil {
		t.Fatal(err)
	}
	at(11, 9, 12, 0)
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)
	sd.week = store.ReportFilter{From: from, To: to}
	ny, _ := time.LoadLocation("America/New_York")
	sd.newYorkWeek = store.ReportFilter{From: from, To: to, Location: ny}
	return sd
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCSATReport(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		sd := seedReports(t, s, clock)
		rep, err := s.CSATReport(ctx, sd.week)
		if err != nil {
			t.Fatal(err)
		}
		if got := compact(rep.CSATStats); got != `{"sent":3,"answered":2,"skipped":1,"response_rate":0.67,"average":4.5,"distribution":{"1":0,"2":0,"3":0,"4":1,"5":1}}` {
			t.Fatalf("totals: %s", got)
		}
		if len(rep.ByAgent) != 3 || *rep.ByAgent[0].AgentID != sd.alice.ID || rep.ByAgent[0].Name != "Alice" || *rep.ByAgent[0].Average != 5 ||
			*rep.ByAgent[1].AgentID != sd.bob.ID || rep.ByAgent[1].Sent != 1 || rep.ByAgent[1].Average != nil || rep.ByAgent[1].ResponseRate != 0 ||
			rep.ByAgent[2].AgentID != nil || rep.ByAgent[2].Sent != 1 || rep.ByAgent[2].Skipped != 1 || *rep.ByAgent[2].Average != 4 {
			t.Fatalf("by agent: %s", compact(rep.ByAgent))
		}
		if len(rep.ByChannel) != 2 || rep.ByChannel[0].ChannelID != sd.a.ID || rep.ByChannel[0].Name != sd.a.Name || rep.ByChannel[0].Sent != 2 ||
			rep.ByChannel[0].Skipped != 1 || *rep.ByChannel[0].Average != 4.5 || rep.ByChannel[1].Sent != 1 || rep.ByChannel[1].Answered != 0 {
			t.Fatalf("by channel: %s", compact(rep.ByChannel))
		}
		days := func(r *store.CSATReport) string {
			out := ""
			for _, d := range r.ByPeriod {
				out += d.Day + "=" + compact([]int{d.Sent, d.Answered, d.Skipped}) + " "
			}
			return out
		}
		if got := days(rep); got != "2026-11-02=[2,2,0] 2026-11-04=[1,0,1] " {
			t.Fatalf("by day (UTC): %s", got)
		}
		ny, err := s.CSATReport(ctx, sd.newYorkWeek)
		if err != nil {
			t.Fatal(err)
		}
		if got := days(ny); got != "2026-11-02=[2,2,0] 2026-11-03=[1,0,0] 2026-11-04=[0,0,1] " {
			t.Fatalf("by day (New York): %s", got)
		}
		for name, tc := range map[string]struct {
			f        store.ReportFilter
			sent     int
			answered int
		}{
			"alice":          {store.ReportFilter{From: sd.week.From, To: sd.week.To, AgentID: sd.alice.ID}, 1, 1},
			"channel B":      {store.ReportFilter{From: sd.week.From, To: sd.week.To, ChannelID: sd.b.ID}, 1, 0},
			"bob's channels": {store.ReportFilter{From: sd.week.From, To: sd.week.To, ViewerID: sd.bob.ID}, 1, 0},
			"with October":   {store.ReportFilter{From: sd.week.From.AddDate(0, -1, 0), To: sd.week.To}, 4, 3},
			"empty":          {store.ReportFilter{From: sd.week.To, To: sd.week.To.AddDate(0, 0, 7)}, 0, 0},
		} {
			r, err := s.CSATReport(ctx, tc.f)
			if err != nil || r.Sent != tc.sent || r.Answered != tc.answered {
				t.Fatalf("%s: %s %v", name, compact(r), err)
			}
			if name == "empty" && (r.Average != nil || r.ResponseRate != 0 || len(r.ByAgent) != 0 || compact(r.ByPeriod) != "[]") {
				t.Fatalf("empty: %s", compact(r))
			}
		}
	})
}

func TestOverviewReport(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		sd := seedReports(t, s, clock)
		rep, err := s.OverviewReport(ctx, sd.week)
		if err != nil {
			t.Fatal(err)
		}
		// In: c1..c6 one each, plus c4's second message (the survey answers are recorded, not stored).
		// Out: Alice and Bob once each, the AI once, the system's greeting and three surveys.
		want := `{"from":"2026-11-01T00:00:00Z","to":"2026-11-08T00:00:00Z","conversations_created":6,"conversations_resolved":4,` +
			`"messages_in":7,"messages_out":7,"messages_out_by_sender":{"agent":2,"ai":1,"system":4},` +
			`"median_first_response_seconds":240,"first_responses":3,"open":1,"pending":1,"unassigned":1}`
		if got := compact(rep); got != want {
			t.Fatalf("overview:\n got %s\nwant %s", got, want)
		}
		bob, err := s.OverviewReport(ctx, store.ReportFilter{From: sd.week.From, To: sd.week.To, ViewerID: sd.bob.ID})
		if err != nil {
			t.Fatal(err)
		}
		if bob.ConversationsCreated != 3 || bob.MessagesIn != 4 || *bob.MedianFirstResponseSeconds != 600 || bob.Open != 1 || bob.Pending != 1 {
			t.Fatalf("bob's channels: %s", compact(bob))
		}
		a, err := s.OverviewReport(ctx, store.ReportFilter{From: sd.week.From, To: sd.week.To, ChannelID: sd.a.ID})
		if err != nil || a.ConversationsCreated != 3 || *a.MedianFirstResponseSeconds != 135 || a.Open != 0 || a.Unassigned != 0 {
			t.Fatalf("channel A: %s %v", compact(a), err)
		}
		empty, err := s.OverviewReport(ctx, store.ReportFilter{From: sd.week.To, To: sd.week.To.AddDate(0, 0, 1)})
		if err != nil || empty.ConversationsCreated != 0 || empty.MedianFirstResponseSeconds != nil || empty.Open != 1 {
			t.Fatalf("empty period: %s %v", compact(empty), err)
		}
	})
}
