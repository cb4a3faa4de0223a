package store_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func textMsg(waID, name, wamid, text string, at time.Time) switchboard.InboundMessage {
	return switchboard.InboundMessage{WaID: waID, ProfileName: name, ExternalID: wamid, Timestamp: at,
		Message: &switchboard.Message{Type: switchboard.TypeText, Text: text, ExternalID: wamid, Timestamp: &at}}
}

func TestIngestNewConversationOnce(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		batch := &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{
			textMsg("33612345678", "Marie", "wamid.A1", "Bonjour", t0.Add(-time.Minute)),
			textMsg("14155550100", "John", "wamid.B1", "Hello", t0.Add(-time.Minute)),
			textMsg("33612345678", "Marie", "wamid.A2", "Vous êtes là ?", t0),
		}}
		res, err := s.IngestInbound(ctx, ch, batch)
		if err != nil {
			t.Fatal(err)
		}
		if res.Messages != 3 || res.Duplicates != 0 || len(res.Events) != 6 {
			t.Fatalf("result: %+v", res)
		}
		convs, _, err := s.ListConversations(ctx, store.ConversationFilter{})
		if err != nil || len(convs) != 2 {
			t.Fatalf("a batch with two contacts makes two conversations: %d %v", len(convs), err)
		}
		marie := convs[0]
		if marie.Contact.Name != "Marie" || marie.Contact.Phone != "+33612345678" || marie.UnreadCount != 2 ||
			marie.LastMessage != "Vous êtes là ?" || !marie.LastInboundAt.Equal(t0) || !marie.WindowExpiresAt.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("conversation: %+v contact %+v", marie, marie.Contact)
		}
		msgs, _, _ := s.ListMessages(ctx, marie.ID, "", 0)
		if len(msgs) != 2 || msgs[0].Text != "Bonjour" || msgs[1].ExternalID != "wamid.A2" || msgs[0].Status != switchboard.MsgReceived {
			t.Fatalf("messages: %+v", msgs)
		}
		jobs, _ := s.ListJobs(ctx, store.JobFilter{State: switchboard.JobQueued})
		if len(jobs) != 3 {
			t.Fatalf("one inbound job per new message, got %d", len(jobs))
		}
		// Meta delivers the same webhook again: nothing changes.
		res, err = s.IngestInbound(ctx, ch, batch)
		if err != nil || res.Messages != 0 || res.Duplicates != 3 || len(res.Events) != 0 {
			t.Fatalf("redelivery: %+v %v", res, err)
		}
		if jobs, _ := s.ListJobs(ctx, store.JobFilter{}); len(jobs) != 3 {
			t.Fatalf("redelivery enqueued jobs: %d", len(jobs))
		}
	})
}

func TestIngestConcurrentDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		for round := 0; round < 5; round++ {
			batch := &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{
				textMsg("33612345678", "Marie", fmt.Sprintf("wamid.R%d", round), "hi", t0),
				textMsg(fmt.Sprintf("4477009%05d", round), "New", fmt.Sprintf("wamid.N%d", round), "hello", t0),
			}}
			var wg sync.WaitGroup
			errs := make(chan error, 3)
			for i := 0; i < 3; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.IngestInbound(ctx, ch, batch); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("concurrent delivery failed: %v", err)
			}
		}
		convs, _, _ := s.ListConversations(ctx, store.ConversationFilter{Limit: 100})
		if len(convs) != 6 {
			t.Fatalf("want 6 conversations (Marie + 5 new contacts), got %d", len(convs))
		}
		total := 0
		for _, c := range convs {
			msgs, _, _ := s.ListMessages(ctx, c.ID, "", 100)
			total += len(msgs)
		}
		if total != 10 {
			t.Fatalf("each message stored exactly once: want 10, got %d", total)
		}
	})
}

func TestIngestReopenWindow(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		ingest := func(wamid string, at time.Time) *switchboard.Conversation {
			t.Helper()
			clock.Set(at)
			if _, err := s.IngestInbound(ctx, ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("33612345678", "Marie", wamid, "hi", at)}}); err != nil {
				t.Fatal(err)
			}
			convs, _, _ := s.ListConversations(ctx, store.ConversationFilter{})
			return convs[0]
		}
		first := ingest("wamid.1", t0)
		if err := s.ResolveForTest(ctx, first.ID, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		again := ingest("wamid.2", t0.Add(10*time.Hour))
		if again.ID != first.ID || again.Status != switchboard.StatusOpen {
			t.Fatalf("a message within the reopen window reopens the conversation: %+v", again)
		}
		if err := s.ResolveForTest(ctx, first.ID, t0.Add(11*time.Hour)); err != nil {
			t.Fatal(err)
		}
		later := ingest("wamid.3", t0.Add(11*time.Hour+25*time.Hour))
		if later.ID == first.ID {
			t.Fatal("a message after the reopen window starts a new conversation")
		}
	})
}

