package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard"
	"switchboard/pipeline"
	"switchboard/store"
	"switchboard/store/storetest"
)

func startRunner(t *testing.T, opts pipeline.RunnerOptions) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { pipeline.NewRunner(opts).Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunnerNeverRunsAJobTwiceAtOnce runs two pools (as two server processes would) over one
// database: every job runs exactly once, and one key's jobs never overlap and keep their order.
func TestRunnerNeverRunsAJobTwiceAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		const keys, perKey = 6, 15
		var mu sync.Mutex
		runs := map[int64]int{}
		busy := map[string]bool{}
		next := map[string]int{}
		var total atomic.Int64
		handler := func(ctx context.Context, j *switchboard.Job) error {
			var p struct{ Seq int }
			json.Unmarshal(j.Payload, &p)
			mu.Lock()
			if busy[j.Key] {
				t.Errorf("key %s runs two jobs at once", j.Key)
			}
			if p.Seq != next[j.Key] {
				t.Errorf("key %s ran seq %d, want %d", j.Key, p.Seq, next[j.Key])
			}
			busy[j.Key] = true
			runs[j.ID]++
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			busy[j.Key] = false
			next[j.Key] = p.Seq + 1
			mu.Unlock()
			total.Add(1)
			return nil
		}
		opts := pipeline.RunnerOptions{Store: s, Handlers: map[string]pipeline.Handler{"work": handler}, Workers: 4, Lease: 10 * time.Second}
		stop1 := startRunner(t, opts)
		stop2 := startRunner(t, opts)
		for i := 0; i < perKey; i++ {
			for k := 0; k < keys; k++ {
				p, _ := json.Marshal(map[string]int{"seq": i})
				if err := s.EnqueueJob(t.Context(), &switchboard.Job{Kind: "work", Key: fmt.Sprintf("conversation:%d", k), Payload: p}); err != nil {
					t.Fatal(err)
				}
			}
		}
		waitFor(t, "all jobs", func() bool { return total.Load() == keys*perKey })
		stop1()
		stop2()
		for id, n := range runs {
			if n != 1 {
				t.Errorf("job %d ran %d times", id, n)
			}
		}
	})
}

func TestRunnerTakesOverAJobWhoseWorkerDied(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		job := &switchboard.Job{Kind: "work", Key: "k"}
		if err := s.EnqueueJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		// A worker claims the job and dies: it never completes nor extends its lease.
		if j, err := s.ClaimJob(ctx, "crashed-worker", 300*time.Millisecond); err != nil || j == nil {
			t.Fatalf("claim: %v", err)
		}
		var ran atomic.Int32
		stop := startRunner(t, pipeline.RunnerOptions{Store: s, Workers: 2, Lease: 5 * time.Second,
			Handlers: map[string]pipeline.Handler{"work": func(ctx context.Context, j *switchboard.Job) error {
				if j.Attempts != 2 {
					t.Errorf("taken-over job should be on attempt 2, got %d", j.Attempts)
				}
				ran.Add(1)
				return nil
			}}})
		defer stop()
		waitFor(t, "the job to be taken over", func() bool { return ran.Load() == 1 })
		waitFor(t, "the job to be completed", func() bool {
			_, err := s.Job(ctx, job.ID)
			return switchboard.ErrorCode(err) == switchboard.ENOTFOUND
		})
	})
}

func TestRunnerRetriesThenBuriesAFailingJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		var attempts atomic.Int32
		stop := startRunner(t, pipeline.RunnerOptions{Store: s, Workers: 2, Backoff: func(int) time.Duration { return 20 * time.Millisecond },
			Handlers: map[string]pipeline.Handler{
				"flaky": func(ctx context.Context, j *switchboard.Job) error {
					attempts.Add(1)
					return errors.New("graph api unreachable")
				},
				"bad": func(ctx context.Context, j *switchboard.Job) error {
					return pipeline.Permanent(errors.New("payload is nonsense"))
				},
			}})
		defer stop()
		if err := s.EnqueueJob(ctx, &switchboard.Job{Kind: "flaky", Key: "a", MaxAttempts: 4}); err != nil {
			t.Fatal(err)
		}
		if err := s.EnqueueJob(ctx, &switchboard.Job{Kind: "bad", Key: "b"}); err != nil {
			t.Fatal(err)
		}
		if err := s.EnqueueJob(ctx, &switchboard.Job{Kind: "unknown-kind"}); err != nil {
			t.Fatal(err)
		}
		var dead []*switchboard.Job
		waitFor(t, "three dead jobs", func() bool {
			dead, _ = s.ListJobs(ctx, store.JobFilter{State: switchboard.JobDead})
			return len(dead) == 3
		})
		if attempts.Load() != 4 {
			t.Fatalf("flaky job tried %d times, want 4", attempts.Load())
		}
		byKind := map[string]*switchboard.Job{}
		for _, j := range dead {
			byKind[j.Kind] = j
		}
		if byKind["flaky"].LastError != "graph api unreachable" || byKind["bad"].Attempts != 1 || byKind["unknown-kind"] == nil {
			t.Fatalf("dead jobs: %+v", byKind)
		}
	})
}

