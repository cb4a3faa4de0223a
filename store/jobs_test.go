package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

func TestJobClaimOrderPerKey(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		for _, j := range []*switchboard.Job{
			{Kind: "send", Key: "conv:1", Payload: json.RawMessage(`{"n":1}`)},
			{Kind: "send", Key: "conv:1", Payload: json.RawMessage(`{"n":2}`)},
			{Kind: "send", Key: "conv:2", Payload: json.RawMessage(`{"n":3}`)},
		} {
			if err := s.EnqueueJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-s.JobSignal():
		default:
			t.Fatal("enqueue must wake workers")
		}
		first, err := s.ClaimJob(ctx, "w1", time.Minute)
		if err != nil || first == nil || string(first.Payload) != `{"n":1}` || first.Attempts != 1 || first.State != switchboard.JobRunning {
			t.Fatalf("first claim: %+v %v", first, err)
		}
		// conv:1's second job waits for the first; conv:2 may run meanwhile.
		second, _ := s.ClaimJob(ctx, "w2", time.Minute)
		if second == nil || second.Key != "conv:2" {
			t.Fatalf("second claim should skip the busy key: %+v", second)
		}
		if none, _ := s.ClaimJob(ctx, "w3", time.Minute); none != nil {
			t.Fatalf("nothing else may run while conv:1 is busy, got %+v", none)
		}
		drainSignal(s)
		if err := s.CompleteJob(ctx, first); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.JobSignal():
		default:
			t.Fatal("finishing a job whose key has a next one must wake workers")
		}
		third, _ := s.ClaimJob(ctx, "w3", time.Minute)
		if third == nil || string(third.Payload) != `{"n":2}` {
			t.Fatalf("after the first finishes, its successor runs: %+v", third)
		}
	})
}

func TestJobLeaseExpiryAndFencing(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		if err := s.EnqueueJob(ctx, &switchboard.Job{Kind: "fetch", Key: "k"}); err != nil {
			t.Fatal(err)
		}
		dying, _ := s.ClaimJob(ctx, "dying-worker", 30*time.Second)
		if dying == nil {
			t.Fatal("no job claimed")
		}
		clock.Advance(10 * time.Second)
		if j, _ := s.ClaimJob(ctx, "other", 30*time.Second); j != nil {
			t.Fatal("a leased job must not be taken before its lease expires")
		}
		at, ok, err := s.NextJobAt(ctx)
		if err != nil || !ok || !at.Equal(dying.LeaseUntil.UTC()) {
			t.Fatalf("next due time should be the lease expiry: %v %v %v", at, ok, err)
		}
		clock.Advance(25 * time.Second)
		taken, _ := s.ClaimJob(ctx, "other", 30*time.Second)
		if taken == nil || taken.ID != dying.ID || taken.Attempts != 2 || taken.LeasedBy != "other" {
			t.Fatalf("expired lease must be taken over: %+v", taken)
		}
		// The first worker wakes up and reports: its lease is gone, so nothing changes.
		if err := s.CompleteJob(ctx, dying); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Fatalf("stale completion must be refused, got %v", err)
		}
		if err := s.CompleteJob(ctx, taken); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Job(ctx, taken.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Fatalf("a finished job is removed: %v", err)
		}
		drainSignal(s)
		if err := s.CompleteJob(ctx, taken); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Fatalf("a job cannot be completed twice, got %v", err)
		}
		select {
		case <-s.JobSignal():
			t.Fatal("a key with nothing left must not wake workers")
		default:
		}
		if at, ok, err := s.NextJobAt(ctx); err != nil || ok {
			t.Fatalf("nothing is scheduled: %v %v %v", at, ok, err)
		}
	})
}

