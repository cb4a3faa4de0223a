package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/whatsapp"
	"switchboard/whatsapp/graphtest"
)

// tableCounts counts the rows of the tables a request could write to.
func tableCounts(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"agents", "api_tokens", "teams", "channels", "channel_members", "contacts", "conversations",
		"messages", "dead_letters", "channel_events", "events", "routing_rules", "ai_agents", "jobs", "sessions"} {
		var n int
		if err := st.SQL().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

// diffCounts names the tables whose row counts changed.
func diffCounts(before, after map[string]int) []string {
	var changed []string
	for k, v := range before {
		if after[k] != v {
			changed = append(changed, fmt.Sprintf("%s %d→%d", k, v, after[k]))
		}
	}
	slices.Sort(changed)
	return changed
}

// apiWriteRoutes lists the write routes of the /api/v1 group that the matrix guards or lists as
// public (login), i.e. every real API write route.
func apiWriteRoutes(e *secEnv) map[string][]string {
	out := map[string][]string{}
	for k, methods := range routeMethods(e.srv.echo.Routes()) {
		method, path, _ := strings.Cut(k, " ")
		if !strings.HasPrefix(path, "/api/v1/") || method == "ANY" || method == "NOTFOUND" || safeMethod(method) {
			continue
		}
		out[k] = methods
	}
	return out
}

// TestOversizedBodies: every API write route refuses a body over 1 MB with 413 (declared, or chunked
// when the route reads a body) and stores nothing; the attachment route allows more but not above its own limit; the webhook
// endpoint refuses a signed body over 4 MB with 413 and stores nothing, while a signed 3.9 MB body
// (above Meta's 3 MB payloads) is accepted.
func TestOversizedBodies(t *testing.T) {
	e := newSecEnv(t, storetest.SQLite(t, storetest.Options{}), "http://localhost:8080")
	big := []byte(`{"name":"` + strings.Repeat("a", 1<<20) + `"}`)
	routes := apiWriteRoutes(e)
	if len(routes) < 30 {
		t.Fatalf("only %d API write routes found", len(routes))
	}
	for k := range routes {
		c := authzMatrix[k]
		t.Run(strings.ReplaceAll(k, "/", "_"), func(t *testing.T) {
			fx := e.newFixture(t)
			path := fx.expand(c.path)
			method, _, _ := strings.Cut(k, " ")
			if k == "POST /api/v1/conversations/:id/messages" {
				// Attachments go up to WhatsApp's 100 MB: 1 MB of JSON passes the limit (and fails validation).
				if res := e.do(t, asAdmin, secRequest{method: method, path: path, body: big}); res.status == http.StatusRequestEntityTooLarge {
					t.Fatalf("the attachment route refused 1 MB")
				}
				before := tableCounts(t, e.st)
				res := e.streamed(t, method, path, 101<<20+1, true)
				if res.status != http.StatusRequestEntityTooLarge || res.code() != switchboard.ETOOLARGE {
					t.Fatalf("101 MB upload: %d %s", res.status, res.body)
				}
				if d := diffCounts(before, tableCounts(t, e.st)); len(d) > 0 {
					t.Fatalf("an oversized upload changed %v", d)
				}
				return
			}
			before := tableCounts(t, e.st)
			for _, declared := range []bool{true, false} {
				if !declared && c.body == "" {
					// A handler that never reads its body never reaches the limit: a chunked body is
					// discarded unread, and only a declared length is refused up front.
					continue
				}
				var res secResponse
				if declared {
					res = e.do(t, asAdmin, secRequest{method: method, path: path, body: big})
				} else {
					res = e.streamed(t, method, path, int64(len(big)), false)
				}
				if res.status != http.StatusRequestEntityTooLarge || res.code() != switchboard.ETOOLARGE {
					t.Fatalf("1 MB + body (length declared: %v): %d %.200s", declared, res.status, res.body)
				}
			}
			if d := diffCounts(before, tableCounts(t, e.st)); len(d) > 0 {
				t.Fatalf("an oversized body changed %v", d)
			}
		})
	}

	t.Run("webhook", func(t *testing.T) {
		fx := e.newFixture(t)
		ch := fx.channel()
		path := fmt.Sprintf("/webhooks/whatsapp/%d", ch.ID)
		n := graphtest.Number{PhoneNumberID: ch.PhoneNumberID, DisplayPhoneNumber: "14155550123", WABAID: ch.BusinessAccountID}
		post := func(body []byte, chunked bool) secResponse {
			h := http.Header{whatsapp.SignatureHeader: {whatsapp.Sign(body, ch.AppSecret)}}
			if chunked {
				return e.chunked(t, path, body, h)
			}
			return e.raw(t, "POST", path, body, h)
		}
		before := tableCounts(t, e.st)
		over := padded(graphtest.Envelope(n, time.Now(), graphtest.TextMessage("33600000001", "Big", "too big")), 4<<20+1)
		for _, chunked := range []bool{false, true} {
			res := post(over, chunked)
			if res.status != http.StatusRequestEntityTooLarge || res.code() != switchboard.ETOOLARGE {
				t.Fatalf("4 MB + 1 webhook (chunked: %v): %d %s", chunked, res.status, res.body)
			}
		}
		if d := diffCounts(before, tableCounts(t, e.st)); len(d) > 0 {
			t.Fatalf("an oversized webhook changed %v", d)
		}
		under := padded(graphtest.Envelope(n, time.Now(), graphtest.TextMessage("33600000002", "Large", "large but fine")), 3900<<10)
		if res := post(under, false); res.status != http.StatusOK {
			t.Fatalf("3.9 MB webhook: %d %s", res.status, res.body)
		}
		if d := diffCounts(before, tableCounts(t, e.st)); !slices.ContainsFunc(d, func(s string) bool { return strings.HasPrefix(s, "messages ") }) {
			t.Fatalf("the 3.9 MB webhook stored no message: %v", d)
		}
	})
}

// padded grows a webhook body to exactly size bytes with an unknown top-level field, which parsers
// ignore, keeping it valid JSON.
func padded(body []byte, size int) []byte {
	pad := size - len(body) - len(`,"padding":""`)
	if pad < 0 {
		panic("body already larger than the target")
	}
	out := make([]byte, 0, size)
	out = append(out, body[:len(body)-1]...)
	out = append(out, `,"padding":"`...)
	out = append(out, bytes.Repeat([]byte("x"), pad)...)
	out = append(out, `"}`...)
	return out
}

// zeros is an endless reader of spaces (valid JSON whitespace), for bodies never held in memory.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.left)
	for i := range p[:n] {
		p[i] = ' '
	}
	z.left -= n
	return int(n), nil
}

