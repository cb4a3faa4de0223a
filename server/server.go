// Package server is Switchboard's HTTP surface (Echo): routes.go lists every route with its auth
// wrapper; handlers bind and validate, make one call into the domain, and encode. Errors leave through
// the one error handler in errors.go.
package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"switchboard"
	"switchboard/config"
	"switchboard/pipeline"
	"switchboard/whatsapp/graphtest"
)

// Store is everything the server reads and writes; each handler file declares the part it uses.
type Store interface {
	AuthStore
	AgentStore
	ChannelStore
	ConversationStore
	MessageStore
	TemplateListStore
	RoutingStore
	AIAgentStore
	ReportStore
	ListDeadLetters(ctx context.Context, limit int) ([]switchboard.DeadLetter, error)
	TeamStore
	TokenStore
	JobAdminStore
	Ready(ctx context.Context) error
}

// Presence tells whether an agent is online: connected to some replica (routing.SharedPresence).
type Presence interface {
	Online(agentID int64) bool
}

// Options are the server's dependencies, wired in cmd/switchboard.
type Options struct {
	Config  *config.Config
	Store   Store
	Clock   switchboard.Clock
	Logger  *slog.Logger
	Metrics *Metrics
	// Inbound stores Meta's webhooks; Outbound sends the business's messages.
	Inbound   *pipeline.Inbound
	Outbound  *pipeline.Outbound
	Templates *pipeline.Templates
	Media     *pipeline.Media
	// Workspace carries out agents' actions (resolve, reopen, read, assign).
	Workspace *pipeline.Workspace
	// Hub serves the agents' websockets (GET /api/v1/ws); nil answers 503.
	Hub *Hub
	// Presence tells which agents are online (a live connection on any replica); nil: nobody is.
	Presence Presence
	// Sandbox is the fake Graph API mounted at /sandbox/graph; nil when the sandbox is off.
	Sandbox *graphtest.Server
	// Web serves the browser app for every GET the API does not own.
	Web http.Handler
}

// Server is the HTTP server's handler and its dependencies.
type Server struct {
	cfg       *config.Config
	store     Store
	clock     switchboard.Clock
	log       *slog.Logger
	metrics   *Metrics
	inbound   *pipeline.Inbound
	outbound  *pipeline.Outbound
	templates *pipeline.Templates
	media     *pipeline.Media
	presence  Presence
	sandbox   *graphtest.Server
	workspace *pipeline.Workspace
	hub       *Hub
	web       http.Handler
	echo      *echo.Echo

	loginByIP    *limiter
	loginByEmail *limiter
}

// maxAPIBody bounds JSON request bodies of the API.
const maxAPIBody = "1M"

// New builds the server and its routes.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = switchboard.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	s := &Server{
		cfg: opts.Config, store: opts.Store, clock: opts.Clock, log: opts.Logger, metrics: opts.Metrics, inbound: opts.Inbound, outbound: opts.Outbound,
		templates: opts.Templates, media: opts.Media, presence: opts.Presence, sandbox: opts.Sandbox, workspace: opts.Workspace, hub: opts.Hub, web: opts.Web,
		// Failed sign-ins: a burst of 20 per address, then one every 6 s; 8 per account, then one every 30 s.
		loginByIP:    newLimiter(6*time.Second, 20),
		loginByEmail: newLimiter(30*time.Second, 8),
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.IPExtractor = clientIP(opts.Config)
	e.Pre(dropUnsafeRequestID)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		Generator: func() string { return randomToken(12) },
	}))
	e.Use(s.accessLog)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableErrorHandler: false,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "err", err, "request_id", requestID(c), "stack", string(stack))
			return err
		},
	}))
	e.Use(securityHeaders)
	s.echo = e
	s.routes()
	return s
}

// dropUnsafeRequestID keeps a caller's X-Request-Id (a proxy's, to follow a request across services)
// only when it is a plain token of at most 64 characters; anything else is replaced by our own id, so
// the logs and error messages never carry arbitrary client text.
func dropUnsafeRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" && !plainRequestID(id) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

func plainRequestID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// clientIP says where a request comes from (the sign-in limit and the logs): the connection's peer,
// unless it is one of the configured trusted proxies, whose X-Forwarded-For then names the client (the
// nearest address that is not itself a trusted proxy). A forwarded header from anyone else is ignored.
func clientIP(cfg *config.Config) echo.IPExtractor {
	var nets []*net.IPNet
	if cfg != nil {
		nets, _ = cfg.TrustedProxyNets() // validated when the configuration was loaded
	}
	if len(nets) == 0 {
		return echo.ExtractIPDirect()
	}
	trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range nets {
		trust = append(trust, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(trust...)
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

func requestID(c echo.Context) string { return c.Response().Header().Get(echo.HeaderXRequestID) }

// accessLog writes one structured line per request. Query strings are left out on purpose: Meta's
// verification handshake carries the verify token there.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req, res := c.Request(), c.Response()
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		} else if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" || req.URL.Path == "/metrics" {
			level = slog.LevelDebug
		}
		s.log.LogAttrs(req.Context(), level, "http",
			slog.String("request_id", requestID(c)),
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Duration("elapsed", time.Since(start)),
			slog.String("ip", c.RealIP()),
		)
		s.metrics.httpRequests.WithLabelValues(req.Method, routeLabel(c), statusClass(res.Status)).Inc()
		return nil
	}
}

func routeLabel(c echo.Context) string {
	if p := c.Path(); p != "" && p != "/*" {
		return p
	}
	return "other"
}

func statusClass(code int) string {
	return string(rune('0'+code/100)) + "xx"
}

// securityHeaders sets conservative browser protections on every response.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; frame-ancestors 'none'")
		return next(c)
	}
}

// bind decodes the JSON body into v; a malformed body is a 400 with a clear message.
func bind(c echo.Context, v any) error {
	if err := (&echo.DefaultBinder{}).BindBody(c, v); err != nil {
		if he, ok := err.(*echo.HTTPError); ok {
			if he.Code == http.StatusRequestEntityTooLarge {
				return he
			}
			if m, ok := he.Message.(string); ok {
				return invalid("The request body is not valid JSON: " + m)
			}
		}
		return invalid("The request body is not valid JSON.")
	}
	return nil
}