func TestJobRetriesThenDead(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		if err := s.EnqueueJob(ctx, &switchboard.Job{Kind: "flaky", Key: "k", MaxAttempts: 3}); err != nil {
			t.Fatal(err)
		}
		for attempt := 1; attempt <= 3; attempt++ {
			j, err := s.ClaimJob(ctx, "w", time.Minute)
			if err != nil || j == nil {
				t.Fatalf("attempt %d: no job (%v)", attempt, err)
			}
			if err := s.FailJob(ctx, j, "boom", clock.Now().Add(time.Minute), false); err != nil {
				t.Fatal(err)
			}
			if j2, _ := s.ClaimJob(ctx, "w", time.Minute); j2 != nil {
				t.Fatal("a failed job waits for its backoff")
			}
			if at, ok, err := s.NextJobAt(ctx); attempt < 3 && (err != nil || !ok || !at.Equal(clock.Now().Add(time.Minute))) {
				t.Fatalf("attempt %d: next due time should be the retry: %v %v %v", attempt, at, ok, err)
			} else if attempt == 3 && (err != nil || ok) {
				t.Fatalf("a dead job is never due: %v %v %v", at, ok, err)
			}
			clock.Advance(time.Minute)
		}
		dead, err := s.ListJobs(ctx, store.JobFilter{State: switchboard.JobDead})
		if err != nil || len(dead) != 1 || dead[0].LastError != "boom" || dead[0].Attempts != 3 || dead[0].FinishedAt == nil {
			t.Fatalf("dead jobs: %+v %v", dead, err)
		}
		if err := s.RetryJob(ctx, dead[0].ID); err != nil {
			t.Fatal(err)
		}
		if j, _ := s.ClaimJob(ctx, "w", time.Minute); j == nil || j.Attempts != 1 {
			t.Fatalf("a retried dead job runs again with fresh attempts: %+v", j)
		}
	})
}

func TestJobEnqueueInCallerTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		boom := errors.New("rollback")
		err := s.InTxForTest(ctx, func(ctx context.Context, tx *gorm.DB) error {
			if err := s.EnqueueJobTx(ctx, tx, &switchboard.Job{Kind: "k"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("want the caller's error back, got %v", err)
		}
		if j, _ := s.ClaimJob(ctx, "w", time.Minute); j != nil {
			t.Fatal("a job enqueued in a rolled-back transaction must not exist")
		}
	})
}

// TestJobClaimsAreExclusive has many workers claim concurrently: no job is ever held by two workers
// at once and one key's jobs run strictly in order.
func TestJobClaimsAreExclusive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		const keys, perKey = 5, 12
		for i := 0; i < perKey; i++ {
			for k := 0; k < keys; k++ {
				p, _ := json.Marshal(map[string]int{"seq": i})
				if err := s.EnqueueJob(ctx, &switchboard.Job{Kind: "work", Key: "key" + string(rune('a'+k)), Payload: p}); err != nil {
					t.Fatal(err)
				}
			}
		}
		var mu sync.Mutex
		running := map[string]bool{}
		lastSeq := map[string]int{}
		done := 0
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for {
					j, err := s.ClaimJob(ctx, "worker", time.Minute)
					if err != nil {
						if switchboard.ErrorCode(err) == switchboard.EUNAVAILABLE {
							continue
						}
						t.Error(err)
						return
					}
					mu.Lock()
					if j == nil {
						finished := done == keys*perKey
						mu.Unlock()
						if finished {
							return
						}
						time.Sleep(time.Millisecond)
						continue
					}
					var p struct{ Seq int }
					json.Unmarshal(j.Payload, &p)
					if running[j.Key] {
						t.Errorf("two jobs of %s at once", j.Key)
					}
					if prev, ok := lastSeq[j.Key]; ok && p.Seq != prev+1 || !ok && p.Seq != 0 {
						t.Errorf("%s ran seq %d after %d", j.Key, p.Seq, lastSeq[j.Key])
					}
					running[j.Key] = true
					lastSeq[j.Key] = p.Seq
					mu.Unlock()
					time.Sleep(200 * time.Microsecond)
					mu.Lock()
					running[j.Key] = false
					done++
					mu.Unlock()
					if err := s.CompleteJob(ctx, j); err != nil {
						t.Error(err)
						return
					}
				}
			}(w)
		}
		wg.Wait()
		if done != keys*perKey {
			t.Fatalf("ran %d jobs, want %d", done, keys*perKey)
		}
	})
}

