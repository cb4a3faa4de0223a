// Package pipeline is Switchboard's durable background work: a pool of workers that claims jobs from
// the database and runs the handler registered for each kind. Jobs sharing a key (a conversation) run
// one at a time and in order; a failed job is retried with exponential backoff until it is dead; a
// job whose worker died is taken over when its lease expires, or buried (dead) when that was its last
// attempt, and its kind's Buried hook makes the end visible.
//
//	enqueue (in the caller's transaction) ─commit─▶ JobSignal ─▶ idle worker ─▶ ClaimJob
//	   ─▶ handler ─▶ CompleteJob | FailJob(backoff) | dead
//	   ─▶ (expired on its last attempt) buried by the claim ─▶ Buried[kind] hook
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"switchboard"
)

// JobStore is the storage the runner needs. ClaimJob may return a job already dead: one whose lease
// expired on its last attempt, buried by that claim; it is reported, never run.
type JobStore interface {
	ClaimJob(ctx context.Context, worker string, lease time.Duration) (*switchboard.Job, error)
	CompleteJob(ctx context.Context, j *switchboard.Job) error
	FailJob(ctx context.Context, j *switchboard.Job, reason string, retryAt time.Time, permanent bool) error
	ExtendLease(ctx context.Context, j *switchboard.Job, lease time.Duration) error
	NextJobAt(ctx context.Context) (time.Time, bool, error)
	JobSignal() <-chan struct{}
}

// JobMetrics observes job outcomes (done, retry, dead) and durations.
type JobMetrics interface {
	JobFinished(kind, outcome string, d time.Duration)
	JobsRunning(delta int)
}

// Handler runs one job. Returning nil completes it; an error retries it with backoff, unless it is
// Permanent (or the job used its last attempt), in which case the job is dead.
type Handler func(ctx context.Context, j *switchboard.Job) error

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying: the job goes straight to dead.
func Permanent(err error) error { return permanentError{err} }

// retryAfterError asks for a specific delay before the next attempt.
type retryAfterError struct {
	err   error
	delay time.Duration
}

func (r retryAfterError) Error() string { return r.err.Error() }
func (r retryAfterError) Unwrap() error { return r.err }

// RetryAfter asks for the next attempt after d instead of the default backoff (e.g. Meta's throttling).
func RetryAfter(err error, d time.Duration) error { return retryAfterError{err, d} }

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	Store    JobStore
	Handlers map[string]Handler
	// Buried holds, by job kind, what must happen when a job of that kind dies without its handler's
	// verdict: its worker stopped (a crash, a kill, running out of memory) on the job's last attempt,
	// so the claim that found the lease expired buried it. The handler never saw the job end; the
	// hook makes that end visible (the send job's hook fails its message). It runs once, best effort: if
	// it fails, the job is still listed dead for an admin to retry.
	Buried  map[string]Handler
	Workers int
	// Name prefixes the workers' names in the leases they take (default host:pid); each process of
	// a deployment should have its own.
	Name string
	// Lease is how long a claimed job stays with its worker before others may take it over; the
	// worker extends it while the job runs.
	Lease   time.Duration
	Clock   switchboard.Clock
	Logger  *slog.Logger
	Metrics JobMetrics
	// MaxIdle bounds how long an idle worker sleeps without a signal (jobs enqueued by other replicas).
	MaxIdle time.Duration
	// Backoff returns the delay before the next attempt; the default is exponential with jitter.
	Backoff func(attempt int) time.Duration
}

// Runner is the worker pool.
type Runner struct {
	opts RunnerOptions
	name string
	wake chan struct{}
}

// NewRunner returns a runner; call Run to start it.
func NewRunner(opts RunnerOptions) *Runner {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = switchboard.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxIdle <= 0 {
		opts.MaxIdle = 2 * time.Second
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.Name == "" {
		host, _ := os.Hostname()
		opts.Name = host + ":" + strconv.Itoa(os.Getpid())
	}
	return &Runner{opts: opts, name: opts.Name, wake: make(chan struct{}, opts.Workers)}
}

// DefaultBackoff is 2^attempt seconds (capped at 10 minutes) with ±20 % jitter.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 10)
	if d > 10*time.Minute {
		d = 10 * time.Minute
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5*2+1)) - d/5
	return d + jitter
}

// Run works jobs until ctx is cancelled, then waits for the jobs in progress to finish (they are not
// cancelled: a job is either completed or left to be retried, never half-done by us).
func (r *Runner) Run(ctx context.Context) error {
	done := make(chan struct{})
	go r.forwardSignals(ctx, done)
	var wg sync.WaitGroup
	for i := 0; i < r.opts.Workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r.work(ctx, fmt.Sprintf("%s/%d", r.name, i))
		}(i)
	}
	wg.Wait()
	close(done)
	return nil
}

