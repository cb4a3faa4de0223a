package routing

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// PresenceStore keeps, in the shared database, which agents are connected to which server process.
type PresenceStore interface {
	// TouchPresence records that exactly agentIDs are connected to instance now.
	TouchPresence(ctx context.Context, instance string, agentIDs []int64) error
	// OnlineAgents returns the agents some instance reported within the last `within`.
	OnlineAgents(ctx context.Context, within time.Duration) ([]int64, error)
	// ClearPresence forgets an instance (it is shutting down).
	ClearPresence(ctx context.Context, instance string) error
}

// DefaultPresenceInterval is how often SharedPresence reports this process's agents and reads the
// others'.
const DefaultPresenceInterval = 5 * time.Second

// SharedPresence is presence for several replicas sharing one database. Its own connections are
// known at once (a PresenceSet); every Interval it writes them to the database and reads back the
// agents every replica reported, so an agent connected to replica A is online for a decision taken on
// replica B within one interval. A replica that dies stops reporting and its agents go offline after
// three intervals.
//
// The choice: presence changes often and each decision asks about every member, so it is answered
// from memory; the table is only a heartbeat between processes, a few small writes per interval.
type SharedPresence struct {
	local    *PresenceSet
	store    PresenceStore
	instance string
	interval time.Duration
	log      *slog.Logger
	remote   atomic.Pointer[map[int64]bool]
}

// SharedPresenceOptions configure NewSharedPresence. Local, Store and Instance (unique per process,
// e.g. hostname and pid) are required.
type SharedPresenceOptions struct {
	Local    *PresenceSet
	Store    PresenceStore
	Instance string
	Interval time.Duration
	Logger   *slog.Logger
}

// NewSharedPresence returns presence shared through the database; call Run to keep it current.
func NewSharedPresence(opts SharedPresenceOptions) *SharedPresence {
	if opts.Interval <= 0 {
		opts.Interval = DefaultPresenceInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &SharedPresence{local: opts.Local, store: opts.Store, instance: opts.Instance, interval: opts.Interval, log: opts.Logger}
	p.remote.Store(&map[int64]bool{})
	return p
}

// Local returns the presence of this process's own connections (the hub's Connect/Disconnect).
func (p *SharedPresence) Local() *PresenceSet { return p.local }

// Online reports whether the agent is connected to this process or was reported by any replica.
func (p *SharedPresence) Online(agentID int64) bool {
	return p.local.Online(agentID) || (*p.remote.Load())[agentID]
}

// Sync writes this process's agents and reads everyone's once.
func (p *SharedPresence) Sync(ctx context.Context) error {
	if err := p.store.TouchPresence(ctx, p.instance, p.local.OnlineAgents()); err != nil {
		return err
	}
	ids, err := p.store.OnlineAgents(ctx, 3*p.interval)
	if err != nil {
		return err
	}
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	p.remote.Store(&m)
	return nil
}

// Run syncs every interval until ctx ends, then removes this process's rows so its agents go offline
// for the other replicas at once.
func (p *SharedPresence) Run(ctx context.Context) error {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		if err := p.Sync(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("presence sync failed", "err", err)
		}
		select {
		case <-ctx.Done():
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return p.store.ClearPresence(cctx, p.instance)
		case <-t.C:
		}
	}
}
