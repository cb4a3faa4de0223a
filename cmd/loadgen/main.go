// Command loadgen drives a running Switchboard with realistic, signed WhatsApp webhooks and measures
// it: ingest throughput, acknowledgement latency, and webhook → agent websocket latency.
//
//	loadgen [run] [flags]   a load: a channel on the loadgen's own fake Graph API, agents on
//	                        websockets, customers writing at -rate (0: as fast as possible)
//	loadgen idle [flags]    many idle agent websockets; reports the server's resident memory
//
// The server must call the loadgen's fake Graph API, so start it with
//
//	SWITCHBOARD_GRAPH_API_URL=http://127.0.0.1:9099 switchboard
//	loadgen -url http://127.0.0.1:8080 -graph-listen 127.0.0.1:9099 -admin-email ... -admin-password ...
//
// Webhooks go to the real endpoint (POST /webhooks/whatsapp/:channel_id) signed with the channel's
// app secret, exactly as Meta sends them; replies go out through the real send path to the fake,
// whose accepted sends come back as signed status webhooks. scripts/bench.sh runs it all.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"switchboard/cmd/loadgen/load"
	"switchboard/whatsapp/graphtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// run is the whole program; tests call it with their own arguments, environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	mode := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		mode, args = args[0], args[1:]
	}
	switch mode {
	case "run":
		return runLoad(ctx, args, getenv, stdout, stderr)
	case "idle":
		return runIdle(ctx, args, getenv, stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, "usage: loadgen [run|idle] [flags]; loadgen run -h or loadgen idle -h lists the flags")
		return nil
	}
	return fmt.Errorf("unknown mode %q (use run or idle)", mode)
}

// common are the flags both modes share.
type common struct {
	url, email, password, token, jsonPath, label string
	agents, capacity                             int
	quiet                                        bool
}

func (c *common) register(fs *flag.FlagSet, getenv func(string) string, agents int) {
	fs.StringVar(&c.url, "url", envOr(getenv, "SWITCHBOARD_URL", "http://127.0.0.1:8080"), "base URL of the running Switchboard ($SWITCHBOARD_URL)")
	fs.StringVar(&c.email, "admin-email", getenv("SWITCHBOARD_ADMIN_EMAIL"), "admin email ($SWITCHBOARD_ADMIN_EMAIL)")
	fs.StringVar(&c.password, "admin-password", getenv("SWITCHBOARD_ADMIN_PASSWORD"), "admin password ($SWITCHBOARD_ADMIN_PASSWORD)")
	fs.StringVar(&c.token, "admin-token", getenv("SWITCHBOARD_ADMIN_TOKEN"), "an admin's API token, instead of email and password ($SWITCHBOARD_ADMIN_TOKEN)")
	fs.IntVar(&c.agents, "agents", agents, "agents (N) who join the channel and connect by websocket")
	fs.IntVar(&c.capacity, "capacity", 50, "each agent's capacity of open conversations")
	fs.StringVar(&c.jsonPath, "json", "", "also write the result as JSON to this file (- for standard output)")
	fs.StringVar(&c.label, "label", "", "a label for the report (e.g. postgres, sqlite)")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress lines")
}

