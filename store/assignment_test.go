package store_test

import (
	"context"
	"encoding/json"
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

// tickClock moves forward 10µs at every reading, so queue order is by time, as in production.
type tickClock struct{ n atomic.Int64 }

func (c *tickClock) Now() time.Time { return t0.Add(time.Duration(c.n.Add(1)) * 10 * time.Microsecond) }

// desk is a channel with agents, their presence and a router.
type desk struct {
	t        *testing.T
	s        *store.Store
	ch       *switchboard.Channel
	agents   []*switchboard.Agent
	presence *routing.PresenceSet
	router   *routing.Router
	seq      atomic.Int64

	// moment counts what the test sees happen in a burst; spans holds, for each conversation of a
	// burst, the moments its creation began and its routing returned (see checkQueueOrder).
	moment  atomic.Int64
	spansMu sync.Mutex
	spans   map[int64][2]int64
}

// newDesk creates a channel in the given mode with n online agents of the given capacity.
func newDesk(t *testing.T, s *store.Store, mode string, n, capacity int) *desk {
	t.Helper()
	ctx := t.Context()
	d := &desk{t: t, s: s, ch: mustChannel(t, s, "106540352242922"), presence: routing.NewPresenceSet(nil, time.Minute)}
	if _, err := s.UpdateChannel(ctx, d.ch.ID, func(c *switchboard.Channel) error { c.AssignmentMode = mode; return nil }); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		a := mustAgent(t, s, fmt.Sprintf("Agent %d", i+1), fmt.Sprintf("agent%d@example.com", i+1), switchboard.RoleAgent)
		d.join(a, capacity)
		d.presence.Connect(a.ID)
		d.agents = append(d.agents, a)
	}
	d.router = routing.New(routing.Deps{Store: s, Presence: d.presence})
	return d
}

func (d *desk) join(a *switchboard.Agent, capacity int) {
	d.t.Helper()
	if err := d.s.PutChannelMember(d.t.Context(), &switchboard.ChannelMember{ChannelID: d.ch.ID, AgentID: a.ID, Capacity: capacity}); err != nil {
		d.t.Fatal(err)
	}
}

// customer stores a message from a new contact, as a webhook does, and returns its conversation and
// message ids.
func (d *desk) customer(text string) (conversationID, messageID int64) {
	n := d.seq.Add(1)
	return d.customerFrom(fmt.Sprintf("3361%07d", n), text)
}

func (d *desk) customerFrom(waID, text string) (conversationID, messageID int64) {
	d.t.Helper()
	n := d.seq.Add(1)
	res, err := d.s.IngestInbound(context.Background(), d.ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{
		textMsg(waID, "Customer "+waID, fmt.Sprintf("wamid.%s.%d", waID, n), text, t0)}})
	if err != nil || len(res.Events) != 2 {
		d.t.Errorf("ingest: %+v %v", res, err)
		return 0, 0
	}
	var m switchboard.Message
	json.Unmarshal(res.Events[1].Data, &m)
	return res.Events[0].ConversationID, m.ID
}

// loads counts each agent's open conversations on the channel.
func (d *desk) loads() map[int64]int {
	d.t.Helper()
	rows, err := d.s.SQL().QueryContext(d.t.Context(), fmt.Sprintf(`SELECT assignee_id, COUNT(*) FROM conversations
WHERE channel_id = %d AND assignee_kind = 'human' AND status <> 'resolved' GROUP BY assignee_id`, d.ch.ID))
	if err != nil {
		d.t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		rows.Scan(&id, &n)
		out[id] = n
	}
	return out
}

