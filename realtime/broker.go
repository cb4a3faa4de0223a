// Package realtime fans committed events out to this process's subscribers (the websocket hub) in
// sequence order, and carries them between server processes that share one PostgreSQL database.
//
//	store commits ──► Publish(events) ──► sequencer ──► subscribers (hub ──► sockets)
//	                      │                   ▲
//	                      ▼                   │ EventsAfter(head): on a notice, a gap, a reconnect, a poll
//	              NOTIFY (seq numbers) ──► other processes' LISTEN
//
// The events table is the source of truth: Publish and NOTIFY are only fast hints that something was
// committed, and the bodies of other processes' events are always read from the table. Events with
// Seq 0 are ephemeral (typing): delivered at once, carried whole in the NOTIFY payload, never logged.
package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"switchboard"
)

// EventLog reads the event log the store writes in the transaction of each change.
type EventLog interface {
	EventsAfter(ctx context.Context, seq int64, limit int) ([]switchboard.Event, error)
}

// Options configure New.
type Options struct {
	// Log is the event log (the store); required.
	Log EventLog
	// Bridge carries notices between processes; nil for a single process (SQLite).
	Bridge Bridge
	Logger *slog.Logger
	// GapTimeout is how long events wait behind a missing sequence number before it is given up on
	// (default 1 s). A given-up event that commits later is still delivered, out of order.
	GapTimeout time.Duration
	// PollInterval is how often the log is read even without a hint, a safety net for lost hints
	// (default 2 s).
	PollInterval time.Duration
	// LateWindow is how long a given-up sequence number is still delivered if it appears (default 1 min).
	LateWindow time.Duration
}

// Reading the log: rows per query, and queries per catch-up before the loop serves other work.
const (
	readPage    = 500
	maxPages    = 20
	maxInbox    = 100000
	readTimeout = 5 * time.Second
)

// Broker is the process's event bus. Publish may be called from any goroutine; subscribers are called
// from one goroutine, in sequence order, and must not block.
type Broker struct {
	log       EventLog
	bridge    Bridge
	logger    *slog.Logger
	origin    string
	gapRetry  time.Duration
	pollEvery time.Duration
	seq       *sequencer // owned by Run's goroutine

	inMu     sync.Mutex
	inbox    []switchboard.Event
	overflow bool
	outSeqs  []int64
	outEph   []switchboard.Event
	wake     chan struct{}
	wakeOut  chan struct{}
	remote   chan Notice
	resync   chan struct{}

	mu        sync.Mutex
	subs      []*subscription
	delivered int64
}

type subscription struct{ fn func(switchboard.Event) }

// New returns a broker whose watermark is the newest event already in the log: subscribers receive
// what is committed from now on. Sequence numbers missing just below it (transactions still in
// flight) are watched for and delivered if they commit.
func New(ctx context.Context, opts Options) (*Broker, error) {
	if opts.Log == nil {
		return nil, errors.New("realtime: Options.Log is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.GapTimeout <= 0 {
		opts.GapTimeout = time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	if opts.LateWindow <= 0 {
		opts.LateWindow = time.Minute
	}
	id := make([]byte, 8)
	rand.Read(id)
	b := &Broker{log: opts.Log, bridge: opts.Bridge, logger: opts.Logger, origin: hex.EncodeToString(id),
		gapRetry: min(opts.GapTimeout/10, 100*time.Millisecond), pollEvery: opts.PollInterval,
		wake: make(chan struct{}, 1), wakeOut: make(chan struct{}, 1), remote: make(chan Notice, 256),
		resync: make(chan struct{}, 1)}
	head, err := lastSeq(ctx, opts.Log)
	if err != nil {
		return nil, err
	}
	b.seq = newSequencer(head, opts.GapTimeout, opts.LateWindow)
	b.delivered = head
	if err := b.watchInFlight(ctx, head); err != nil {
		return nil, err
	}
	return b, nil
}

// Head returns the sequence number of the newest event delivered in order.
func (b *Broker) Head() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.delivered
}

// Subscribe registers fn for every event delivered from now on and returns the watermark: fn receives
// exactly the events above head (in order, plus rare late ones below it) and ephemeral events. fn is
// called from the broker's goroutine and must not block. After cancel returns, fn may be called at
// most once more.
func (b *Broker) Subscribe(fn func(switchboard.Event)) (head int64, cancel func()) {
	s := &subscription{fn: fn}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs = append(b.subs[:len(b.subs):len(b.subs)], s)
	return b.delivered, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		kept := make([]*subscription, 0, len(b.subs))
		for _, x := range b.subs {
			if x != s {
				kept = append(kept, x)
			}
		}
		b.subs = kept
	}
}

