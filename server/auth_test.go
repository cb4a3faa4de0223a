package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"switchboard"
	"switchboard/config"
	"switchboard/store"
	"switchboard/store/storetest"
)

func TestSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts := newTestServer(t, st)
		ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
		anon := ts.anonymous()

		// Wrong password and unknown email fail identically: nobody learns which part was wrong.
		wrongPw := anon.do("POST", "/api/v1/auth/login", map[string]string{"email": "ada@example.com", "password": "not-the-password"})
		unknown := anon.do("POST", "/api/v1/auth/login", map[string]string{"email": "eve@example.com", "password": adminPassword})
		wrongPw.wantStatus(http.StatusUnauthorized)
		unknown.wantStatus(http.StatusUnauthorized)
		if string(wrongPw.Body) != string(unknown.Body) || !strings.Contains(string(wrongPw.Body), "Invalid email or password.") {
			t.Fatalf("failures must not differ: %s vs %s", wrongPw.Body, unknown.Body)
		}
		if wrongPw.Header.Get("Set-Cookie") != "" {
			t.Fatal("a failed sign-in must not set a cookie")
		}

		anon.do("POST", "/api/v1/auth/login", map[string]string{"email": "", "password": ""}).wantStatus(http.StatusUnprocessableEntity)
		if code := anon.do("POST", "/api/v1/auth/login", `{"email":`).wantStatus(http.StatusBadRequest).errorCode(); code != switchboard.EINVALID {
			t.Fatalf("malformed body: code %q", code)
		}

		c := ts.login("ADA@example.com")
		var me struct {
			Agent     switchboard.Agent `json:"agent"`
			CSRFToken string            `json:"csrf_token"`
		}
		c.do("GET", "/api/v1/me", nil).wantStatus(http.StatusOK).decode(&me)
		if me.Agent.Email != "ada@example.com" || me.CSRFToken != c.csrf || strings.Contains(string(c.do("GET", "/api/v1/me", nil).Body), "argon2") {
			t.Fatalf("me: %+v", me)
		}
		c.do("POST", "/api/v1/auth/logout", nil).wantStatus(http.StatusNoContent)
		c.do("GET", "/api/v1/me", nil).wantStatus(http.StatusUnauthorized)
	})
}

func TestSessionCookieFlags(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t, storetest.Options{}))
	ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
	res := ts.anonymous().do("POST", "/api/v1/auth/login", map[string]string{"email": "ada@example.com", "password": adminPassword})
	ck := res.Header.Get("Set-Cookie")
	for _, want := range []string{"switchboard_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("cookie %q lacks %s", ck, want)
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t, storetest.Options{}))
	ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
	anon := ts.anonymous()
	// Successful sign-ins never count against anyone.
	for i := 0; i < 25; i++ {
		ts.login("ada@example.com")
	}
	limited := false
	for i := 0; i < 12; i++ {
		res := anon.do("POST", "/api/v1/auth/login", map[string]string{"email": "ada@example.com", "password": "guess-" + string(rune('a'+i))})
		if res.Status == http.StatusTooManyRequests {
			if res.errorCode() != switchboard.ERATELIMITED || res.Header.Get("Retry-After") == "" {
				t.Fatalf("429 without code or Retry-After: %s", res.Body)
			}
			limited = true
			break
		}
		res.wantStatus(http.StatusUnauthorized)
	}
	if !limited {
		t.Fatal("a burst of wrong sign-ins was never limited")
	}
	// The right password is refused too while the account is limited: guessing gains nothing.
	anon.do("POST", "/api/v1/auth/login", map[string]string{"email": "ada@example.com", "password": adminPassword}).wantStatus(http.StatusTooManyRequests)
}

