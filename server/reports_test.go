package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/config"
	"switchboard/store"
	"switchboard/store/storetest"
)

// reportFixture is two channels, each with one answered survey: Alice's rated 5 on channel A, Bob's
// rated 2 on channel B, both on 2 November 2026.
type reportFixture struct {
	srv                *Server
	st                 *store.Store
	admin, alice, bob  *switchboard.Agent
	channelA, channelB *switchboard.Channel
}

func newReportFixture(t *testing.T, st *store.Store, clock *switchboard.ManualClock) *reportFixture {
	t.Helper()
	ctx := t.Context()
	fx := &reportFixture{st: st, srv: New(Options{Config: &config.Config{PublicURL: "http://localhost:8080"}, Store: st, Clock: clock})}
	for _, a := range []**switchboard.Agent{&fx.admin, &fx.alice, &fx.bob} {
		name := map[**switchboard.Agent]string{&fx.admin: "Ada", &fx.alice: "Alice", &fx.bob: "Bob"}[a]
		role := switchboard.RoleAgent
		if a == &fx.admin {
			role = switchboard.RoleAdmin
		}
		*a = &switchboard.Agent{Name: name, Email: strings.ToLower(name) + "@example.com", Role: role, PasswordHash: "$argon2id$test"}
		if err := st.CreateAgent(ctx, *a); err != nil {
			t.Fatal(err)
		}
	}
	for i, ch := range []**switchboard.Channel{&fx.channelA, &fx.channelB} {
		id := "10654035224292" + strconv.Itoa(i)
		*ch = &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, Name: "Channel " + id, PhoneNumber: "+14155550123",
			PhoneNumberID: id, BusinessAccountID: "102290129340398", APIKey: "EAAG-token", AppSecret: "secret",
			VerifyToken: "verify-token-0123456789", AssignmentMode: switchboard.AssignByLoad, Settings: switchboard.DefaultChannelSettings()}
		if err := st.CreateChannel(ctx, *ch); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	for i, c := range []struct {
		ch     *switchboard.Channel
		agent  *switchboard.Agent
		rating int
	}{{fx.channelA, fx.alice, 5}, {fx.channelB, fx.bob, 2}} {
		if err := st.PutChannelMember(ctx, &switchboard.ChannelMember{ChannelID: c.ch.ID, AgentID: c.agent.ID, Capacity: 5}); err != nil {
			t.Fatal(err)
		}
		at := clock.Now()
		wamid := "wamid.R" + strconv.Itoa(i)
		res, err := st.IngestInbound(ctx, c.ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{{WaID: "3361234567" + strconv.Itoa(i),
			ExternalID: wamid, Timestamp: at, Message: &switchboard.Message{Type: switchboard.TypeText, Text: "hi", ExternalID: wamid, Timestamp: &at}}}})
		if err != nil {
			t.Fatal(err)
		}
		convID := res.Events[0].ConversationID
		if _, err := st.SQL().ExecContext(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = $1, resolutions = 1 WHERE id = $2`, at, convID); err != nil {
			t.Fatal(err)
		}
		sv, _, err := st.CreateCSATSurvey(ctx, &switchboard.CSATSurvey{ConversationID: convID, ChannelID: c.ch.ID, AgentID: &c.agent.ID,
			Resolution: 1, Status: switchboard.SurveyPending}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SQL().ExecContext(ctx, `UPDATE csat_surveys SET status = 'answered', rating = $1, answered_at = $2 WHERE id = $3`, c.rating, at, sv.ID); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC))
	return fx
}

// get calls a report handler as agent and returns the status and the decoded body.
func (fx *reportFixture) get(t *testing.T, agent *switchboard.Agent, path string) (int, map[string]any) {
	t.Helper()
	h := fx.srv.handleCSATReport
	if strings.HasPrefix(path, "/api/v1/reports/overview") {
		h = fx.srv.handleOverviewReport
	}
	rec := httptest.NewRecorder()
	c := fx.srv.echo.NewContext(httptest.NewRequest(http.MethodGet, path, nil), rec)
	c.Set(principalKey, &principal{Agent: agent})
	if err := h(c); err != nil {
		fx.srv.errorHandler(err, c)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: %s", path, rec.Body)
	}
	return rec.Code, body
}

func TestReportHandlers(t *testing.T) {
	clock := switchboard.NewManualClock(time.Now())
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, st *store.Store) {
		fx := newReportFixture(t, st, clock)
		november := "from=2026-11-01&to=2026-11-30"
		for _, tc := range []struct {
			name   string
			agent  *switchboard.Agent
			path   string
			status int
			want   []string
		}{
			{"admin sees every channel", fx.admin, "/api/v1/reports/csat?" + november, 200,
				[]string{`"sent":2`, `"answered":2`, `"average":3.5`, `"response_rate":1`, `"distribution":{"1":0,"2":1,"3":0,"4":0,"5":1}`,
					`"name":"Alice"`, `"name":"Bob"`, `"day":"2026-11-02"`, `"from":"2026-11-01T00:00:00Z"`, `"to":"2026-12-01T00:00:00Z"`}},
			{"default period is the last 30 days", fx.admin, "/api/v1/reports/csat", 200,
				[]string{`"sent":2`, `"from":"2026-10-22T00:00:00Z"`, `"to":"2026-11-21T00:00:00Z"`}},
			{"an agent sees their channels", fx.bob, "/api/v1/reports/csat?" + november, 200, []string{`"sent":1`, `"average":2`, `"name":"Bob"`}},
			{"by agent", fx.admin, "/api/v1/reports/csat?" + november + "&agent_id=" + itoa(fx.alice.ID), 200, []string{`"sent":1`, `"average":5`}},
			{"by channel", fx.admin, "/api/v1/reports/csat?" + november + "&channel_id=" + itoa(fx.channelB.ID), 200, []string{`"sent":1`, `"average":2`}},
			{"another agent's channel is empty", fx.alice, "/api/v1/reports/csat?" + november + "&channel_id=" + itoa(fx.channelB.ID), 200, []string{`"sent":0`, `"average":null`}},
			{"days in a time zone", fx.admin, "/api/v1/reports/csat?" + november + "&tz=Pacific/Auckland", 200, []string{`"day":"2026-11-02"`, `"from":"2026-10-31T11:00:00Z"`}},
			{"RFC 3339 bounds", fx.admin, "/api/v1/reports/csat?from=2026-11-02T09:00:00Z&to=2026-11-02T09:00:01Z", 200, []string{`"sent":2`}},
			{"bad time zone", fx.admin, "/api/v1/reports/csat?tz=Mars/Olympus", 422, []string{`"tz":`}},
			{"bad dates", fx.admin, "/api/v1/reports/csat?from=yesterday&to=2026-13-01", 422, []string{`"from":`, `"to":`}},
			{"backwards period", fx.admin, "/api/v1/reports/csat?from=2026-11-30&to=2026-11-01", 422, []string{`"from":"The period must start before it ends."`}},
			{"too long", fx.admin, "/api/v1/reports/csat?from=2024-01-01&to=2026-11-01", 422, []string{`"to":"A report covers at most a year."`}},
			{"bad ids", fx.admin, "/api/v1/reports/csat?channel_id=abc&agent_id=-1", 422, []string{`"channel_id":`, `"agent_id":`}},
			{"overview", fx.admin, "/api/v1/reports/overview?" + november, 200,
				[]string{`"conversations_created":2`, `"conversations_resolved":2`, `"messages_in":2`, `"median_first_response_seconds":null`, `"open":0`}},
			{"overview of an agent's channels", fx.alice, "/api/v1/reports/overview?" + november, 200, []string{`"conversations_created":1`}},
			{"the overview has no agent filter", fx.admin, "/api/v1/reports/overview?agent_id=1", 422, []string{`"agent_id":`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := fx.get(t, tc.agent, tc.path)
				raw, _ := json.Marshal(body)
				if status != tc.status {
					t.Fatalf("status %d, want %d: %s", status, tc.status, raw)
				}
				for _, w := range tc.want {
					if !strings.Contains(string(raw), w) {
						t.Errorf("body lacks %s: %s", w, raw)
					}
				}
			})
		}
	})
}
