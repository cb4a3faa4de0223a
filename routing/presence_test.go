package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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

// memPresence is a PresenceStore kept in memory, as two replicas would share a table. events logs
// the presence transitions it recorded, as "7 online".
type memPresence struct {
	mu     sync.Mutex
	clock  switchboard.Clock
	rows   map[string]map[int64]time.Time
	events []string
}

// RecordPresence is the store's: it writes or removes the instance's row and logs an event unless
// another instance reported the agent within `within`.
func (m *memPresence) RecordPresence(_ context.Context, instance string, id int64, online bool, within time.Duration) ([]switchboard.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	if online {
		if m.rows[instance] == nil {
			m.rows[instance] = map[int64]time.Time{}
		}
		m.rows[instance][id] = now
	} else {
		delete(m.rows[instance], id)
	}
	for other, rows := range m.rows {
		if seen, ok := rows[id]; ok && other != instance && !seen.Before(now.Add(-within)) {
			return nil, nil
		}
	}
	state := map[bool]string{true: "online", false: "offline"}[online]
	m.events = append(m.events, fmt.Sprint(id, " ", state))
	data, _ := json.Marshal(map[string]any{"agent_id": id, "connected": online})
	return []switchboard.Event{{Seq: int64(len(m.events)), Type: switchboard.EventPresenceUpdated, Data: data}}, nil
}

// logged returns the events recorded since the last call.
func (m *memPresence) logged() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.events
	m.events = nil
	return out
}

// published collects what a SharedPresence publishes.
type published struct {
	mu     sync.Mutex
	events []switchboard.Event
}

func (p *published) Publish(_ context.Context, events []switchboard.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, events...)
}

func (p *published) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
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

// TestSharedPresenceTransitions: agents' screens learn when a colleague comes online or goes
// offline anywhere, once per transition: not for a second tab, a reconnect within the grace period,
// or a move from one replica to another.
func TestSharedPresenceTransitions(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	table := &memPresence{clock: clock, rows: map[string]map[int64]time.Time{}}
	pub := &published{}
	a := NewSharedPresence(SharedPresenceOptions{Local: NewPresenceSet(clock, 30*time.Second), Store: table, Instance: "a",
		Interval: time.Second, Publisher: pub})
	b := NewSharedPresence(SharedPresenceOptions{Local: NewPresenceSet(clock, 30*time.Second), Store: table, Instance: "b",
		Interval: time.Second})
	ctx := t.Context()
	// wait lets time pass with both replicas' heartbeats, and returns the events logged meanwhile.
	wait := func(d time.Duration) []string {
		t.Helper()
		for range int(d / time.Second) {
			clock.Advance(time.Second)
			for _, p := range []*SharedPresence{a, b} {
				if err := p.Sync(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		return table.logged()
	}
	expect := func(step string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("%s: events %q, want %q", step, got, want)
		}
	}

	a.Local().Connect(7)
	expect("first connection", wait(time.Second), "7 online")
	if pub.count() != 1 {
		t.Fatalf("replica a published %d events, want 1", pub.count())
	}
	a.Local().Connect(7)
	expect("a second tab", wait(2*time.Second))
	a.Local().Disconnect(7)
	a.Local().Disconnect(7)
	expect("within the grace period", wait(20*time.Second))
	a.Local().Connect(7)
	expect("a reconnection within the grace period", wait(2*time.Second))

	// The agent's page reloads onto replica b: online there before a's grace period ends.
	a.Local().Disconnect(7)
	b.Local().Connect(7)
	expect("a move to another replica", wait(40*time.Second))
	if a.Local().Online(7) || !a.Online(7) {
		t.Fatal("after the move, replica a sees agent 7 through the heartbeat only")
	}
	b.Local().Disconnect(7)
	expect("the last connection anywhere, past the grace period", wait(40*time.Second), "7 offline")
	if a.Online(7) || b.Online(7) {
		t.Fatal("agent 7 is still online")
	}
	// Tabs on both replicas: online once, offline once the last one closes.
	a.Local().Connect(7)
	b.Local().Connect(7)
	expect("tabs on two replicas", wait(time.Second), "7 online")
	a.Local().Disconnect(7)
	expect("one of them closed", wait(40*time.Second))
	b.Local().Disconnect(7)
	expect("both closed", wait(40*time.Second), "7 offline")
}

// failingPresence fails to record transitions until told otherwise.
type failingPresence struct {
	*memPresence
	fail bool
}

func (f *failingPresence) RecordPresence(ctx context.Context, instance string, id int64, online bool, within time.Duration) ([]switchboard.Event, error) {
	if f.fail {
		return nil, fmt.Errorf("database unavailable")
	}
	return f.memPresence.RecordPresence(ctx, instance, id, online, within)
}

// TestSharedPresenceRetriesTransitions: a transition the store could not record is recorded at the
// next sync, while the heartbeat goes on.
func TestSharedPresenceRetriesTransitions(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	table := &failingPresence{memPresence: &memPresence{clock: clock, rows: map[string]map[int64]time.Time{}}, fail: true}
	a := NewSharedPresence(SharedPresenceOptions{Local: NewPresenceSet(clock, 0), Store: table, Instance: "a", Interval: time.Second})
	a.Local().Connect(7)
	if err := a.Sync(t.Context()); err == nil || !a.Online(7) {
		t.Fatalf("sync with a failing store: %v; online %v", err, a.Online(7))
	}
	table.fail = false
	if err := a.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := table.logged(); !slices.Equal(got, []string{"7 online"}) {
		t.Fatalf("events %q", got)
	}
}

// TestSharedPresenceRunWakesOnArrival: Run syncs as soon as an agent comes online here, not at the
// next heartbeat, so the others see them (and their screens the event) at once.
func TestSharedPresenceRunWakesOnArrival(t *testing.T) {
	table := &memPresence{clock: switchboard.SystemClock{}, rows: map[string]map[int64]time.Time{}}
	a := NewSharedPresence(SharedPresenceOptions{Local: NewPresenceSet(nil, 0), Store: table, Instance: "a", Interval: time.Hour})
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	for !table.reported("a") { // Run's first sync, at start; the next heartbeat is an hour away
		time.Sleep(time.Millisecond)
	}
	a.Local().Connect(7)
	deadline := time.Now().Add(5 * time.Second)
	for !table.has("a", 7) {
		if time.Now().After(deadline) {
			t.Fatal("Run did not sync when agent 7 came online")
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := table.logged(); !slices.Equal(got, []string{"7 online"}) {
		t.Fatalf("events %q", got)
	}
}

// reported tells whether the instance has synced at least once.
func (m *memPresence) reported(instance string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.rows[instance]
	return ok
}