// streamed sends size bytes as the admin without holding them, with the length declared or chunked.
func (e *secEnv) streamed(t *testing.T, method, path string, size int64, declared bool) secResponse {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, io.NopCloser(&zeros{left: size}))
	if err != nil {
		t.Fatal(err)
	}
	if declared {
		req.ContentLength = size
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.tokens[asAdmin])
	return sendAndRead(t, req)
}

// chunked posts body with chunked transfer encoding (no Content-Length), as a client hiding its size would.
func (e *secEnv) chunked(t *testing.T, path string, body []byte, h http.Header) secResponse {
	t.Helper()
	req, err := http.NewRequest("POST", e.url+path, io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
	return sendAndRead(t, req)
}

func sendAndRead(t *testing.T, req *http.Request) secResponse {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return secResponse{status: res.StatusCode, header: res.Header, body: data}
}

// login signs in with a password and returns the session cookie and CSRF token.
func (e *secEnv) login(t *testing.T, email, password string) (*http.Cookie, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	res := e.raw(t, "POST", "/api/v1/auth/login", body, nil)
	if res.status != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, res.status, res.body)
	}
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	json.Unmarshal(res.body, &out)
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == SessionCookie {
			return c, out.CSRFToken
		}
	}
	t.Fatal("login set no session cookie")
	return nil, ""
}

