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

var channelBody = map[string]string{
	"name": "Support", "phone_number": "+14155550123", "business_account_id": "102290129340398",
	"phone_number_id": "106540352242922", "api_key": "EAAG-permanent-token", "app_secret": "meta-app-secret",
}

type channelJSON struct {
	ID          int64          `json:"id"`
	Name        string         `json:"name"`
	WebhookURL  string         `json:"webhook_url"`
	VerifyToken string         `json:"verify_token"`
	Settings    map[string]any `json:"settings"`
}

func TestChannelAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts := newTestServer(t, st)
		ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
		bob := ts.mustAgent("Bob", "bob@example.com", switchboard.RoleAgent)
		admin, agent := ts.login("ada@example.com"), ts.login("bob@example.com")

		res := admin.do("POST", "/api/v1/channels", channelBody).wantStatus(http.StatusCreated)
		var ch channelJSON
		res.decode(&ch)
		if ch.WebhookURL != "http://localhost:8080/webhooks/whatsapp/"+strconv.FormatInt(ch.ID, 10) || len(ch.VerifyToken) < 16 {
			t.Fatalf("created channel: %s", res.Body)
		}
		for _, secret := range []string{"EAAG-permanent-token", "meta-app-secret"} {
			if strings.Contains(string(res.Body), secret) {
				t.Fatalf("response leaks a secret: %s", res.Body)
			}
		}

		invalid := map[string]string{"name": "", "phone_number": "0612", "business_account_id": "waba", "phone_number_id": "x1", "api_key": "", "app_secret": ""}
		res = admin.do("POST", "/api/v1/channels", invalid).wantStatus(http.StatusUnprocessableEntity)
		var problem struct {
			Error struct{ Fields map[string]string } `json:"error"`
		}
		res.decode(&problem)
		for _, f := range []string{"name", "phone_number", "business_account_id", "phone_number_id", "api_key", "app_secret"} {
			if problem.Error.Fields[f] == "" {
				t.Errorf("no problem reported for %s: %s", f, res.Body)
			}
		}
		admin.do("POST", "/api/v1/channels", channelBody).wantStatus(http.StatusConflict)
		agent.do("POST", "/api/v1/channels", channelBody).wantStatus(http.StatusForbidden)

		// Agents see only the channels they belong to, without the verify token.
		path := "/api/v1/channels/" + strconv.FormatInt(ch.ID, 10)
		agent.do("GET", path, nil).wantStatus(http.StatusNotFound)
		admin.do("POST", path+"/members", map[string]any{"agent_id": bob.ID, "capacity": 4}).wantStatus(http.StatusCreated)
		res = agent.do("GET", "/api/v1/channels", nil).wantStatus(http.StatusOK)
		if !strings.Contains(string(res.Body), `"name":"Support"`) || strings.Contains(string(res.Body), ch.VerifyToken) {
			t.Fatalf("agent's channel list: %s", res.Body)
		}

		// Rotating the verify token replaces it; settings can be changed part by part.
		var rotated channelJSON
		admin.do("PATCH", path, map[string]any{"rotate_verify_token": true, "name": "Sales"}).wantStatus(http.StatusOK).decode(&rotated)
		if rotated.VerifyToken == ch.VerifyToken || rotated.Name != "Sales" {
			t.Fatalf("patch: %+v", rotated)
		}
		admin.do("PUT", path+"/settings", map[string]any{"greeting": map[string]any{"enabled": true, "text": "Welcome!"}}).wantStatus(http.StatusOK)
		res = admin.do("PUT", path+"/settings", map[string]any{"business_hours": map[string]any{"enabled": true, "timezone": "Mars/Olympus", "away_message": "closed"}}).
			wantStatus(http.StatusUnprocessableEntity)
		if !strings.Contains(string(res.Body), `"business_hours.timezone"`) {
			t.Fatalf("settings problem not named: %s", res.Body)
		}
		admin.do("PUT", path+"/settings", map[string]any{"colour": "blue"}).wantStatus(http.StatusUnprocessableEntity)
		var settings struct {
			Greeting      map[string]any `json:"greeting"`
			BusinessHours map[string]any `json:"business_hours"`
		}
		agent.do("GET", path+"/settings", nil).wantStatus(http.StatusOK).decode(&settings)
		if settings.Greeting["text"] != "Welcome!" || settings.BusinessHours["timezone"] != "UTC" || settings.BusinessHours["overrides"] == nil {
			t.Fatalf("settings after partial updates: %v", settings)
		}

		admin.do("DELETE", path, nil).wantStatus(http.StatusNoContent)
		admin.do("GET", path, nil).wantStatus(http.StatusNotFound)
	})
}