func TestIngestReactionsStatusesAndNumberChange(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		if _, err := s.IngestInbound(ctx, ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("33612345678", "Marie", "wamid.in", "hi", t0)}}); err != nil {
			t.Fatal(err)
		}
		convs, _, _ := s.ListConversations(ctx, store.ConversationFilter{})
		conv := convs[0]

		// A status that arrives before its message is parked, then applied when the message appears.
		early := &switchboard.InboundBatch{Statuses: []switchboard.StatusUpdate{{ExternalID: "wamid.out", Status: "delivered", At: t0.Add(2 * time.Second)}}}
		if res, err := s.IngestInbound(ctx, ch, early); err != nil || res.Parked != 1 {
			t.Fatalf("early status: %+v %v", res, err)
		}
		out, err := s.InsertOutboundForTest(ctx, conv.ID, ch.ID, "wamid.out")
		if err != nil || out.Status != switchboard.MsgDelivered || out.DeliveredAt == nil {
			t.Fatalf("parked status not applied: %+v %v", out, err)
		}
		// Statuses in any order end at the highest; a late "sent" or "delivered" never undoes "read".
		for _, st := range []string{"read", "sent", "delivered", "sent"} {
			b := &switchboard.InboundBatch{Statuses: []switchboard.StatusUpdate{{ExternalID: "wamid.out", Status: st, At: t0.Add(5 * time.Second)}}}
			if _, err := s.IngestInbound(ctx, ch, b); err != nil {
				t.Fatal(err)
			}
		}
		if m, _ := s.Message(ctx, out.ID); m.Status != switchboard.MsgRead || m.SentAt == nil || m.ReadAt == nil {
			t.Fatalf("after out-of-order statuses: %+v", m)
		}
		// Failed is final and keeps Meta's reason.
		fail := &switchboard.InboundBatch{Statuses: []switchboard.StatusUpdate{{ExternalID: "wamid.out", Status: "failed", At: t0.Add(6 * time.Second),
			Error: &switchboard.MessageError{Code: 131047, Title: "Re-engagement message"}}}}
		if _, err := s.IngestInbound(ctx, ch, fail); err != nil {
			t.Fatal(err)
		}
		late := &switchboard.InboundBatch{Statuses: []switchboard.StatusUpdate{{ExternalID: "wamid.out", Status: "read", At: t0.Add(7 * time.Second)}}}
		s.IngestInbound(ctx, ch, late)
		if m, _ := s.Message(ctx, out.ID); m.Status != switchboard.MsgFailed || m.Error == nil || m.Error.Code != 131047 || m.Error.Title != "Re-engagement message" {
			t.Fatalf("failed must be final: %+v", m)
		}

		// A reaction attaches to its target; a reaction without emoji removes it.
		react := func(emoji string, removed bool) *switchboard.Message {
			b := &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{{WaID: "33612345678", ExternalID: "wamid.r" + emoji,
				Reaction: &switchboard.ReactionChange{TargetExternalID: "wamid.out", Emoji: emoji, Removed: removed}}}}
			if _, err := s.IngestInbound(ctx, ch, b); err != nil {
				t.Fatal(err)
			}
			m, _ := s.Message(ctx, out.ID)
			return m
		}
		if m := react("👍", false); len(m.Reactions) != 1 || m.Reactions[0].Emoji != "👍" {
			t.Fatalf("reaction: %+v", m.Reactions)
		}
		if m := react("", true); len(m.Reactions) != 0 {
			t.Fatalf("reaction removal: %+v", m.Reactions)
		}
		msgs, _, _ := s.ListMessages(ctx, conv.ID, "", 0)
		if len(msgs) != 2 {
			t.Fatalf("reactions must not add messages: %d", len(msgs))
		}

		// A number change re-keys the contact and notes it in the conversation.
		nc := &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{{WaID: "33612345678", ExternalID: "wamid.sys", Timestamp: t0,
			NumberChange: &switchboard.NumberChange{OldWaID: "33612345678", NewWaID: "33698765432"}}}}
		if _, err := s.IngestInbound(ctx, ch, nc); err != nil {
			t.Fatal(err)
		}
		c, _ := s.Conversation(ctx, conv.ID)
		if c.Contact.WaID != "33698765432" || c.Contact.Phone != "+33698765432" {
			t.Fatalf("contact not re-keyed: %+v", c.Contact)
		}
		if _, err := s.IngestInbound(ctx, ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("33698765432", "Marie", "wamid.new", "c'est moi", t0)}}); err != nil {
			t.Fatal(err)
		}
		if convs, _, _ := s.ListConversations(ctx, store.ConversationFilter{}); len(convs) != 1 {
			t.Fatalf("messages from the new number continue the same conversation: %d conversations", len(convs))
		}
	})
}

