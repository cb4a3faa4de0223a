package agents_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/agents"
	"switchboard/agents/openaitest"
	"switchboard/store"
	"switchboard/store/storetest"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

const agentKey = "sk-agent-key-7f3a9c"

// env is a runtime over a real store, the fake chat server, and fakes for the lead's handoff and
// typing indicator.
type env struct {
	t        *testing.T
	st       *store.Store
	clock    *switchboard.ManualClock
	ai       *openaitest.Server
	rt       *agents.Runtime
	handoffs *fakeHandoff
	typing   *fakeTyping
	logs     *syncBuffer
	ch       *switchboard.Channel
	agent    *switchboard.AIAgent
	seq      int
}

// each runs fn on SQLite and PostgreSQL with a fresh environment; change edits the AI agent and
// opts the runtime's options before they are used.
func each(t *testing.T, change func(a *switchboard.AIAgent, o *agents.Options), fn func(t *testing.T, e *env)) {
	clock := switchboard.NewManualClock(t0)
	storetest.EachWith(t, storetest.Options{Clock: clock}, func(t *testing.T, st *store.Store) {
		clock.Set(t0)
		fn(t, newEnv(t, st, clock, change))
	})
}

func newEnv(t *testing.T, st *store.Store, clock *switchboard.ManualClock, change func(a *switchboard.AIAgent, o *agents.Options)) *env {
	t.Helper()
	e := &env{t: t, st: st, clock: clock, logs: &syncBuffer{}, typing: &fakeTyping{}}
	e.handoffs = &fakeHandoff{e: e}
	e.ai = openaitest.NewServer(openaitest.Options{APIKey: agentKey})
	t.Cleanup(e.ai.Close)
	e.ch = &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, Name: "Support", PhoneNumber: "+14155550123",
		PhoneNumberID: "106540352242922", BusinessAccountID: "102290129340398", APIKey: "EAAG-token", AppSecret: "app-secret",
		VerifyToken: "verify-token-0123456789", AssignmentMode: switchboard.AssignByLoad, DefaultCapacity: 10,
		Settings: switchboard.DefaultChannelSettings()}
	if err := st.CreateChannel(t.Context(), e.ch); err != nil {
		t.Fatal(err)
	}
	a := &switchboard.AIAgent{Name: "Ava", Model: "gpt-4o-mini", Instructions: "You help customers of Dupont Bikes.",
		Knowledge: "Opening hours: 9:00-18:00, Monday to Saturday.", Temperature: 0.3, BaseURL: e.ai.BaseURL(),
		APIKey: agentKey, Enabled: true, HandoffMessage: "A colleague will take over shortly."}
	opts := agents.Options{Store: st, Handoff: e.handoffs, Typing: e.typing, Clock: clock, Backoff: time.Millisecond,
		HTTPClient: &http.Client{}, DefaultBaseURL: "http://127.0.0.1:1/v1",
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if change != nil {
		change(a, &opts)
	}
	if err := st.CreateAIAgent(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	e.agent = a
	rt, err := agents.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.rt = rt
	return e
}

// customer stores a customer message as the webhook would and returns its conversation and message.
func (e *env) customer(typ, text string) (convID, msgID int64) {
	e.t.Helper()
	e.seq++
	at := e.clock.Now()
	wamid := fmt.Sprintf("wamid.test%04d", e.seq)
	m := &switchboard.Message{Type: typ, Text: text, ExternalID: wamid, Timestamp: &at}
	if typ != switchboard.TypeText {
		m.Media = &switchboard.Media{ExternalID: "media" + wamid, MimeType: "image/jpeg", Status: switchboard.MediaPending}
	}
	batch := &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{{WaID: "33612345678", ProfileName: "Marie",
		ExternalID: wamid, Timestamp: at, Message: m}}}
	if _, err := e.st.IngestInbound(e.t.Context(), e.ch, batch); err != nil {
		e.t.Fatal(err)
	}
	convs, _, err := e.st.ListConversations(e.t.Context(), store.ConversationFilter{})
	if err != nil || len(convs) != 1 {
		e.t.Fatalf("conversations: %v %v", convs, err)
	}
	msgs := e.messages(convs[0].ID)
	return convs[0].ID, msgs[len(msgs)-1].ID
}

// text stores a customer's text message, assigned to the AI agent.
func (e *env) text(s string) (convID, msgID int64) {
	e.t.Helper()
	convID, msgID = e.customer(switchboard.TypeText, s)
	e.assignToAI(convID)
	return convID, msgID
}

// assignToAI gives the conversation to the AI agent, as routing will.
func (e *env) assignToAI(convID int64) {
	e.t.Helper()
	e.exec("UPDATE conversations SET assignee_kind = 'ai', assignee_id = $1, assigned_at = COALESCE(assigned_at, $2) WHERE id = $3",
		e.agent.ID, e.clock.Now(), convID)
}

// exec runs SQL written with $n placeholders on either database.
func (e *env) exec(query string, args ...any) {
	e.t.Helper()
	if e.st.Dialect() == "sqlite" {
		for i := len(args); i >= 1; i-- {
			query = strings.ReplaceAll(query, fmt.Sprintf("$%d", i), "?")
		}
	}
	if _, err := e.st.SQL().ExecContext(e.t.Context(), query, args...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) reply(convID, msgID int64) agents.Result {
	e.t.Helper()
	res, err := e.rt.Reply(e.t.Context(), convID, msgID)
	if err != nil {
		e.t.Fatalf("reply: %v", err)
	}
	return res
}

func (e *env) messages(convID int64) []*switchboard.Message {
	e.t.Helper()
	msgs, _, err := e.st.ListMessages(e.t.Context(), convID, "", 200)
	if err != nil {
		e.t.Fatal(err)
	}
	return msgs
}

// outbound returns the conversation's messages from the AI (text) and the system (activities).
func (e *env) outbound(convID int64) (ai, activities []string) {
	for _, m := range e.messages(convID) {
		switch {
		case m.Sender == switchboard.SenderAI:
			ai = append(ai, m.Text)
		case m.Type == switchboard.TypeActivity:
			activities = append(activities, m.Text)
		}
	}
	return ai, activities
}

// fakeHandoff records handoffs and marks the conversation handed off, as routing does.
type fakeHandoff struct {
	e       *env
	mu      sync.Mutex
	reasons []string
}

func (f *fakeHandoff) HandOff(ctx context.Context, conversationID int64, reason string) error {
	f.mu.Lock()
	f.reasons = append(f.reasons, reason)
	f.mu.Unlock()
	f.e.exec("UPDATE conversations SET ai_handed_off = $1, assignee_kind = '', assignee_id = NULL WHERE id = $2", true, conversationID)
	return nil
}

func (f *fakeHandoff) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reasons...)
}

// fakeTyping records the typing indicators shown.
type fakeTyping struct {
	mu    sync.Mutex
	convs []int64
}

func (f *fakeTyping) Typing(ctx context.Context, conversationID int64) error {
	f.mu.Lock()
	f.convs = append(f.convs, conversationID)
	f.mu.Unlock()
	return nil
}

func (f *fakeTyping) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.convs)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