func TestRunnerShutdownLetsRunningJobsFinish(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		started := make(chan struct{})
		release := make(chan struct{})
		var finished atomic.Bool
		stop := startRunner(t, pipeline.RunnerOptions{Store: s, Workers: 1, Handlers: map[string]pipeline.Handler{
			"slow": func(ctx context.Context, j *switchboard.Job) error {
				close(started)
				<-release
				if ctx.Err() != nil {
					t.Error("shutdown must not cancel a running job")
				}
				finished.Store(true)
				return nil
			}}})
		if err := s.EnqueueJob(ctx, &switchboard.Job{Kind: "slow"}); err != nil {
			t.Fatal(err)
		}
		<-started
		stopped := make(chan struct{})
		go func() { stop(); close(stopped) }()
		select {
		case <-stopped:
			t.Fatal("Run returned while a job was still running")
		case <-time.After(100 * time.Millisecond):
		}
		close(release)
		<-stopped
		if !finished.Load() {
			t.Fatal("job did not finish")
		}
		if jobs, _ := s.ListJobs(ctx, store.JobFilter{}); len(jobs) != 0 {
			t.Fatalf("the finished job must be completed before shutdown ends: %+v", jobs[0])
		}
	})
}

// TestRunnerWakesAWorkerPerJob: jobs committed together wake as many idle workers as there are jobs,
// so that they run side by side at once (each handler here waits until all are running), and a
// transaction's jobs are never left to one worker.
func TestRunnerWakesAWorkerPerJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		const workers = 4
		var running atomic.Int32
		all := make(chan struct{})
		var once sync.Once
		var done atomic.Int32
		stop := startRunner(t, pipeline.RunnerOptions{Store: s, Workers: workers, Lease: 10 * time.Second, MaxIdle: time.Hour,
			Handlers: map[string]pipeline.Handler{switchboard.MediaJobKind: func(ctx context.Context, j *switchboard.Job) error {
				if running.Add(1) == workers {
					once.Do(func() { close(all) })
				}
				select {
				case <-all:
				case <-time.After(10 * time.Second):
					t.Errorf("job %d: the %d jobs did not all run at once (%d running)", j.ID, workers, running.Load())
				}
				done.Add(1)
				return nil
			}}})
		defer stop()
		time.Sleep(50 * time.Millisecond) // the workers are idle, waiting for a signal (MaxIdle is an hour)
		// One webhook with a photo from each of four customers: one commit, a download job for each.
		ch := &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, Name: "Support", PhoneNumber: "+14155550123",
			PhoneNumberID: "106540352242922", BusinessAccountID: "102290129340398", APIKey: "EAAG-token", AppSecret: "secret",
			VerifyToken: "verify-token-0123456789", AssignmentMode: switchboard.AssignByLoad, DefaultCapacity: 10, Settings: switchboard.DefaultChannelSettings()}
		if err := s.CreateChannel(t.Context(), ch); err != nil {
			t.Fatal(err)
		}
		batch := &switchboard.InboundBatch{}
		for i := 0; i < workers; i++ {
			wamid := fmt.Sprintf("wamid.photo%d", i)
			batch.Messages = append(batch.Messages, switchboard.InboundMessage{WaID: fmt.Sprintf("3361234567%d", i), ProfileName: "Customer",
				ExternalID: wamid, Timestamp: time.Now(), Message: &switchboard.Message{Type: "image", ExternalID: wamid,
					Media: &switchboard.Media{ExternalID: fmt.Sprintf("12345678901234%d", i), MimeType: "image/jpeg", Status: switchboard.MediaPending}}})
		}
		if _, err := s.IngestInbound(t.Context(), ch, batch); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the jobs", func() bool { return done.Load() == workers })
	})
}