// TestIngestAsksWhetherAMessageNeedsWork: the batch's NeedsWork sees each stored message with its
// conversation as the message left it, and a message it declines gets no inbound job (its media is
// still fetched).
func TestIngestAsksWhetherAMessageNeedsWork(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		var seen []switchboard.InboundWork
		needsWork := func(w switchboard.InboundWork) bool {
			seen = append(seen, w)
			return w.Job.NewConversation
		}
		ingest := func(msgs ...switchboard.InboundMessage) {
			t.Helper()
			if res, err := s.IngestInbound(ctx, ch, &switchboard.InboundBatch{Messages: msgs, NeedsWork: needsWork}); err != nil || res.Messages != len(msgs) {
				t.Fatalf("ingest: %+v %v", res, err)
			}
		}
		ingest(textMsg("33612345678", "Marie", "wamid.W1", "Bonjour", t0))
		photo := textMsg("33612345678", "Marie", "wamid.W2", "", t0.Add(time.Second))
		photo.Message.Type, photo.Message.Media = "image", &switchboard.Media{ExternalID: "media.W2", MimeType: "image/jpeg", Status: switchboard.MediaPending}
		ingest(textMsg("33612345678", "Marie", "wamid.W3", "Vous êtes là ?", t0), photo)
		if len(seen) != 3 || !seen[0].Job.NewConversation || seen[1].Job.NewConversation || seen[1].Message.ExternalID != "wamid.W3" ||
			seen[1].Conversation.ID != seen[0].Conversation.ID || seen[1].Conversation.UnreadCount != 2 || seen[1].Message.ID == 0 ||
			seen[0].Channel.ID != ch.ID || seen[2].Message.Type != "image" || seen[1].Conversation.Assignee != nil {
			t.Fatalf("NeedsWork saw %+v", seen)
		}
		jobs, err := s.ListJobs(ctx, store.JobFilter{})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, j := range jobs {
			kinds[j.Kind]++
		}
		if kinds[switchboard.InboundJobKind] != 1 || kinds[switchboard.MediaJobKind] != 1 || len(jobs) != 2 {
			t.Fatalf("jobs by kind: %v", kinds)
		}
		// The conversation's owner and the period its away message was sent for are what NeedsWork judges by.
		friday := t0.Add(-24 * time.Hour)
		if _, err := s.SQL().ExecContext(ctx, `UPDATE conversations SET assignee_kind = 'human', assignee_id = 42, away_sent_for = $1`, friday); err != nil {
			t.Fatal(err)
		}
		ingest(textMsg("33612345678", "Marie", "wamid.W4", "?", t0.Add(time.Minute)))
		last := seen[len(seen)-1]
		if a := last.Conversation.Assignee; a == nil || a.Kind != switchboard.AssigneeHuman || a.ID != 42 || last.AwaySentFor == nil || !last.AwaySentFor.Equal(friday) {
			t.Fatalf("NeedsWork saw assignee %+v away_sent_for %v", last.Conversation.Assignee, last.AwaySentFor)
		}
	})
}