// Publish hands committed events to the broker; call it after the commit. It never blocks on the
// subscribers or the database. Events with Seq 0 are ephemeral and delivered right away.
func (b *Broker) Publish(ctx context.Context, events []switchboard.Event) {
	var eph []switchboard.Event
	b.inMu.Lock()
	for _, ev := range events {
		if ev.Seq <= 0 {
			eph = append(eph, ev)
			continue
		}
		if len(b.inbox) < maxInbox {
			b.inbox = append(b.inbox, ev)
		} else {
			b.overflow = true // the loop reads the log instead
		}
		if b.bridge != nil {
			if len(b.outSeqs) < maxInbox {
				b.outSeqs = append(b.outSeqs, ev.Seq)
			} else {
				b.outSeqs[len(b.outSeqs)-1] = max(b.outSeqs[len(b.outSeqs)-1], ev.Seq)
			}
		}
	}
	if b.bridge != nil {
		b.outEph = append(b.outEph, eph...)
	}
	b.inMu.Unlock()
	poke(b.wake)
	if b.bridge != nil {
		poke(b.wakeOut)
	}
	for _, ev := range eph {
		b.dispatch(ev, false)
	}
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// dispatch hands one event to the subscribers outside any lock; advance moves the watermark.
func (b *Broker) dispatch(ev switchboard.Event, advance bool) {
	b.mu.Lock()
	if advance && ev.Seq > b.delivered {
		b.delivered = ev.Seq
	}
	subs := b.subs
	b.mu.Unlock()
	for _, s := range subs {
		s.fn(ev)
	}
}

// Run orders and delivers events until ctx ends: local publishes, other processes' notices (the log
// is read for their bodies), gaps (re-read until filled or timed out) and a periodic safety poll.
func (b *Broker) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if b.bridge != nil {
		wg.Add(2)
		go func() { defer wg.Done(); b.bridge.Listen(ctx, b.remote, func() { poke(b.resync) }) }()
		go func() { defer wg.Done(); b.notifyLoop(ctx) }()
	}
	poll := time.NewTicker(b.pollEvery)
	defer poll.Stop()
	gap := time.NewTimer(time.Hour)
	gap.Stop()
	gapArmed := false
	var out []delivery
	for {
		out = out[:0]
		select {
		case <-ctx.Done():
			return nil
		case <-b.wake:
			out = b.takeInbox(ctx, out)
		case n := <-b.remote:
			out = b.onNotices(ctx, n, out)
		case <-b.resync:
			out = b.readLog(ctx, out)
		case <-poll.C:
			out = b.readLog(ctx, out)
			out = b.readLate(ctx, out)
			out = b.seq.expire(time.Now(), out)
		case <-gap.C:
			gapArmed = false
			out = b.readLog(ctx, out)
			out = b.seq.expire(time.Now(), out)
		}
		for _, d := range out {
			b.dispatch(d.ev, !d.late)
		}
		if b.seq.hasGap() && !gapArmed {
			gap.Reset(b.gapRetry)
			gapArmed = true
		}
	}
}

// takeInbox moves the local publishes into the sequencer.
func (b *Broker) takeInbox(ctx context.Context, out []delivery) []delivery {
	b.inMu.Lock()
	evs, overflow := b.inbox, b.overflow
	b.inbox, b.overflow = nil, false
	b.inMu.Unlock()
	out = b.seq.add(evs, time.Now(), out)
	if overflow {
		out = b.readLog(ctx, out)
	}
	return out
}

// notifyLoop tells the other processes about local commits, batching what accumulates meanwhile.
func (b *Broker) notifyLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.wakeOut:
		}
		b.inMu.Lock()
		seqs, eph := b.outSeqs, b.outEph
		b.outSeqs, b.outEph = nil, nil
		b.inMu.Unlock()
		if len(seqs) > 0 {
			if err := b.bridge.Notify(ctx, Notice{Origin: b.origin, Seqs: seqs}); err != nil && ctx.Err() == nil {
				b.logger.Warn("realtime: notify failed; other processes catch up by polling", "err", err)
			}
		}
		for i := range eph {
			if err := b.bridge.Notify(ctx, Notice{Origin: b.origin, Event: &eph[i]}); err != nil && ctx.Err() == nil {
				b.logger.Warn("realtime: notify ephemeral event failed", "type", eph[i].Type, "err", err)
			}
		}
	}
}
