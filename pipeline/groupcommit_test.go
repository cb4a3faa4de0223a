package pipeline

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"switchboard"
)

// TestGroupCommit: concurrent webhooks are stored in fewer transactions than webhooks, each gets its
// own results, one contact's webhooks are stored in the order they came, and a webhook the store
// refuses fails alone.
func TestGroupCommit(t *testing.T) {
	var mu sync.Mutex
	var calls, grouped int
	stored := map[string][]int{} // contact → sequence numbers in storage order
	store := func(_ context.Context, items []switchboard.ChannelInbound) ([]*switchboard.IngestResult, error) {
		time.Sleep(2 * time.Millisecond) // a transaction takes a while: others queue meanwhile
		mu.Lock()
		defer mu.Unlock()
		calls++
		if len(items) > 1 {
			grouped++
		}
		out := make([]*switchboard.IngestResult, len(items))
		for i, it := range items {
			m := it.Batch.Messages[0]
			if m.Message.ExternalID == "poison" {
				return nil, errors.New("refused")
			}
			n, _ := strconv.Atoi(m.Message.Text)
			out[i] = &switchboard.IngestResult{Messages: n}
		}
		for _, it := range items {
			m := it.Batch.Messages[0]
			n, _ := strconv.Atoi(m.Message.Text)
			stored[m.WaID] = append(stored[m.WaID], n)
		}
		return out, nil
	}
	g := newGroupCommitter(3, store)
	item := func(waID, wamid string, n int) []switchboard.ChannelInbound {
		return []switchboard.ChannelInbound{{Channel: &switchboard.Channel{ID: 1}, Batch: &switchboard.InboundBatch{
			Messages: []switchboard.InboundMessage{{WaID: waID, Message: &switchboard.Message{ExternalID: wamid, Text: strconv.Itoa(n)}}}}}}
	}
	const contacts, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, contacts*each+1)
	for c := 0; c < contacts; c++ {
		wg.Add(1)
		go func() { // one sender per contact: its webhooks one after the other
			defer wg.Done()
			for n := 1; n <= each; n++ {
				res, err := g.commit(item("wa"+strconv.Itoa(c), "w", n))
				if err != nil || len(res) != 1 || res[0].Messages != n {
					errs <- errors.New("webhook " + strconv.Itoa(n) + " of contact " + strconv.Itoa(c) + " got the wrong result")
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := g.commit(item("wa0", "poison", 0)); err == nil {
			errs <- errors.New("the refused webhook got no error")
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for c := 0; c < contacts; c++ {
		got := stored["wa"+strconv.Itoa(c)]
		if len(got) != each {
			t.Fatalf("contact %d: %d webhooks stored, want %d", c, len(got), each)
		}
		for i, n := range got {
			if n != i+1 {
				t.Fatalf("contact %d: stored out of order: %v", c, got)
			}
		}
	}
	if grouped == 0 || calls >= contacts*each+1 {
		t.Fatalf("%d transactions for %d webhooks, %d of them grouped: no group commit", calls, contacts*each+1, grouped)
	}
	t.Logf("%d webhooks in %d transactions (%d grouped)", contacts*each+1, calls, grouped)
}

// TestGroupCommitSurvivesAPanic: a store that panics fails the webhooks of that group with an error
// (so Meta retries them) instead of leaving them waiting, and the queue goes on.
func TestGroupCommitSurvivesAPanic(t *testing.T) {
	var mu sync.Mutex
	broken := true
	g := newGroupCommitter(1, func(_ context.Context, items []switchboard.ChannelInbound) ([]*switchboard.IngestResult, error) {
		mu.Lock()
		defer mu.Unlock()
		if broken {
			panic("a bug in the store")
		}
		out := make([]*switchboard.IngestResult, len(items))
		for i := range out {
			out[i] = &switchboard.IngestResult{Messages: 1}
		}
		return out, nil
	})
	item := []switchboard.ChannelInbound{{Channel: &switchboard.Channel{ID: 1}, Batch: &switchboard.InboundBatch{}}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.commit(item); err == nil {
				t.Error("a webhook of the panicking group got no error")
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	broken = false
	mu.Unlock()
	if res, err := g.commit(item); err != nil || res[0].Messages != 1 {
		t.Fatalf("after the panic: %+v %v", res, err)
	}
}
