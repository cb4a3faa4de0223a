package automation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/automation"
	"switchboard/store"
	"switchboard/store/storetest"
)

// env is a channel on a real store with the automation service over it.
type env struct {
	t     *testing.T
	s     *store.Store
	svc   *automation.Service
	clock *switchboard.ManualClock
	ch    *switchboard.Channel
	pub   *recorder
	seq   int
	// needs is what Service.NeedsWork answered at ingestion, by message id: handle checks that a
	// message judged to need nothing gets nothing.
	needs map[int64]bool
}

// recorder is a Publisher that keeps what it was given.
type recorder struct {
	mu     sync.Mutex
	events []switchboard.Event
}

func (r *recorder) Publish(_ context.Context, events []switchboard.Event) {
	r.mu.Lock()
	r.events = append(r.events, events...)
	r.mu.Unlock()
}

// each runs fn on both databases with a fresh channel whose settings configure changes, and the clock
// set to start.
func each(t *testing.T, start time.Time, configure func(*switchboard.ChannelSettings), fn func(t *testing.T, e *env)) {
	clock := switchboard.NewManualClock(start)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, s *store.Store) {
		clock.Set(start)
		ch := &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, Name: "Support", PhoneNumber: "+14155550123",
			PhoneNumberID: "106540352242922", BusinessAccountID: "102290129340398", APIKey: "EAAG-secret-token",
			AppSecret: "app-secret", VerifyToken: "verify-token-0123456789", AssignmentMode: switchboard.AssignByLoad,
			DefaultCapacity: 10, Settings: switchboard.DefaultChannelSettings()}
		if configure != nil {
			configure(&ch.Settings)
		}
		if err := s.CreateChannel(t.Context(), ch); err != nil {
			t.Fatal(err)
		}
		pub := &recorder{}
		svc := automation.New(automation.Options{Store: s, Clock: clock, Publisher: pub})
		fn(t, &env{t: t, s: s, svc: svc, clock: clock, ch: ch, pub: pub, needs: map[int64]bool{}})
	})
}

// receive stores a customer message as a webhook would, at the clock's time, and returns the
// inbound job ingestion enqueued for it.
func (e *env) receive(waID string, m *switchboard.Message) switchboard.InboundJob {
	e.t.Helper()
	e.seq++
	at := e.clock.Now()
	m.ExternalID, m.Timestamp = fmt.Sprintf("wamid.T%d", e.seq), &at
	// Every message gets its job here, so that the tests can run it; NeedsWork's answer is recorded.
	needsWork := func(w switchboard.InboundWork) bool {
		e.needs[w.Message.ID] = e.svc.NeedsWork(w)
		return true
	}
	ch, err := e.s.Channel(e.t.Context(), e.ch.ID) // as the webhook reads it (a test may have changed its settings)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.s.IngestInbound(e.t.Context(), ch, &switchboard.InboundBatch{NeedsWork: needsWork, Messages: []switchboard.InboundMessage{
		{WaID: waID, ProfileName: "Customer", ExternalID: m.ExternalID, Timestamp: at, Message: m}}})
	if err != nil || res.Messages != 1 {
		e.t.Fatalf("ingest: %+v %v", res, err)
	}
	jobs, err := e.s.ListJobs(e.t.Context(), store.JobFilter{Kind: switchboard.InboundJobKind})
	if err != nil || len(jobs) == 0 {
		e.t.Fatalf("no inbound job: %v", err)
	}
	var job switchboard.InboundJob
	if err := json.Unmarshal(jobs[0].Payload, &job); err != nil {
		e.t.Fatal(err)
	}
	return job
}

// text receives a typed message and runs its inbound job.
func (e *env) text(waID, body string) (switchboard.InboundJob, automation.Outcome) {
	e.t.Helper()
	job := e.receive(waID, &switchboard.Message{Type: switchboard.TypeText, Text: body})
	return job, e.handle(job)
}

func (e *env) handle(job switchboard.InboundJob) automation.Outcome {
	e.t.Helper()
	out, err := e.svc.HandleInbound(e.t.Context(), job)
	if err != nil {
		e.t.Fatalf("handle %+v: %v", job, err)
	}
	if needs, ok := e.needs[job.MessageID]; ok && !needs && (out.CSATAnswer || out.Keyword != "" || out.Greeted || out.AwaySent) {
		e.t.Errorf("NeedsWork judged message %d to need nothing, but the automations did %+v", job.MessageID, out)
	}
	return out
}

// resolve resolves a conversation now, as the resolve action does, and returns its resolution number.
func (e *env) resolve(convID int64) int {
	e.t.Helper()
	ctx := e.t.Context()
	if _, err := e.s.SQL().ExecContext(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = $1,
		resolutions = resolutions + 1 WHERE id = $2`, e.clock.Now(), convID); err != nil {
		e.t.Fatal(err)
	}
	conv, err := e.s.Conversation(ctx, convID)
	if err != nil {
		e.t.Fatal(err)
	}
	return conv.Resolutions
}

// conversation returns a conversation.
func (e *env) conversation(id int64) *switchboard.Conversation {
	e.t.Helper()
	conv, err := e.s.Conversation(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return conv
}

// automated returns the messages the server sent in a conversation (not activity lines).
func (e *env) automated(convID int64) []*switchboard.Message {
	return e.messages(convID, func(m *switchboard.Message) bool {
		return m.Sender == switchboard.SenderSystem && m.Type != switchboard.TypeActivity
	})
}

// activities returns the conversation's activity lines.
func (e *env) activities(convID int64) []*switchboard.Message {
	return e.messages(convID, func(m *switchboard.Message) bool { return m.Type == switchboard.TypeActivity })
}

func (e *env) messages(convID int64, keep func(*switchboard.Message) bool) []*switchboard.Message {
	e.t.Helper()
	msgs, _, err := e.s.ListMessages(e.t.Context(), convID, "", 200)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*switchboard.Message
	for _, m := range msgs {
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// texts lists the texts of messages.
func texts(msgs []*switchboard.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text
	}
	return out
}
