package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard"
	"switchboard/config"
	"switchboard/pipeline"
	"switchboard/realtime"
	"switchboard/routing"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/whatsapp"
	"switchboard/whatsapp/graphtest"
)

// secEnv is the whole HTTP surface wired as cmd/switchboard wires it (pipeline services, websocket
// hub, sandbox, a fake Graph API), over a real store, with three principals: an admin, an agent of
// the channels under test ("member") and an agent of another channel ("other").
type secEnv struct {
	t       *testing.T
	st      *store.Store
	srv     *Server
	url     string
	fake    *graphtest.Server
	logs    *lockedBuffer
	cfg     *config.Config
	admin   *switchboard.Agent
	member  *switchboard.Agent
	other   *switchboard.Agent
	tokens  map[string]string // principal → bearer API token
	counter atomic.Int64
}

// lockedBuffer collects the server's log lines from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The principals of the authorization matrix, in the order their requests are made (the allowed
// ones last, so that what they change does not hide a refusal).
const (
	asAnonymous = "anonymous"
	asOther     = "agent of another channel"
	asMember    = "agent of the channel"
	asAdmin     = "admin"
)

var principals = []string{asAnonymous, asOther, asMember, asAdmin}

func newSecEnv(t *testing.T, st *store.Store, publicURL string) *secEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := switchboard.SystemClock{}

	fake := graphtest.New(graphtest.Options{StatusDelay: 10 * time.Millisecond})
	fakeSrv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); fakeSrv.Close() })

	broker, err := realtime.New(ctx, realtime.Options{Log: st, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{PublicURL: publicURL, SessionTTL: 24 * time.Hour, GraphAPIVersion: "v25.0"}
	var srv *Server
	loopback := &http.Client{Transport: HandlerTransport(func() http.Handler { return srv }), Timeout: 30 * time.Second}
	sandbox := graphtest.New(graphtest.Options{BaseURL: strings.TrimRight(publicURL, "/") + SandboxGraphPath, HTTPClient: loopback})
	t.Cleanup(sandbox.Close)
	graph := &pipeline.Graph{Meta: whatsapp.NewClient(whatsapp.ClientOptions{BaseURL: fakeSrv.URL, Version: "v25.0"}),
		Sandbox: whatsapp.NewClient(whatsapp.ClientOptions{BaseURL: "http://sandbox.internal" + SandboxGraphPath, Version: "v25.0", HTTPClient: loopback})}
	local := routing.NewPresenceSet(clock, routing.DefaultGrace)
	router := routing.New(routing.Deps{Store: st, Presence: local, AIAgents: st, Publisher: broker, Clock: clock, Logger: log})
	media := pipeline.NewMedia(pipeline.MediaOptions{Store: st, Graph: graph, Dir: t.TempDir(), Publisher: broker, Logger: log})
	outbound := pipeline.NewOutbound(pipeline.OutboundOptions{Store: st, Clock: clock, Publisher: broker, Logger: log})
	workspace := pipeline.NewWorkspace(pipeline.WorkspaceOptions{Store: st, Router: router, Presence: local, Graph: graph, Publisher: broker, Logger: log})
	hub := NewHub(HubOptions{Store: st, Broker: broker, Messenger: outbound, Typing: workspace, Reads: workspace, Presence: workspace, Logger: log})
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!doctype html><title>Switchboard</title>")
	})
	srv = New(Options{Config: cfg, Store: st, Clock: clock, Logger: log,
		Inbound:   pipeline.NewInbound(pipeline.InboundOptions{Store: st, Publisher: broker, Logger: log}),
		Outbound:  outbound,
		Templates: pipeline.NewTemplates(st, graph, log), Media: media, Workspace: workspace, Hub: hub, Sandbox: sandbox, Web: web})
	for _, run := range []func(context.Context){func(ctx context.Context) { broker.Run(ctx) }, func(ctx context.Context) { hub.Run(ctx) }} {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	e := &secEnv{t: t, st: st, srv: srv, url: hs.URL, fake: fake, logs: logs, cfg: cfg, tokens: map[string]string{}}
	var tok string
	e.admin, tok = mustWSAgent(t, st, "Sec Admin", switchboard.RoleAdmin)
	e.tokens[asAdmin] = tok
	e.member, tok = mustWSAgent(t, st, "Sec Member", switchboard.RoleAgent)
	e.tokens[asMember] = tok
	e.other, tok = mustWSAgent(t, st, "Sec Other", switchboard.RoleAgent)
	e.tokens[asOther] = tok
	return e
}