// TestJobClaimAfterAnalyzingAnEmptyTable: the jobs table is usually empty when PostgreSQL's
// autovacuum analyzes it; claims planned from those statistics must still hand out a backlog in
// order, one job per key at a time. (How fast they do it is for the benchmarks: the claim keeps to
// its indexes whatever the statistics say.)
func TestJobClaimAfterAnalyzingAnEmptyTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		if _, err := s.SQL().ExecContext(ctx, "ANALYZE jobs"); err != nil {
			t.Fatal(err)
		}
		const keys, perKey = 20, 10
		for n := 0; n < perKey; n++ {
			for k := 0; k < keys; k++ {
				j := &switchboard.Job{Kind: "send", Key: fmt.Sprintf("conv:%d", k), Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
				if err := s.EnqueueJob(ctx, j); err != nil {
					t.Fatal(err)
				}
			}
		}
		next := map[string]int{}
		for claimed := 0; claimed < keys*perKey; {
			var running []*switchboard.Job
			for {
				j, err := s.ClaimJob(ctx, "w", time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if j == nil {
					break
				}
				running = append(running, j)
			}
			if len(running) != keys {
				t.Fatalf("%d jobs running at once, want one per key (%d)", len(running), keys)
			}
			for _, j := range running {
				var p struct{ N int }
				json.Unmarshal(j.Payload, &p)
				if p.N != next[j.Key] {
					t.Fatalf("%s ran job %d, want %d", j.Key, p.N, next[j.Key])
				}
				next[j.Key]++
				if err := s.CompleteJob(ctx, j); err != nil {
					t.Fatal(err)
				}
				claimed++
			}
		}
	})
}

// drainSignal empties the job signal, so that a test sees only what comes next.
func drainSignal(s *store.Store) {
	for {
		select {
		case <-s.JobSignal():
		default:
			return
		}
	}
}

// TestJobRetryHoldsItsKeysLaterJobs: when a job is rescheduled, the later jobs of its key (which may
// not run before it) wait for the same time instead of being due, so that claims meanwhile do not
// step over them; they run in order after it. Other keys are not held.
func TestJobRetryHoldsItsKeysLaterJobs(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		var jobs []*switchboard.Job
		for i, key := range []string{"conv:1", "conv:1", "conv:1", "conv:2"} {
			j := &switchboard.Job{Kind: "send", Key: key, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
			if err := s.EnqueueJob(ctx, j); err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, j)
		}
		head, _ := s.ClaimJob(ctx, "w", time.Minute)
		if head == nil || head.ID != jobs[0].ID {
			t.Fatalf("head: %+v", head)
		}
		retry := clock.Now().Add(30 * time.Second)
		if err := s.FailJob(ctx, head, "Graph API unavailable", retry, false); err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs[1:3] {
			got, err := s.Job(ctx, j.ID)
			if err != nil || !got.RunAt.Equal(retry) {
				t.Fatalf("job %d behind the retry: run_at %v, want %v (%v)", j.ID, got.RunAt, retry, err)
			}
		}
		if other, _ := s.Job(ctx, jobs[3].ID); !other.RunAt.Equal(jobs[3].RunAt) {
			t.Fatalf("another key's job moved: %v", other.RunAt)
		}
		if j, _ := s.ClaimJob(ctx, "w", time.Minute); j == nil || j.ID != jobs[3].ID {
			t.Fatalf("the other key runs meanwhile: %+v", j)
		}
		if j, _ := s.ClaimJob(ctx, "w", time.Minute); j != nil {
			t.Fatalf("nothing of conv:1 is due before the retry: %+v", j)
		}
		clock.Advance(30 * time.Second)
		for _, want := range jobs[:3] {
			j, err := s.ClaimJob(ctx, "w", time.Minute)
			if err != nil || j == nil || j.ID != want.ID {
				t.Fatalf("after the retry time, want job %d, got %+v %v", want.ID, j, err)
			}
			if err := s.CompleteJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestJobDeadWakesItsKeysNext: a job that fails for good unblocks its key's next job at once.
func TestJobDeadWakesItsKeysNext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		head, next := &switchboard.Job{Kind: "send", Key: "conv:1"}, &switchboard.Job{Kind: "send", Key: "conv:1"}
		for _, j := range []*switchboard.Job{head, next} {
			if err := s.EnqueueJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		claimed, _ := s.ClaimJob(ctx, "w", time.Minute)
		if claimed == nil || claimed.ID != head.ID {
			t.Fatalf("claim: %+v", claimed)
		}
		drainSignal(s)
		if err := s.FailJob(ctx, claimed, "131026: not a WhatsApp user", time.Time{}, true); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.JobSignal():
		default:
			t.Fatal("a dead job must wake a worker for its key's next job")
		}
		if j, _ := s.ClaimJob(ctx, "w", time.Minute); j == nil || j.ID != next.ID {
			t.Fatalf("the next job runs: %+v", j)
		}
	})
}

