package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"sync"
	"time"

	"switchboard"
	"switchboard/config"
	"switchboard/server"
	"switchboard/store"
)

// newLogger builds the process logger from the configuration.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	level, _ := config.ParseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openStore opens the configured database with the secret key.
func openStore(ctx context.Context, cfg *config.Config, clock switchboard.Clock, log *slog.Logger) (*store.Store, error) {
	key, err := cfg.SecretKeyBytes()
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, SQLitePath: cfg.SQLitePath(), Key: key,
		Clock: clock, Logger: log, MaxConns: cfg.MaxDBConns})
}

// serve runs the server until ctx is cancelled (SIGTERM), then shuts down in order: stop accepting,
// let requests finish, let running jobs finish, close the database.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(getenv, args)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(cfg, stderr)
	log.Info("starting switchboard", "version", version, "config", cfg)
	// The live heap is small (tens of megabytes, most of it the websockets' buffers) and the webhook
	// path allocates fast: at Go's default of 100 % the collector took 16 % of the CPU under load.
	// At 200 % a message costs ~7 % less CPU, for ~25 MB more with 5,000 agents connected (see
	// docs/performance.md). GOGC still overrides.
	if getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	clock := switchboard.SystemClock{}

	st, err := openStore(ctx, cfg, clock, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := ensureFirstAdmin(ctx, cfg, st, log); err != nil {
		return err
	}

	metrics := server.NewMetrics()
	a, err := wire(ctx, cfg, st, clock, log, metrics)
	if err != nil {
		return err
	}
	defer a.close()
	srv := a.server
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	httpServer := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "switchboard listening on %s (public URL %s)\n", url, cfg.PublicURL)
	log.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)

	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, work := range append(a.background, func(ctx context.Context) { housekeeping(ctx, st, log) }) {
		wg.Add(1)
		go func() { defer wg.Done(); work(workCtx) }()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(ln) }()
	select {
	case err := <-serveErr:
		stopWork()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests and running jobs", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopWork()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-shutdownCtx.Done():
		log.Warn("shutdown timeout: some jobs were still running; their leases will expire and they will run again")
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// eventRetention is how long the event log keeps events for reconnecting agents; older gaps resync.
const eventRetention = 6 * time.Hour

// housekeeping keeps the tables that only grow in bounds: expired sessions, old events, statuses
// parked for messages that never appeared. It runs every ten minutes.
func housekeeping(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		tasks := []struct {
			name string
			run  func(context.Context) (int64, error)
		}{
			{"expired sessions", st.DeleteExpiredSessions},
			{"old events", func(ctx context.Context) (int64, error) { return st.PruneEvents(ctx, time.Now().Add(-eventRetention)) }},
			{"stale parked statuses", st.PruneParkedStatuses},
		}
		for _, task := range tasks {
			if n, err := task.run(ctx); err != nil && ctx.Err() == nil {
				log.Warn("housekeeping", "task", task.name, "err", err)
			} else if n > 0 {
				log.Info("housekeeping", "task", task.name, "removed", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serveDebug serves Go's profiler (CPU, heap, goroutines, mutex and block profiles) on a loopback
// address, for an operator looking into a slow server: go tool pprof http://ADDR/debug/pprof/profile.
func serveDebug(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug listener on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("profiler listening", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}
