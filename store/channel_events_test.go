package store_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

// TestListChannelEvents: the events a webhook leaves on a channel read back newest first, a page at a
// time, with what Meta sent decoded and the time they arrived; another channel's events stay apart.
func TestListChannelEvents(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		a, b := mustChannel(t, s, "106540352242922"), mustChannel(t, s, "106540352242923")
		start := clock.Now()
		for i := range 5 {
			clock.Set(start.Add(time.Duration(i) * time.Minute))
			e := switchboard.ChannelEvent{Field: "phone_number_quality_update", Payload: json.RawMessage(fmt.Sprintf(`{"event":"UPGRADE","n":%d}`, i))}
			if _, err := s.IngestInbound(ctx, a, &switchboard.InboundBatch{Events: []switchboard.ChannelEvent{e}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.IngestInbound(ctx, b, &switchboard.InboundBatch{Events: []switchboard.ChannelEvent{
			{Field: "account_update", Payload: json.RawMessage(`{"event":"ACCOUNT_VIOLATION"}`)},
			{Field: "garbled", Payload: json.RawMessage(`not json`)},
		}}); err != nil {
			t.Fatal(err)
		}

		var seen []int
		cursor := ""
		for page := 0; ; page++ {
			events, next, err := s.ListChannelEvents(ctx, a.ID, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) > 2 || page > 3 {
				t.Fatalf("page %d: %d events", page, len(events))
			}
			for _, e := range events {
				var d struct {
					Event string `json:"event"`
					N     int    `json:"n"`
				}
				if err := json.Unmarshal(e.Details, &d); err != nil || d.Event != "UPGRADE" || e.Field != "phone_number_quality_update" || e.ChannelID != a.ID {
					t.Fatalf("event %+v (%s): %v", e, e.Details, err)
				}
				if want := start.Add(time.Duration(d.N) * time.Minute); !e.CreatedAt.Equal(want) {
					t.Fatalf("event %d created at %v, want %v", d.N, e.CreatedAt, want)
				}
				seen = append(seen, d.N)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if fmt.Sprint(seen) != "[4 3 2 1 0]" {
			t.Fatalf("pages gave %v, want newest first [4 3 2 1 0]", seen)
		}

		// The other channel's events, one of which is not JSON: kept as a JSON string.
		events, next, err := s.ListChannelEvents(ctx, b.ID, "", 0)
		if err != nil || next != "" || len(events) != 2 {
			t.Fatalf("channel b: %d events, next %q, %v", len(events), next, err)
		}
		if events[0].Field != "garbled" || string(events[0].Details) != `"not json"` || events[1].Field != "account_update" {
			t.Fatalf("channel b events: %s %s, %s %s", events[0].Field, events[0].Details, events[1].Field, events[1].Details)
		}

		if _, _, err := s.ListChannelEvents(ctx, a.ID, "x", 10); switchboard.ErrorFields(err)["cursor"] == "" {
			t.Fatalf("a bad cursor: %v", err)
		}
		if events, next, err := s.ListChannelEvents(ctx, 999999, "", 10); err != nil || len(events) != 0 || next != "" {
			t.Fatalf("a channel without events: %v %q %v", events, next, err)
		}
	})
}
