// Package config loads Switchboard's configuration from the environment (and a few command-line flags),
// fills in the embedded-mode defaults, and reports every problem at once.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is everything Switchboard reads from its environment. Defaults are the embedded mode: SQLite in
// the data directory, the sandbox on, listening on :8080.
type Config struct {
	Addr            string        `env:"SWITCHBOARD_ADDR" envDefault:":8080"`
	PublicURL       string        `env:"SWITCHBOARD_PUBLIC_URL" envDefault:"http://localhost:8080"`
	DataDir         string        `env:"SWITCHBOARD_DATA_DIR" envDefault:"./data"`
	DatabaseURL     string        `env:"DATABASE_URL"`
	SecretKey       string        `env:"SWITCHBOARD_SECRET_KEY"`
	AdminEmail      string        `env:"SWITCHBOARD_ADMIN_EMAIL"`
	AdminPassword   string        `env:"SWITCHBOARD_ADMIN_PASSWORD"`
	GraphAPIURL     string        `env:"SWITCHBOARD_GRAPH_API_URL" envDefault:"https://graph.facebook.com"`
	GraphAPIVersion string        `env:"SWITCHBOARD_GRAPH_API_VERSION" envDefault:"v25.0"`
	OpenAIBaseURL   string        `env:"SWITCHBOARD_OPENAI_BASE_URL" envDefault:"https://api.openai.com/v1"`
	OpenAIAPIKey    string        `env:"SWITCHBOARD_OPENAI_API_KEY"`
	Sandbox         string        `env:"SWITCHBOARD_SANDBOX"` // "true"/"false"; empty: on in embedded mode only
	LogLevel        string        `env:"SWITCHBOARD_LOG_LEVEL" envDefault:"info"`
	LogFormat       string        `env:"SWITCHBOARD_LOG_FORMAT" envDefault:"json"`
	Workers         int           `env:"SWITCHBOARD_WORKERS" envDefault:"8"`
	SendRate        float64       `env:"SWITCHBOARD_SEND_RATE" envDefault:"80"`
	SessionTTL      time.Duration `env:"SWITCHBOARD_SESSION_TTL" envDefault:"336h"`
	ShutdownTimeout time.Duration `env:"SWITCHBOARD_SHUTDOWN_TIMEOUT" envDefault:"30s"`
	JobLease        time.Duration `env:"SWITCHBOARD_JOB_LEASE" envDefault:"1m"`
	MaxDBConns      int           `env:"SWITCHBOARD_DB_MAX_CONNS" envDefault:"40"`
	// IngestQueues is how many transactions store webhooks at once (group commit); 0 picks by database.
	IngestQueues int `env:"SWITCHBOARD_INGEST_QUEUES"`
	// DebugAddr, when set, serves Go's profiler (net/http/pprof) on a loopback address for operators.
	DebugAddr string `env:"SWITCHBOARD_DEBUG_ADDR"`
	// TrustedProxies lists the reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For
	// header names the client. Unset, the client is the connection's peer and the header is ignored:
	// otherwise anyone could name a new address per request and escape the sign-in limit.
	TrustedProxies string `env:"SWITCHBOARD_TRUSTED_PROXIES"`
	// MetricsToken, when set, must come as "Authorization: Bearer <token>" to read /metrics; unset,
	// the metrics are public (keep them behind the network's edge then).
	MetricsToken string `env:"SWITCHBOARD_METRICS_TOKEN"`
}

