package store_test

import (
	"context"
	"testing"
	"time"

	"switchboard"
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
