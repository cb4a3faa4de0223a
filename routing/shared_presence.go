package routing

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"switchboard"
)

// PresenceStore keeps, in the shared database, which agents are connected to which server process.
type PresenceStore interface {
	// TouchPresence records that exactly agentIDs are connected to instance now.
	TouchPresence(ctx context.Context, instance string, agentIDs []int64) error
	// OnlineAgents returns the agents some instance reported within the last `within`.
	OnlineAgents(ctx context.Context, within time.Duration) ([]int64, error)
	// ClearPresence forgets an instance (it is shutting down).
	ClearPresence(ctx context.Context, instance string) error
	// RecordPresence records that the agent came online on instance (online) or went offline there
	// (offline: their last connection closed and the grace period passed). When no other instance
	// reported them within `within`, this changes whether they are online at all, and it logs and
	// returns the presence.updated event agents see; otherwise it returns no event.
	RecordPresence(ctx context.Context, instance string, agentID int64, online bool, within time.Duration) ([]switchboard.Event, error)
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
//
// Agents see their colleagues come online and go offline: each sync compares this process's agents
// with the previous sync's, and only for those that changed asks the store to record the transition,
// which logs a presence.updated event when no other replica has the agent (an agent moving between
// replicas, or with tabs on two, stays online without events). Coming online wakes Run at once;
// going offline is noticed at the first sync after the grace period.
type SharedPresence struct {
	local     *PresenceSet
	store     PresenceStore
	instance  string
	interval  time.Duration
	log       *slog.Logger
	publisher Publisher
	remote    atomic.Pointer[map[int64]bool]

	syncMu sync.Mutex
	// recorded are this process's agents whose coming online the store has recorded, and whose going
	// offline it has not yet.
	recorded map[int64]bool
}

// SharedPresenceOptions configure NewSharedPresence. Local, Store and Instance (unique per process,
// e.g. hostname and pid) are required. Without a Publisher, presence events reach the agents'
// screens when the realtime broker next reads the event log.
type SharedPresenceOptions struct {
	Local     *PresenceSet
	Store     PresenceStore
	Instance  string
	Interval  time.Duration
	Logger    *slog.Logger
	Publisher Publisher
}

// NewSharedPresence returns presence shared through the database; call Run to keep it current.
func NewSharedPresence(opts SharedPresenceOptions) *SharedPresence {
	if opts.Interval <= 0 {
		opts.Interval = DefaultPresenceInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &SharedPresence{local: opts.Local, store: opts.Store, instance: opts.Instance, interval: opts.Interval, log: opts.Logger,
		publisher: opts.Publisher, recorded: map[int64]bool{}}
	p.remote.Store(&map[int64]bool{})
	return p
}

// Local returns the presence of this process's own connections (the hub's Connect/Disconnect).
func (p *SharedPresence) Local() *PresenceSet { return p.local }

// Online reports whether the agent is connected to this process or was reported by any replica.
func (p *SharedPresence) Online(agentID int64) bool {
	return p.local.Online(agentID) || (*p.remote.Load())[agentID]
}

// Sync records this process's agents that came online or went offline since the last sync
// (publishing the resulting presence events), writes this process's agents and reads everyone's.
// A transition the store failed to record is tried again at the next sync.
func (p *SharedPresence) Sync(ctx context.Context) error {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	local := p.local.OnlineAgents()
	errTransitions := p.recordTransitions(ctx, local)
	if err := p.store.TouchPresence(ctx, p.instance, local); err != nil {
		return errors.Join(errTransitions, err)
	}
	ids, err := p.store.OnlineAgents(ctx, p.within())
	if err != nil {
		return errors.Join(errTransitions, err)
	}
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	p.remote.Store(&m)
	return errTransitions
}

// within is how recent another replica's report must be to count: three intervals, so one missed
// heartbeat is tolerated.
func (p *SharedPresence) within() time.Duration { return 3 * p.interval }

// recordTransitions compares this process's agents now (local, in id order) with those recorded and
// has the store record each change. Only changes cost a write.
func (p *SharedPresence) recordTransitions(ctx context.Context, local []int64) error {
	var errs []error
	record := func(id int64, online bool) {
		events, err := p.store.RecordPresence(ctx, p.instance, id, online, p.within())
		if err != nil {
			errs = append(errs, err)
			return
		}
		if online {
			p.recorded[id] = true
		} else {
			delete(p.recorded, id)
		}
		if p.publisher != nil && len(events) > 0 {
			p.publisher.Publish(ctx, events)
		}
	}
	now := make(map[int64]bool, len(local))
	for _, id := range local {
		now[id] = true
		if !p.recorded[id] {
			record(id, true)
		}
	}
	for id := range p.recorded {
		if !now[id] {
			record(id, false)
		}
	}
	return errors.Join(errs...)
}

// Run syncs every interval, and at once when an agent comes online here, until ctx ends; then it
// removes this process's rows so its agents go offline for the other replicas at once. No presence
// event is logged then: their sockets reconnect to another replica, which logs them online again
// (a repeat that changes nothing on screen); an agent who does not come back is not announced
// offline, as with a replica that crashed.
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
		case <-p.local.Arrivals():
		}
	}
}
