package faults

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"switchboard/whatsapp/graphtest"
)

// TestGraphAPIOutage takes Meta's Graph API down (every call answers 503) while agents reply in two
// conversations. When it comes back, every reply is delivered exactly once and each conversation's
// replies arrive in the order they were written; none is left failed.
func TestGraphAPIOutage(t *testing.T) {
	t.Parallel()
	p := suiteParams()
	fake, fakeURL := newFake(t)
	srv := newProc(t, "", fakeURL)
	srv.start()
	env := setup(t, srv, fake, 1)
	ctx := t.Context()

	customers := []string{"4915112340001", "4915112340002"}
	for _, wa := range customers {
		res, err := fake.Deliver(ctx, env.Number.PhoneNumberID, graphtest.Envelope(env.Number, time.Now(), graphtest.TextMessage(wa, "Kim", "Hello?")))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("webhook answered %d", res.StatusCode)
		}
	}
	convs := map[string]int64{}
	eventually(t, 30*time.Second, "both conversations", func() bool {
		var list struct {
			Data []struct {
				ID      int64 `json:"id"`
				Contact struct {
					WaID string `json:"wa_id"`
				} `json:"contact"`
			} `json:"data"`
		}
		if err := env.API.Do(ctx, "GET", fmt.Sprintf("/api/v1/conversations?channel_id=%d", env.ChannelID), nil, http.StatusOK, &list); err != nil {
			t.Fatal(err)
		}
		for _, c := range list.Data {
			convs[c.Contact.WaID] = c.ID
		}
		return len(convs) == len(customers)
	})

	fake.Down(true)
	before := len(fake.SentTo(env.Number.PhoneNumberID))
	start := time.Now()
	var ids []int64
	for i := 1; i <= p.replies; i++ {
		for _, wa := range customers {
			var m struct {
				ID int64 `json:"id"`
			}
			if err := env.API.Do(ctx, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", convs[wa]),
				map[string]string{"text": fmt.Sprintf("reply %d to %s", i, wa)}, http.StatusAccepted, &m); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
	}
	time.Sleep(p.graphDown - time.Since(start))
	if got := len(fake.SentTo(env.Number.PhoneNumberID)); got != before {
		t.Fatalf("%d sends were accepted while the Graph API was down", got-before)
	}
	fake.Down(false)
	t.Logf("Graph API down for %s with %d replies queued; back up", time.Since(start).Round(time.Millisecond), len(ids))

	want := before + len(ids)
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if _, err := fake.WaitForSent(wctx, want); err != nil {
		t.Fatalf("only %d of %d replies were delivered after the outage", len(fake.SentTo(env.Number.PhoneNumberID))-before, len(ids))
	}
	t.Logf("all %d replies delivered %s after the Graph API came back", len(ids), time.Since(start.Add(p.graphDown)).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // a duplicate send would show up here
	sent := fake.SentTo(env.Number.PhoneNumberID)[before:]
	if len(sent) != len(ids) {
		t.Fatalf("%d sends for %d replies: some were delivered twice", len(sent), len(ids))
	}
	next := map[string]int{}
	for _, s := range sent {
		if s.Message.Text == nil {
			t.Fatalf("unexpected send %s", s.Body)
		}
		next[s.WaID]++
		if want := fmt.Sprintf("reply %d to %s", next[s.WaID], s.WaID); s.Message.Text.Body != want {
			t.Fatalf("to %s: got %q, want %q (out of order or repeated)", s.WaID, s.Message.Text.Body, want)
		}
	}
	for _, wa := range customers {
		if next[wa] != p.replies {
			t.Fatalf("%s got %d replies, want %d", wa, next[wa], p.replies)
		}
	}
	// None is left failed or queued on the agents' screens.
	eventually(t, 30*time.Second, "every reply marked sent", func() bool {
		for _, wa := range customers {
			var list struct {
				Data []struct {
					Direction string `json:"direction"`
					Status    string `json:"status"`
				} `json:"data"`
			}
			if err := env.API.Do(ctx, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages?limit=200", convs[wa]), nil, http.StatusOK, &list); err != nil {
				t.Fatal(err)
			}
			for _, m := range list.Data {
				if m.Direction == "outbound" && (m.Status == "queued" || m.Status == "failed") {
					return false
				}
			}
		}
		return true
	})
}

// eventually polls cond until it holds or limit passes (a bound on a hung test, not a timing
// assertion).
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
