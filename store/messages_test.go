package store_test

import (
	"fmt"
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

// TestListMessagesPages: a conversation's messages read back a page at a time, the latest page first,
// each page in chronological order, with a cursor leading further back and none past the first
// message; a cursor that is not one is a field error.
func TestListMessagesPages(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		var batch switchboard.InboundBatch
		for i := range 5 {
			batch.Messages = append(batch.Messages, textMsg("33612345678", "Marie", fmt.Sprintf("wamid.P%d", i), fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second)))
		}
		if _, err := s.IngestInbound(ctx, ch, &batch); err != nil {
			t.Fatal(err)
		}
		convs, _, err := s.ListConversations(ctx, store.ConversationFilter{})
		if err != nil || len(convs) != 1 {
			t.Fatalf("conversations: %d %v", len(convs), err)
		}
		var pages [][]string
		cursor := ""
		for range 4 {
			msgs, next, err := s.ListMessages(ctx, convs[0].ID, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			var page []string
			for _, m := range msgs {
				page = append(page, m.Text)
			}
			pages = append(pages, page)
			if cursor = next; cursor == "" {
				break
			}
		}
		if got, want := fmt.Sprint(pages), "[[3 4] [1 2] [0]]"; got != want {
			t.Fatalf("pages %s, want %s", got, want)
		}
		if _, _, err := s.ListMessages(ctx, convs[0].ID, "later", 2); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Fatalf("a bad cursor: %v", err)
		}
	})
}

// TestMarkAbandoned: a reply whose send job was buried fails, under its lock, only while it is still
// queued without a wamid; should Meta have taken it after all, MarkSent makes it sent again, its
// failure cleared. A reply already sent is left alone.
func TestMarkAbandoned(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		if _, err := s.IngestInbound(ctx, ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{
			textMsg("33612345678", "Marie", "wamid.in", "Bonjour", t0)}}); err != nil {
			t.Fatal(err)
		}
		convs, _, err := s.ListConversations(ctx, store.ConversationFilter{})
		if err != nil || len(convs) != 1 {
			t.Fatalf("conversations: %d %v", len(convs), err)
		}
		queue := func(text string) *switchboard.Message {
			m, _, err := s.QueueOutbound(ctx, &switchboard.Message{ConversationID: convs[0].ID, Sender: switchboard.SenderAgent,
				Type: switchboard.TypeText, Text: text})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		stopped := switchboard.MessageError{Title: "the server stopped while sending it"}

		lost := queue("lost")
		m, events, err := s.MarkAbandoned(ctx, lost.ID, stopped, clock.Now())
		if err != nil || m == nil || m.Status != switchboard.MsgFailed || m.Error == nil || len(events) != 1 {
			t.Fatalf("a queued reply abandoned: %+v %d events, %v", m, len(events), err)
		}
		if m, events, err := s.MarkAbandoned(ctx, lost.ID, stopped, clock.Now()); err != nil || m != nil || len(events) != 0 {
			t.Fatalf("abandoned twice: %+v %d events, %v", m, len(events), err)
		}
		m, _, err = s.MarkSent(ctx, lost.ID, "wamid.late", clock.Now())
		if err != nil || m.Status != switchboard.MsgSent || m.Error != nil || m.ExternalID != "wamid.late" {
			t.Fatalf("Meta took it after all: %+v %v", m, err)
		}

		sent := queue("sent")
		if _, _, err := s.MarkSent(ctx, sent.ID, "wamid.sent", clock.Now()); err != nil {
			t.Fatal(err)
		}
		if m, events, err := s.MarkAbandoned(ctx, sent.ID, stopped, clock.Now()); err != nil || m != nil || len(events) != 0 {
			t.Fatalf("a sent reply abandoned: %+v %d events, %v", m, len(events), err)
		}
		if got, _ := s.Message(ctx, sent.ID); got.Status != switchboard.MsgSent {
			t.Fatalf("the sent reply is now %s", got.Status)
		}
	})
}

// TestQueueServesTheLongestWaitingCustomer: a conversation waits from its customer's message, not
// from when routing got to it, so in a burst whose routing runs out of order the customer who wrote
// first is served first.
func TestQueueServesTheLongestWaitingCustomer(t *testing.T) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "106540352242922")
		ids := map[string]int64{}
		for _, m := range []switchboard.InboundMessage{
			textMsg("33600000002", "Later", "wamid.later", "Hello", t0.Add(-10*time.Second)),
			textMsg("33600000001", "Earlier", "wamid.earlier", "Hello", t0.Add(-20*time.Second)),
		} {
			if _, err := s.IngestInbound(ctx, ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{m}}); err != nil {
				t.Fatal(err)
			}
		}
		convs, _, err := s.ListConversations(ctx, store.ConversationFilter{})
		if err != nil || len(convs) != 2 {
			t.Fatalf("conversations: %d %v", len(convs), err)
		}
		for _, c := range convs {
			ids[c.Contact.Name] = c.ID
		}
		// Routing reaches "Later" first.
		for _, name := range []string{"Later", "Earlier"} {
			clock.Advance(time.Second)
			if _, err := s.WaitInQueue(ctx, ids[name], nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		waiting, _, err := s.UnassignedWaiting(ctx, ch.ID, nil, 10)
		if err != nil || len(waiting) != 2 || waiting[0].ID != ids["Earlier"] || !waiting[0].WaitingSince.Equal(t0.Add(-20*time.Second)) {
			t.Fatalf("queue %+v, %v; want Earlier first, waiting since its message", waiting, err)
		}
	})
}
