package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/routing"
	"switchboard/store"
	"switchboard/store/storetest"
)

func mustAgent(t *testing.T, s *store.Store, name, email string, role switchboard.Role) *switchboard.Agent {
	t.Helper()
	a := &switchboard.Agent{Name: name, Email: email, Role: role, PasswordHash: "$argon2id$test"}
	if err := s.CreateAgent(t.Context(), a); err != nil {
		t.Fatalf("create agent %s: %v", email, err)
	}
	return a
}

func TestAgents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		admin := mustAgent(t, s, "Ada Admin", "Ada@Example.com", switchboard.RoleAdmin)
		if admin.ID == 0 || admin.Email != "ada@example.com" || admin.Availability != switchboard.Available {
			t.Fatalf("created agent: %+v", admin)
		}
		got, err := s.AgentByEmail(ctx, " ADA@example.COM ")
		if err != nil || got.ID != admin.ID {
			t.Fatalf("lookup by email is case-insensitive: %v %v", got, err)
		}
		dup := &switchboard.Agent{Name: "Other", Email: "ada@example.com", Role: switchboard.RoleAgent, PasswordHash: "x"}
		if err := s.CreateAgent(ctx, dup); switchboard.ErrorCode(err) != switchboard.ECONFLICT || switchboard.ErrorFields(err)["email"] == "" {
			t.Fatalf("duplicate email: want conflict on email, got %v", err)
		}
		bad := &switchboard.Agent{Name: "", Email: "nope", Role: "boss", PasswordHash: "x"}
		if err := s.CreateAgent(ctx, bad); len(switchboard.ErrorFields(err)) != 3 {
			t.Fatalf("invalid agent: want 3 field problems, got %v", err)
		}
		if _, err := s.Agent(ctx, 999999); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Fatalf("missing agent: %v", err)
		}

		// The last active admin can be neither demoted, disabled nor deleted.
		role := switchboard.RoleAgent
		if _, err := s.UpdateAgent(ctx, admin.ID, store.AgentUpdate{Role: &role}); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Fatalf("demoting the last admin: want conflict, got %v", err)
		}
		if err := s.DeleteAgent(ctx, admin.ID); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Fatalf("deleting the last admin: want conflict, got %v", err)
		}
		second := mustAgent(t, s, "Bob", "bob@example.com", switchboard.RoleAdmin)
		if _, err := s.UpdateAgent(ctx, admin.ID, store.AgentUpdate{Role: &role}); err != nil {
			t.Fatalf("demoting one of two admins: %v", err)
		}
		list, err := s.ListAgents(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "Ada Admin" || list[1].ID != second.ID {
			t.Fatalf("list: %v %v", list, err)
		}
	})
}

func TestSessionsAndTokens(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		a := mustAgent(t, s, "Ada", "ada@example.com", switchboard.RoleAdmin)
		now := clock.Now()
		sess := &switchboard.Session{ID: hex64("a"), AgentID: a.ID, CSRFToken: "csrf", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		got, agent, err := s.SessionAgent(ctx, sess.ID)
		if err != nil || agent.ID != a.ID || got.CSRFToken != "csrf" || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("session lookup: %+v %v", got, err)
		}
		clock.Advance(2 * time.Hour)
		if _, _, err := s.SessionAgent(ctx, sess.ID); switchboard.ErrorCode(err) != switchboard.EUNAUTHORIZED {
			t.Fatalf("expired session: want unauthorized, got %v", err)
		}
		if n, err := s.DeleteExpiredSessions(ctx); err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}

		tok := &switchboard.APIToken{AgentID: a.ID, Name: "CRM", Prefix: "sbt_abcd", Hash: hex64("b")}
		if err := s.CreateAPIToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, agent, err := s.TokenAgent(ctx, tok.Hash); err != nil || agent.ID != a.ID {
			t.Fatalf("token lookup: %v", err)
		}
		if _, _, err := s.TokenAgent(ctx, hex64("c")); switchboard.ErrorCode(err) != switchboard.EUNAUTHORIZED {
			t.Fatalf("unknown token: %v", err)
		}
		if err := s.DeleteAPIToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.TokenAgent(ctx, tok.Hash); switchboard.ErrorCode(err) != switchboard.EUNAUTHORIZED {
			t.Fatalf("revoked token still works: %v", err)
		}
	})
}

