package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

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

// TestChannelEvents: what Meta reports about a channel besides messages — a quality rating, an
// account update, errors not tied to a message — reads back to admins through
// GET /channels/:id/events, newest first, a page at a time, with Meta's details decoded and the time
// each arrived. Agents, even of the channel, may not read it.
func TestChannelEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, admin, path := fixtureInbox(t, st)
		bob := ts.mustAgent("Bob", "bob@example.com", switchboard.RoleAgent)
		agent := ts.login("bob@example.com")
		chID := channelIDOf(t, path)
		events := fmt.Sprintf("/api/v1/channels/%d/events", chID)
		admin.do("POST", fmt.Sprintf("/api/v1/channels/%d/members", chID), map[string]any{"agent_id": bob.ID}).wantStatus(http.StatusCreated)

		var empty eventList
		admin.do("GET", events, nil).wantStatus(http.StatusOK).decode(&empty)
		if empty.Data == nil || len(empty.Data) != 0 || empty.NextCursor != "" {
			t.Fatalf("no events yet: %+v", empty)
		}
		start := time.Now().UTC().Add(-time.Second)
		meta := ts.anonymous()
		for _, f := range []string{"phone_number_quality_update.json", "account_update.json", "value_errors.json"} {
			meta.postWebhook(path, fixture(t, f), fixtureAppSecret).wantStatus(http.StatusOK)
		}

		all := channelEvents(t, admin, chID)
		if len(all) != 3 || all[0].Field != "errors" || all[1].Field != "account_update" || all[2].Field != "phone_number_quality_update" {
			t.Fatalf("events, newest first: %+v", all)
		}
		for i, e := range all {
			if e.ChannelID != chID || e.CreatedAt.Before(start) || e.CreatedAt.After(time.Now().Add(time.Second)) || i > 0 && e.ID >= all[i-1].ID {
				t.Errorf("event %d: %+v", i, e)
			}
		}
		var errs []struct {
			Code    int    `json:"code"`
			Title   string `json:"title"`
			Details string `json:"details"`
		}
		if err := json.Unmarshal(all[0].Details, &errs); err != nil || len(errs) != 1 || errs[0].Code != 131042 ||
			errs[0].Title != "Business eligibility payment issue" || !strings.Contains(errs[0].Details, "payment method") ||
			!strings.Contains(string(all[0].Details), `"code":131042`) {
			t.Errorf("out-of-band errors: %s (%v)", all[0].Details, err)
		}
		var account struct {
			Event     string `json:"event"`
			Violation struct {
				Type string `json:"violation_type"`
			} `json:"violation_info"`
		}
		if err := json.Unmarshal(all[1].Details, &account); err != nil || account.Event != "ACCOUNT_VIOLATION" || account.Violation.Type != "SCAM" {
			t.Errorf("account update: %s (%v)", all[1].Details, err)
		}
		var quality struct {
			Event        string `json:"event"`
			CurrentLimit string `json:"current_limit"`
			OldLimit     string `json:"old_limit"`
		}
		if err := json.Unmarshal(all[2].Details, &quality); err != nil || quality.Event != "UPGRADE" || quality.CurrentLimit != "TIER_10K" || quality.OldLimit != "TIER_2K" {
			t.Errorf("quality update: %s (%v)", all[2].Details, err)
		}

		// A page at a time.
		var page eventList
		admin.do("GET", events+"?limit=2", nil).wantStatus(http.StatusOK).decode(&page)
		if len(page.Data) != 2 || page.Data[0].ID != all[0].ID || page.NextCursor == "" {
			t.Fatalf("first page: %+v", page)
		}
		cursor := page.NextCursor
		page = eventList{}
		admin.do("GET", events+"?limit=2&cursor="+cursor, nil).wantStatus(http.StatusOK).decode(&page)
		if len(page.Data) != 1 || page.Data[0].ID != all[2].ID || page.NextCursor != "" {
			t.Fatalf("last page: %+v", page)
		}
		if res := admin.do("GET", events+"?cursor=yesterday", nil).wantStatus(http.StatusUnprocessableEntity); !strings.Contains(string(res.Body), `"cursor"`) {
			t.Fatalf("a bad cursor: %s", res.Body)
		}
		admin.do("GET", events+"?limit=0", nil).wantStatus(http.StatusUnprocessableEntity)
		admin.do("GET", "/api/v1/channels/999999/events", nil).wantStatus(http.StatusNotFound)
		agent.do("GET", events, nil).wantStatus(http.StatusForbidden)
		ts.anonymous().do("GET", events, nil).wantStatus(http.StatusUnauthorized)
	})
}

