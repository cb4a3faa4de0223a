package store_test

import (
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

// mustConversation ingests one customer message and returns the conversation it started or joined.
func mustConversation(t *testing.T, s *store.Store, ch *switchboard.Channel, waID, wamid, text string, at time.Time) *switchboard.Conversation {
	t.Helper()
	res, err := s.IngestInbound(t.Context(), ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{
		textMsg(waID, "Customer "+waID, wamid, text, at)}})
	if err != nil || res.Messages != 1 {
		t.Fatalf("ingest %s: %+v %v", wamid, res, err)
	}
	var convID int64
	for _, e := range res.Events {
		convID = e.ConversationID
	}
	conv, err := s.Conversation(t.Context(), convID)
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

func TestContactOptOutAndIn(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		clock.Set(t0)
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		conv := mustConversation(t, s, ch, "33612345678", "wamid.O1", "STOP", t0)
		c, changed, err := s.SetContactOptOut(ctx, conv.ContactID, true)
		if err != nil || !changed || !c.OptedOut || c.OptedOutAt == nil || !c.OptedOutAt.Equal(t0) {
			t.Fatalf("opt out: %+v %v %v", c, changed, err)
		}
		clock.Advance(time.Hour)
		c, changed, err = s.SetContactOptOut(ctx, conv.ContactID, true)
		if err != nil || changed || !c.OptedOutAt.Equal(t0) {
			t.Fatalf("a second STOP keeps the first opt-out time: %+v %v %v", c, changed, err)
		}
		got, err := s.Conversation(ctx, conv.ID)
		if err != nil || !got.Contact.OptedOut {
			t.Fatalf("the conversation's contact shows the opt-out: %+v %v", got.Contact, err)
		}
		c, changed, err = s.SetContactOptOut(ctx, conv.ContactID, false)
		if err != nil || !changed || c.OptedOut || c.OptedOutAt != nil {
			t.Fatalf("opt in: %+v %v %v", c, changed, err)
		}
		if _, _, err := s.SetContactOptOut(ctx, 999999, true); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("unknown contact: %v", err)
		}
	})
}

func TestLogActivityOnce(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		clock.Set(t0)
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		conv := mustConversation(t, s, ch, "33612345678", "wamid.L1", "HELP", t0)
		m, events, err := s.LogActivity(ctx, conv.ID, "The customer asked for help.", "auto:test:1")
		if err != nil || len(events) != 1 || events[0].Type != switchboard.EventMessageCreated {
			t.Fatalf("log: %+v %+v %v", m, events, err)
		}
		if m.Type != switchboard.TypeActivity || m.Sender != switchboard.SenderSystem || m.Direction != switchboard.Outbound {
			t.Fatalf("activity: %+v", m)
		}
		again, events, err := s.LogActivity(ctx, conv.ID, "The customer asked for help.", "auto:test:1")
		if err != nil || again.ID != m.ID || len(events) != 0 {
			t.Fatalf("a retried job logs nothing new: %+v %+v %v", again, events, err)
		}
		msgs, _, _ := s.ListMessages(ctx, conv.ID, "", 0)
		if len(msgs) != 2 || msgs[1].ID != m.ID {
			t.Fatalf("messages: %+v", msgs)
		}
		if jobs, _ := s.ListJobs(ctx, store.JobFilter{Kind: switchboard.SendJobKind}); len(jobs) != 0 {
			t.Fatalf("an activity line is never sent: %+v", jobs)
		}
		after, _ := s.Conversation(ctx, conv.ID)
		if after.LastMessage != "HELP" {
			t.Fatalf("an activity line does not become the conversation's preview: %q", after.LastMessage)
		}
		if _, _, err := s.LogActivity(ctx, 999999, "x", ""); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("unknown conversation: %v", err)
		}
	})
}

func TestAwaySentForPeriods(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		clock.Set(t0)
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		conv := mustConversation(t, s, ch, "33612345678", "wamid.A1", "hello?", t0)
		if at, err := s.AwaySentFor(ctx, conv.ID); err != nil || at != nil {
			t.Fatalf("new conversation: %v %v", at, err)
		}
		p1 := time.Date(2026, 11, 20, 17, 30, 0, 0, time.UTC)
		p2 := time.Date(2026, 11, 21, 17, 30, 0, 0, time.UTC)
		for i, step := range []struct {
			period time.Time
			first  bool
		}{{p1, true}, {p1, false}, {p2, true}, {p2, false}} {
			first, err := s.MarkAwaySent(ctx, conv.ID, step.period)
			if err != nil || first != step.first {
				t.Fatalf("step %d: first=%v err=%v, want %v", i, first, err, step.first)
			}
		}
		if at, err := s.AwaySentFor(ctx, conv.ID); err != nil || at == nil || !at.Equal(p2) {
			t.Fatalf("away sent for: %v %v", at, err)
		}
		if _, err := s.MarkAwaySent(ctx, 999999, p1); !switchboard.IsCode(err, switchboard.ENOTFOUND) {
			t.Fatalf("unknown conversation: %v", err)
		}
	})
}