// secRequest is one HTTP request of the security suite.
type secRequest struct {
	method, path string
	body         []byte
	header       http.Header
}

type secResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r secResponse) code() string {
	var b struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &b)
	return b.Error.Code
}

// do sends a request as a principal with a bearer token (or as nobody).
func (e *secEnv) do(t *testing.T, as string, r secRequest) secResponse {
	t.Helper()
	h := r.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if tok := e.tokens[as]; tok != "" {
		h.Set("Authorization", "Bearer "+tok)
	}
	return e.raw(t, r.method, r.path, r.body, h)
}

// raw sends a request with exactly the given headers.
func (e *secEnv) raw(t *testing.T, method, path string, body []byte, h http.Header) secResponse {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return secResponse{status: res.StatusCode, header: res.Header, body: data}
}

// adminCall makes an admin API call that must answer want, decoding into out.
func (e *secEnv) adminCall(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	res := e.do(t, asAdmin, secRequest{method: method, path: path, body: b})
	if res.status != want {
		t.Fatalf("%s %s: %d %s", method, path, res.status, res.body)
	}
	if out != nil {
		if err := json.Unmarshal(res.body, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, res.body, err)
		}
	}
}

func (e *secEnv) unique(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, e.counter.Add(1))
}

// fixture creates, on demand and fresh for each route, the objects a route's path names, so that
// what one route's allowed principals change never affects another route.
type fixture struct {
	t    *testing.T
	e    *secEnv
	vals map[string]int64
	chA  *switchboard.Channel
}

// newFixture starts the objects of one (sub)test; failures are reported on t.
func (e *secEnv) newFixture(t *testing.T) *fixture {
	return &fixture{t: t, e: e, vals: map[string]int64{}}
}

// channel is a channel the member belongs to (the other agent belongs to channel B only).
func (f *fixture) channel() *switchboard.Channel {
	if f.chA == nil {
		e, t := f.e, f.t
		f.chA = mustWSChannel(t, e.st, e.unique("10654"))
		chB := mustWSChannel(t, e.st, e.unique("20654"))
		for _, m := range []switchboard.ChannelMember{{ChannelID: f.chA.ID, AgentID: e.member.ID, Capacity: 10}, {ChannelID: chB.ID, AgentID: e.other.ID, Capacity: 10}} {
			if err := e.st.PutChannelMember(t.Context(), &m); err != nil {
				t.Fatal(err)
			}
		}
		e.fake.RegisterNumber(graphtest.Number{PhoneNumberID: f.chA.PhoneNumberID, DisplayPhoneNumber: "14155550123",
			WABAID: f.chA.BusinessAccountID, Token: f.chA.APIKey, AppSecret: f.chA.AppSecret})
		f.vals["chB"] = chB.ID
	}
	return f.chA
}