func cookieHeader(c *http.Cookie, csrf string) http.Header {
	h := http.Header{"Cookie": {c.Name + "=" + c.Value}}
	if csrf != "" {
		h.Set("X-CSRF-Token", csrf)
	}
	return h
}

// TestSessionCookieLifecycle: the session cookie is HttpOnly, SameSite=Lax, scoped to the whole site,
// Secure behind an https public URL, long and random; logging out expires it and ends the session on
// the server, so a copy of the old value is worthless.
func TestSessionCookieLifecycle(t *testing.T) {
	for _, publicURL := range []string{"http://localhost:8080", "https://support.example.com"} {
		t.Run(publicURL, func(t *testing.T) {
			e := newSecEnv(t, storetest.SQLite(t, storetest.Options{}), publicURL)
			c, csrf := e.login(t, e.member.Email, wsPassword)
			secure := strings.HasPrefix(publicURL, "https://")
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure || c.MaxAge <= 0 || c.Domain != "" {
				t.Fatalf("cookie flags: %+v (want HttpOnly, SameSite=Lax, Path=/, Secure=%v, MaxAge>0, host-only)", c, secure)
			}
			if len(c.Value) < 40 || csrf == "" || len(csrf) < 24 || strings.Contains(c.Value, csrf) {
				t.Fatalf("cookie value %d chars, CSRF token %q", len(c.Value), csrf)
			}
			other, _ := e.login(t, e.member.Email, wsPassword)
			if other.Value == c.Value {
				t.Fatal("two sign-ins got the same session cookie")
			}
			if res := e.raw(t, "GET", "/api/v1/me", nil, cookieHeader(c, "")); res.status != http.StatusOK {
				t.Fatalf("me with the cookie: %d", res.status)
			}
			res := e.raw(t, "POST", "/api/v1/auth/logout", nil, cookieHeader(c, csrf))
			if res.status != http.StatusNoContent {
				t.Fatalf("logout: %d %s", res.status, res.body)
			}
			var cleared *http.Cookie
			for _, ck := range (&http.Response{Header: res.header}).Cookies() {
				if ck.Name == SessionCookie {
					cleared = ck
				}
			}
			if cleared == nil || cleared.MaxAge >= 0 || cleared.Value != "" || !cleared.HttpOnly {
				t.Fatalf("logout did not expire the cookie: %+v", cleared)
			}
			if res := e.raw(t, "GET", "/api/v1/me", nil, cookieHeader(c, "")); res.status != http.StatusUnauthorized {
				t.Fatalf("the old cookie still works after logout: %d", res.status)
			}
			if res := e.raw(t, "GET", "/api/v1/me", nil, cookieHeader(other, "")); res.status != http.StatusOK {
				t.Fatalf("logging out one session ended another: %d", res.status)
			}
		})
	}
}

// TestCSRFOnEveryCookieWrite: every write route behind a session refuses a cookie-authenticated
// request without the session's X-CSRF-Token, with a wrong one, and with another session's, and
// changes nothing; with the right token the same request goes through.
func TestCSRFOnEveryCookieWrite(t *testing.T) {
	e := newSecEnv(t, storetest.SQLite(t, storetest.Options{}), "http://localhost:8080")
	_, otherCSRF := e.login(t, e.admin.Email, wsPassword)
	routes := apiWriteRoutes(e)
	n := 0
	for k, methods := range routes {
		c := authzMatrix[k]
		if c.want[0] != unauth || k == "POST /api/v1/auth/login" {
			continue // public: no session to ride
		}
		for _, method := range methods {
			n++
			t.Run(strings.ReplaceAll(k, "/", "_"), func(t *testing.T) {
				fx := e.newFixture(t)
				path := fx.expand(c.path)
				var body []byte
				if c.body != "" {
					body = []byte(fx.expand(c.body))
				}
				ck, csrf := e.login(t, e.admin.Email, wsPassword)
				before := tableCounts(t, e.st)
				for _, bad := range []string{"", "forged-token", otherCSRF, strings.ToUpper(csrf)} {
					res := e.raw(t, method, path, body, cookieHeader(ck, bad))
					if res.status != http.StatusForbidden || res.code() != switchboard.EFORBIDDEN {
						t.Fatalf("X-CSRF-Token %q: %d %s", bad, res.status, res.body)
					}
				}
				if d := diffCounts(before, tableCounts(t, e.st)); len(d) > 0 {
					t.Fatalf("refused requests changed %v", d)
				}
				if res := e.raw(t, method, path, body, cookieHeader(ck, csrf)); !c.want[3].match(res.status) {
					t.Fatalf("with the right token: %d, want %s: %s", res.status, c.want[3], res.body)
				}
			})
		}
	}
	if n < 30 {
		t.Fatalf("only %d cookie write routes checked", n)
	}
}