// TestBusinessHoursNow: GET /channels/:id/business-hours answers, by the server's clock, whether the
// channel is open and, while it is closed, since when and when it opens next — over a weekend, just
// before opening, during the day, at closing time before a holiday, on the holiday, and in summer
// time — and that a schedule that is off is always open. The channel's agents may read it; agents
// of other channels get 404.
func TestBusinessHoursNow(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 1, 4, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, st *store.Store) {
		clock.Set(time.Date(2026, 1, 4, 12, 0, 0, 0, time.UTC)) // a Sunday
		ts := newTestServerClock(t, st, clock)
		ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
		bob := ts.mustAgent("Bob", "bob@example.com", switchboard.RoleAgent)
		ts.mustAgent("Carol", "carol@example.com", switchboard.RoleAgent)
		admin := ts.login("ada@example.com")

		var ch channelJSON
		admin.do("POST", "/api/v1/channels", channelBody).wantStatus(http.StatusCreated).decode(&ch)
		path := fmt.Sprintf("/api/v1/channels/%d", ch.ID)
		admin.do("POST", path+"/members", map[string]any{"agent_id": bob.ID}).wantStatus(http.StatusCreated)
		day := []map[string]string{{"start": "09:00", "end": "17:30"}}
		admin.do("PUT", path+"/settings", map[string]any{"business_hours": map[string]any{
			"enabled": true, "timezone": "Europe/Berlin", "away_message": "We are closed; we answer from 9:00.",
			"weekly":    map[string]any{"monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day},
			"overrides": []map[string]any{{"date": "2026-01-06", "closed": true, "note": "Epiphany"}},
		}}).wantStatus(http.StatusOK)

		type now struct {
			Enabled     bool    `json:"enabled"`
			Timezone    string  `json:"timezone"`
			Open        bool    `json:"open"`
			NextOpening *string `json:"next_opening"`
			ClosedSince *string `json:"closed_since"`
		}
		str := func(p *string) string {
			if p == nil {
				return "null"
			}
			return *p
		}
		// Berlin is UTC+1 in January and UTC+2 in July; the answers are in UTC.
		cases := []struct {
			at          time.Time
			open        bool
			next, since string
		}{
			{time.Date(2026, 1, 4, 12, 0, 0, 0, time.UTC), false, "2026-01-05T08:00:00Z", "2026-01-02T16:30:00Z"},  // Sunday
			{time.Date(2026, 1, 5, 7, 59, 0, 0, time.UTC), false, "2026-01-05T08:00:00Z", "2026-01-02T16:30:00Z"},  // Monday 08:59
			{time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), true, "null", "null"},                                   // Monday 11:00
			{time.Date(2026, 1, 5, 16, 30, 0, 0, time.UTC), false, "2026-01-07T08:00:00Z", "2026-01-05T16:30:00Z"}, // closing; Tuesday is a holiday
			{time.Date(2026, 1, 6, 10, 0, 0, 0, time.UTC), false, "2026-01-07T08:00:00Z", "2026-01-05T16:30:00Z"},  // the holiday
			{time.Date(2026, 7, 4, 12, 0, 0, 0, time.UTC), false, "2026-07-06T07:00:00Z", "2026-07-03T15:30:00Z"},  // a summer Saturday
			{time.Date(2026, 7, 6, 7, 30, 0, 0, time.UTC), true, "null", "null"},                                   // Monday 09:30 summer time
		}
		var member, other *client
		for i, c := range cases {
			clock.Set(c.at)
			if i == 0 || c.at.Month() != cases[i-1].at.Month() {
				// Months pass between the cases: sign in afresh rather than outlive the session.
				member, other = ts.login("bob@example.com"), ts.login("carol@example.com")
			}
			var got now
			member.do("GET", path+"/business-hours", nil).wantStatus(http.StatusOK).decode(&got)
			if !got.Enabled || got.Timezone != "Europe/Berlin" || got.Open != c.open || str(got.NextOpening) != c.next || str(got.ClosedSince) != c.since {
				t.Errorf("at %v: open %v, next %s, closed since %s; want %v, %s, %s", c.at, got.Open, str(got.NextOpening), str(got.ClosedSince), c.open, c.next, c.since)
			}
			other.do("GET", path+"/business-hours", nil).wantStatus(http.StatusNotFound)
		}
		ts.anonymous().do("GET", path+"/business-hours", nil).wantStatus(http.StatusUnauthorized)

		// A schedule that is off: always open, with nothing to wait for.
		admin = ts.login("ada@example.com")
		admin.do("PUT", path+"/settings", map[string]any{"business_hours": map[string]any{"enabled": false, "timezone": "Europe/Berlin"}}).wantStatus(http.StatusOK)
		clock.Set(time.Date(2026, 7, 4, 23, 0, 0, 0, time.UTC))
		res := ts.login("bob@example.com").do("GET", path+"/business-hours", nil).wantStatus(http.StatusOK)
		var got now
		res.decode(&got)
		if got.Enabled || !got.Open || got.NextOpening != nil || got.ClosedSince != nil || !strings.Contains(string(res.Body), `"next_opening":null`) {
			t.Fatalf("schedule off: %s", res.Body)
		}
	})
}
