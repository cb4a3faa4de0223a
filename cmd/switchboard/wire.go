package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/agents"
	"switchboard/automation"
	"switchboard/config"
	"switchboard/pipeline"
	"switchboard/realtime"
	"switchboard/routing"
	"switchboard/server"
	"switchboard/store"
	"switchboard/web"
	"switchboard/whatsapp"
	"switchboard/whatsapp/graphtest"
)

// app is the wired program: the HTTP handler and the background loops to run beside it.
type app struct {
	server     *server.Server
	background []func(ctx context.Context)
	closers    []func()
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// wire builds every concrete part of Switchboard and hands them to each other. It is the only place
// that knows them all.
func wire(ctx context.Context, cfg *config.Config, st *store.Store, clock switchboard.Clock, log *slog.Logger, metrics *server.Metrics) (*app, error) {
	a := &app{}
	host, _ := os.Hostname()
	// Unique per run: replicas may share a host name and a pid (containers each running as pid 1), and
	// two instances sharing one would overwrite each other's presence.
	instance := host + ":" + strconv.Itoa(os.Getpid()) + ":" + randomSuffix()

	// Events: the log in the database, fanned out in-process and, with PostgreSQL, across replicas.
	var bridge realtime.Bridge
	if cfg.DatabaseURL != "" {
		bridge = realtime.NewPostgresBridge(realtime.PostgresOptions{URL: cfg.DatabaseURL, DB: st.SQL(), Logger: log.With("component", "realtime")})
	}
	broker, err := realtime.New(ctx, realtime.Options{Log: st, Bridge: bridge, Logger: log.With("component", "realtime")})
	if err != nil {
		return nil, fmt.Errorf("realtime: %w", err)
	}

	// Meta's Graph API, and the sandbox's fake of it (reached in-process; srv is set below).
	graph := &pipeline.Graph{Meta: whatsapp.NewClient(whatsapp.ClientOptions{BaseURL: cfg.GraphAPIURL, Version: cfg.GraphAPIVersion})}
	var srv *server.Server
	var sandbox *graphtest.Server
	if cfg.SandboxEnabled() {
		loopback := &http.Client{Transport: server.HandlerTransport(func() http.Handler { return srv }), Timeout: 30 * time.Second}
		sandbox = graphtest.New(graphtest.Options{BaseURL: strings.TrimRight(cfg.PublicURL, "/") + server.SandboxGraphPath,
			HTTPClient: loopback, StatusDelay: 400 * time.Millisecond, Logger: log.With("component", "sandbox"),
			Keep: 1000}) // what it records of sends only serves inspection; the phone reads the database
		a.closers = append(a.closers, sandbox.Close)
		graph.Sandbox = whatsapp.NewClient(whatsapp.ClientOptions{BaseURL: "http://sandbox.internal" + server.SandboxGraphPath,
			Version: cfg.GraphAPIVersion, HTTPClient: loopback})
	}

	// Assignment, with presence shared between replicas through the database.
	local := routing.NewPresenceSet(clock, routing.DefaultGrace)
	presence := routing.NewSharedPresence(routing.SharedPresenceOptions{Local: local, Store: st, Instance: instance, Logger: log, Publisher: broker})
	router := routing.New(routing.Deps{Store: st, Presence: presence, AIAgents: st, Publisher: broker, Clock: clock,
		Logger: log.With("component", "routing")})

	media := pipeline.NewMedia(pipeline.MediaOptions{Store: st, Graph: graph, Dir: filepath.Join(cfg.DataDir, "media"), Publisher: broker, Logger: log})
	outbound := pipeline.NewOutbound(pipeline.OutboundOptions{Store: st, Clock: clock, Publisher: broker, Logger: log})
	sender := pipeline.NewSender(pipeline.SenderOptions{Store: st, Graph: graph, Media: media, Clock: clock, Publisher: broker,
		Logger: log, Rate: cfg.SendRate})
	templates := pipeline.NewTemplates(st, graph, log)
	workspace := pipeline.NewWorkspace(pipeline.WorkspaceOptions{Store: st, Router: router, Presence: local, Graph: graph,
		Publisher: broker, Logger: log})
	auto := automation.New(automation.Options{Store: st, Publisher: broker, Clock: clock, Logger: log.With("component", "automation")})
	ai, err := agents.New(agents.Options{Store: st, Handoff: router, Typing: workspace, Publisher: broker,
		HTTPClient: &http.Client{}, DefaultBaseURL: cfg.OpenAIBaseURL, DefaultAPIKey: cfg.OpenAIAPIKey, Clock: clock,
		Logger: log.With("component", "agents")})
	if err != nil {
		return nil, err
	}
	processor := pipeline.NewProcessor(pipeline.ProcessorOptions{Store: st, Automations: auto, Router: router, AI: ai, Logger: log})
	// Webhooks are stored in groups (group commit): PostgreSQL runs several groups' transactions at
	// once; SQLite has one writer, so one queue makes the largest groups.
	commitQueues := cfg.IngestQueues
	switch {
	case commitQueues > 0:
	case cfg.DatabaseURL != "":
		commitQueues = 2
	default:
		commitQueues = 1
	}
	inbound := pipeline.NewInbound(pipeline.InboundOptions{Store: st, Publisher: broker, NeedsWork: processor.NeedsWork,
		CommitQueues: commitQueues, Logger: log})

	hub := server.NewHub(server.HubOptions{Store: st, Broker: broker, Messenger: outbound, Typing: workspace, Reads: workspace,
		Presence: workspace, Logger: log.With("component", "websocket")})
	metrics.Register(hub.Collectors()...)
	metrics.Register(inbound.Collectors()...)
	srv = server.New(server.Options{Config: cfg, Store: st, Clock: clock, Logger: log, Metrics: metrics,
		Inbound: inbound, Outbound: outbound, Templates: templates, Media: media, Workspace: workspace, Hub: hub,
		Sandbox: sandbox, Presence: presence, Web: web.Handler()})
	if err := srv.RestoreSandbox(ctx); err != nil {
		return nil, err
	}
	a.server = srv

	runner := pipeline.NewRunner(pipeline.RunnerOptions{
		Store: st, Name: instance, Workers: cfg.Workers, Lease: cfg.JobLease, Clock: clock, Logger: log, Metrics: metrics,
		Handlers: map[string]pipeline.Handler{
			switchboard.InboundJobKind:    processor.Handle,
			switchboard.SendJobKind:       sender.Handle,
			switchboard.MediaJobKind:      media.Fetch,
			switchboard.CSATSendJobKind:   auto.SendSurveyJob,
			switchboard.CSATExpireJobKind: auto.ExpireSurveyJob,
			pipeline.ReadJobKind:          workspace.HandleRead,
		},
		// A job whose worker stopped on its last attempt ends visibly: the reply failed, the
		// attachment unavailable.
		Buried: map[string]pipeline.Handler{
			switchboard.SendJobKind:  sender.Buried,
			switchboard.MediaJobKind: media.Buried,
		},
	})
	a.background = append(a.background,
		func(ctx context.Context) { runner.Run(ctx) },
		func(ctx context.Context) { broker.Run(ctx) },
		func(ctx context.Context) { hub.Run(ctx) },
		func(ctx context.Context) {
			if err := presence.Run(ctx); err != nil && ctx.Err() == nil {
				log.Warn("presence", "err", err)
			}
		},
		func(ctx context.Context) { templates.Run(ctx, 6*time.Hour) },
	)
	return a, nil
}

// randomSuffix returns 6 random hex digits.
func randomSuffix() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}