// checkCapacity fails if an agent holds more open conversations than capacity, or if the load
// counters the triggers keep disagree with a real count.
func (d *desk) checkCapacity(capacity int) {
	d.t.Helper()
	loads := d.loads()
	for id, n := range loads {
		if n > capacity {
			d.t.Fatalf("agent %d holds %d conversations, capacity %d", id, n, capacity)
		}
	}
	rows, err := d.s.SQL().QueryContext(d.t.Context(), fmt.Sprintf(`SELECT agent_id, open_count FROM channel_members WHERE channel_id = %d`, d.ch.ID))
	if err != nil {
		d.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		rows.Scan(&id, &n)
		if n != loads[id] {
			d.t.Fatalf("agent %d: counter says %d open, a count says %d", id, n, loads[id])
		}
	}
}

// lastActivity returns the text of the conversation's latest activity line.
func lastActivity(t *testing.T, s *store.Store, conv int64) string {
	t.Helper()
	msgs, _, err := s.ListMessages(t.Context(), conv, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Type == switchboard.TypeActivity {
			return msgs[i].Text
		}
	}
	return ""
}

// peopleDesk is a load-mode channel with Ana and Bo (capacity 2) whose presence the test controls.
func peopleDesk(t *testing.T, s *store.Store) (*desk, *switchPresence, *switchboard.Agent, *switchboard.Agent) {
	d := newDesk(t, s, switchboard.AssignByLoad, 0, 0)
	ana := mustAgent(t, s, "Ana", "ana@example.com", switchboard.RoleAgent)
	bo := mustAgent(t, s, "Bo", "bo@example.com", switchboard.RoleAgent)
	d.join(ana, 2)
	d.join(bo, 2)
	p := &switchPresence{on: map[int64]bool{ana.ID: true, bo.ID: true}}
	d.router = routing.New(routing.Deps{Store: s, Presence: p, AIAgents: aiAgents{7: {ID: 7, Name: "Helper", Enabled: true}}})
	return d, p, ana, bo
}

func TestReopenKeepsOrMoves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		d, presence, ana, bo := peopleDesk(t, s)
		resolve := func(conv int64) {
			t.Helper()
			if err := s.ResolveForTest(ctx, conv, t0.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		// reopen has the customer write again within the reopen window and routes the reopened
		// conversation, as the inbound job does.
		reopen := func(conv int64) *routing.Outcome {
			t.Helper()
			if again, _ := d.customerFrom("33612345678", "me again"); again != conv {
				t.Fatalf("the message should reopen %d, not start %d", conv, again)
			}
			out, err := d.router.Assign(ctx, conv, routing.Trigger{Kind: routing.TriggerReopened})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		owner := func(out *routing.Outcome) string {
			if out.Assignee == nil {
				return fmt.Sprintf("nobody (waiting %v)", out.Waiting)
			}
			return fmt.Sprintf("%s %d (%s)", out.Assignee.Name, out.Assignee.ID, out.Reason)
		}
		conv, _ := d.customerFrom("33612345678", "hello")
		if out, _ := d.router.Assign(ctx, conv, routing.Trigger{Kind: routing.TriggerNew}); out.Assignee.ID != ana.ID {
			t.Fatalf("first assignment: %s", owner(out))
		}
		// A message on a conversation someone owns changes nothing.
		if out, err := d.router.Assign(ctx, conv, routing.Trigger{Kind: routing.TriggerMessage}); err != nil || out.Assignee.ID != ana.ID || len(out.Events) != 0 {
			t.Fatalf("message on an owned conversation: %s %v", owner(out), err)
		}
		// Reopened while Ana is eligible: she keeps it.
		resolve(conv)
		if out := reopen(conv); out.Assignee.ID != ana.ID || out.Reason != routing.ReasonReopen || lastActivity(t, s, conv) != "Reopened: it stays with Ana." {
			t.Fatalf("keep: %s %q", owner(out), lastActivity(t, s, conv))
		}
		// Reopened while Ana is offline: routed again, to Bo.
		presence.set(ana.ID, false)
		resolve(conv)
		if out := reopen(conv); out.Assignee.ID != bo.ID || out.Reason != routing.ReasonLoad {
			t.Fatalf("move: %s", owner(out))
		}
		events, _ := s.EventsAfter(ctx, 0, 1000)
		last := events[len(events)-1]
		var data struct {
			Assignee *switchboard.Assignee `json:"assignee"`
			Previous *switchboard.Assignee `json:"previous_assignee"`
			Reason   string                `json:"assignment_reason"`
		}
		json.Unmarshal(last.Data, &data)
		if last.Type != switchboard.EventConversationAssigned || data.Previous.Name != "Ana" || data.Assignee.Name != "Bo" || data.Reason != "load" {
			t.Fatalf("event: %s %s", last.Type, last.Data)
		}
		// Bo fills up while the conversation is resolved; reopened, it would be his third: it goes
		// to Ana instead.
		presence.set(ana.ID, true)
		resolve(conv)
		ada := &switchboard.Agent{ID: 1, Name: "Ada", Role: switchboard.RoleAdmin}
		for _, wa := range []string{"33600000001", "33600000002"} {
			other, _ := d.customerFrom(wa, "hi")
			if _, _, err := s.AssignManually(ctx, other, bo.ID, ada); err != nil {
				t.Fatal(err)
			}
		}
		if out := reopen(conv); out.Assignee.ID != ana.ID {
			t.Fatalf("reopen beyond capacity: %s, loads %v", owner(out), d.loads())
		}
		d.checkCapacity(2)
		// Reopened with nobody eligible: it waits, unassigned.
		presence.set(ana.ID, false)
		presence.set(bo.ID, false)
		resolve(conv)
		out := reopen(conv)
		c, _ := s.Conversation(ctx, conv)
		if !out.Waiting || c.Assignee != nil || c.WaitingSince == nil || lastActivity(t, s, conv) != "Reopened while Ana is not available. Waiting for an available agent." {
			t.Fatalf("wait: %s %+v %q", owner(out), c, lastActivity(t, s, conv))
		}
	})
}

func TestHandOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		d, presence, ana, bo := peopleDesk(t, s)
		ai := int64(7)
		if _, err := s.UpdateChannel(ctx, d.ch.ID, func(c *switchboard.Channel) error { c.AIAgentID = &ai; return nil }); err != nil {
			t.Fatal(err)
		}
		conv, msg := d.customerFrom("33612345678", "hello")
		out, err := d.router.Assign(ctx, conv, routing.Trigger{Kind: routing.TriggerNew, MessageID: msg})
		if err != nil || out.Assignee.Kind != switchboard.AssigneeAI || out.Reason != routing.ReasonAI ||
			lastActivity(t, s, conv) != "Assigned to the AI agent Helper, the channel's AI agent." {
			t.Fatalf("AI step: %v %v %q", out.Assignee, err, lastActivity(t, s, conv))
		}
		if err := d.router.HandOff(ctx, conv, "the customer asked for a person"); err != nil {
			t.Fatal(err)
		}
		c, _ := s.Conversation(ctx, conv)
		if c.Assignee == nil || c.Assignee.ID != ana.ID || !c.AIHandedOff ||
			lastActivity(t, s, conv) != "Assigned to Ana after the AI agent handed the conversation to people." {
			t.Fatalf("after handoff: %+v %q", c, lastActivity(t, s, conv))
		}
		if err := d.router.HandOff(ctx, conv, "again"); err != nil {
			t.Fatalf("a second handoff is a no-op: %v", err)
		}
		// Reopened later, it does not go back to the AI: Ana keeps it.
		s.ResolveForTest(ctx, conv, t0.Add(-time.Hour))
		d.customerFrom("33612345678", "one more thing")
		if out, _ := d.router.Assign(ctx, conv, routing.Trigger{Kind: routing.TriggerReopened}); out.Assignee.Kind != switchboard.AssigneeHuman {
			t.Fatalf("the AI took a handed-off conversation back: %v", out.Assignee)
		}
		// A handoff with nobody online waits in the channel's queue; the drain assigns it.
		conv2, _ := d.customerFrom("33699999999", "hello")
		d.router.Assign(ctx, conv2, routing.Trigger{Kind: routing.TriggerNew})
		presence.set(ana.ID, false)
		presence.set(bo.ID, false)
		if err := d.router.HandOff(ctx, conv2, "timeout"); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.Conversation(ctx, conv2); c.Assignee != nil || c.WaitingSince == nil {
			t.Fatalf("handoff with nobody online: %+v", c)
		}
		presence.set(bo.ID, true)
		if n, err := d.router.Drain(ctx, d.ch.ID); n != 1 || err != nil {
			t.Fatalf("drain: %d %v", n, err)
		}
		// Assigned back to the AI explicitly, it answers again.
		if _, err := s.AssignConversation(ctx, conv2, &switchboard.Assignee{Kind: switchboard.AssigneeHuman, ID: bo.ID},
			switchboard.Assignee{Kind: switchboard.AssigneeAI, ID: ai, Name: "Helper"}, routing.ReasonManual, nil, -1, -1); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.Conversation(ctx, conv2); c.AIHandedOff || c.Assignee.Kind != switchboard.AssigneeAI {
			t.Fatalf("assigned back: %+v", c)
		}
	})
}

