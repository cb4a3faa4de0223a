package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

type aiAgentJSON struct {
	ID               int64    `json:"id"`
	Name             string   `json:"name"`
	Model            string   `json:"model"`
	Temperature      float64  `json:"temperature"`
	TurnLimit        int      `json:"turn_limit"`
	BaseURL          string   `json:"base_url"`
	HasAPIKey        bool     `json:"has_api_key"`
	Enabled          bool     `json:"enabled"`
	HandoffPhrases   []string `json:"handoff_phrases"`
	UnreadableAction string   `json:"unreadable_action"`
	TimeoutSeconds   int      `json:"timeout_seconds"`
	EffectiveBaseURL string   `json:"effective_base_url"`
}

const aiKey = "sk-proj-very-secret-4242"

func TestAIAgentAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts := newTestServer(t, st)
		ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
		ts.mustAgent("Bob", "bob@example.com", switchboard.RoleAgent)
		admin, agent := ts.login("ada@example.com"), ts.login("bob@example.com")

		res := admin.do("POST", "/api/v1/ai-agents", map[string]any{"name": "Ava", "model": "gpt-4o-mini",
			"instructions": "You help customers of Dupont Bikes.", "knowledge": "Open 9-18.", "api_key": aiKey}).wantStatus(http.StatusCreated)
		var ava aiAgentJSON
		res.decode(&ava)
		if ava.ID == 0 || !ava.HasAPIKey || !ava.Enabled || ava.Temperature != 0.3 || ava.TimeoutSeconds != 30 ||
			ava.UnreadableAction != "handoff" || len(ava.HandoffPhrases) != len(switchboard.DefaultHandoffPhrases) ||
			ava.BaseURL != "" || ava.EffectiveBaseURL != "https://api.openai.com/v1" {
			t.Fatalf("created: %s", res.Body)
		}
		path := "/api/v1/ai-agents/" + strconv.FormatInt(ava.ID, 10)
		stored, err := st.AIAgent(t.Context(), ava.ID)
		if err != nil || stored.APIKey != aiKey {
			t.Fatalf("the key is kept for the runtime: %v", err)
		}

		tests := []struct {
			name   string
			c      *client
			method string
			path   string
			body   any
			status int
			want   []string
		}{
			{"invalid fields", admin, "POST", "/api/v1/ai-agents", map[string]any{"name": "", "model": "", "temperature": 3, "turn_limit": -1,
				"base_url": "localhost:11434", "unreadable_action": "ignore", "timeout_seconds": 999}, http.StatusUnprocessableEntity,
				[]string{`"name"`, `"model"`, `"temperature"`, `"turn_limit"`, `"base_url"`, `"unreadable_action"`, `"timeout_seconds"`}},
			{"reply needs a text", admin, "POST", "/api/v1/ai-agents", map[string]any{"name": "Eve", "model": "llama3.1",
				"unreadable_action": "reply"}, http.StatusUnprocessableEntity, []string{`"unreadable_reply"`}},
			{"duplicate name", admin, "POST", "/api/v1/ai-agents", map[string]any{"name": "ava", "model": "llama3.1"}, http.StatusConflict, []string{`"conflict"`}},
			{"malformed JSON", admin, "POST", "/api/v1/ai-agents", `{"name":`, http.StatusBadRequest, []string{`"invalid"`}},
			{"agents cannot list", agent, "GET", "/api/v1/ai-agents", nil, http.StatusForbidden, nil},
			{"agents cannot create", agent, "POST", "/api/v1/ai-agents", map[string]any{"name": "X", "model": "y"}, http.StatusForbidden, nil},
			{"agents cannot delete", agent, "DELETE", path, nil, http.StatusForbidden, nil},
			{"list", admin, "GET", "/api/v1/ai-agents", nil, http.StatusOK, []string{`"name":"Ava"`, `"has_api_key":true`, `"next_cursor"`}},
			{"get", admin, "GET", path, nil, http.StatusOK, []string{`"knowledge":"Open 9-18."`}},
			{"missing", admin, "GET", "/api/v1/ai-agents/9999", nil, http.StatusNotFound, nil},
			{"patch keeps the key", admin, "PATCH", path, map[string]any{"model": "llama3.1", "base_url": "http://ollama:11434/v1/",
				"temperature": 0, "turn_limit": 4, "handoff_phrases": []string{"agent", "humain"}, "unreadable_action": "reply",
				"unreadable_reply": "I can only read text."}, http.StatusOK,
				[]string{`"model":"llama3.1"`, `"base_url":"http://ollama:11434/v1"`, `"effective_base_url":"http://ollama:11434/v1"`,
					`"temperature":0`, `"turn_limit":4`, `"handoff_phrases":["agent","humain"]`, `"has_api_key":true`}},
			{"patch invalid", admin, "PATCH", path, map[string]any{"temperature": -1}, http.StatusUnprocessableEntity, []string{`"temperature"`}},
			{"patch clears the key", admin, "PATCH", path, map[string]any{"api_key": "", "enabled": false}, http.StatusOK,
				[]string{`"has_api_key":false`, `"enabled":false`}},
		}
		for _, tt := range tests {
			res := tt.c.do(tt.method, tt.path, tt.body)
			if res.Status != tt.status {
				t.Errorf("%s: status %d, want %d: %s", tt.name, res.Status, tt.status, res.Body)
				continue
			}
			for _, w := range tt.want {
				if !strings.Contains(string(res.Body), w) {
					t.Errorf("%s: body lacks %s: %s", tt.name, w, res.Body)
				}
			}
			if strings.Contains(string(res.Body), aiKey) || strings.Contains(string(res.Body), `"api_key"`) {
				t.Errorf("%s: the API key leaks: %s", tt.name, res.Body)
			}
		}

		admin.do("DELETE", path, nil).wantStatus(http.StatusNoContent)
		admin.do("GET", path, nil).wantStatus(http.StatusNotFound)
		admin.do("DELETE", path, nil).wantStatus(http.StatusNotFound)
	})
}
