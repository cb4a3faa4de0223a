package server_test

import (
	"bytes"
	"encoding/json"
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
	"switchboard/server"
	"switchboard/store"
)

// testServer is a real Switchboard HTTP server over a real store.
type testServer struct {
	t     *testing.T
	URL   string
	Store *store.Store
	clock switchboard.Clock
}

const adminPassword = "correct-horse-battery"

func newTestServer(t *testing.T, st *store.Store) *testServer {
	t.Helper()
	return newTestServerClock(t, st, switchboard.SystemClock{})
}

// newTestServerClock is newTestServer with the clock the server reads (the 24-hour window).
func newTestServerClock(t *testing.T, st *store.Store, clock switchboard.Clock) *testServer {
	t.Helper()
	return newTestServerConfig(t, st, clock, nil)
}

// newTestServerConfig is newTestServerClock with a change to the test configuration.
func newTestServerConfig(t *testing.T, st *store.Store, clock switchboard.Clock, change func(*config.Config)) *testServer {
	t.Helper()
	return newTestServerOptions(t, st, clock, func(o *server.Options) {
		if change != nil {
			change(o.Config)
		}
	})
}

// newTestServerOptions is newTestServerClock with a change to the server's options.
func newTestServerOptions(t *testing.T, st *store.Store, clock switchboard.Clock, change func(*server.Options)) *testServer {
	t.Helper()
	ts := &testServer{t: t, Store: st, clock: clock}
	opts := server.Options{Config: &config.Config{PublicURL: "http://localhost:8080", SessionTTL: 30 * 24 * time.Hour},
		Store: st, Clock: clock, Web: http.NotFoundHandler(),
		Inbound:   pipeline.NewInbound(pipeline.InboundOptions{Store: st}),
		Outbound:  pipeline.NewOutbound(pipeline.OutboundOptions{Store: st, Clock: ts.clock}),
		Media:     pipeline.NewMedia(pipeline.MediaOptions{Store: st, Dir: t.TempDir()}),
		Workspace: pipeline.NewWorkspace(pipeline.WorkspaceOptions{Store: st}),
	}
	change(&opts)
	srv := server.New(opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ts.URL = hs.URL
	return ts
}

// mustAgent creates an agent with a real password hash.
func (ts *testServer) mustAgent(name, email string, role switchboard.Role) *switchboard.Agent {
	ts.t.Helper()
	hash, err := server.HashPassword(adminPassword)
	if err != nil {
		ts.t.Fatal(err)
	}
	a := &switchboard.Agent{Name: name, Email: email, Role: role, PasswordHash: hash}
	if err := ts.Store.CreateAgent(ts.t.Context(), a); err != nil {
		ts.t.Fatal(err)
	}
	return a
}

// client is a browser-like HTTP client with a cookie jar and the CSRF token of its session.
type client struct {
	ts     *testServer
	http   *http.Client
	csrf   string
	bearer string
}

func (ts *testServer) anonymous() *client {
	jar, _ := cookiejar.New(nil)
	return &client{ts: ts, http: &http.Client{Jar: jar}}
}

// login signs in and returns a client carrying the session cookie and CSRF token.
func (ts *testServer) login(email string) *client {
	ts.t.Helper()
	c := ts.anonymous()
	res := c.do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": adminPassword})
	res.wantStatus(http.StatusOK)
	var body struct {
		CSRFToken string `json:"csrf_token"`
	}
	res.decode(&body)
	c.csrf = body.CSRFToken
	return c
}

type response struct {
	t      *testing.T
	Status int
	Header http.Header
	Body   []byte
}

func (c *client) do(method, path string, body any) *response {
	c.ts.t.Helper()
	return c.doWith(method, path, body, nil)
}

func (c *client) doWith(method, path string, body any, header map[string]string) *response {
	c.ts.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.ts.URL+path, r)
	if err != nil {
		c.ts.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.ts.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return &response{t: c.ts.t, Status: res.StatusCode, Header: res.Header, Body: data}
}

func (r *response) wantStatus(code int) *response {
	r.t.Helper()
	if r.Status != code {
		r.t.Fatalf("status %d, want %d; body: %s", r.Status, code, r.Body)
	}
	return r
}

func (r *response) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// errorCode returns the code of an error response.
func (r *response) errorCode() string {
	var body struct {
		Error struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
	}
	json.Unmarshal(r.Body, &body)
	return body.Error.Code
}
