package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard"
)

// AuthStore is the storage sign-in needs.
type AuthStore interface {
	AgentByEmail(ctx context.Context, email string) (*switchboard.Agent, error)
	CreateSession(ctx context.Context, s *switchboard.Session) error
	SessionAgent(ctx context.Context, id string) (*switchboard.Session, *switchboard.Agent, error)
	TouchSession(ctx context.Context, id string, expiresAt time.Time) error
	DeleteSession(ctx context.Context, id string) error
	TokenAgent(ctx context.Context, hash string) (*switchboard.APIToken, *switchboard.Agent, error)
}

// SessionCookie is the name of the session cookie.
const SessionCookie = "switchboard_session"

// tokenPrefix starts every API token, so leaked tokens are recognisable (and greppable).
const tokenPrefix = "sbt_"

// touchEvery limits how often a session's expiry is slid forward (one write per interval, not per
// request).
const touchEvery = 5 * time.Minute

// principal is who is making a request.
type principal struct {
	Agent     *switchboard.Agent
	Session   *switchboard.Session // nil for bearer tokens
	TokenHash string               // the bearer token's hash; "" for sessions
}

const principalKey = "switchboard.principal"

func currentPrincipal(c echo.Context) *principal {
	p, _ := c.Get(principalKey).(*principal)
	return p
}

// currentAgent returns the signed-in agent; routes behind requireAuth always have one.
func currentAgent(c echo.Context) *switchboard.Agent { return currentPrincipal(c).Agent }

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// login checks the credentials and opens a session. Wrong email and wrong password fail the same way,
// in the same time.
func (s *Server) login(ctx context.Context, email, password, userAgent, ip string) (*switchboard.Agent, *switchboard.Session, string, error) {
	fail := switchboard.Errorf(switchboard.EUNAUTHORIZED, "Invalid email or password.")
	agent, err := s.store.AgentByEmail(ctx, email)
	if err != nil && !switchboard.IsCode(err, switchboard.ENOTFOUND) {
		return nil, nil, "", err
	}
	hash := dummyHash
	if agent != nil {
		hash = agent.PasswordHash
	}
	ok, err := CheckPassword(hash, password)
	if err != nil {
		return nil, nil, "", err
	}
	if agent == nil || !ok || agent.Disabled {
		return nil, nil, "", fail
	}
	cookie := randomToken(32)
	now := s.clock.Now()
	sess := &switchboard.Session{ID: sha256Hex(cookie), AgentID: agent.ID, CSRFToken: randomToken(24),
		UserAgent: userAgent, IP: ip, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, nil, "", err
	}
	return agent, sess, cookie, nil
}

func (s *Server) setSessionCookie(c echo.Context, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode})
}

// authenticate resolves the request's credentials: a bearer API token, else the session cookie.
func (s *Server) authenticate(c echo.Context) (*principal, error) {
	ctx := c.Request().Context()
	if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
		raw, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || !strings.HasPrefix(raw, tokenPrefix) {
			return nil, switchboard.Errorf(switchboard.EUNAUTHORIZED, "Use Authorization: Bearer <API token>.")
		}
		hash := sha256Hex(strings.TrimSpace(raw))
		_, agent, err := s.store.TokenAgent(ctx, hash)
		if err != nil {
			return nil, err
		}
		return &principal{Agent: agent, TokenHash: hash}, nil
	}
	ck, err := c.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, switchboard.Errorf(switchboard.EUNAUTHORIZED, "Sign in to continue.")
	}
	sess, agent, err := s.store.SessionAgent(ctx, sha256Hex(ck.Value))
	if err != nil {
		if switchboard.IsCode(err, switchboard.EUNAUTHORIZED) {
			s.setSessionCookie(c, "", -1)
		}
		return nil, err
	}
	if now := s.clock.Now(); now.Sub(sess.LastSeenAt) > touchEvery {
		if err := s.store.TouchSession(ctx, sess.ID, now.Add(s.cfg.SessionTTL)); err != nil {
			s.log.Warn("touch session", "err", err)
		} else {
			s.setSessionCookie(c, ck.Value, int(s.cfg.SessionTTL.Seconds()))
		}
	}
	return &principal{Agent: agent, Session: sess}, nil
}

// requireAuth lets only signed-in agents through. Cookie-authenticated writes must carry the session's
// CSRF token in X-CSRF-Token; bearer tokens need none (browsers never send them on their own).
func (s *Server) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.authenticate(c)
		if err != nil {
			return err
		}
		if p.Session != nil && !safeMethod(c.Request().Method) {
			got := c.Request().Header.Get("X-CSRF-Token")
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.Session.CSRFToken)) != 1 {
				return switchboard.Errorf(switchboard.EFORBIDDEN, "Missing or wrong X-CSRF-Token header; reload the page.")
			}
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// requireAdmin lets only admins through; it runs after requireAuth.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentAgent(c).Role != switchboard.RoleAdmin {
			return switchboard.Errorf(switchboard.EFORBIDDEN, "Only admins can do this.")
		}
		return next(c)
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
