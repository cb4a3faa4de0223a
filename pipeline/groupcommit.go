package pipeline

import (
	"context"
	"fmt"
	"hash/fnv"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
)

// Group commit: webhooks that arrive while a transaction is storing others are stored together in
// the next one, so a busy inbox pays one transaction (and a few statements) for many messages instead
// of one each. Nobody waits for a timer: a webhook arriving alone is stored at once. Each webhook is
// still answered only after its own data is committed.
//
// The first webhook of a queue leads: it stores what is queued (itself included), hands the lead to
// the first webhook that queued meanwhile, and returns. Webhooks are spread over a few queues by
// contact, so one contact's webhooks stay in order and one transaction never waits for another's
// contact rows.

// maxGroup bounds the webhooks stored in one transaction.
const maxGroup = 64

// groupTimeout bounds one group's transaction; the webhooks' own contexts do not apply, since one
// sender giving up must not fail the others.
const groupTimeout = 30 * time.Second

// storeMany is the store's group-commit entry point (IngestStore.IngestInboundMany).
type storeMany func(ctx context.Context, items []switchboard.ChannelInbound) ([]*switchboard.IngestResult, error)

// commitRequest is one webhook's items waiting to be stored.
type commitRequest struct {
	items   []switchboard.ChannelInbound
	results []*switchboard.IngestResult
	err     error
	done    chan struct{} // closed when results or err are set
	lead    chan struct{} // closed when this request must lead the next group
	// answered is set, by the leader only, when done is closed.
	answered bool
}

// answer hands the request its results or error.
func (r *commitRequest) answer() {
	r.answered = true
	close(r.done)
}

// commitQueue is one queue of webhooks waiting for a transaction.
type commitQueue struct {
	mu      sync.Mutex
	waiting []*commitRequest
	leading bool
}

// groupCommitter spreads webhooks over its queues.
type groupCommitter struct {
	queues []commitQueue
	store  storeMany
	// sizes and durations describe the groups, for operators (switchboard_ingest_group_*).
	sizes     prometheus.Histogram
	durations prometheus.Histogram
}

func newGroupCommitter(queues int, store storeMany) *groupCommitter {
	return &groupCommitter{queues: make([]commitQueue, max(queues, 1)), store: store,
		sizes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_ingest_group_webhooks",
			Help: "Webhooks stored together in one transaction.", Buckets: []float64{1, 2, 4, 8, 16, 32, 64}}),
		durations: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_ingest_group_seconds",
			Help:    "Time to store one group of webhooks (its transaction, and retries one by one after a failure).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})}
}

// commit stores one webhook's items, possibly together with other webhooks', and returns its results.
func (g *groupCommitter) commit(items []switchboard.ChannelInbound) ([]*switchboard.IngestResult, error) {
	r := &commitRequest{items: items, done: make(chan struct{}), lead: make(chan struct{})}
	q := &g.queues[g.queueOf(items)]
	q.mu.Lock()
	q.waiting = append(q.waiting, r)
	lead := !q.leading
	q.leading = true
	q.mu.Unlock()
	if !lead {
		select {
		case <-r.done:
			return r.results, r.err
		case <-r.lead:
		}
	}
	g.lead(q)
	<-r.done
	return r.results, r.err
}

// lead stores one group from the queue, then passes the lead on (or ends it when nobody waits).
func (g *groupCommitter) lead(q *commitQueue) {
	q.mu.Lock()
	n := min(len(q.waiting), maxGroup)
	group := q.waiting[:n:n]
	q.waiting = q.waiting[n:]
	q.mu.Unlock()

	defer func() {
		q.mu.Lock()
		if len(q.waiting) > 0 {
			close(q.waiting[0].lead)
		} else {
			q.leading = false
			q.waiting = nil
		}
		q.mu.Unlock()
	}()
	g.storeGroup(group)
}

// storeGroup runs one group's transaction. If it fails with several webhooks in it, each is stored on its
// own, so that one bad webhook (or a lost race) fails only itself.
func (g *groupCommitter) storeGroup(group []*commitRequest) {
	// A panic in the store must not leave the group's webhooks waiting forever: each one still
	// unanswered gets it as its error (a 500, so Meta retries), and the lead passes on.
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("storing webhooks panicked: %v\n%s", p, debug.Stack())
			for _, r := range group {
				if !r.answered {
					r.err = err
					r.answer()
				}
			}
		}
	}()
	start := time.Now()
	g.sizes.Observe(float64(len(group)))
	defer func() { g.durations.Observe(time.Since(start).Seconds()) }()
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	var items []switchboard.ChannelInbound
	for _, r := range group {
		items = append(items, r.items...)
	}
	results, err := g.store(ctx, items)
	if err == nil {
		for _, r := range group {
			r.results, results = results[:len(r.items)], results[len(r.items):]
			r.answer()
		}
		return
	}
	if len(group) == 1 {
		group[0].err = err
		group[0].answer()
		return
	}
	for _, r := range group {
		r.results, r.err = g.store(ctx, r.items)
		r.answer()
	}
}

// queueOf picks a webhook's queue by its first contact (or first status), so that one contact's
// webhooks share a queue.
func (g *groupCommitter) queueOf(items []switchboard.ChannelInbound) int {
	if len(g.queues) == 1 {
		return 0
	}
	h := fnv.New32a()
	for _, it := range items {
		if len(it.Batch.Messages) > 0 {
			m := it.Batch.Messages[0]
			h.Write([]byte(m.WaID + "|" + m.BSUID))
			break
		}
		if len(it.Batch.Statuses) > 0 {
			h.Write([]byte(it.Batch.Statuses[0].ExternalID))
			break
		}
	}
	return int(h.Sum32() % uint32(len(g.queues)))
}