// value returns the id a placeholder names, creating its object.
func (f *fixture) value(name string) int64 {
	if v, ok := f.vals[name]; ok {
		return v
	}
	e, t, ctx := f.e, f.t, f.t.Context()
	var v int64
	switch name {
	case "chA":
		v = f.channel().ID
	case "member":
		return e.member.ID
	case "chB":
		f.channel()
		return f.vals["chB"]
	case "conv":
		ch := f.channel()
		wamid := "wamid." + e.unique("authz")
		at := time.Now()
		b := &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{{WaID: e.unique("3361234"), ProfileName: "Marie", ExternalID: wamid, Timestamp: at,
			Message: &switchboard.Message{Type: switchboard.TypeText, Text: "Bonjour", ExternalID: wamid, Timestamp: &at}}}}
		if _, err := e.st.IngestInbound(ctx, ch, b); err != nil {
			t.Fatal(err)
		}
		convs, _, err := e.st.ListConversations(ctx, store.ConversationFilter{ChannelID: ch.ID})
		if err != nil || len(convs) == 0 {
			t.Fatalf("fixture conversation: %v", err)
		}
		v = convs[0].ID
	case "failed":
		m, err := e.srv.outbound.Send(ctx, e.admin, pipeline.SendRequest{ConversationID: f.value("conv"), Text: "Will fail"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.st.MarkFailed(ctx, m.ID, switchboard.MessageError{Code: 131047, Title: "Re-engagement message"}, time.Now()); err != nil {
			t.Fatal(err)
		}
		v = m.ID
	case "media":
		md, err := e.srv.media.Save("photo.png", "image/png", []byte("\x89PNG\r\n\x1a\nauthz-"+e.unique("")))
		if err != nil {
			t.Fatal(err)
		}
		m, err := e.srv.outbound.Send(ctx, e.admin, pipeline.SendRequest{ConversationID: f.value("conv"), Media: md})
		if err != nil {
			t.Fatal(err)
		}
		v = m.ID
	case "rule":
		var r struct{ ID int64 }
		e.adminCall(t, "POST", fmt.Sprintf("/api/v1/channels/%d/routing-rules", f.value("chA")), map[string]any{"name": "Invoices",
			"conditions": []map[string]any{{"field": "text", "op": "contains", "values": []string{"invoice"}}},
			"target":     map[string]any{"kind": "agent", "id": e.member.ID}}, http.StatusCreated, &r)
		v = r.ID
	case "team":
		var r struct{ ID int64 }
		e.adminCall(t, "POST", "/api/v1/teams", map[string]any{"name": e.unique("Team ")}, http.StatusCreated, &r)
		v = r.ID
	case "ai":
		var r struct{ ID int64 }
		e.adminCall(t, "POST", "/api/v1/ai-agents", map[string]any{"name": e.unique("Bot "), "model": "gpt-4o-mini",
			"instructions": "Help.", "api_key": "sk-authz"}, http.StatusCreated, &r)
		v = r.ID
	case "agent":
		a, _ := mustWSAgent(t, e.st, e.unique("Spare Agent "), switchboard.RoleAgent)
		if err := e.st.PutChannelMember(ctx, &switchboard.ChannelMember{ChannelID: f.value("chA"), AgentID: a.ID, Capacity: 5}); err != nil {
			t.Fatal(err)
		}
		v = a.ID
	case "token":
		var r struct {
			APIToken struct{ ID int64 } `json:"api_token"`
		}
		e.adminCall(t, "POST", "/api/v1/tokens", map[string]any{"name": "spare", "agent_id": f.value("agent")}, http.StatusCreated, &r)
		v = r.APIToken.ID
	case "job":
		if err := e.st.EnqueueJob(ctx, &switchboard.Job{Kind: "authz", Key: e.unique("authz:")}); err != nil {
			t.Fatal(err)
		}
		for {
			j, err := e.st.ClaimJob(ctx, "authz", time.Minute)
			if err != nil || j == nil {
				t.Fatalf("fixture job: %v", err)
			}
			if err := e.st.FailJob(ctx, j, "authz fixture", time.Now(), true); err != nil {
				t.Fatal(err)
			}
			if j.Kind == "authz" {
				v = j.ID
				break
			}
		}
	case "deadletter":
		ch := f.channel()
		n := graphtest.Number{PhoneNumberID: ch.PhoneNumberID, DisplayPhoneNumber: "14155550123", WABAID: ch.BusinessAccountID}
		body := graphtest.Envelope(n, time.Now(), graphtest.TextMessage(e.unique("3361999"), "Late", "kept as a dead letter"))
		if err := e.st.RecordDeadLetter(ctx, ch.ID, body, "authz fixture"); err != nil {
			t.Fatal(err)
		}
		dls, err := e.st.ListDeadLetters(ctx, 1)
		if err != nil || len(dls) == 0 {
			t.Fatalf("fixture dead letter: %v", err)
		}
		v = dls[0].ID
	case "sandbox":
		var r struct{ ID int64 }
		e.adminCall(t, "POST", "/api/v1/sandbox/channels", map[string]any{"name": e.unique("Try ")}, http.StatusCreated, &r)
		if err := e.st.PutChannelMember(ctx, &switchboard.ChannelMember{ChannelID: r.ID, AgentID: e.member.ID, Capacity: 5}); err != nil {
			t.Fatal(err)
		}
		v = r.ID
	default:
		t.Fatalf("unknown placeholder {%s}", name)
	}
	f.vals[name] = v
	return v
}

// expand replaces the {{placeholders}} of a path or body template with fresh objects' ids.
func (f *fixture) expand(tmpl string) string {
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "{{")
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.Index(tmpl[i:], "}}")
		if j < 0 {
			f.t.Fatalf("unterminated placeholder in %q", tmpl)
		}
		b.WriteString(tmpl[:i])
		fmt.Fprint(&b, f.value(tmpl[i+2:i+j]))
		tmpl = tmpl[i+j+2:]
	}
}