// TestLoginLimitByClientAddress: the per-address sign-in limit counts the connection's peer, so a
// forged X-Forwarded-For (a new address per request) does not escape it; behind a configured trusted
// proxy, the forwarded address is the client's. Each attempt names another account, so only the
// per-address limit can apply.
func TestLoginLimitByClientAddress(t *testing.T) {
	wrongLogins := func(ts *testServer, forwarded func(i int) string) (limitedAt int) {
		anon := ts.anonymous()
		for i := range 30 {
			res := anon.doWith("POST", "/api/v1/auth/login",
				map[string]string{"email": fmt.Sprintf("nobody%d@example.com", i), "password": "guess"},
				map[string]string{"X-Forwarded-For": forwarded(i)})
			if res.Status == http.StatusTooManyRequests {
				return i
			}
			res.wantStatus(http.StatusUnauthorized)
		}
		return -1
	}
	rotating := func(i int) string { return fmt.Sprintf("203.0.113.%d", i+1) }

	direct := newTestServer(t, storetest.SQLite(t, storetest.Options{}))
	if at := wrongLogins(direct, rotating); at < 0 {
		t.Fatal("rotating X-Forwarded-For escaped the per-address sign-in limit")
	}

	proxied := newTestServerConfig(t, storetest.SQLite(t, storetest.Options{}), switchboard.SystemClock{},
		func(cfg *config.Config) { cfg.TrustedProxies = "127.0.0.1" })
	if at := wrongLogins(proxied, rotating); at >= 0 {
		t.Fatalf("behind a trusted proxy, distinct clients were limited together (at attempt %d)", at)
	}
	// A client behind the proxy is still limited by its own address, whatever it prepends itself.
	spoofing := func(i int) string { return rotating(i) + ", 198.51.100.7" }
	if at := wrongLogins(proxied, spoofing); at < 0 {
		t.Fatal("a client behind the trusted proxy escaped the limit by prepending addresses")
	}
}

// TestAccessControl: no session → 401; an agent on an admin route → 403; a cookie write without the
// CSRF token → 403; bearer tokens need no CSRF token.
func TestAccessControl(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts := newTestServer(t, st)
		ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
		ts.mustAgent("Bob", "bob@example.com", switchboard.RoleAgent)
		admin := ts.login("ada@example.com")
		agent := ts.login("bob@example.com")
		anon := ts.anonymous()
		newAgent := map[string]string{"name": "Cy", "email": "cy@example.com", "password": "long-enough-pass", "role": "agent"}

		tests := []struct {
			name   string
			client *client
			method string
			path   string
			body   any
			status int
			code   string
		}{
			{"anonymous me", anon, "GET", "/api/v1/me", nil, 401, switchboard.EUNAUTHORIZED},
			{"anonymous agents", anon, "GET", "/api/v1/agents", nil, 401, switchboard.EUNAUTHORIZED},
			{"agent lists agents", agent, "GET", "/api/v1/agents", nil, 200, ""},
			{"agent creates agent", agent, "POST", "/api/v1/agents", newAgent, 403, switchboard.EFORBIDDEN},
			{"agent creates token", agent, "POST", "/api/v1/tokens", map[string]string{"name": "x"}, 403, switchboard.EFORBIDDEN},
			{"agent lists dead jobs", agent, "GET", "/api/v1/jobs?state=dead", nil, 403, switchboard.EFORBIDDEN},
			{"admin creates agent", admin, "POST", "/api/v1/agents", newAgent, 201, ""},
			{"admin invalid agent", admin, "POST", "/api/v1/agents", map[string]string{"email": "x"}, 422, switchboard.EINVALID},
			{"admin duplicate agent", admin, "POST", "/api/v1/agents", newAgent, 409, switchboard.ECONFLICT},
			{"admin lists dead jobs", admin, "GET", "/api/v1/jobs?state=dead", nil, 200, ""},
			{"unknown API path", admin, "GET", "/api/v1/nothing-here", nil, 404, switchboard.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := tt.client.do(tt.method, tt.path, tt.body).wantStatus(tt.status)
				if tt.code != "" && res.errorCode() != tt.code {
					t.Fatalf("code %q, want %q: %s", res.errorCode(), tt.code, res.Body)
				}
			})
		}

		noCSRF := *admin
		noCSRF.csrf = ""
		res := noCSRF.do("POST", "/api/v1/teams", map[string]string{"name": "Billing"}).wantStatus(http.StatusForbidden)
		if res.errorCode() != switchboard.EFORBIDDEN {
			t.Fatalf("write without CSRF: %s", res.Body)
		}
		wrongCSRF := *admin
		wrongCSRF.csrf = "forged"
		wrongCSRF.do("POST", "/api/v1/teams", map[string]string{"name": "Billing"}).wantStatus(http.StatusForbidden)
		admin.do("POST", "/api/v1/teams", map[string]string{"name": "Billing"}).wantStatus(http.StatusCreated)

		// An API token works without a session or CSRF token, and is shown only once.
		var created struct {
			Token    string `json:"token"`
			APIToken struct {
				ID     int64  `json:"id"`
				Prefix string `json:"prefix"`
			} `json:"api_token"`
		}
		admin.do("POST", "/api/v1/tokens", map[string]string{"name": "CRM sync"}).wantStatus(http.StatusCreated).decode(&created)
		if !strings.HasPrefix(created.Token, "sbt_") || !strings.HasPrefix(created.Token, created.APIToken.Prefix) {
			t.Fatalf("token: %+v", created)
		}
		if strings.Contains(string(admin.do("GET", "/api/v1/tokens", nil).Body), created.Token) {
			t.Fatal("the token must never be shown again")
		}
		bot := ts.anonymous()
		bot.bearer = created.Token
		bot.do("POST", "/api/v1/teams", map[string]string{"name": "Sales"}).wantStatus(http.StatusCreated)
		bot.bearer = created.Token + "x"
		bot.do("GET", "/api/v1/me", nil).wantStatus(http.StatusUnauthorized)
	})
}

