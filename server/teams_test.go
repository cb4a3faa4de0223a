package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"switchboard"
	"switchboard/server"
	"switchboard/store"
	"switchboard/store/storetest"
)

// TestTeamsAPI: admins create, rename, staff and delete teams; everyone reads them; bad members and
// duplicate names are field errors. A team always lists its agents as an array, empty or not.
func TestTeamsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts := newTestServer(t, st)
		ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
		bo := ts.mustAgent("Bo", "bo@example.com", switchboard.RoleAgent)
		cy := ts.mustAgent("Cy", "cy@example.com", switchboard.RoleAgent)
		admin, agent := ts.login("ada@example.com"), ts.login("bo@example.com")

		type team struct {
			ID       int64   `json:"id"`
			Name     string  `json:"name"`
			AgentIDs []int64 `json:"agent_ids"`
		}
		var empty team
		res := admin.do("POST", "/api/v1/teams", map[string]any{"name": "Billing"}).wantStatus(http.StatusCreated)
		res.decode(&empty)
		if empty.AgentIDs == nil || len(empty.AgentIDs) != 0 || !strings.Contains(string(res.Body), `"agent_ids":[]`) {
			t.Fatalf("a team without members: %s, want agent_ids []", res.Body)
		}

		var sales team
		admin.do("POST", "/api/v1/teams", map[string]any{"name": "Sales", "agent_ids": []int64{bo.ID, cy.ID}}).
			wantStatus(http.StatusCreated).decode(&sales)
		if len(sales.AgentIDs) != 2 {
			t.Fatalf("sales = %+v, want both agents", sales)
		}

		// Field errors: a duplicate name (any case), an unknown agent, an agent listed twice, no name.
		admin.do("POST", "/api/v1/teams", map[string]any{"name": "sales"}).wantStatus(http.StatusConflict)
		for _, body := range []map[string]any{
			{"name": "Support", "agent_ids": []int64{bo.ID, 999999}},
			{"name": "Support", "agent_ids": []int64{bo.ID, bo.ID}},
			{"name": " "},
		} {
			res := admin.do("POST", "/api/v1/teams", body).wantStatus(http.StatusUnprocessableEntity)
			if res.errorCode() != switchboard.EINVALID {
				t.Errorf("%v: %s", body, res.Body)
			}
		}

		// Agents read teams (to transfer a conversation) but cannot change them.
		var listed struct {
			Data []team `json:"data"`
		}
		agent.do("GET", "/api/v1/teams", nil).wantStatus(http.StatusOK).decode(&listed)
		path := "/api/v1/teams/" + strconv.FormatInt(sales.ID, 10)
		if len(listed.Data) != 2 {
			t.Fatalf("teams = %+v, want Billing and Sales", listed.Data)
		}
		agent.do("PATCH", path, map[string]any{"name": "Mine"}).wantStatus(http.StatusForbidden)

		// A rename keeps the members; a new member list replaces them.
		var renamed team
		admin.do("PATCH", path, map[string]any{"name": "Sales EU"}).wantStatus(http.StatusOK).decode(&renamed)
		if renamed.Name != "Sales EU" || len(renamed.AgentIDs) != 2 {
			t.Fatalf("after rename: %+v", renamed)
		}
		admin.do("PATCH", path, map[string]any{"agent_ids": []int64{cy.ID}}).wantStatus(http.StatusOK)
		var restaffed team
		agent.do("GET", path, nil).wantStatus(http.StatusOK).decode(&restaffed)
		if len(restaffed.AgentIDs) != 1 || restaffed.AgentIDs[0] != cy.ID {
			t.Fatalf("after restaffing: %+v, want only Cy", restaffed)
		}

		admin.do("DELETE", path, nil).wantStatus(http.StatusNoContent)
		admin.do("GET", path, nil).wantStatus(http.StatusNotFound)
	})
}

// onlineSet is presence for tests: the agents listed are online.
type onlineSet map[int64]bool

func (o onlineSet) Online(agentID int64) bool { return o[agentID] }

// TestAgentsShowWhoIsOnline: the agents list (and one agent) say who is connected right now, so a
// colleague choosing whom to transfer to sees it.
func TestAgentsShowWhoIsOnline(t *testing.T) {
	online := onlineSet{}
	ts := newTestServerOptions(t, storetest.SQLite(t, storetest.Options{}), switchboard.SystemClock{},
		func(o *server.Options) { o.Presence = online })
	ada := ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
	bo := ts.mustAgent("Bo", "bo@example.com", switchboard.RoleAgent)
	online[bo.ID] = true
	agent := ts.login("bo@example.com")

	var listed struct {
		Data []struct {
			ID        int64 `json:"id"`
			Email     string
			Connected bool `json:"connected"`
		} `json:"data"`
	}
	agent.do("GET", "/api/v1/agents", nil).wantStatus(http.StatusOK).decode(&listed)
	got := map[int64]bool{}
	for _, a := range listed.Data {
		got[a.ID] = a.Connected
	}
	if len(got) != 2 || got[ada.ID] || !got[bo.ID] {
		t.Fatalf("connected = %v, want only Bo (%d)", got, bo.ID)
	}
	var one struct {
		Email     string `json:"email"`
		Connected bool   `json:"connected"`
	}
	agent.do("GET", "/api/v1/agents/"+strconv.FormatInt(bo.ID, 10), nil).wantStatus(http.StatusOK).decode(&one)
	if !one.Connected || one.Email != "bo@example.com" {
		t.Fatalf("Bo = %+v, want connected with his fields", one)
	}
}