// outcome is the class of answer a principal must get.
type outcome int

const (
	// allowed: the guards let the request through; the handler answers 2xx/3xx, or 4xx about the
	// input (400, 409, 413, 422 ...), never 401/403/404 and never 5xx.
	allowed    outcome = iota
	unauth             // 401: credentials are required
	forbid             // 403: signed in, but not allowed
	hidden             // 404: the object belongs to a channel the agent is not in, and looks absent
	refused4xx         // any 4xx: a public endpoint with its own credentials (the sandbox's fake Meta)
)

func (o outcome) String() string {
	return [...]string{"allowed", "401", "403", "404 (hidden)", "4xx"}[o]
}

func (o outcome) match(status int) bool {
	switch o {
	case allowed:
		return status < 500 && status != 401 && status != 403 && status != 404
	case unauth:
		return status == 401
	case forbid:
		return status == 403
	case hidden:
		return status == 404
	}
	return status >= 400 && status < 500
}

// want lists the outcomes for anonymous, the other channel's agent, the channel's agent and the admin.
type want [4]outcome

var (
	public    = want{allowed, allowed, allowed, allowed}
	signedIn  = want{unauth, allowed, allowed, allowed}
	inChannel = want{unauth, hidden, allowed, allowed}
	adminOnly = want{unauth, forbid, forbid, allowed}
)

// authzCase is the matrix entry of one route: a concrete request and the expected outcomes.
type authzCase struct {
	path string // with {{placeholders}}
	body string
	want want
}

// routeKey names a route as the matrix does: "METHOD /path", with "ANY" for Echo's Any routes and
// "NOTFOUND" for a group's not-found fallback.
func routeKey(r *echo.Route) string {
	method := r.Method
	if method == echo.RouteNotFound {
		method = "NOTFOUND"
	} else if strings.HasSuffix(r.Path, "/*") && r.Path != "/*" && slices.Contains([]string{"CONNECT", "PROPFIND", "REPORT", "TRACE",
		"OPTIONS", "PUT", "PATCH", "DELETE", "POST", "HEAD", "GET"}, method) {
		method = "ANY"
	}
	return method + " " + r.Path
}

