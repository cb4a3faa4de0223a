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
