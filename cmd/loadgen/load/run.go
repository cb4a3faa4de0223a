// Package load generates realistic, signed WhatsApp webhook load against a running Switchboard and
// measures what comes back: ingest throughput, acknowledgement latency, and the time until each
// customer message shows on every connected agent's websocket.
//
//	Setup: admin API ─▶ channel on a graphtest number, N agents (members) with API tokens
//	Run:   C senders ──signed POST /webhooks/whatsapp/:id──▶ server ──200──▶ ack latency
//	                                                           │ commit → events
//	       N agent websockets ◀──message.created (by wamid)────┘ webhook→screen latency
//	       agents reply ─▶ server ─▶ fake Graph API ─▶ Sent() ─▶ status webhooks (sent/delivered/read)
//
// A webhook that is not answered 200 is retried with backoff, as Meta does, so a run through server
// restarts still ends with every message acknowledged, and the acknowledged wamids can be checked
// against the database (the fault suite does).
package load

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"switchboard/whatsapp/graphtest"
)

// Config is one load run against an Env.
type Config struct {
	// Concurrency is how many webhooks are in flight at most (C senders).
	Concurrency int
	// Rate is the target of customer webhooks per second; 0 sends as fast as the server answers.
	Rate float64
	// Warmup is sent before the measured window and not counted (new conversations, cold caches);
	// Duration is the measured window; Drain is the extra time for retries and frames to finish.
	Warmup   time.Duration
	Duration time.Duration
	Drain    time.Duration
	// Settle, after a warm-up, holds the window back (up to this long, the load still running)
	// until the server has no inbound job queued: the warm-up's new conversations routed, so that
	// the window measures the steady state and not the end of a routing backlog. 0 does not wait.
	Settle time.Duration
	// Contacts is how many customers write (K); Mix and Batch shape their webhooks.
	Contacts int
	Mix      Mix
	Batch    int
	// ReplyRate is how many agent replies per second (in total) go out while the load runs; each
	// reply is sent by Switchboard to the fake, whose sends come back as status webhooks.
	ReplyRate float64
	// Retry resends webhooks that did not get a 200 (as Meta does) until the drain ends.
	Retry bool
	// RecordAcked keeps every acknowledged and every never-acknowledged tracked wamid in the result.
	RecordAcked bool
	// Seed makes the generated payloads reproducible.
	Seed uint64
	// Fake is the Graph API the server sends to; its sends become status webhooks. Nil: no statuses.
	Fake *graphtest.Server
	// Timeout bounds one webhook POST.
	Timeout time.Duration
	Logf    func(format string, args ...any)
}

// runner is the state of one run.
type runner struct {
	cfg   Config
	env   *Env
	track *tracker
	http  *http.Client

	retry    chan *Webhook
	statuses chan *Webhook
	pending  atomic.Int64 // webhooks waiting for their retry time
	outbound *Ring

	waitMu  sync.Mutex
	waiting map[*Webhook]bool // the webhooks counted in pending, given up if the drain ends first

	// The measured window (UnixNano; not open yet: the largest int64): acknowledgements and frames
	// count when their attempt started in it.
	windowStart, mainEnd atomic.Int64
	settled              time.Duration // how long the window waited for the warm-up's routing
	settledOK            bool          // and whether that routing was done when it opened

	attempts, acked, messages, statusAcks, unacked atomic.Int64
	ackedIn                                        atomic.Int64 // acknowledged within the window
	messagesIn                                     atomic.Int64
	ack                                            Recorder
	errors                                         Counter
	kinds                                          Counter
	dropped                                        atomic.Int64

	idsMu      sync.Mutex
	ackedIDs   []string
	unackedIDs []string
}