// authzMatrix is the expected outcome of every route of routes.go. A route added there without an
// entry here fails TestAuthorizationMatrix.
var authzMatrix = map[string]authzCase{
	// Operations and the browser app are public.
	"GET /healthz": {"/healthz", "", public},
	"GET /readyz":  {"/readyz", "", public},
	"GET /metrics": {"/metrics", "", public},
	"GET /*":       {"/inbox/42", "", public},
	"HEAD /*":      {"/inbox/42", "", public},
	// Meta's endpoints: their own credentials (verify token, signature), never a session.
	"GET /webhooks/whatsapp/:channel_id":  {"/webhooks/whatsapp/{{chA}}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong", "", want{forbid, forbid, forbid, forbid}},
	"POST /webhooks/whatsapp/:channel_id": {"/webhooks/whatsapp/{{chA}}", `{"object":"whatsapp_business_account","entry":[]}`, want{unauth, unauth, unauth, unauth}},
	// The sandbox's fake Graph API checks the sandbox number's token itself.
	"ANY /sandbox/graph/*": {"/sandbox/graph/v25.0/{{sandbox}}/message_templates", "", want{refused4xx, refused4xx, refused4xx, refused4xx}},
	// Unknown API paths are JSON 404s for everyone, before any guard.
	"ANY /api/v1/*":      {"/api/v1/no-such-thing", "", want{hidden, hidden, hidden, hidden}},
	"NOTFOUND /api/v1":   {"/api/v1", "", want{hidden, hidden, hidden, hidden}},
	"NOTFOUND /api/v1/*": {"/api/v1/no/such/thing", "", want{hidden, hidden, hidden, hidden}},
	"POST /api/v1/auth/login": {"/api/v1/auth/login", `{"email":"nobody@example.com","password":"wrong password"}`,
		want{unauth, unauth, unauth, unauth}},

	"POST /api/v1/auth/logout": {"/api/v1/auth/logout", "", signedIn},
	"GET /api/v1/me":           {"/api/v1/me", "", signedIn},
	"PATCH /api/v1/me":         {"/api/v1/me", `{"availability":"available"}`, signedIn},

	"GET /api/v1/agents":        {"/api/v1/agents", "", signedIn},
	"POST /api/v1/agents":       {"/api/v1/agents", `{"name":"New","email":"new-agent@example.com","password":"a long enough password","role":"agent"}`, adminOnly},
	"GET /api/v1/agents/:id":    {"/api/v1/agents/{{agent}}", "", signedIn},
	"PATCH /api/v1/agents/:id":  {"/api/v1/agents/{{agent}}", `{"name":"Renamed"}`, adminOnly},
	"DELETE /api/v1/agents/:id": {"/api/v1/agents/{{agent}}", "", adminOnly},
	"GET /api/v1/teams":         {"/api/v1/teams", "", signedIn},
	"POST /api/v1/teams":        {"/api/v1/teams", `{"name":"Billing"}`, adminOnly},
	"GET /api/v1/teams/:id":     {"/api/v1/teams/{{team}}", "", signedIn},
	"PATCH /api/v1/teams/:id":   {"/api/v1/teams/{{team}}", `{"name":"Billing 2"}`, adminOnly},
	"DELETE /api/v1/teams/:id":  {"/api/v1/teams/{{team}}", "", adminOnly},

	"GET /api/v1/channels":                               {"/api/v1/channels", "", signedIn},
	"POST /api/v1/channels":                              {"/api/v1/channels", `{"name":"X","phone_number":"+14155550199","phone_number_id":"987","business_account_id":"654","api_key":"k","app_secret":"s"}`, adminOnly},
	"GET /api/v1/channels/:id":                           {"/api/v1/channels/{{chA}}", "", inChannel},
	"PATCH /api/v1/channels/:id":                         {"/api/v1/channels/{{chA}}", `{"name":"Renamed"}`, adminOnly},
	"DELETE /api/v1/channels/:id":                        {"/api/v1/channels/{{chA}}", "", adminOnly},
	"GET /api/v1/channels/:id/settings":                  {"/api/v1/channels/{{chA}}/settings", "", inChannel},
	"PUT /api/v1/channels/:id/settings":                  {"/api/v1/channels/{{chA}}/settings", `{"reopen_window_hours":12}`, adminOnly},
	"GET /api/v1/channels/:id/business-hours":            {"/api/v1/channels/{{chA}}/business-hours", "", inChannel},
	"GET /api/v1/channels/:id/events":                    {"/api/v1/channels/{{chA}}/events", "", adminOnly},
	"GET /api/v1/channels/:id/members":                   {"/api/v1/channels/{{chA}}/members", "", inChannel},
	"POST /api/v1/channels/:id/members":                  {"/api/v1/channels/{{chA}}/members", `{"agent_id":{{agent}},"capacity":3}`, adminOnly},
	"DELETE /api/v1/channels/:id/members/:agent_id":      {"/api/v1/channels/{{chA}}/members/{{agent}}", "", adminOnly},
	"PUT /api/v1/channels/:id/assignment":                {"/api/v1/channels/{{chA}}/assignment", `{"mode":"round_robin"}`, adminOnly},
	"GET /api/v1/channels/:id/routing-rules":             {"/api/v1/channels/{{chA}}/routing-rules", "", adminOnly},
	"POST /api/v1/channels/:id/routing-rules":            {"/api/v1/channels/{{chA}}/routing-rules", `{"name":"R","conditions":[{"field":"text","op":"contains","values":["x"]}],"target":{"kind":"team","id":{{team}}}}`, adminOnly},
	"PUT /api/v1/channels/:id/routing-rules/order":       {"/api/v1/channels/{{chA}}/routing-rules/order", `{"ids":[{{rule}}]}`, adminOnly},
	"PATCH /api/v1/channels/:id/routing-rules/:rule_id":  {"/api/v1/channels/{{chA}}/routing-rules/{{rule}}", `{"name":"R2"}`, adminOnly},
	"DELETE /api/v1/channels/:id/routing-rules/:rule_id": {"/api/v1/channels/{{chA}}/routing-rules/{{rule}}", "", adminOnly},
	"POST /api/v1/channels/:id/templates/sync":           {"/api/v1/channels/{{chA}}/templates/sync", "", adminOnly},

	"GET /api/v1/ai-agents":        {"/api/v1/ai-agents", "", adminOnly},
	"POST /api/v1/ai-agents":       {"/api/v1/ai-agents", `{"name":"Ava","model":"gpt-4o-mini","instructions":"Help.","api_key":"sk-x"}`, adminOnly},
	"GET /api/v1/ai-agents/:id":    {"/api/v1/ai-agents/{{ai}}", "", adminOnly},
	"PATCH /api/v1/ai-agents/:id":  {"/api/v1/ai-agents/{{ai}}", `{"enabled":false}`, adminOnly},
	"DELETE /api/v1/ai-agents/:id": {"/api/v1/ai-agents/{{ai}}", "", adminOnly},

	"GET /api/v1/conversations":                                 {"/api/v1/conversations?channel_id={{chA}}", "", signedIn},
	"GET /api/v1/conversations/:id":                             {"/api/v1/conversations/{{conv}}", "", inChannel},
	"GET /api/v1/conversations/:id/messages":                    {"/api/v1/conversations/{{conv}}/messages", "", inChannel},
	"POST /api/v1/conversations/:id/messages":                   {"/api/v1/conversations/{{conv}}/messages", `{"text":"Hello"}`, inChannel},
	"POST /api/v1/conversations/:id/messages/:message_id/retry": {"/api/v1/conversations/{{conv}}/messages/{{failed}}/retry", "", inChannel},
	"GET /api/v1/messages/:id/media":                            {"/api/v1/messages/{{media}}/media", "", inChannel},
	"POST /api/v1/conversations/:id/assign":                     {"/api/v1/conversations/{{conv}}/assign", `{"agent_id":{{member}}}`, inChannel},
	"POST /api/v1/conversations/:id/resolve":                    {"/api/v1/conversations/{{conv}}/resolve", "", inChannel},
	"POST /api/v1/conversations/:id/reopen":                     {"/api/v1/conversations/{{conv}}/reopen", "", inChannel},
	"POST /api/v1/conversations/:id/read":                       {"/api/v1/conversations/{{conv}}/read", "", inChannel},
	"GET /api/v1/reports/csat":                                  {"/api/v1/reports/csat", "", signedIn},
	"GET /api/v1/reports/overview":                              {"/api/v1/reports/overview", "", signedIn},
	"GET /api/v1/ws":                                            {"/api/v1/ws", "", signedIn},
	"GET /api/v1/templates":                                     {"/api/v1/templates?channel_id={{chA}}", "", inChannel},
	"GET /api/v1/dead-letters":                                  {"/api/v1/dead-letters", "", adminOnly},
	"POST /api/v1/dead-letters/:id/retry":                       {"/api/v1/dead-letters/{{deadletter}}/retry", "", adminOnly},
	"GET /api/v1/tokens":                                        {"/api/v1/tokens", "", adminOnly},
	"POST /api/v1/tokens":                                       {"/api/v1/tokens", `{"name":"ci"}`, adminOnly},
	"DELETE /api/v1/tokens/:id":                                 {"/api/v1/tokens/{{token}}", "", adminOnly},
	"GET /api/v1/jobs":                                          {"/api/v1/jobs", "", adminOnly},
	"POST /api/v1/jobs/:id/retry":                               {"/api/v1/jobs/{{job}}/retry", "", adminOnly},
	"POST /api/v1/sandbox/channels":                             {"/api/v1/sandbox/channels", `{"name":"Try it"}`, adminOnly},
	"POST /api/v1/sandbox/channels/:id/messages":                {"/api/v1/sandbox/channels/{{sandbox}}/messages", `{"wa_id":"15551234567","text":"Hi"}`, inChannel},
	"GET /api/v1/sandbox/channels/:id/messages":                 {"/api/v1/sandbox/channels/{{sandbox}}/messages?wa_id=15551234567", "", inChannel},
}

