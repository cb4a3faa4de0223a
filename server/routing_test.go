package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/config"
	"switchboard/pipeline"
	"switchboard/store"
	"switchboard/store/storetest"
)

// apiClient is a signed-in browser: a cookie jar and the session's CSRF token.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func signIn(t *testing.T, base, email string) *apiClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &apiClient{t: t, base: base, http: &http.Client{Jar: jar}}
	status, body := c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": "correct-horse-battery"})
	var res struct {
		CSRFToken string `json:"csrf_token"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &res) != nil {
		t.Fatalf("sign in %s: %d %s", email, status, body)
	}
	c.csrf = res.CSRFToken
	return c
}

func (c *apiClient) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

func TestRoutingAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		srv := New(Options{Config: &config.Config{PublicURL: "http://localhost:8080", SessionTTL: time.Hour}, Store: st, Web: http.NotFoundHandler(),
			Workspace: pipeline.NewWorkspace(pipeline.WorkspaceOptions{Store: st})})
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		hash, _ := HashPassword("correct-horse-battery")
		people := map[string]*switchboard.Agent{}
		for _, p := range []struct {
			name string
			role switchboard.Role
		}{{"Ada", switchboard.RoleAdmin}, {"Bo", switchboard.RoleAgent}, {"Cy", switchboard.RoleAgent}} {
			a := &switchboard.Agent{Name: p.name, Email: strings.ToLower(p.name) + "@example.com", Role: p.role, PasswordHash: hash}
			if err := st.CreateAgent(ctx, a); err != nil {
				t.Fatal(err)
			}
			people[p.name] = a
		}
		ch := &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, Name: "Support", PhoneNumber: "+14155550123",
			PhoneNumberID: "106540352242922", BusinessAccountID: "102290129340398", APIKey: "token", AppSecret: "secret",
			VerifyToken: "verify-token-0123456789", AssignmentMode: switchboard.AssignByLoad, DefaultCapacity: 10,
			Settings: switchboard.DefaultChannelSettings()}
		if err := st.CreateChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
		if err := st.PutChannelMember(ctx, &switchboard.ChannelMember{ChannelID: ch.ID, AgentID: people["Bo"].ID, Capacity: 1}); err != nil {
			t.Fatal(err)
		}
		team := &switchboard.Team{Name: "Billing", AgentIDs: []int64{people["Bo"].ID}}
		ai := &switchboard.AIAgent{Name: "Helper", Model: "gpt-4o-mini", Enabled: true}
		if err := st.CreateTeam(ctx, team); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateAIAgent(ctx, ai); err != nil {
			t.Fatal(err)
		}
		var convs []int64
		for i, wa := range []string{"33612345678", "33687654321"} {
			at := time.Now().UTC()
			res, err := st.IngestInbound(ctx, ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{{WaID: wa, ExternalID: fmt.Sprint("wamid.", i),
				Timestamp: at, Message: &switchboard.Message{Type: switchboard.TypeText, Text: "hello", ExternalID: fmt.Sprint("wamid.", i), Timestamp: &at}}}})
			if err != nil {
				t.Fatal(err)
			}
			convs = append(convs, res.Events[0].ConversationID)
		}
		clients := map[string]*apiClient{}
		for name := range people {
			clients[name] = signIn(t, hs.URL, strings.ToLower(name)+"@example.com")
		}

		chPath := fmt.Sprintf("/api/v1/channels/%d", ch.ID)
		rulePath := func(id *int64) func() string {
			return func() string { return fmt.Sprintf("%s/routing-rules/%d", chPath, *id) }
		}
		assignPath := func(i int) func() string {
			return func() string { return fmt.Sprintf("/api/v1/conversations/%d/assign", convs[i]) }
		}
		static := func(p string) func() string { return func() string { return p } }
		var rule1, rule2 int64
		saveID := func(dst *int64) func([]byte) {
			return func(b []byte) {
				var r struct{ ID int64 }
				json.Unmarshal(b, &r)
				*dst = r.ID
			}
		}
		teamTarget := map[string]any{"kind": "team", "id": team.ID}
		textCond := []map[string]any{{"field": "text", "op": "contains", "values": []string{"invoice"}}}
		steps := []struct {
			name   string
			as     string
			method string
			path   func() string
			body   any
			status int
			want   []string
			save   func([]byte)
		}{
			{"set round-robin", "Ada", "PUT", static(chPath + "/assignment"), map[string]any{"mode": "round_robin"}, 200, []string{`"mode":"round_robin"`, `"ai_agent_id":null`}, nil},
			{"unknown mode", "Ada", "PUT", static(chPath + "/assignment"), map[string]any{"mode": "fifo"}, 422, []string{`"mode":`}, nil},
			{"unknown AI agent", "Ada", "PUT", static(chPath + "/assignment"), map[string]any{"ai_agent_id": 9999}, 422, []string{`"ai_agent_id":"No such AI agent."`}, nil},
			{"bind the AI agent, keep the mode", "Ada", "PUT", static(chPath + "/assignment"), map[string]any{"ai_agent_id": ai.ID}, 200, []string{`"mode":"round_robin"`, fmt.Sprintf(`"ai_agent_id":%d`, ai.ID)}, nil},
			{"unbind the AI agent", "Ada", "PUT", static(chPath + "/assignment"), map[string]any{"ai_agent_id": nil}, 200, []string{`"ai_agent_id":null`}, nil},
			{"agents do not configure", "Bo", "PUT", static(chPath + "/assignment"), map[string]any{"mode": "load"}, 403, []string{`"forbidden"`}, nil},
			{"unknown channel", "Ada", "PUT", static("/api/v1/channels/9999/assignment"), map[string]any{"mode": "load"}, 404, nil, nil},
			{"create a team rule", "Ada", "POST", static(chPath + "/routing-rules"), map[string]any{"name": "Invoices", "conditions": textCond, "target": teamTarget}, 201,
				[]string{`"position":1`, `"enabled":true`, `"kind":"team"`}, saveID(&rule1)},
			{"invalid rule", "Ada", "POST", static(chPath + "/routing-rules"), map[string]any{"name": "", "conditions": []map[string]any{{"field": "text", "op": "matches", "values": []string{"("}}},
				"target": map[string]any{"kind": "robot", "id": 1}}, 422, []string{`"name":`, `"conditions.0.values":`, `"target.kind":`}, nil},
			{"rule naming a missing AI agent", "Ada", "POST", static(chPath + "/routing-rules"), map[string]any{"name": "Bot", "conditions": textCond,
				"target": map[string]any{"kind": "ai_agent", "id": 9999}}, 422, []string{`"target.id":"No such AI agent."`}, nil},
			{"create an agent rule", "Ada", "POST", static(chPath + "/routing-rules"), map[string]any{"name": "Bo's", "enabled": false, "conditions": textCond,
				"target": map[string]any{"kind": "agent", "id": people["Bo"].ID}}, 201, []string{`"position":2`, `"enabled":false`}, saveID(&rule2)},
			{"list in order", "Ada", "GET", static(chPath + "/routing-rules"), nil, 200, []string{`"name":"Invoices"`, `"name":"Bo's"`}, nil},
			{"disable a rule", "Ada", "PATCH", rulePath(&rule1), map[string]any{"enabled": false}, 200, []string{`"enabled":false`, `"name":"Invoices"`, `"position":1`}, nil},
			{"invalid patch", "Ada", "PATCH", rulePath(&rule1), map[string]any{"conditions": []any{}}, 422, []string{`"conditions":`}, nil},
			{"reorder", "Ada", "PUT", static(chPath + "/routing-rules/order"), map[string]any{"ids": []*int64{&rule2, &rule1}}, 200, []string{`"position":1`}, nil},
			{"reorder with a rule missing", "Ada", "PUT", static(chPath + "/routing-rules/order"), map[string]any{"ids": []*int64{&rule2}}, 422, []string{`"ids":`}, nil},
			{"agents do not see rules", "Bo", "GET", static(chPath + "/routing-rules"), nil, 403, nil, nil},
			{"delete a rule", "Ada", "DELETE", rulePath(&rule1), nil, 204, nil, nil},
			{"delete it again", "Ada", "DELETE", rulePath(&rule1), nil, 404, nil, nil},
			{"not a member: the conversation does not exist", "Cy", "POST", assignPath(0), map[string]any{}, 404, nil, nil},
			{"an agent assigns to someone else", "Bo", "POST", assignPath(0), map[string]any{"agent_id": people["Cy"].ID}, 403, nil, nil},
			{"an agent takes an unassigned conversation", "Bo", "POST", assignPath(0), map[string]any{}, 200, []string{`"assignee":{"kind":"human","id":` + fmt.Sprint(people["Bo"].ID) + `,"name":"Bo"}`}, nil},
			{"an admin assigns to a non-member", "Ada", "POST", assignPath(0), map[string]any{"agent_id": people["Cy"].ID}, 422, []string{`"agent_id":`}, nil},
			{"an admin assigns beyond capacity", "Ada", "POST", assignPath(1), map[string]any{"agent_id": people["Bo"].ID}, 409, []string{`capacity 1`}, nil},
			{"an admin names nobody", "Ada", "POST", assignPath(1), map[string]any{}, 422, []string{`"agent_id":`}, nil},
		}
		for _, s := range steps {
			status, body := clients[s.as].do(s.method, s.path(), s.body)
			if status != s.status {
				t.Fatalf("%s: status %d, want %d: %s", s.name, status, s.status, body)
			}
			for _, w := range s.want {
				if !strings.Contains(string(body), w) {
					t.Fatalf("%s: body lacks %s: %s", s.name, w, body)
				}
			}
			if s.save != nil {
				s.save(body)
			}
		}
		rules, _ := st.ListRoutingRules(ctx, ch.ID)
		if len(rules) != 1 || rules[0].ID != rule2 {
			t.Fatalf("rules left: %+v", rules)
		}
		if c, _ := st.Conversation(ctx, convs[0]); c.Assignee == nil || c.Assignee.ID != people["Bo"].ID {
			t.Fatalf("conversation after the API: %+v", c)
		}
	})
}