func TestTeams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := mustAgent(t, s, "Ada", "ada@example.com", switchboard.RoleAdmin)
		b := mustAgent(t, s, "Bob", "bob@example.com", switchboard.RoleAgent)
		team := &switchboard.Team{Name: "Billing", AgentIDs: []int64{a.ID, b.ID}}
		if err := s.CreateTeam(ctx, team); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateTeam(ctx, &switchboard.Team{Name: "billing"}); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Fatalf("team names are unique regardless of case: %v", err)
		}
		if err := s.CreateTeam(ctx, &switchboard.Team{Name: "Ghosts", AgentIDs: []int64{424242}}); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Fatalf("unknown member: %v", err)
		}
		team.AgentIDs = []int64{b.ID}
		if err := s.UpdateTeam(ctx, team); err != nil {
			t.Fatal(err)
		}
		got, err := s.Team(ctx, team.ID)
		if err != nil || len(got.AgentIDs) != 1 || got.AgentIDs[0] != b.ID {
			t.Fatalf("team after update: %+v %v", got, err)
		}
		teams, _ := s.ListTeams(ctx)
		if len(teams) != 1 {
			t.Fatalf("a failed create must leave nothing behind: %d teams", len(teams))
		}
		if err := s.DeleteTeam(ctx, team.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Team(ctx, team.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Fatalf("deleted team: %v", err)
		}
	})
}

func hex64(c string) string {
	out := ""
	for len(out) < 64 {
		out += c
	}
	return out
}

// TestReopenExistingDatabase opens a store twice on the same SQLite file: migrations already applied
// must not stop the second start, and data survives.
func TestReopenExistingDatabase(t *testing.T) {
	path := t.TempDir() + "/switchboard.db"
	open := func() *store.Store {
		s, err := store.Open(t.Context(), store.Options{SQLitePath: path, Key: storetest.Key})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return s
	}
	s := open()
	mustAgent(t, s, "Ada", "ada@example.com", switchboard.RoleAdmin)
	s.Close()
	s = open()
	defer s.Close()
	if err := s.Ready(t.Context()); err != nil {
		t.Fatalf("reopened store not ready: %v", err)
	}
	if n, err := s.CountAgents(t.Context()); err != nil || n != 1 {
		t.Fatalf("agents after reopen: %d %v", n, err)
	}
}