// routeMethods returns each matrix key with the concrete methods to try: Any routes are tried with
// every method Echo registered for them.
func routeMethods(routes []*echo.Route) map[string][]string {
	out := map[string][]string{}
	for _, r := range routes {
		k := routeKey(r)
		m := r.Method
		if m == echo.RouteNotFound {
			m = http.MethodGet
		}
		if !slices.Contains(out[k], m) {
			out[k] = append(out[k], m)
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// TestAuthorizationMatrix sends every route of routes.go as each principal and checks the class of
// the answer. The routes come from the Echo router at test time: a route without a matrix entry, or a
// matrix entry without a route, fails the test.
func TestAuthorizationMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) { checkMatrix(t, newSecEnv(t, st, "http://localhost:8080")) })
}

func checkMatrix(t *testing.T, e *secEnv) {
	routes := routeMethods(e.srv.echo.Routes())
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
		if _, ok := authzMatrix[k]; !ok {
			t.Errorf("route %s has no entry in authzMatrix: add the outcome each principal must get", k)
		}
	}
	for k := range authzMatrix {
		if _, ok := routes[k]; !ok {
			t.Errorf("authzMatrix names %s, which routes.go does not register", k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	slices.Sort(keys)
	checked := 0
	for _, k := range keys {
		c := authzMatrix[k]
		for _, method := range routes[k] {
			t.Run(strings.ReplaceAll(method+" "+strings.SplitN(k, " ", 2)[1], "/", "_"), func(t *testing.T) {
				fx := e.newFixture(t)
				path := fx.expand(c.path)
				var body []byte
				if c.body != "" {
					body = []byte(fx.expand(c.body))
				}
				for i, as := range principals {
					res := e.do(t, as, secRequest{method: method, path: path, body: body})
					if !c.want[i].match(res.status) {
						t.Errorf("%s %s as %s: status %d, want %s; body %.300s", method, path, as, res.status, c.want[i], res.body)
					}
					checked++
				}
			})
		}
	}
	t.Logf("%d routes, %d requests checked", len(keys), checked)
}

// TestAgentsSeeOnlyTheirChannels: lists and reports that every agent may call leave out what belongs
// to channels the agent is not in.
func TestAgentsSeeOnlyTheirChannels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) { checkOwnChannels(t, newSecEnv(t, st, "http://localhost:8080")) })
}