// TestIngestManyInOneTransaction: several webhooks stored together (group commit) give each its own
// result, as if stored one by one: known contacts in open conversations on the common path, a new
// contact, a reopen, a reaction and a repeated wamid on the per-item path or as duplicates.
func TestIngestManyInOneTransaction(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		other := mustChannel(t, s, "106540352242923")
		// Marie and John each have an open conversation on ch; Ana's on ch is resolved; Marie also
		// writes to the other channel.
		for _, m := range []switchboard.InboundMessage{
			textMsg("33612345678", "Marie", "wamid.M0", "Bonjour", t0), textMsg("14155550100", "John", "wamid.J0", "Hi", t0),
			textMsg("34600000001", "Ana", "wamid.A0", "Hola", t0)} {
			if _, err := s.IngestInbound(ctx, ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{m}}); err != nil {
				t.Fatal(err)
			}
		}
		convs, _, _ := s.ListConversations(ctx, store.ConversationFilter{})
		byName := map[string]*switchboard.Conversation{}
		for _, c := range convs {
			byName[c.Contact.Name] = c
		}
		if _, _, _, err := s.ResolveConversation(ctx, byName["Ana"].ID, nil); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		at := clock.Now()
		reaction := switchboard.InboundMessage{WaID: "14155550100", ExternalID: "wamid.R1", Timestamp: at,
			Reaction: &switchboard.ReactionChange{TargetExternalID: "wamid.J1", Emoji: "👍"}}
		items := []switchboard.ChannelInbound{
			{Channel: ch, Batch: &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("33612345678", "Marie D.", "wamid.M1", "Où en est ma commande ?", at)}}},
			{Channel: ch, Batch: &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("14155550100", "John", "wamid.J1", "Any news?", at), reaction}}},
			{Channel: ch, Batch: &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("33612345678", "Marie D.", "wamid.M2", "Merci", at.Add(time.Second))}}},
			{Channel: ch, Batch: &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("34600000001", "Ana", "wamid.A1", "Otra cosa", at)}}},
			{Channel: ch, Batch: &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("4915123456789", "Jonas", "wamid.N1", "Hallo", at)}}},
			{Channel: ch, Batch: &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("33612345678", "Marie D.", "wamid.M1", "Où en est ma commande ?", at), textMsg("14155550100", "John", "wamid.J0", "Hi", t0)}}},
			{Channel: other, Batch: &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("33612345678", "Marie D.", "wamid.M1", "Same wamid, other number", at)}}},
		}
		results, err := s.IngestInboundMany(ctx, items)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ messages, duplicates, events int }{{1, 0, 2}, {1, 0, 3}, {1, 0, 2}, {1, 0, 2}, {1, 0, 2}, {0, 2, 0}, {1, 0, 2}}
		for i, w := range want {
			r := results[i]
			if r.Messages != w.messages || r.Duplicates != w.duplicates || len(r.Events) != w.events {
				t.Errorf("item %d: %d messages, %d duplicates, %d events; want %+v", i, r.Messages, r.Duplicates, len(r.Events), w)
			}
		}
		marie, err := s.Conversation(ctx, byName["Marie"].ID)
		if err != nil {
			t.Fatal(err)
		}
		if marie.UnreadCount != 3 || marie.LastMessage != "Merci" || marie.Contact.Name != "Marie D." || !marie.LastInboundAt.Equal(at.Add(time.Second)) {
			t.Fatalf("Marie's conversation: unread %d, last %q, name %q, last inbound %v", marie.UnreadCount, marie.LastMessage, marie.Contact.Name, marie.LastInboundAt)
		}
		if ana, _ := s.Conversation(ctx, byName["Ana"].ID); ana.Status != switchboard.StatusOpen {
			t.Fatalf("Ana's conversation was not reopened: %s", ana.Status)
		}
		msgs, _, _ := s.ListMessages(ctx, byName["John"].ID, "", 0)
		if len(msgs) != 2 || len(msgs[1].Reactions) != 1 || msgs[1].Reactions[0].Emoji != "👍" {
			t.Fatalf("John's messages: %+v", msgs)
		}
		// One conversation's events are in the order of its items (the reaction after the message it
		// is on), each conversation.updated before its message.created.
		last := map[int64]int64{}
		for i, r := range results {
			for j, ev := range r.Events {
				if ev.Seq <= last[ev.ConversationID] {
					t.Fatalf("item %d event %d (%s): seq %d after %d", i, j, ev.Type, ev.Seq, last[ev.ConversationID])
				}
				last[ev.ConversationID] = ev.Seq
			}
		}
		if types := []string{results[1].Events[0].Type, results[1].Events[1].Type, results[1].Events[2].Type}; types[2] != switchboard.EventMessageUpdated ||
			types[0] != switchboard.EventConversationUpdated || types[1] != switchboard.EventMessageCreated {
			t.Fatalf("John's events: %v", types)
		}
		jobs, _ := s.ListJobs(ctx, store.JobFilter{Kind: switchboard.InboundJobKind})
		if len(jobs) != 3+6 {
			t.Fatalf("inbound jobs: %d, want one per new message", len(jobs))
		}
	})
}