// Run plays the load on env and returns the measurements. Agents are connected first; the run
// fails if none can connect.
func Run(ctx context.Context, env *Env, cfg Config) (*Result, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 10 * time.Second
	}
	if cfg.Contacts <= 0 {
		cfg.Contacts = 1000
	}
	if cfg.Mix == nil {
		cfg.Mix = DefaultMix
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	r := &runner{cfg: cfg, env: env, track: &tracker{agents: int32(max(len(env.Agents), 1))},
		retry: make(chan *Webhook, 1<<16), statuses: make(chan *Webhook, 1<<14), outbound: NewRing(512), waiting: map[*Webhook]bool{}}
	r.http = &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Concurrency * 2,
		MaxIdleConnsPerHost: cfg.Concurrency * 2,
		IdleConnTimeout:     90 * time.Second,
	}}
	defer r.http.CloseIdleConnections()

	// Agents first: the load is measured with everyone's inbox open.
	agentCtx, stopAgents := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAgents()
	stats := &agentStats{}
	var replyLimiter *rate.Limiter
	if cfg.ReplyRate > 0 {
		replyLimiter = rate.NewLimiter(rate.Limit(cfg.ReplyRate), max(1, int(cfg.ReplyRate)))
	}
	conns, err := connectAgents(ctx, env, r.track, stats, replyLimiter, cfg.Logf)
	if err != nil {
		return nil, err
	}
	var agentsWG sync.WaitGroup
	for _, a := range conns {
		agentsWG.Add(1)
		go func() { defer agentsWG.Done(); a.run(agentCtx) }()
	}

	var media []MediaRef
	if cfg.Fake != nil {
		media = PutSampleMedia(cfg.Fake, "77"+env.Prefix)
		cfg.Fake.SetStatusFlow() // the loadgen posts the statuses itself, through its senders
	}
	contacts := Contacts(cfg.Contacts, "49"+env.Prefix)

	start := time.Now()
	r.windowStart.Store(math.MaxInt64)
	r.mainEnd.Store(math.MaxInt64)
	r.track.from.Store(math.MaxInt64)
	mainCtx, stopMain := context.WithCancel(ctx)
	defer stopMain()
	drainCtx, stopDrain := context.WithCancel(ctx)
	defer stopDrain()
	// The window opens after the warm-up (and the settling); the server's counters are read at both
	// of its ends; then the drain.
	var before, atEnd map[string]float64
	var berr, eerr error
	windowDone := make(chan struct{})
	go func() {
		defer close(windowDone)
		sleepCtx(ctx, cfg.Warmup)
		if cfg.Warmup > 0 && cfg.Settle > 0 {
			r.settled, r.settledOK = settle(ctx, env.API, cfg.Settle, cfg.Logf)
		}
		open := time.Now()
		r.track.from.Store(open.UnixNano())
		r.windowStart.Store(open.UnixNano())
		r.mainEnd.Store(open.Add(cfg.Duration).UnixNano())
		before, berr = env.API.Metrics(ctx)
		sleepCtx(ctx, time.Until(open.Add(cfg.Duration)))
		atEnd, eerr = env.API.Metrics(ctx)
		stopMain()
		sleepCtx(drainCtx, cfg.Drain)
		stopDrain()
	}()

	var tokens chan struct{}
	if cfg.Rate > 0 {
		tokens = make(chan struct{}, cfg.Concurrency)
		go pace(mainCtx, cfg.Rate, tokens)
	}
	var feedWG sync.WaitGroup
	if cfg.Fake != nil {
		feedWG.Add(1)
		go func() { defer feedWG.Done(); r.feedStatuses(drainCtx) }()
	}
	var wg sync.WaitGroup
	for i := range cfg.Concurrency {
		g := NewGenerator(env.Number, contacts, cfg.Mix, media, r.outbound, cfg.Seed+uint64(i)*7919+1)
		g.Batch = cfg.Batch
		wg.Add(1)
		go func() { defer wg.Done(); r.sender(mainCtx, drainCtx, g, tokens) }()
	}
	wg.Wait()
	r.giveUpQueued()
	// Let the last frames arrive (bounded by the drain), then stop the agents.
	for r.track.missing() > 0 && drainCtx.Err() == nil {
		sleepCtx(drainCtx, 50*time.Millisecond)
	}
	stopDrain()
	<-windowDone
	feedWG.Wait()
	stopAgents()
	agentsWG.Wait()

	res := r.result(start)
	res.AgentConnects, res.AgentReconnects, res.AgentResyncs = stats.connects.Load(), stats.reconnects.Load(), stats.resyncs.Load()
	res.AgentDialErrors = stats.dialErrs.Snapshot()
	res.Replies, res.ReplyAcks, res.ReplyErrors = stats.replies.Load(), stats.replyAcks.Load(), stats.replyErrs.Snapshot()
	if cfg.Fake != nil {
		res.GraphSends = len(cfg.Fake.SentTo(env.Number.PhoneNumberID))
	}
	after, aerr := env.API.Metrics(context.WithoutCancel(ctx))
	if berr != nil || eerr != nil || aerr != nil {
		res.Server.MetricsUnreadable = true
	} else {
		res.Server = serverFigures(before, atEnd, after)
		res.StoredPerSec = res.Server.StoredMessages / cfg.Duration.Seconds()
	}
	return res, nil
}

// settle waits, polling, until the server has no inbound job queued, or at most limit; it returns
// how long it waited and whether the queue emptied. A queue it cannot read ends the wait at once.
func settle(ctx context.Context, api *API, limit time.Duration, logf func(string, ...any)) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < limit && ctx.Err() == nil {
		queued, err := api.QueuedJobs(ctx, "inbound")
		if err != nil {
			logf("settle: the job queue cannot be read (%v): the window opens now", err)
			return time.Since(start), false
		}
		if !queued {
			return time.Since(start), true
		}
		sleepCtx(ctx, 250*time.Millisecond)
	}
	logf("settle: inbound jobs still queued after %s: the window opens now", limit)
	return time.Since(start), false
}

// connectAgents opens every agent's websocket, a few at a time.
func connectAgents(ctx context.Context, env *Env, track *tracker, stats *agentStats, replies *rate.Limiter, logf func(string, ...any)) ([]*agentConn, error) {
	conns := make([]*agentConn, len(env.Agents))
	dialer := newDialer()
	errs := make([]error, len(env.Agents))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, cred := range env.Agents {
		conns[i] = &agentConn{index: i, of: len(env.Agents), cred: cred, wsURL: wsURL(env.API.Base()), dialer: dialer, track: track,
			replies: replies, stats: stats, logf: logf}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = conns[i].dial(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, c := range conns {
			if c.conn != nil {
				c.conn.Close()
			}
		}
		return nil, err
	}
	return conns, nil
}

// pace releases tokens at rate per second until ctx ends, in small batches so that high rates do
// not depend on the timer's resolution. Tokens not taken (the server is slower than the target)
// are not banked beyond the channel's capacity.
func pace(ctx context.Context, perSec float64, tokens chan<- struct{}) {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	var released int64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due := int64(now.Sub(start).Seconds() * perSec)
			for released < due {
				select {
				case tokens <- struct{}{}:
					released++
				case <-ctx.Done():
					return
				default:
					released = due // the senders are all busy: these slots are lost, not queued
				}
			}
		}
	}
}
