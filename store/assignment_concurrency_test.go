package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/routing"
	"switchboard/store"
	"switchboard/store/storetest"
)

// checkInvariants fails if an agent is above capacity or a conversation was assigned twice.
func (d *desk) checkInvariants(capacity int) {
	d.t.Helper()
	d.checkCapacity(capacity)
	var twice int
	if err := d.s.SQL().QueryRowContext(d.t.Context(), `SELECT COUNT(*) FROM (SELECT conversation_id FROM events
WHERE type = 'conversation.assigned' GROUP BY conversation_id HAVING COUNT(*) > 1) t`).Scan(&twice); err != nil {
		d.t.Fatal(err)
	}
	if twice > 0 {
		d.t.Fatalf("%d conversations were assigned twice", twice)
	}
}

// burst creates n conversations from 16 goroutines, each routed at once: the i-th by
// routers[i%len(routers)] (the desk's router without any). It returns their ids.
func (d *desk) burst(n int, routers ...*routing.Router) []int64 {
	d.t.Helper()
	if len(routers) == 0 {
		routers = []*routing.Router{d.router}
	}
	return d.burstWith(n, func(i int, conv, msg int64) {
		if _, err := routers[i%len(routers)].Assign(context.Background(), conv, routing.Trigger{Kind: routing.TriggerNew, MessageID: msg}); err != nil {
			d.t.Errorf("assign %d: %v", conv, err)
		}
	})
}

// contestedBurst is burst with every conversation routed by all the routers at once, as when a
// drain on one server process races the inbound job on another for the same conversation.
func (d *desk) contestedBurst(n int, routers ...*routing.Router) []int64 {
	d.t.Helper()
	return d.burstWith(n, func(_ int, conv, msg int64) {
		var wg sync.WaitGroup
		for _, r := range routers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.Assign(context.Background(), conv, routing.Trigger{Kind: routing.TriggerNew, MessageID: msg}); err != nil {
					d.t.Errorf("assign %d: %v", conv, err)
				}
			}()
		}
		wg.Wait()
	})
}

// burstWith creates n conversations from 16 goroutines and routes each with route. It records, on
// the test's own counter, the moment each conversation's creation began and its routing returned.
func (d *desk) burstWith(n int, route func(i int, conv, msg int64)) []int64 {
	d.t.Helper()
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 16 {
				began := d.moment.Add(1)
				conv, msg := d.customer("hello")
				route(i, conv, msg)
				ended := d.moment.Add(1)
				d.spansMu.Lock()
				if d.spans == nil {
					d.spans = map[int64][2]int64{}
				}
				d.spans[conv] = [2]int64{began, ended}
				d.spansMu.Unlock()
				ids[i] = conv
			}
		}()
	}
	wg.Wait()
	if d.t.Failed() {
		d.t.FailNow()
	}
	return ids
}

// waiting lists the channel's queue as the store's UnassignedWaiting reads it.
func (d *desk) waiting() []int64 {
	d.t.Helper()
	convs, _, err := d.s.UnassignedWaiting(d.t.Context(), d.ch.ID, nil, 10000)
	if err != nil {
		d.t.Fatal(err)
	}
	ids := make([]int64, len(convs))
	for i, c := range convs {
		ids[i] = c.ID
	}
	return ids
}

// queue lists the channel's waiting conversations in the order they started waiting, with a query of
// the test's own (not the store's UnassignedWaiting, which the drain uses).
func (d *desk) queue() []int64 {
	d.t.Helper()
	rows, err := d.s.SQL().QueryContext(d.t.Context(), fmt.Sprintf(`SELECT id FROM conversations
WHERE channel_id = %d AND assignee_id IS NULL AND waiting_since IS NOT NULL AND status <> 'resolved'
ORDER BY waiting_since, id`, d.ch.ID))
	if err != nil {
		d.t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			d.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		d.t.Fatal(err)
	}
	return ids
}

