package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard"
	"switchboard/store/storetest"
)

// loginCookie signs in over the API and returns the session cookie header and the CSRF token.
func (e *wsEnv) loginCookie(email string) (cookie, csrf string) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": wsPassword})
	res, err := http.Post(e.url+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		e.t.Fatalf("login: %d %s", res.StatusCode, b)
	}
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			return c.Name + "=" + c.Value, out.CSRFToken
		}
	}
	e.t.Fatal("no session cookie")
	return "", ""
}

func TestWSAuth(t *testing.T) {
	st := storetest.SQLite(t, storetest.Options{})
	env := newWSEnv(t, st, HubOptions{}, nil)
	agent, token := mustWSAgent(t, st, "Ana", switchboard.RoleAgent)
	cookie, csrf := env.loginCookie(agent.Email)
	cases := []struct {
		name   string
		header http.Header
		query  string
		status int
		code   string
	}{
		{"no credentials", http.Header{"Origin": {wsOrigin}}, "", http.StatusUnauthorized, switchboard.EUNAUTHORIZED},
		{"session cookie from a foreign page", http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}}, "", http.StatusForbidden, switchboard.EFORBIDDEN},
		{"session cookie from another port", http.Header{"Cookie": {cookie}, "Origin": {"http://localhost:9999"}}, "", http.StatusForbidden, switchboard.EFORBIDDEN},
		{"session cookie without an Origin", http.Header{"Cookie": {cookie}}, "", http.StatusForbidden, switchboard.EFORBIDDEN},
		{"session cookie from the app", http.Header{"Cookie": {cookie}, "Origin": {wsOrigin}}, "", http.StatusSwitchingProtocols, ""},
		{"session cookie, origin spelled with the default port", http.Header{"Cookie": {cookie}, "Origin": {"HTTP://LOCALHOST:8080"}}, "", http.StatusSwitchingProtocols, ""},
		{"bearer token, no Origin needed", http.Header{"Authorization": {"Bearer " + token}}, "", http.StatusSwitchingProtocols, ""},
		{"wrong token", http.Header{"Authorization": {"Bearer sbt_nope"}}, "", http.StatusUnauthorized, switchboard.EUNAUTHORIZED},
		{"malformed last_seq", http.Header{"Authorization": {"Bearer " + token}}, "?last_seq=soon", http.StatusBadRequest, switchboard.EINVALID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, res, err := websocket.DefaultDialer.Dial(env.wsURL(tc.query), tc.header)
			if res == nil {
				t.Fatalf("no response: %v", err)
			}
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if conn != nil {
				conn.Close()
				return
			}
			var body struct {
				Error struct{ Code string } `json:"error"`
			}
			json.NewDecoder(res.Body).Decode(&body)
			if body.Error.Code != tc.code {
				t.Fatalf("error code %q, want %q", body.Error.Code, tc.code)
			}
		})
	}
	t.Run("a plain GET is not a websocket", func(t *testing.T) {
		req, _ := http.NewRequest("GET", env.url+"/api/v1/ws", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
	t.Run("signing out ends the socket at the next refresh", func(t *testing.T) {
		conn, _, err := websocket.DefaultDialer.Dial(env.wsURL(""), http.Header{"Cookie": {cookie}, "Origin": {wsOrigin}})
		if err != nil {
			t.Fatal(err)
		}
		c := env.in(t).wrap(conn)
		req, _ := http.NewRequest("POST", env.url+"/api/v1/auth/logout", nil)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("X-CSRF-Token", csrf)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent && res.StatusCode != http.StatusOK {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		env.hub.refreshAll(t.Context())
		if err := c.closed(); !isCloseCode(err, websocket.ClosePolicyViolation) {
			t.Fatalf("closed with %v", err)
		}
	})
	t.Run("revoking the API token ends its sockets at the next refresh", func(t *testing.T) {
		other, otherToken := mustWSAgent(t, st, "Bo", switchboard.RoleAgent)
		revoked, kept := env.in(t).dial(otherToken, ""), env.in(t).dial(token, "")
		tokens, err := st.ListAPITokens(t.Context(), other.ID)
		if err != nil || len(tokens) != 1 {
			t.Fatalf("tokens %v, err %v", tokens, err)
		}
		if err := st.DeleteAPIToken(t.Context(), tokens[0].ID); err != nil {
			t.Fatal(err)
		}
		env.hub.refreshAll(t.Context())
		if err := revoked.closed(); !isCloseCode(err, websocket.ClosePolicyViolation) {
			t.Fatalf("the revoked token's socket closed with %v", err)
		}
		kept.send(framePing, "still-here", nil)
		if f := kept.nextOf("pong"); f.ID != "still-here" {
			t.Fatalf("the live token's socket got %+v", f)
		}
	})
}

func TestWSConnectionLimits(t *testing.T) {
	st := storetest.SQLite(t, storetest.Options{})
	// The pong deadline is short for the test, but not so short that a busy machine (the race detector,
	// parallel packages) makes the answering client miss it too.
	const pongWait = 750 * time.Millisecond
	env := newWSEnv(t, st, HubOptions{MaxFrame: 1024, PongWait: pongWait}, nil)
	_, token := mustWSAgent(t, st, "Ana", switchboard.RoleAgent)

	t.Run("a frame above the read limit closes the connection", func(t *testing.T) {
		c := env.in(t).dial(token, "")
		c.send(framePing, strings.Repeat("x", 90), map[string]string{"pad": strings.Repeat("y", 2048)})
		if err := c.closed(); !isCloseCode(err, websocket.CloseMessageTooBig) {
			t.Fatalf("closed with %v, want 1009", err)
		}
	})
	t.Run("a peer that answers pings stays; a silent one is dropped at the pong deadline", func(t *testing.T) {
		alive := env.in(t).dial(token, "") // reads, so the client library answers pings
		silent, _, err := websocket.DefaultDialer.Dial(env.wsURL(""), http.Header{"Authorization": {"Bearer " + token}})
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		eventually(t, "two clients", func() bool { return env.hub.Clients() == 2 })
		eventually(t, "the silent client dropped", func() bool { return env.hub.Clients() <= 1 })
		time.Sleep(3 * pongWait) // three more pong deadlines
		if n := env.hub.Clients(); n != 1 {
			t.Fatalf("%d clients after the silent one was dropped, want the answering one", n)
		}
		alive.send(framePing, "still-here", nil)
		if f := alive.nextOf("pong"); f.ID != "still-here" {
			t.Fatalf("got %+v", f)
		}
	})
}

func TestWSHubStop(t *testing.T) {
	st := storetest.SQLite(t, storetest.Options{})
	rec := &recorder{online: map[int64]int{}}
	env := newWSEnv(t, st, HubOptions{Presence: rec}, nil)
	agent, token := mustWSAgent(t, st, "Ana", switchboard.RoleAgent)
	clients := []*wsConn{env.dial(token, ""), env.dial(token, ""), env.dial(token, "")}
	eventually(t, "three connections", func() bool { return rec.onlineCount(agent.ID) == 3 })
	env.stopHub()
	for _, c := range clients {
		if err := c.closed(); !isCloseCode(err, websocket.CloseGoingAway) {
			t.Fatalf("closed with %v, want 1001 going away", err)
		}
	}
	if n := rec.onlineCount(agent.ID); n != 0 {
		t.Fatalf("%d connections still counted online after the hub stopped", n)
	}
	_, res, err := websocket.DefaultDialer.Dial(env.wsURL(""), http.Header{"Authorization": {"Bearer " + token}})
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after stop: %v", err)
	}
}

func TestSameOrigin(t *testing.T) {
	cases := []struct {
		origin, public string
		same           bool
	}{
		{"https://support.example.com", "https://support.example.com", true},
		{"https://SUPPORT.example.com:443", "https://support.example.com", true},
		{"http://support.example.com", "https://support.example.com", false},
		{"https://support.example.com:8443", "https://support.example.com", false},
		{"https://evil.example", "https://support.example.com", false},
		{"https://support.example.com.evil.example", "https://support.example.com", false},
		{"", "https://support.example.com", false},
		{"null", "https://support.example.com", false},
		// The embedded default: any loopback name of the same port is the same machine's page.
		{"http://127.0.0.1:8080", "http://localhost:8080", true},
		{"http://[::1]:8080", "http://localhost:8080", true},
		{"http://localhost:8080", "http://127.0.0.1:8080", true},
		{"http://127.0.0.1:9090", "http://localhost:8080", false},
		{"http://192.168.1.5:8080", "http://localhost:8080", false},
		{"http://127.0.0.1", "https://support.example.com", false},
	}
	for _, tc := range cases {
		if got := sameOrigin(tc.origin, tc.public); got != tc.same {
			t.Errorf("sameOrigin(%q, %q) = %v, want %v", tc.origin, tc.public, got, tc.same)
		}
	}
}