// TestIngestManyStatusesAndReactions: a group's statuses and reactions change their messages in the
// order they came, whichever items carry them (on PostgreSQL, inside the common path's transaction);
// a status for a message not stored yet is parked; a reaction to a message the same group stores, or
// from a contact not known yet, still lands; every change is announced once, and one message's changes in the order they came.
func TestIngestManyStatusesAndReactions(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		if _, err := s.IngestInbound(ctx, ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("33612345678", "Marie", "wamid.M0", "Bonjour", t0)}}); err != nil {
			t.Fatal(err)
		}
		convs, _, _ := s.ListConversations(ctx, store.ConversationFilter{})
		conv := convs[0]
		reply, err := s.InsertOutboundForTest(ctx, conv.ID, ch.ID, "wamid.out1")
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.InsertOutboundForTest(ctx, conv.ID, ch.ID, "wamid.out2")
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		at := clock.Now()
		status := func(wamid, st string, d time.Duration) switchboard.StatusUpdate {
			return switchboard.StatusUpdate{ExternalID: wamid, Status: st, At: at.Add(d)}
		}
		reaction := func(waID, name, target, emoji string) switchboard.InboundMessage {
			return switchboard.InboundMessage{WaID: waID, ProfileName: name, ExternalID: "wamid.r." + waID + emoji, Timestamp: at,
				Reaction: &switchboard.ReactionChange{TargetExternalID: target, Emoji: emoji, Removed: emoji == ""}}
		}
		items := []switchboard.ChannelInbound{
			{Channel: ch, Batch: &switchboard.InboundBatch{Statuses: []switchboard.StatusUpdate{status("wamid.out1", "delivered", time.Second)}}},
			{Channel: ch, Batch: &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{reaction("33612345678", "Marie D.", "wamid.out1", "👍")},
				Statuses: []switchboard.StatusUpdate{status("wamid.out1", "read", 2*time.Second), status("wamid.later", "delivered", 0)}}},
			{Channel: ch, Batch: &switchboard.InboundBatch{Statuses: []switchboard.StatusUpdate{status("wamid.out1", "sent", 0),
				status("wamid.out1", "delivered", 3*time.Second), status("wamid.out2", "failed", time.Second), status("wamid.out2", "weird", 0)}}},
			{Channel: ch, Batch: &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{textMsg("33612345678", "Marie D.", "wamid.M1", "Merci", at),
				reaction("33612345678", "", "wamid.M1", "❤️")}}},
			{Channel: ch, Batch: &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{reaction("14155550100", "John", "wamid.out2", "😮"),
				reaction("33612345678", "Marie Dupont", "wamid.out1", "")}}},
		}
		items[2].Batch.Statuses[2].Error = &switchboard.MessageError{Code: 131026, Title: "Message undeliverable"}
		results, err := s.IngestInboundMany(ctx, items)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ statuses, parked, events int }{{1, 0, 1}, {1, 1, 2}, {2, 0, 2}, {0, 0, 3}, {0, 0, 2}}
		for i, w := range want {
			r := results[i]
			if r.Statuses != w.statuses || r.Parked != w.parked || len(r.Events) != w.events {
				t.Errorf("item %d: %d statuses, %d parked, %d events; want %+v", i, r.Statuses, r.Parked, len(r.Events), w)
			}
		}
		got, _ := s.Message(ctx, reply.ID)
		if got.Status != switchboard.MsgRead || got.SentAt == nil || got.DeliveredAt == nil || !got.DeliveredAt.Equal(at.Add(time.Second)) ||
			got.ReadAt == nil || !got.ReadAt.Equal(at.Add(2*time.Second)) || len(got.Reactions) != 0 {
			t.Fatalf("the first reply: %+v", got)
		}
		got, _ = s.Message(ctx, other.ID)
		if got.Status != switchboard.MsgFailed || got.Error == nil || got.Error.Code != 131026 || len(got.Reactions) != 1 || got.Reactions[0].Emoji != "😮" {
			t.Fatalf("the second reply: %+v %+v", got, got.Error)
		}
		msgs, _, _ := s.ListMessages(ctx, conv.ID, "", 0)
		var merci *switchboard.Message
		for i := range msgs {
			if msgs[i].ExternalID == "wamid.M1" {
				merci = msgs[i]
			}
		}
		if merci == nil || len(merci.Reactions) != 1 || merci.Reactions[0].Emoji != "❤️" {
			t.Fatalf("the reaction to a message of the same group: %+v", merci)
		}
		if c, _ := s.Conversation(ctx, conv.ID); c.Contact.Name != "Marie Dupont" {
			t.Fatalf("the name a reaction carries: %q", c.Contact.Name)
		}
		// The early status waits for its message.
		late, err := s.InsertOutboundForTest(ctx, conv.ID, ch.ID, "wamid.later")
		if err != nil || late.Status != switchboard.MsgDelivered {
			t.Fatalf("parked status: %+v %v", late, err)
		}
		// Each message.updated shows the message as that change left it; a message's changes are
		// announced in the order they came.
		var all []switchboard.Event
		for _, r := range results {
			all = append(all, r.Events...)
		}
		sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
		seen := map[string][]string{}
		for i, ev := range all {
			if i > 0 && ev.Seq == all[i-1].Seq {
				t.Fatalf("two events numbered %d", ev.Seq)
			}
			if ev.Type != switchboard.EventMessageUpdated {
				continue
			}
			var m switchboard.Message
			json.Unmarshal(ev.Data, &m)
			seen[m.ExternalID] = append(seen[m.ExternalID], fmt.Sprintf("%s:%d", m.Status, len(m.Reactions)))
		}
		wantSeen := map[string][]string{"wamid.out1": {"delivered:0", "delivered:1", "read:1", "read:1", "read:0"},
			"wamid.out2": {"failed:0", "failed:1"}, "wamid.M1": {"received:1"}}
		if fmt.Sprint(seen) != fmt.Sprint(wantSeen) {
			t.Fatalf("message.updated events:\n got %v\nwant %v", seen, wantSeen)
		}
	})
}