func (c *common) check() error {
	if c.token == "" && (c.email == "" || c.password == "") {
		return errors.New("admin credentials are required: -admin-email and -admin-password, or -admin-token")
	}
	return nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func logger(quiet bool, w io.Writer) func(string, ...any) {
	if quiet {
		return func(string, ...any) {}
	}
	return func(format string, args ...any) { fmt.Fprintf(w, "loadgen: "+format+"\n", args...) }
}

func runLoad(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs, getenv, 10)
	graphListen := fs.String("graph-listen", envOr(getenv, "LOADGEN_GRAPH_LISTEN", "127.0.0.1:9099"),
		"address of the loadgen's fake Graph API; the server must run with SWITCHBOARD_GRAPH_API_URL=http://<this>")
	contacts := fs.Int("contacts", 1000, "customers (K) who write")
	concurrency := fs.Int("c", 16, "concurrent senders (C): webhooks in flight at most")
	rate := fs.Float64("rate", 0, "customer webhooks per second; 0 sends as fast as the server answers")
	warmup := fs.Duration("warmup", 0, "load sent before the measured window, not counted")
	settle := fs.Duration("settle", 60*time.Second, "after a warm-up, hold the window back (the load running) up to this long until the server "+
		"has no inbound job queued (the warm-up's new conversations routed); 0: do not wait")
	duration := fs.Duration("duration", 20*time.Second, "measured window")
	drain := fs.Duration("drain", 10*time.Second, "extra time after the window for retries and the last frames")
	mixFlag := fs.String("mix", load.DefaultMix.String(), "payload mix: kind=weight,... over text, media, interactive, reaction, location")
	batch := fs.Int("batch", 1, "customer messages per webhook")
	replyRate := fs.Float64("reply-rate", 10, "agent replies per second in total (their sends come back as status webhooks); 0: none")
	greeting := fs.Bool("greeting", true, "turn on the channel's greeting (an automatic reply to every new conversation)")
	retry := fs.Bool("retry", true, "resend webhooks that did not get a 200, as Meta does")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of one webhook POST")
	seed := fs.Uint64("seed", 1, "seed of the payload generator")
	cpuProfile := fs.String("cpuprofile", "", "write the loadgen's own CPU profile (warm-up, window and drain) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	mix, err := load.ParseMix(*mixFlag)
	if err != nil {
		return err
	}
	logf := logger(c.quiet, stderr)

	fake := graphtest.New(graphtest.Options{})
	defer fake.Close()
	ln, err := net.Listen("tcp", *graphListen)
	if err != nil {
		return fmt.Errorf("fake Graph API on %s: %w", *graphListen, err)
	}
	graphSrv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	go graphSrv.Serve(ln)
	defer graphSrv.Close()
	logf("fake Graph API on http://%s (the server must run with SWITCHBOARD_GRAPH_API_URL=http://%s)", ln.Addr(), ln.Addr())

	env, err := load.Setup(ctx, load.SetupConfig{BaseURL: c.url, AdminEmail: c.email, AdminPassword: c.password, AdminToken: c.token,
		Fake: fake, Agents: c.agents, Capacity: c.capacity, Greeting: *greeting, Logf: logf})
	if err != nil {
		return err
	}
	// The generator shares the machine with the server it measures: collect garbage less often (its
	// heap is a few megabytes) so that more of the CPU goes to the server. GOGC still overrides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	logf("running: %d senders, rate %s, %s warm-up, %s measured (+ %s drain)", *concurrency, rateText(*rate), *warmup, *duration, *drain)
	res, err := load.Run(ctx, env, load.Config{Concurrency: *concurrency, Rate: *rate, Warmup: *warmup, Settle: *settle, Duration: *duration, Drain: *drain,
		Contacts: *contacts, Mix: mix, Batch: *batch, ReplyRate: *replyRate, Retry: *retry, Seed: *seed, Fake: fake,
		Timeout: *timeout, Logf: logf})
	if err != nil {
		return err
	}
	res.Label = c.label
	if err := res.WriteTable(stdout); err != nil {
		return err
	}
	if c.jsonPath != "" {
		return load.WriteJSON(c.jsonPath, res)
	}
	return nil
}

func rateText(r float64) string {
	if r <= 0 {
		return "max"
	}
	return fmt.Sprintf("%.0f/s", r)
}

func runIdle(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen idle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs, getenv, 250)
	conns := fs.Int("conns", 5000, "idle websockets to open, spread over the agents")
	hold := fs.Duration("hold", 30*time.Second, "how long to hold them once all are up")
	settle := fs.Duration("settle", 5*time.Second, "wait before the memory reading once all are up")
	pid := fs.Int("pid", 0, "the server's process id, to also read its RSS from /proc (same machine)")
	save := fs.String("save-agents", "", "create the agents, write them (with their tokens) to this file, and stop")
	agentsFile := fs.String("agents-file", "", "use the agents of a -save-agents file instead of creating them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *agentsFile == "" {
		if err := c.check(); err != nil {
			return err
		}
	}
	logf := logger(c.quiet, stderr)
	res, err := load.Idle(ctx, load.IdleConfig{Setup: load.SetupConfig{BaseURL: c.url, AdminEmail: c.email, AdminPassword: c.password,
		AdminToken: c.token, Agents: c.agents, Capacity: c.capacity, Logf: logf}, Conns: *conns, Hold: *hold, Settle: *settle,
		PID: *pid, SaveAgents: *save, AgentsFile: *agentsFile, Logf: logf})
	if err != nil || *save != "" {
		return err
	}
	res.Label = c.label
	if err := res.WriteTable(stdout); err != nil {
		return err
	}
	if c.jsonPath != "" {
		return load.WriteJSON(c.jsonPath, res)
	}
	return nil
}