// presenceLog reads the presence.updated events logged after *head (moving it on), as "12 online
// available" ("12 available" for an availability change, which says nothing of being online).
func presenceLog(t *testing.T, s *store.Store, head *int64) []string {
	t.Helper()
	events, err := s.EventsAfter(t.Context(), *head, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range events {
		*head = ev.Seq
		if ev.Type != switchboard.EventPresenceUpdated {
			continue
		}
		var d struct {
			AgentID      int64  `json:"agent_id"`
			Availability string `json:"availability"`
			Connected    *bool  `json:"connected"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil || ev.ChannelID != 0 {
			t.Fatalf("presence event %s on channel %d: %v", ev.Data, ev.ChannelID, err)
		}
		switch {
		case d.Connected == nil:
			out = append(out, fmt.Sprint(d.AgentID, " ", d.Availability))
		case *d.Connected:
			out = append(out, fmt.Sprint(d.AgentID, " online ", d.Availability))
		default:
			out = append(out, fmt.Sprint(d.AgentID, " offline ", d.Availability))
		}
	}
	return out
}

// eventSink collects published events.
type eventSink struct {
	mu     sync.Mutex
	events []switchboard.Event
}

func (e *eventSink) Publish(_ context.Context, events []switchboard.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, events...)
}

// TestPresenceEvents: an agent coming online or going offline on any of the server processes
// sharing the database logs one presence.updated event ({"agent_id", "availability", "connected"},
// SetAvailability's fields and whether they are connected), which the process publishes; a second tab,
// a reconnection within the grace period or a move to another process logs none.
func TestPresenceEvents(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ana := mustAgent(t, s, "Ana", "ana@example.com", switchboard.RoleAgent)
		sink := &eventSink{}
		var replicas []*routing.SharedPresence
		for _, name := range []string{"a", "b"} {
			replicas = append(replicas, routing.NewSharedPresence(routing.SharedPresenceOptions{Local: routing.NewPresenceSet(clock, 30*time.Second),
				Store: s, Instance: name, Interval: time.Second, Publisher: sink}))
		}
		a, b := replicas[0], replicas[1]
		var head int64
		presenceLog(t, s, &head)
		// wait lets time pass with both processes' heartbeats and returns the presence events logged.
		wait := func(d time.Duration) []string {
			t.Helper()
			for range int(d / time.Second) {
				clock.Advance(time.Second)
				for _, p := range replicas {
					if err := p.Sync(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			return presenceLog(t, s, &head)
		}
		expect := func(step string, got []string, want ...string) {
			t.Helper()
			if !slices.Equal(got, want) {
				t.Fatalf("%s: events %q, want %q", step, got, want)
			}
		}
		id := fmt.Sprint(ana.ID)

		a.Local().Connect(ana.ID)
		expect("first connection", wait(time.Second), id+" online available")
		a.Local().Connect(ana.ID)
		expect("a second tab", wait(2*time.Second))
		a.Local().Disconnect(ana.ID)
		a.Local().Disconnect(ana.ID)
		b.Local().Connect(ana.ID)
		expect("a move to the other process", wait(40*time.Second))
		if _, _, err := s.SetAvailability(ctx, ana.ID, switchboard.Away); err != nil {
			t.Fatal(err)
		}
		expect("away", presenceLog(t, s, &head), id+" away")
		b.Local().Disconnect(ana.ID)
		expect("within the grace period", wait(20*time.Second))
		b.Local().Connect(ana.ID)
		expect("back within the grace period", wait(time.Second))
		b.Local().Disconnect(ana.ID)
		expect("gone from every process", wait(40*time.Second), id+" offline away")
		if a.Online(ana.ID) || b.Online(ana.ID) {
			t.Fatal("Ana is still online")
		}
		sink.mu.Lock()
		if len(sink.events) != 2 || sink.events[0].Type != switchboard.EventPresenceUpdated || sink.events[1].Seq <= sink.events[0].Seq {
			t.Fatalf("published: %+v", sink.events)
		}
		sink.mu.Unlock()

		// A replica that stopped reporting (crashed) does not keep Ana online.
		if err := s.TouchPresence(ctx, "crashed", []int64{ana.ID}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(4 * time.Second)
		if evs, err := s.RecordPresence(ctx, "a", ana.ID, true, 3*time.Second); err != nil || len(evs) != 1 {
			t.Fatalf("online beside a stale report: %v %v", evs, err)
		}
		if evs, err := s.RecordPresence(ctx, "a", 424242, true, 3*time.Second); err != nil || len(evs) != 0 {
			t.Fatalf("an unknown agent: %v %v", evs, err)
		}
	})
}

// TestPresenceTransitionsRace: Ana's connection moves from process a to process b while a's grace
// period ends: a records her offline while b records her online, at the same moment. Whatever the
// order, the last event agents saw must say what is true: online.
func TestPresenceTransitionsRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		ana := mustAgent(t, s, "Ana", "ana@example.com", switchboard.RoleAgent)
		var head int64
		presenceLog(t, s, &head)
		state := "offline"
		// settle applies the events logged since the last call to what agents see.
		settle := func() {
			for _, e := range presenceLog(t, s, &head) {
				if e == fmt.Sprint(ana.ID, " online available") {
					state = "online"
				} else {
					state = "offline"
				}
			}
		}
		for i := range 20 {
			if _, err := s.RecordPresence(ctx, "a", ana.ID, true, time.Minute); err != nil {
				t.Fatal(err)
			}
			settle()
			var wg sync.WaitGroup
			for _, online := range []bool{false, true} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.RecordPresence(context.Background(), map[bool]string{false: "a", true: "b"}[online], ana.ID, online, time.Minute); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			settle()
			if state != "online" {
				t.Fatalf("round %d: Ana is connected to b, but agents last saw her %s", i, state)
			}
			if _, err := s.RecordPresence(ctx, "b", ana.ID, false, time.Minute); err != nil {
				t.Fatal(err)
			}
			settle()
			if state != "offline" {
				t.Fatalf("round %d: Ana left, but agents last saw her %s", i, state)
			}
		}
	})
}