func TestHealthAndReadiness(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t, storetest.Options{}))
	anon := ts.anonymous()
	anon.do("GET", "/healthz", nil).wantStatus(http.StatusOK)
	anon.do("GET", "/readyz", nil).wantStatus(http.StatusOK)
	if res := anon.do("GET", "/metrics", nil).wantStatus(http.StatusOK); !strings.Contains(string(res.Body), "switchboard_http_requests_total") {
		t.Fatal("metrics lack the request counter")
	}

	// With a metrics token, only its bearer reads them.
	guarded := newTestServerConfig(t, storetest.SQLite(t, storetest.Options{}), switchboard.SystemClock{},
		func(cfg *config.Config) { cfg.MetricsToken = "scrape-secret" })
	scraper := guarded.anonymous()
	scraper.do("GET", "/metrics", nil).wantStatus(http.StatusUnauthorized)
	scraper.bearer = "scrape-secretx"
	scraper.do("GET", "/metrics", nil).wantStatus(http.StatusUnauthorized)
	scraper.bearer = "scrape-secret"
	scraper.do("GET", "/metrics", nil).wantStatus(http.StatusOK)

	ts.Store.Close()
	if res := anon.do("GET", "/readyz", nil); res.Status != http.StatusServiceUnavailable || res.errorCode() != switchboard.EUNAVAILABLE {
		t.Fatalf("readyz with a closed database: %d %s", res.Status, res.Body)
	}
}

func TestBodyLimit(t *testing.T) {
	ts := newTestServer(t, storetest.SQLite(t, storetest.Options{}))
	big := `{"email":"` + strings.Repeat("a", 2<<20) + `","password":"x"}`
	res := ts.anonymous().do("POST", "/api/v1/auth/login", big)
	if res.Status != http.StatusRequestEntityTooLarge || res.errorCode() != switchboard.ETOOLARGE {
		t.Fatalf("oversized body: %d %s", res.Status, res.Body)
	}
}
