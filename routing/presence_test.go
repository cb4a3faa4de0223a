package routing

import (
	"context"
	"sync"
	"testing"
	"time"

	"switchboard"
)

func TestPresenceSetGrace(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	p := NewPresenceSet(clock, 30*time.Second)
	if p.Online(1) {
		t.Fatal("unknown agent is online")
	}
	if !p.Connect(1) {
		t.Fatal("first connection should bring the agent online")
	}
	if p.Connect(1) {
		t.Fatal("a second tab does not bring them online again")
	}
	p.Disconnect(1)
	clock.Advance(time.Hour)
	if !p.Online(1) {
		t.Fatal("one tab is still open")
	}
	p.Disconnect(1)
	clock.Advance(29 * time.Second)
	if !p.Online(1) {
		t.Fatal("within the grace period the agent stays online")
	}
	if p.Connect(1) {
		t.Fatal("reconnecting within the grace period is not coming online")
	}
	p.Disconnect(1)
	clock.Advance(30 * time.Second)
	if p.Online(1) || len(p.OnlineAgents()) != 0 {
		t.Fatal("after the grace period the agent is offline")
	}
	if !p.Connect(1) {
		t.Fatal("connecting after the grace period brings them online")
	}
	p.Disconnect(2) // a stray disconnect is harmless
	if got := p.OnlineAgents(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("online: %v", got)
	}
}

func TestPresenceSetConcurrent(t *testing.T) {
	p := NewPresenceSet(nil, time.Minute)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				id := int64(i % 7)
				p.Connect(id)
				p.Online(id)
				p.OnlineAgents()
				p.Disconnect(id)
			}
		}()
	}
	wg.Wait()
	for id := int64(0); id < 7; id++ {
		p.mu.Lock()
		conns := p.agents[id].conns
		p.mu.Unlock()
		if conns != 0 {
			t.Fatalf("agent %d has %d connections left", id, conns)
		}
	}
}

// memPresence is a PresenceStore kept in memory, as two replicas would share a table.
type memPresence struct {
	mu    sync.Mutex
	clock switchboard.Clock
	rows  map[string]map[int64]time.Time
}

func (m *memPresence) TouchPresence(_ context.Context, instance string, ids []int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rows := map[int64]time.Time{}
	for _, id := range ids {
		rows[id] = m.clock.Now()
	}
	m.rows[instance] = rows
	return nil
}

func (m *memPresence) OnlineAgents(_ context.Context, within time.Duration) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int64
	for _, rows := range m.rows {
		for id, seen := range rows {
			if !seen.Before(m.clock.Now().Add(-within)) {
				out = append(out, id)
			}
		}
	}
	return out, nil
}

func (m *memPresence) ClearPresence(_ context.Context, instance string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rows, instance)
	return nil
}

func TestSharedPresenceAcrossReplicas(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	table := &memPresence{clock: clock, rows: map[string]map[int64]time.Time{}}
	a := NewSharedPresence(SharedPresenceOptions{Local: NewPresenceSet(clock, 0), Store: table, Instance: "a", Interval: time.Second})
	b := NewSharedPresence(SharedPresenceOptions{Local: NewPresenceSet(clock, 0), Store: table, Instance: "b", Interval: time.Second})
	ctx := t.Context()
	a.Local().Connect(7)
	if !a.Online(7) || b.Online(7) {
		t.Fatal("before a sync only replica a knows agent 7")
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.Online(7) {
		t.Fatal("after a sync replica b sees agent 7")
	}
	// Replica a dies: it stops reporting, and b forgets agent 7 after three intervals.
	clock.Advance(2 * time.Second)
	b.Sync(ctx)
	if !b.Online(7) {
		t.Fatal("a missed heartbeat is tolerated")
	}
	clock.Advance(2 * time.Second)
	b.Sync(ctx)
	if b.Online(7) {
		t.Fatal("a dead replica's agents go offline")
	}
	// A clean shutdown removes its rows at once.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- a.Run(runCtx) }()
	for !table.has("a", 7) {
		time.Sleep(time.Millisecond)
	}
	stop()
	if err := <-done; err != nil || table.has("a", 7) {
		t.Fatalf("run stopped with %v; rows %v", err, table.rows)
	}
}

func (m *memPresence) has(instance string, id int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.rows[instance][id]
	return ok
}