// checkQueueOrder checks a burst's queue against what the test itself saw happen: a conversation
// whose routing had returned (so it was waiting) before another's creation began started waiting
// first, and must be ahead of it. Most pairs of a burst are ordered so; the rest overlapped in time.
func (d *desk) checkQueueOrder(queue []int64) {
	d.t.Helper()
	d.spansMu.Lock()
	defer d.spansMu.Unlock()
	ordered, pairs := 0, 0
	for i, a := range queue {
		sa, ok := d.spans[a]
		if !ok {
			d.t.Fatalf("conversation %d waits but was not created by the burst", a)
		}
		for _, b := range queue[i+1:] {
			sb := d.spans[b]
			pairs++
			switch {
			case sb[1] < sa[0]:
				d.t.Fatalf("conversation %d is queued ahead of %d, which was already waiting when %d was created", a, b, a)
			case sa[1] < sb[0]:
				ordered++
			}
		}
	}
	if pairs > 0 && ordered*2 < pairs {
		d.t.Fatalf("only %d of %d pairs of the queue were ordered in time: the check says little", ordered, pairs)
	}
	d.t.Logf("queue of %d: %d of %d pairs ordered by what the test saw", len(queue), ordered, pairs)
}

// drainRounds frees capacity a few slots at a time (an agent resolves some of their conversations)
// until queue, the waiting conversations oldest first, is empty. After each round, `drains`
// concurrent drains spread over the routers must together assign exactly min(freed, waiting): the
// head of the queue. No agent may end above capacity, nothing may be assigned twice.
func (d *desk) drainRounds(queue []int64, capacity, drains int, routers ...*routing.Router) {
	d.t.Helper()
	ctx := d.t.Context()
	for round := 0; len(queue) > 0; round++ {
		agent := d.agents[round%len(d.agents)]
		open, _, err := d.s.ListConversations(ctx, store.ConversationFilter{Assignee: fmt.Sprint(agent.ID), Status: switchboard.StatusOpen, Limit: 100})
		if err != nil {
			d.t.Fatal(err)
		}
		free := min(3+round%5, len(open))
		if free == 0 {
			d.t.Fatalf("round %d: agent %d holds nothing to resolve; loads %v", round, agent.ID, d.loads())
		}
		for _, c := range open[:free] {
			if err := d.s.ResolveForTest(ctx, c.ID, t0); err != nil {
				d.t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		var assigned atomic.Int64
		for i := range drains {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := routers[i%len(routers)].Drain(context.Background(), d.ch.ID)
				if err != nil {
					d.t.Errorf("drain: %v", err)
				}
				assigned.Add(int64(n))
			}()
		}
		wg.Wait()
		if d.t.Failed() {
			d.t.FailNow()
		}
		want := min(free, len(queue))
		if int(assigned.Load()) != want {
			d.t.Fatalf("round %d: %d freed, %d waiting: the drains assigned %d, want %d", round, free, len(queue), assigned.Load(), want)
		}
		rest := d.queue()
		if !slices.Equal(rest, queue[want:]) {
			d.t.Fatalf("round %d: not the oldest first:\nwaiting %v\nwant    %v", round, rest, queue[want:])
		}
		if taken := d.assignedOf(queue[:want]); taken != want {
			d.t.Fatalf("round %d: %d of the %d oldest conversations were assigned", round, taken, want)
		}
		queue = rest
		d.checkInvariants(capacity)
	}
}

// assignedOf counts the conversations among ids that an agent holds open.
func (d *desk) assignedOf(ids []int64) int {
	d.t.Helper()
	n := 0
	for _, id := range ids {
		var kind string
		var status string
		if err := d.s.SQL().QueryRowContext(d.t.Context(), fmt.Sprintf(`SELECT assignee_kind, status FROM conversations WHERE id = %d`, id)).
			Scan(&kind, &status); err != nil {
			d.t.Fatal(err)
		}
		if kind == switchboard.AssigneeHuman && status != switchboard.StatusResolved {
			n++
		}
	}
	return n
}

func spread(loads map[int64]int) (lo, hi, total int) {
	lo = 1 << 30
	for _, n := range loads {
		lo, hi, total = min(lo, n), max(hi, n), total+n
	}
	return lo, hi, total
}

// TestAssignUnderConcurrency: 200 conversations arrive together from 16 goroutines over 5 agents of
// capacity 10. Nobody ends above 10, nothing is assigned twice, the rotation is even, the other 150
// wait, and they are assigned oldest first as capacity frees, including by concurrent drains.
func TestAssignUnderConcurrency(t *testing.T) {
	storetest.EachWith(t, storetest.Options{Clock: &tickClock{}}, func(t *testing.T, s *store.Store) {
		d := newDesk(t, s, switchboard.AssignByRoundRobin, 5, 10)
		d.burst(200)
		d.checkInvariants(10)
		loads := d.loads()
		if lo, hi, total := spread(loads); total != 50 || hi-lo > 1 || len(loads) != 5 {
			t.Fatalf("loads after the burst: %v", loads)
		}
		queue := d.queue()
		if len(queue) != 150 {
			t.Fatalf("%d waiting, want 150", len(queue))
		}
		d.checkQueueOrder(queue)
		if got := d.waiting(); !slices.Equal(got, queue) {
			t.Fatalf("the store's queue is not in waiting order:\ngot  %v\nwant %v", got, queue)
		}
		// Three drains of one process race for the slots each round frees: they take turns on each
		// conversation, and a drain whose claim lost decides again on fresh data.
		d.drainRounds(queue, 10, 3, d.router)
		if _, hi, total := spread(d.loads()); total != 50 || hi != 10 {
			t.Fatalf("final loads: %v", d.loads())
		}
	})
}

// claimCounter is the store as a router sees it, counting the claims that lost a race.
type claimCounter struct {
	*store.Store
	lost atomic.Int64
}

func (c *claimCounter) AssignConversation(ctx context.Context, id int64, from *switchboard.Assignee, to switchboard.Assignee, reason string, rule *switchboard.RoutingRule, seenOpen int, rrFrom int64) ([]switchboard.Event, error) {
	events, err := c.Store.AssignConversation(ctx, id, from, to, reason, rule, seenOpen, rrFrom)
	if switchboard.IsCode(err, switchboard.ECONFLICT) {
		c.lost.Add(1)
	}
	return events, err
}

// TestAssignIsFair: with room for everyone, both modes spread a concurrent burst evenly; in one
// process the decisions on a channel take turns, so none loses a race and decides again.
func TestAssignIsFair(t *testing.T) {
	for _, mode := range []string{switchboard.AssignByRoundRobin, switchboard.AssignByLoad} {
		t.Run(mode, func(t *testing.T) {
			storetest.EachWith(t, storetest.Options{Clock: &tickClock{}}, func(t *testing.T, s *store.Store) {
				d := newDesk(t, s, mode, 5, 1000)
				counted := &claimCounter{Store: s}
				d.router = routing.New(routing.Deps{Store: counted, Presence: d.presence})
				d.burst(203)
				d.checkInvariants(1000)
				if lo, hi, total := spread(d.loads()); total != 203 || hi-lo > 1 {
					t.Fatalf("%s is uneven: %v", mode, d.loads())
				}
				if n := counted.lost.Load(); n != 0 {
					t.Fatalf("%d claims lost a race within one process", n)
				}
			})
		})
	}
}

// twoProcesses is a desk on PostgreSQL served by two server processes: each has its own store (its
// own connection pool), presence and router, and they share one clock as replicas share the wall
// clock. Agents are connected to one process or the other, and both see all of them through the
// presence heartbeat. The counters count each process's claims that lost a race.
func twoProcesses(t *testing.T, mode string, n, capacity int) (*desk, []*routing.Router, []*claimCounter) {
	t.Helper()
	url := storetest.PostgresURL(t)
	clock := &tickClock{}
	open := func() *store.Store {
		s, err := store.Open(t.Context(), store.Options{DatabaseURL: url, Key: storetest.Key, Clock: clock, SkipMigrations: true, MaxConns: 10})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	stores := []*store.Store{open(), open()}
	d := newDesk(t, stores[0], mode, n, capacity)
	var routers []*routing.Router
	var counters []*claimCounter
	var presences []*routing.SharedPresence
	for i, st := range stores {
		local := routing.NewPresenceSet(nil, time.Minute)
		for j, agent := range d.agents {
			if j%2 == i {
				local.Connect(agent.ID)
			}
		}
		presences = append(presences, routing.NewSharedPresence(routing.SharedPresenceOptions{Local: local, Store: st, Instance: fmt.Sprint("replica-", i)}))
	}
	// Two heartbeat rounds: in the second, each process reads what the other wrote.
	for range 2 {
		for _, p := range presences {
			if err := p.Sync(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, p := range presences {
		for _, agent := range d.agents {
			if !p.Online(agent.ID) {
				t.Fatalf("process %d does not see agent %d", i, agent.ID)
			}
		}
		counted := &claimCounter{Store: stores[i]}
		counters = append(counters, counted)
		routers = append(routers, routing.New(routing.Deps{Store: counted, Presence: p}))
	}
	return d, routers, counters
}

// TestAssignTwoProcesses: two server processes share one PostgreSQL. The guarantees of
// TestAssignUnderConcurrency hold across them: nobody above capacity, nothing assigned twice, an even
// rotation, 150 waiting, then drained oldest first by both processes' drains at once.
func TestAssignTwoProcesses(t *testing.T) {
	d, routers, _ := twoProcesses(t, switchboard.AssignByRoundRobin, 5, 10)
	d.burst(200, routers...)
	d.checkInvariants(10)
	if lo, hi, total := spread(d.loads()); total != 50 || hi-lo > 1 {
		t.Fatalf("loads across two processes: %v", d.loads())
	}
	queue := d.queue()
	if len(queue) != 150 {
		t.Fatalf("%d waiting, want 150", len(queue))
	}
	d.checkQueueOrder(queue)
	// Two drains in each process: the processes' decisions do not take turns, and collide.
	d.drainRounds(queue, 10, 4, routers...)
	if _, hi, total := spread(d.loads()); total != 50 || hi != 10 {
		t.Fatalf("final loads: %v", d.loads())
	}
}

// TestAssignIsFairAcrossProcesses is TestAssignIsFair with two server processes on one PostgreSQL:
// their decisions do not take turns, so claims collide and the losers decide again, and the spread
// stays even in both modes: the load guard and the round-robin rotation live in the database and
// are checked and moved in the claim's transaction. In "contested", both processes route every
// conversation at once (a drain on one racing the inbound job on the other): one claim wins, and the
// losing one must not cost anyone their turn.
func TestAssignIsFairAcrossProcesses(t *testing.T) {
	for _, mode := range []string{switchboard.AssignByRoundRobin, switchboard.AssignByLoad} {
		for _, contested := range []bool{false, true} {
			name := mode
			if contested {
				name += "/contested"
			}
			t.Run(name, func(t *testing.T) {
				d, routers, counters := twoProcesses(t, mode, 5, 1000)
				if contested {
					d.contestedBurst(203, routers...)
				} else {
					d.burst(203, routers...)
				}
				d.checkInvariants(1000)
				if lo, hi, total := spread(d.loads()); total != 203 || hi-lo > 1 {
					t.Fatalf("%s across two processes is uneven: %v", mode, d.loads())
				}
				t.Logf("claims that lost a race: %d and %d", counters[0].lost.Load(), counters[1].lost.Load())
			})
		}
	}
}