// forwardSignals turns each of the store's job tokens into a wake-up for one idle worker. (A worker
// that claimed a job used to wake another "in case there is more": at a trickle of jobs that was an
// empty claim and a next-due read for nearly every job.)
func (r *Runner) forwardSignals(ctx context.Context, done <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-r.opts.Store.JobSignal():
			r.poke()
		}
	}
}

func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Runner) work(ctx context.Context, worker string) {
	log := r.opts.Logger.With("worker", worker)
	for ctx.Err() == nil {
		j, err := r.opts.Store.ClaimJob(ctx, worker, r.opts.Lease)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("claim job", "err", err)
			r.sleep(ctx, time.Second)
			continue
		}
		if j == nil {
			r.idle(ctx)
			continue
		}
		if j.State == switchboard.JobDead {
			r.buried(ctx, log, j)
			continue
		}
		r.run(ctx, log, j)
	}
}

// idle sleeps until a signal, the next due job, or MaxIdle.
func (r *Runner) idle(ctx context.Context) {
	wait := r.opts.MaxIdle
	if at, ok, err := r.opts.Store.NextJobAt(ctx); err == nil && ok {
		if d := at.Sub(r.opts.Clock.Now()); d < wait {
			wait = max(d, 5*time.Millisecond)
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-r.wake:
	case <-t.C:
	}
}

func (r *Runner) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// run executes one job with a context that survives shutdown (the job finishes) but not the lease.
func (r *Runner) run(ctx context.Context, log *slog.Logger, j *switchboard.Job) {
	log = log.With("job_id", j.ID, "kind", j.Kind, "key", j.Key, "attempt", j.Attempts)
	start := time.Now()
	if r.opts.Metrics != nil {
		r.opts.Metrics.JobsRunning(1)
		defer r.opts.Metrics.JobsRunning(-1)
	}
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stopHeartbeat := r.heartbeat(jobCtx, log, j, cancel)
	err := r.call(jobCtx, j)
	stopHeartbeat()
	// Report with a context of its own: shutdown must not lose the outcome of a finished job.
	repCtx, repCancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer repCancel()
	outcome := "done"
	if err == nil {
		if cerr := r.opts.Store.CompleteJob(repCtx, j); cerr != nil {
			log.Warn("complete job", "err", cerr)
		}
	} else {
		var perm permanentError
		permanent := errors.As(err, &perm)
		delay := r.opts.Backoff(j.Attempts)
		var ra retryAfterError
		if errors.As(err, &ra) {
			delay = ra.delay
		}
		outcome = "retry"
		if permanent || j.Attempts >= j.MaxAttempts {
			outcome = "dead"
			log.Error("job dead", "err", err)
		} else {
			log.Warn("job failed; will retry", "err", err, "retry_in", delay.String())
		}
		if ferr := r.opts.Store.FailJob(repCtx, j, err.Error(), r.opts.Clock.Now().Add(delay), permanent); ferr != nil {
			log.Warn("record job failure", "err", ferr)
		}
	}
	if r.opts.Metrics != nil {
		r.opts.Metrics.JobFinished(j.Kind, outcome, time.Since(start))
	}
}

// buried reports a job the claim found expired on its last attempt and buried, and runs its kind's
// Buried hook, on a context of its own as a finished job's report is (shutdown must not skip it).
func (r *Runner) buried(ctx context.Context, log *slog.Logger, j *switchboard.Job) {
	log.Error("job dead: its worker stopped on its last attempt", "job_id", j.ID, "kind", j.Kind, "key", j.Key,
		"attempts", j.Attempts, "last_leased_by", j.LeasedBy, "err", j.LastError)
	if r.opts.Metrics != nil {
		r.opts.Metrics.JobFinished(j.Kind, "dead", 0)
	}
	hook, ok := r.opts.Buried[j.Kind]
	if !ok {
		return
	}
	hookCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		return hook(hookCtx, j)
	}()
	if err != nil {
		log.Error("buried job's hook", "job_id", j.ID, "kind", j.Kind, "err", err)
	}
}

// call runs the handler, turning a panic into a failed attempt.
func (r *Runner) call(ctx context.Context, j *switchboard.Job) (err error) {
	h, ok := r.opts.Handlers[j.Kind]
	if !ok {
		return Permanent(fmt.Errorf("no handler for job kind %q", j.Kind))
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, j)
}

// heartbeat extends the lease every third of it while the job runs; if the lease is lost, the job's
// context is cancelled, since another worker now owns it.
func (r *Runner) heartbeat(ctx context.Context, log *slog.Logger, j *switchboard.Job, cancel func()) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.opts.Store.ExtendLease(ctx, j, r.opts.Lease); err != nil {
					if switchboard.ErrorCode(err) == switchboard.ECONFLICT {
						log.Warn("job lease lost; abandoning", "err", err)
						cancel()
						return
					}
					log.Warn("extend lease", "err", err)
				}
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}