func TestManualAssignment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		d, _, ana, bo := peopleDesk(t, s)
		ada := mustAgent(t, s, "Ada", "ada@example.com", switchboard.RoleAdmin)
		cy := mustAgent(t, s, "Cy", "cy@example.com", switchboard.RoleAgent) // not a member
		conv, _ := d.customerFrom("33612345678", "hello")

		if _, _, err := s.AssignManually(ctx, conv, bo.ID, ana); !switchboard.IsCode(err, switchboard.EFORBIDDEN) {
			t.Fatalf("an agent assigning to someone else: %v", err)
		}
		if _, _, err := s.AssignManually(ctx, conv, cy.ID, ada); switchboard.ErrorFields(err)["agent_id"] == "" {
			t.Fatalf("a non-member: %v", err)
		}
		c, events, err := s.AssignManually(ctx, conv, bo.ID, bo)
		if err != nil || c.Assignee.ID != bo.ID || c.Assignee.Name != "Bo" || len(events) != 2 || lastActivity(t, s, conv) != "Bo took the conversation." {
			t.Fatalf("take: %+v %v %v", c, events, err)
		}
		if _, _, err := s.AssignManually(ctx, conv, ana.ID, ana); !switchboard.IsCode(err, switchboard.ECONFLICT) {
			t.Fatalf("taking someone else's conversation: %v", err)
		}
		c, _, err = s.AssignManually(ctx, conv, ana.ID, ada)
		if err != nil || c.Assignee.ID != ana.ID || lastActivity(t, s, conv) != "Ada transferred the conversation from Bo to Ana." {
			t.Fatalf("transfer: %+v %v %q", c, err, lastActivity(t, s, conv))
		}
		if _, events, err := s.AssignManually(ctx, conv, ana.ID, ada); err != nil || len(events) != 0 {
			t.Fatalf("assigning to the current assignee: %v %v", events, err)
		}
		// Ana's capacity is 2: a third is refused.
		for _, wa := range []string{"33600000001", "33600000002"} {
			other, _ := d.customerFrom(wa, "hi")
			_, _, err = s.AssignManually(ctx, other, ana.ID, ada)
		}
		if !switchboard.IsCode(err, switchboard.ECONFLICT) {
			t.Fatalf("over capacity: %v (loads %v)", err, d.loads())
		}
		d.checkCapacity(2)

		// Eight agents click "take" on the same conversation at once: one gets it.
		race, _ := d.customerFrom("33611111111", "who's there?")
		var takers []*switchboard.Agent
		for i := range 8 {
			a := mustAgent(t, s, fmt.Sprint("Taker ", i), fmt.Sprintf("taker%d@example.com", i), switchboard.RoleAgent)
			d.join(a, 5)
			takers = append(takers, a)
		}
		var won atomic.Int64
		var wg sync.WaitGroup
		for _, a := range takers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := s.AssignManually(context.Background(), race, a.ID, a)
				switch {
				case err == nil:
					won.Add(1)
				case !switchboard.IsCode(err, switchboard.ECONFLICT):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d agents took the same conversation", won.Load())
		}
		d.checkCapacity(5)
	})
}