// TestSetMedia: a downloaded attachment is recorded on its message, the whole message comes back as
// stored (other fields untouched) with a message.updated event; an unknown message is ENOTFOUND.
// ResolvePendingMedia changes only an attachment still pending.
func TestSetMedia(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		in := switchboard.InboundMessage{WaID: "33612345678", ProfileName: "Marie", ExternalID: "wamid.photo", Timestamp: t0,
			Message: &switchboard.Message{Type: "image", Text: "the broken part", ExternalID: "wamid.photo", Timestamp: &t0,
				Media: &switchboard.Media{ExternalID: "1234567890123456", MimeType: "image/png", Status: switchboard.MediaPending}}}
		if _, err := s.IngestInbound(ctx, ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{in}}); err != nil {
			t.Fatal(err)
		}
		convs, _, _ := s.ListConversations(ctx, store.ConversationFilter{})
		msgs, _, err := s.ListMessages(ctx, convs[0].ID, "", 10)
		if err != nil || len(msgs) != 1 || msgs[0].Media == nil {
			t.Fatalf("stored: %+v %v", msgs, err)
		}
		stored := msgs[0]
		media := *stored.Media
		media.Status, media.Size, media.URL = switchboard.MediaReady, 42, fmt.Sprintf("/api/v1/messages/%d/media", stored.ID)
		got, events, err := s.SetMedia(ctx, stored.ID, media)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != stored.ID || got.Text != "the broken part" || got.ExternalID != "wamid.photo" || got.Media == nil ||
			got.Media.Status != switchboard.MediaReady || got.Media.Size != 42 || got.Media.ExternalID != "1234567890123456" {
			t.Fatalf("returned message: %+v %+v", got, got.Media)
		}
		if len(events) != 1 || events[0].Type != switchboard.EventMessageUpdated || events[0].ConversationID != stored.ConversationID || events[0].Seq == 0 {
			t.Fatalf("events: %+v", events)
		}
		if again, _ := s.Message(ctx, stored.ID); again.Media == nil || again.Media.Status != switchboard.MediaReady {
			t.Fatalf("stored media: %+v", again.Media)
		}
		if _, _, err := s.SetMedia(ctx, stored.ID+1000, media); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Fatalf("unknown message: %v", err)
		}
		// The download job's variant changes a pending attachment only: this one is ready already.
		failed := media
		failed.Status = switchboard.MediaUnavailable
		if got, events, err := s.ResolvePendingMedia(ctx, stored.ID, failed); err != nil || got != nil || len(events) != 0 {
			t.Fatalf("resolving a ready attachment: %+v %+v %v", got, events, err)
		}
		if again, _ := s.Message(ctx, stored.ID); again.Media == nil || again.Media.Status != switchboard.MediaReady {
			t.Fatalf("after resolving a ready attachment: %+v", again.Media)
		}
		if got, _, err := s.ResolvePendingMedia(ctx, stored.ID+1000, failed); err != nil || got != nil {
			t.Fatalf("resolving an unknown message: %+v %v", got, err)
		}
	})
}