func checkOwnChannels(t *testing.T, e *secEnv) {
	fx := e.newFixture(t)
	conv, chA := fx.value("conv"), fx.value("chA")
	needle := fmt.Sprintf(`"id":%d,`, conv)
	for _, path := range []string{"/api/v1/conversations", fmt.Sprintf("/api/v1/conversations?channel_id=%d", chA), "/api/v1/channels"} {
		mine := e.do(t, asMember, secRequest{method: "GET", path: path})
		theirs := e.do(t, asOther, secRequest{method: "GET", path: path})
		if mine.status != 200 || theirs.status != 200 && theirs.status != 404 {
			t.Fatalf("%s: member %d, other %d", path, mine.status, theirs.status)
		}
		what := needle
		if strings.HasPrefix(path, "/api/v1/channels") {
			what = fmt.Sprintf(`"id":%d,`, chA)
		}
		if !strings.Contains(string(mine.body), what) {
			t.Fatalf("%s: the channel's agent does not see %s: %s", path, what, mine.body)
		}
		if strings.Contains(string(theirs.body), what) {
			t.Fatalf("%s: the other channel's agent sees %s: %s", path, what, theirs.body)
		}
	}
	// The other agent's websocket does not receive the channel's events either: covered by
	// TestWSInbox; here the REST answer for a direct id is the same as for a missing one.
	missing := e.do(t, asOther, secRequest{method: "GET", path: "/api/v1/conversations/999999"})
	foreign := e.do(t, asOther, secRequest{method: "GET", path: fmt.Sprintf("/api/v1/conversations/%d", conv)})
	if missing.status != foreign.status || missing.code() != foreign.code() {
		t.Fatalf("a foreign conversation (%d %s) is distinguishable from a missing one (%d %s)",
			foreign.status, foreign.code(), missing.status, missing.code())
	}
}