// TestRunnerBuriesASendWhoseWorkerKeepsDying: a send job whose worker dies on every attempt (killed,
// out of memory) is buried by the claim after its last attempt's lease expires; the runner calls the
// send job's Buried hook, so its message ends visibly failed (with a message.updated event) instead of
// queued forever, and the conversation's next reply is sent.
func TestRunnerBuriesASendWhoseWorkerKeepsDying(t *testing.T) {
	clock := switchboard.NewManualClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		f := newMediaFixture(t, s)
		now := clock.Now()
		in := switchboard.InboundMessage{WaID: "33612345678", ProfileName: "Marie", ExternalID: "wamid.hello", Timestamp: now,
			Message: &switchboard.Message{Type: switchboard.TypeText, Text: "hello", ExternalID: "wamid.hello", Timestamp: &now}}
		if _, err := s.IngestInbound(ctx, f.ch, &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{in}}); err != nil {
			t.Fatal(err)
		}
		for { // the inbound work is not under test: done
			j, err := s.ClaimJob(ctx, "setup", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if j == nil {
				break
			}
			if err := s.CompleteJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		convs, _, err := s.ListConversations(ctx, store.ConversationFilter{})
		if err != nil || len(convs) != 1 {
			t.Fatalf("conversations: %v %v", convs, err)
		}
		var replies []*switchboard.Message
		for _, text := range []string{"first reply", "second reply"} {
			m, _, err := s.QueueOutbound(ctx, &switchboard.Message{ConversationID: convs[0].ID, Sender: switchboard.SenderSystem,
				Type: switchboard.TypeText, Text: text})
			if err != nil {
				t.Fatal(err)
			}
			replies = append(replies, m)
		}
		// The first reply's worker dies on every attempt: nothing reports, the leases expire.
		for attempt := 1; attempt <= switchboard.SendMaxAttempts; attempt++ {
			j, err := s.ClaimJob(ctx, "doomed-worker", 30*time.Second)
			if err != nil || j == nil || j.Kind != switchboard.SendJobKind || j.Attempts != attempt {
				t.Fatalf("attempt %d: %+v %v", attempt, j, err)
			}
			clock.Advance(31 * time.Second)
		}
		sender := pipeline.NewSender(pipeline.SenderOptions{Store: s, Graph: &pipeline.Graph{Meta: f.client}, Clock: clock, Publisher: f.events})
		var handled atomic.Int32
		stop := startRunner(t, pipeline.RunnerOptions{Store: s, Workers: 2, Lease: 10 * time.Second, Clock: clock,
			Handlers: map[string]pipeline.Handler{switchboard.SendJobKind: func(ctx context.Context, j *switchboard.Job) error {
				handled.Add(1)
				return sender.Handle(ctx, j)
			}},
			Buried: map[string]pipeline.Handler{switchboard.SendJobKind: sender.Buried}})
		defer stop()
		waitFor(t, "the second reply to be sent", func() bool {
			m, err := s.Message(ctx, replies[1].ID)
			return err == nil && m.Status == switchboard.MsgSent
		})
		waitFor(t, "the first reply to fail", func() bool {
			m, err := s.Message(ctx, replies[0].ID)
			return err == nil && m.Status == switchboard.MsgFailed
		})
		first, _ := s.Message(ctx, replies[0].ID)
		if first.Error == nil || first.Error.Title == "" || first.ExternalID != "" {
			t.Fatalf("the buried reply must say why it failed: %+v", first)
		}
		if n := handled.Load(); n != 1 {
			t.Fatalf("only the second reply's job runs, got %d runs", n)
		}
		if sent := f.fake.Sent(); len(sent) != 1 || sent[0].Message.Text == nil || sent[0].Message.Text.Body != "second reply" {
			t.Fatalf("sent: %+v", sent)
		}
		failedEvent := false
		for _, ev := range f.events.take() {
			if ev.Type == switchboard.EventMessageUpdated && ev.ConversationID == convs[0].ID && strings.Contains(string(ev.Data), `"failed"`) {
				failedEvent = true
			}
		}
		if !failedEvent {
			t.Fatal("the failure must be published to the agents")
		}
		dead, err := s.ListJobs(ctx, store.JobFilter{State: switchboard.JobDead})
		if err != nil || len(dead) != 1 || dead[0].Kind != switchboard.SendJobKind || !strings.Contains(dead[0].LastError, "lease expired") {
			t.Fatalf("dead jobs: %+v %v", dead, err)
		}
	})
}