// Load reads the configuration from getenv, then from flags in args (which override the environment),
// and validates it. Every problem is reported in one joined error.
func Load(getenv func(string) string, args []string) (*Config, error) {
	var cfg Config
	params, err := env.GetFieldParams(&cfg)
	if err != nil {
		return nil, err
	}
	environ := map[string]string{}
	for _, p := range params {
		if v := getenv(p.Key); v != "" {
			environ[p.Key] = v
		}
	}
	var problems []error
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: environ}); err != nil {
		var agg env.AggregateError
		if errors.As(err, &agg) {
			problems = append(problems, agg.Errors...)
		} else {
			problems = append(problems, err)
		}
	}
	fs := flag.NewFlagSet("switchboard", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	fs.StringVar(&cfg.PublicURL, "public-url", cfg.PublicURL, "public URL")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL (empty: SQLite)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.StringVar(&cfg.Sandbox, "sandbox", cfg.Sandbox, "true or false")
	if err := fs.Parse(args); err != nil {
		problems = append(problems, fmt.Errorf("flags: %w", err))
	}
	if err := cfg.Validate(); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return &cfg, nil
}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("SWITCHBOARD_ADDR %q: want host:port, e.g. :8080", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("SWITCHBOARD_ADDR %q: port %q is not a number from 0 to 65535", c.Addr, port)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("SWITCHBOARD_PUBLIC_URL %q: want an absolute http(s) URL such as https://support.example.com", c.PublicURL)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("SWITCHBOARD_DATA_DIR must not be empty")
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil {
			bad("DATABASE_URL is not a valid URL: %v", redactURLError(err))
		} else if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			bad("DATABASE_URL: scheme %q is not supported; use postgres://user:pass@host:5432/db", u.Scheme)
		} else if u.Host == "" {
			bad("DATABASE_URL: a host is required")
		}
	}
	if c.SecretKey != "" {
		if _, err := DecodeKey(c.SecretKey); err != nil {
			bad("SWITCHBOARD_SECRET_KEY: %v", err)
		}
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		bad("SWITCHBOARD_ADMIN_EMAIL and SWITCHBOARD_ADMIN_PASSWORD must be set together")
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 10 {
		bad("SWITCHBOARD_ADMIN_PASSWORD must be at least 10 characters")
	}
	if u, err := url.Parse(c.GraphAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("SWITCHBOARD_GRAPH_API_URL %q: want an absolute http(s) URL", c.GraphAPIURL)
	}
	if !strings.HasPrefix(c.GraphAPIVersion, "v") {
		bad("SWITCHBOARD_GRAPH_API_VERSION %q: want a version such as v25.0", c.GraphAPIVersion)
	}
	if c.OpenAIBaseURL != "" {
		if u, err := url.Parse(c.OpenAIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("SWITCHBOARD_OPENAI_BASE_URL %q: want an absolute http(s) URL", c.OpenAIBaseURL)
		}
	}
	switch c.Sandbox {
	case "", "true", "false", "1", "0":
	default:
		bad("SWITCHBOARD_SANDBOX %q: want true or false", c.Sandbox)
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		bad("SWITCHBOARD_LOG_LEVEL %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("SWITCHBOARD_LOG_FORMAT %q: want json or text", c.LogFormat)
	}
	if c.Workers < 1 || c.Workers > 256 {
		bad("SWITCHBOARD_WORKERS %d: want 1 to 256", c.Workers)
	}
	if c.SendRate <= 0 || c.SendRate > 10000 {
		bad("SWITCHBOARD_SEND_RATE %v: want messages per second per number, above 0", c.SendRate)
	}
	if c.SessionTTL < time.Minute {
		bad("SWITCHBOARD_SESSION_TTL %v: want at least 1m", c.SessionTTL)
	}
	if c.JobLease < time.Second {
		bad("SWITCHBOARD_JOB_LEASE %v: want at least 1s", c.JobLease)
	}
	if c.ShutdownTimeout <= 0 {
		bad("SWITCHBOARD_SHUTDOWN_TIMEOUT %v: want a positive duration", c.ShutdownTimeout)
	}
	if c.MaxDBConns < 1 {
		bad("SWITCHBOARD_DB_MAX_CONNS %d: want at least 1", c.MaxDBConns)
	}
	if c.IngestQueues < 0 || c.IngestQueues > 64 {
		bad("SWITCHBOARD_INGEST_QUEUES %d: want 1 to 64 (or 0 for the default)", c.IngestQueues)
	}
	if c.DebugAddr != "" {
		host, _, err := net.SplitHostPort(c.DebugAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			bad("SWITCHBOARD_DEBUG_ADDR %q: want a loopback host:port such as 127.0.0.1:6060 (the profiler must not be public)", c.DebugAddr)
		}
	}
	if _, err := c.TrustedProxyNets(); err != nil {
		bad("SWITCHBOARD_TRUSTED_PROXIES %q: %v", c.TrustedProxies, err)
	}
	return errors.Join(errs...)
}

// TrustedProxyNets parses TrustedProxies: each comma-separated entry is an IP address or a CIDR range.
func (c *Config) TrustedProxyNets() ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, entry := range strings.Split(c.TrustedProxies, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if !strings.Contains(entry, "/") {
			ip := net.ParseIP(entry)
			if ip == nil {
				return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range such as 10.0.0.0/8", entry)
			}
			bits := 8 * net.IPv6len
			if ip.To4() != nil {
				ip, bits = ip.To4(), 8*net.IPv4len
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(entry)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range such as 10.0.0.0/8", entry)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// redactURLError drops the URL (which may hold a password) from a url.Parse error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Embedded reports whether Switchboard runs on its embedded SQLite database.
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

// SandboxEnabled reports whether the sandbox (fake Graph API and customer phone) is mounted: on by
// default in embedded mode, off by default with PostgreSQL.
func (c *Config) SandboxEnabled() bool {
	switch c.Sandbox {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	return c.Embedded()
}

// SQLitePath is the database file used in embedded mode.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "switchboard.db") }

// SecureCookies reports whether cookies get the Secure flag (the public URL is https).
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.PublicURL, "https://") }

// ParseLevel turns a level name into a slog.Level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// LogValue renders the configuration for logs with every secret redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("public_url", c.PublicURL),
		slog.String("data_dir", c.DataDir),
		slog.String("database", RedactDatabaseURL(c.DatabaseURL)),
		slog.Bool("secret_key_set", c.SecretKey != ""),
		slog.String("admin_email", c.AdminEmail),
		slog.Bool("admin_password_set", c.AdminPassword != ""),
		slog.String("graph_api_url", c.GraphAPIURL),
		slog.String("graph_api_version", c.GraphAPIVersion),
		slog.String("openai_base_url", c.OpenAIBaseURL),
		slog.Bool("openai_api_key_set", c.OpenAIAPIKey != ""),
		slog.Bool("sandbox", c.SandboxEnabled()),
		slog.String("log_level", c.LogLevel),
		slog.Int("workers", c.Workers),
		slog.Float64("send_rate", c.SendRate),
		slog.Int("ingest_queues", c.IngestQueues),
		slog.String("debug_addr", c.DebugAddr),
		slog.String("trusted_proxies", c.TrustedProxies),
		slog.Bool("metrics_token_set", c.MetricsToken != ""),
	)
}

// RedactDatabaseURL hides the password of a database URL; empty means the embedded SQLite database.
func RedactDatabaseURL(s string) string {
	if s == "" {
		return "sqlite (embedded)"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