// TestJobWhoseWorkerKeepsDyingIsBuried: a job whose worker dies on every attempt never reports a
// failure; its expired leases count its attempts, and the claim that finds it out of attempts buries
// it (dead, listed, with the reason) instead of taking it over forever, and its key's next job runs.
func TestJobWhoseWorkerKeepsDyingIsBuried(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		doomed := &switchboard.Job{Kind: "send", Key: "conv:1", MaxAttempts: 2}
		next := &switchboard.Job{Kind: "send", Key: "conv:1"}
		for _, j := range []*switchboard.Job{doomed, next} {
			if err := s.EnqueueJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		for attempt := 1; attempt <= 2; attempt++ {
			j, err := s.ClaimJob(ctx, fmt.Sprintf("worker-%d", attempt), 30*time.Second)
			if err != nil || j == nil || j.ID != doomed.ID || j.Attempts != attempt || j.State != switchboard.JobRunning {
				t.Fatalf("attempt %d: claim %+v %v", attempt, j, err)
			}
			if j, _ := s.ClaimJob(ctx, "other", 30*time.Second); j != nil {
				t.Fatalf("attempt %d: the key's next job must wait while the lease holds: %+v", attempt, j)
			}
			clock.Advance(31 * time.Second) // the worker dies: no report, no heartbeat
		}
		drainSignal(s)
		buried, err := s.ClaimJob(ctx, "worker-3", 30*time.Second)
		if err != nil || buried == nil || buried.ID != doomed.ID {
			t.Fatalf("the exhausted job must be returned buried: %+v %v", buried, err)
		}
		if buried.State != switchboard.JobDead || buried.Attempts != 2 || buried.LeaseUntil != nil || buried.FinishedAt == nil ||
			!buried.FinishedAt.Equal(clock.Now()) || buried.LastError != "lease expired 2 times: its worker stopped (crash, kill or lost connection) before finishing each attempt" {
			t.Fatalf("buried job: %+v", buried)
		}
		select {
		case <-s.JobSignal():
		default:
			t.Fatal("burying a job must wake a worker for its key's next job")
		}
		dead, err := s.ListJobs(ctx, store.JobFilter{State: switchboard.JobDead})
		if err != nil || len(dead) != 1 || dead[0].ID != doomed.ID || dead[0].LastError != buried.LastError || dead[0].FinishedAt == nil {
			t.Fatalf("dead jobs: %+v %v", dead, err)
		}
		j, err := s.ClaimJob(ctx, "worker-3", 30*time.Second)
		if err != nil || j == nil || j.ID != next.ID || j.State != switchboard.JobRunning || j.Attempts != 1 {
			t.Fatalf("the key's next job runs after the burial: %+v %v", j, err)
		}
		if err := s.CompleteJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		if j, _ := s.ClaimJob(ctx, "worker-3", 30*time.Second); j != nil {
			t.Fatalf("a buried job is never claimed again: %+v", j)
		}
		if at, ok, err := s.NextJobAt(ctx); err != nil || ok {
			t.Fatalf("a buried job is never due: %v %v %v", at, ok, err)
		}
		// Retried by an admin, it runs again with fresh attempts.
		if err := s.RetryJob(ctx, doomed.ID); err != nil {
			t.Fatal(err)
		}
		if j, _ := s.ClaimJob(ctx, "worker-4", 30*time.Second); j == nil || j.ID != doomed.ID || j.Attempts != 1 || j.State != switchboard.JobRunning {
			t.Fatalf("a retried buried job runs again: %+v", j)
		}
	})
}

// TestJobBuriedAfterAFailureKeepsTheEarlierError: a job that failed once and then lost its worker on
// its last attempt is buried with both reasons.
func TestJobBuriedAfterAFailureKeepsTheEarlierError(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		if err := s.EnqueueJob(ctx, &switchboard.Job{Kind: "fetch", MaxAttempts: 2}); err != nil {
			t.Fatal(err)
		}
		j, _ := s.ClaimJob(ctx, "w", time.Minute)
		if j == nil {
			t.Fatal("no job claimed")
		}
		if err := s.FailJob(ctx, j, "Graph API unavailable", clock.Now(), false); err != nil {
			t.Fatal(err)
		}
		if j, _ = s.ClaimJob(ctx, "w", time.Minute); j == nil || j.Attempts != 2 {
			t.Fatalf("second attempt: %+v", j)
		}
		clock.Advance(2 * time.Minute)
		buried, err := s.ClaimJob(ctx, "w", time.Minute)
		want := "lease expired on the last attempt (2 of 2): its worker stopped (crash, kill or lost connection) before finishing; earlier: Graph API unavailable"
		if err != nil || buried == nil || buried.State != switchboard.JobDead || buried.LastError != want {
			t.Fatalf("buried: %+v %v", buried, err)
		}
	})
}