func TestReleaseAgent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		d, presence, ana, bo := peopleDesk(t, s)
		presence.set(bo.ID, false)
		var convs []int64
		for _, wa := range []string{"33600000001", "33600000002"} {
			c, _ := d.customerFrom(wa, "hi")
			d.router.Assign(ctx, c, routing.Trigger{Kind: routing.TriggerNew})
			convs = append(convs, c)
		}
		if d.loads()[ana.ID] != 2 {
			t.Fatalf("loads: %v", d.loads())
		}
		// Ana leaves; Bo is back: her conversations go to him through the queue.
		presence.set(ana.ID, false)
		presence.set(bo.ID, true)
		if n, err := d.router.Release(ctx, d.ch.ID, ana.ID); err != nil || n != 2 {
			t.Fatalf("release: %d %v", n, err)
		}
		if l := d.loads(); l[bo.ID] != 2 || l[ana.ID] != 0 {
			t.Fatalf("loads after release: %v", l)
		}
		if got := lastActivity(t, s, convs[0]); got != "Assigned to Bo from the queue." {
			t.Fatalf("activity: %q", got)
		}
		d.checkCapacity(2)
	})
}

// BenchmarkAssignDecision measures one assignment decision (rules, the pool of 500 members with their
// loads over 50,000 open conversations, the choice and the atomic claim) on PostgreSQL, and reports
// its latency percentiles. Creating each new conversation is not timed.
func BenchmarkAssignDecision(b *testing.B) {
	for _, mode := range []string{switchboard.AssignByLoad, switchboard.AssignByRoundRobin} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			s := storetest.Postgres(b, storetest.Options{})
			ch := &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, Name: "Bench", PhoneNumber: "+14155550123",
				PhoneNumberID: "106540352242922", BusinessAccountID: "102290129340398", APIKey: "token", AppSecret: "secret",
				VerifyToken: "verify-token-0123456789", AssignmentMode: mode, DefaultCapacity: 10, Settings: switchboard.DefaultChannelSettings()}
			if err := s.CreateChannel(ctx, ch); err != nil {
				b.Fatal(err)
			}
			presence := routing.NewPresenceSet(nil, time.Minute)
			ids := make([]int64, 500)
			for i := range ids {
				a := &switchboard.Agent{Name: fmt.Sprint("Agent ", i), Email: fmt.Sprintf("a%d@example.com", i), Role: switchboard.RoleAgent, PasswordHash: "x"}
				if err := s.CreateAgent(ctx, a); err != nil {
					b.Fatal(err)
				}
				if err := s.PutChannelMember(ctx, &switchboard.ChannelMember{ChannelID: ch.ID, AgentID: a.ID, Capacity: 1000}); err != nil {
					b.Fatal(err)
				}
				presence.Connect(a.ID)
				ids[i] = a.ID
			}
			if err := s.SeedLoadForTest(ctx, ch.ID, ids, 50000); err != nil {
				b.Fatal(err)
			}
			router := routing.New(routing.Deps{Store: s, Presence: presence})
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				res, err := s.IngestInbound(ctx, ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{
					textMsg(fmt.Sprint(4400000000+i), "Bench", fmt.Sprint("wamid.bench.", i), "hello", t0)}})
				if err != nil {
					b.Fatal(err)
				}
				conv := res.Events[0].ConversationID
				b.StartTimer()
				start := time.Now()
				out, err := router.Assign(ctx, conv, routing.Trigger{Kind: routing.TriggerNew})
				lat = append(lat, time.Since(start))
				if err != nil || out.Assignee == nil {
					b.Fatalf("assign: %v %v", out, err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
		})
	}
}