// TestWebsocketOrigin: a session cookie opens the agent websocket only from the public URL's origin;
// a page elsewhere (or one that sends no Origin) gets 403 and no connection. A bearer token, which
// browsers never attach on their own, needs no Origin.
func TestWebsocketOrigin(t *testing.T) {
	e := newSecEnv(t, storetest.SQLite(t, storetest.Options{}), "http://localhost:8080")
	ck, _ := e.login(t, e.member.Email, wsPassword)
	url := "ws" + strings.TrimPrefix(e.url, "http") + "/api/v1/ws"
	for _, origin := range []string{"https://evil.example", "http://localhost:8080.evil.example", "http://localhost:9999", "null", ""} {
		h := http.Header{"Cookie": {ck.Name + "=" + ck.Value}}
		if origin != "" {
			h.Set("Origin", origin)
		}
		conn, res, err := websocket.DefaultDialer.Dial(url, h)
		if conn != nil {
			conn.Close()
			t.Fatalf("origin %q: the websocket opened", origin)
		}
		if res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %q: %v %v", origin, res, err)
		}
	}
	if n := e.srv.hub.Clients(); n != 0 {
		t.Fatalf("%d clients registered after refused handshakes", n)
	}
	h := http.Header{"Cookie": {ck.Name + "=" + ck.Value}, "Origin": {"http://localhost:8080"}}
	conn, _, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		t.Fatalf("same origin: %v", err)
	}
	conn.Close()
	conn, _, err = websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + e.tokens[asMember]}, "Origin": {"https://integration.example"}})
	if err != nil {
		t.Fatalf("bearer token: %v", err)
	}
	conn.Close()
}

// TestSecretsNotStoredInClear creates, on SQLite, a channel (API token and app secret), an AI agent
// (API key), an agent (password), an API token and a session, all with recognisable values, uses
// them, then scans the database file and its WAL byte by byte: none of the values is there. The
// secrets still work (the server decrypts them), the API never returns them, and the log never
// prints them.
func TestSecretsNotStoredInClear(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "switchboard.db")
	st, err := store.Open(context.Background(), store.Options{SQLitePath: path, Key: storetest.Key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newSecEnv(t, st, "http://localhost:8080")
	mark := strings.ToLower(rand.Text())
	secrets := map[string]string{
		"channel API token":  "EAAGcanaryToken" + mark,
		"channel app secret": "canaryAppSecret" + mark,
		"AI agent API key":   "sk-canaryOpenAI" + mark,
		"agent password":     "canary password " + mark,
	}
	var ch struct {
		ID            int64  `json:"id"`
		PhoneNumberID string `json:"phone_number_id"`
	}
	e.adminCall(t, "POST", "/api/v1/channels", map[string]any{"name": "Canary Channel " + mark, "phone_number": "+14155550188",
		"phone_number_id": fmt.Sprintf("5550%d", time.Now().UnixNano()%1e9), "business_account_id": "55502", "api_key": secrets["channel API token"],
		"app_secret": secrets["channel app secret"]}, http.StatusCreated, &ch)
	var ai struct{ ID int64 }
	e.adminCall(t, "POST", "/api/v1/ai-agents", map[string]any{"name": "Canary Bot", "model": "gpt-4o-mini", "instructions": "Help.",
		"api_key": secrets["AI agent API key"]}, http.StatusCreated, &ai)
	var agent struct{ ID int64 }
	e.adminCall(t, "POST", "/api/v1/agents", map[string]any{"name": "Canary Agent", "email": "canary@example.com",
		"password": secrets["agent password"], "role": "agent"}, http.StatusCreated, &agent)
	var tok struct {
		Token string `json:"token"`
	}
	e.adminCall(t, "POST", "/api/v1/tokens", map[string]any{"name": "canary", "agent_id": agent.ID}, http.StatusCreated, &tok)
	secrets["API token"] = tok.Token
	ck, csrf := e.login(t, "canary@example.com", secrets["agent password"])
	secrets["session cookie"] = ck.Value
	_ = csrf

	// Use them: a webhook signed with the app secret is accepted; the token acts as the agent.
	n := graphtest.Number{PhoneNumberID: ch.PhoneNumberID, DisplayPhoneNumber: "14155550188", WABAID: "55502"}
	body := graphtest.Envelope(n, time.Now(), graphtest.TextMessage("33611112222", "Canary Customer", "hello"))
	if res := e.raw(t, "POST", fmt.Sprintf("/webhooks/whatsapp/%d", ch.ID), body,
		http.Header{whatsapp.SignatureHeader: {whatsapp.Sign(body, secrets["channel app secret"])}}); res.status != http.StatusOK {
		t.Fatalf("webhook signed with the stored app secret: %d %s", res.status, res.body)
	}
	if res := e.raw(t, "GET", "/api/v1/me", nil, http.Header{"Authorization": {"Bearer " + tok.Token}}); res.status != http.StatusOK {
		t.Fatalf("the API token does not work: %d", res.status)
	}
	got, err := st.Channel(t.Context(), ch.ID)
	if err != nil || got.APIKey != secrets["channel API token"] || got.AppSecret != secrets["channel app secret"] {
		t.Fatalf("the channel's secrets do not decrypt: %v", err)
	}
	bot, err := st.AIAgent(t.Context(), ai.ID)
	if err != nil || bot.APIKey != secrets["AI agent API key"] {
		t.Fatalf("the AI agent's key does not decrypt: %v", err)
	}

	// The API never returns them.
	for _, p := range []string{fmt.Sprintf("/api/v1/channels/%d", ch.ID), "/api/v1/channels", fmt.Sprintf("/api/v1/ai-agents/%d", ai.ID),
		"/api/v1/ai-agents", fmt.Sprintf("/api/v1/agents/%d", agent.ID), "/api/v1/tokens", "/api/v1/me"} {
		res := e.do(t, asAdmin, secRequest{method: "GET", path: p})
		for what, v := range secrets {
			if strings.Contains(string(res.body), v) {
				t.Errorf("GET %s returns the %s", p, what)
			}
		}
	}

	scan := func(stage string) {
		t.Helper()
		var all []byte
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
			for what, v := range secrets {
				if bytes.Contains(b, []byte(v)) {
					t.Errorf("%s: the %s is in %s in clear", stage, what, filepath.Base(f))
				}
			}
		}
		// The scan reads the right bytes: plain data written alongside is there.
		if !bytes.Contains(all, []byte("Canary Channel "+mark)) || !bytes.Contains(all, []byte("Canary Customer")) {
			t.Fatalf("%s: the channel name and the customer's name are not in the files: the scan looks at the wrong bytes", stage)
		}
	}
	scan("before checkpoint")
	if _, err := st.SQL().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	scan("after checkpoint")
	logs := e.logs.String()
	for what, v := range secrets {
		if strings.Contains(logs, v) {
			t.Errorf("the %s appears in the server log", what)
		}
	}
}
