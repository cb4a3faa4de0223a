// Package agents is the AI agent runtime. When an AI agent owns a conversation and the customer
// writes, Reply builds the context (instructions, knowledge, recent history), asks an
// OpenAI-compatible chat API through go-openai, and queues the answer on the one outbound path as
// sender "ai". Whenever a person should take over, it hands the conversation off instead:
//
//	inbound job ─▶ Reply ─▶ owner? window open? asked for a person? turn limit? readable?
//	   ─▶ Typing ─▶ chat completion with the handoff_to_human tool (timeout; 429/5xx retried)
//	   ─▶ QueueOutbound(answer)
//	   └▶ handoff: QueueOutbound(handoff message) ─▶ LogActivity(reason) ─▶ Handoff.HandOff
//
// One run per conversation at a time: Reply is called from the conversation's inbound job, and the
// job runner runs the jobs of one conversation (key "conversation:<id>") one at a time, in order, on
// every replica. Runtime also serialises runs of one conversation inside the process, for callers
// that bypass the runner. A retried job is safe: answers carry a client id, so nothing is sent twice.
package agents

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"switchboard"
)

// Store is the storage the runtime needs.
type Store interface {
	AIAgent(ctx context.Context, id int64) (*switchboard.AIAgent, error)
	Conversation(ctx context.Context, id int64) (*switchboard.Conversation, error)
	Message(ctx context.Context, id int64) (*switchboard.Message, error)
	ListMessages(ctx context.Context, conversationID int64, cursor string, limit int) ([]*switchboard.Message, string, error)
	CountAIReplies(ctx context.Context, conversationID int64, since time.Time) (int, error)
	QueueOutbound(ctx context.Context, m *switchboard.Message) (*switchboard.Message, []switchboard.Event, error)
	LogActivity(ctx context.Context, conversationID int64, text, clientID string) (*switchboard.Message, []switchboard.Event, error)
}

// Handoff gives a conversation from the AI agent to the people step of assignment; afterwards the AI
// does not answer it again unless it is assigned back.
type Handoff interface {
	HandOff(ctx context.Context, conversationID int64, reason string) error
}

// Typing shows the customer WhatsApp's typing indicator while the AI thinks.
type Typing interface {
	Typing(ctx context.Context, conversationID int64) error
}

// Publisher delivers committed events to the agents' screens.
type Publisher interface {
	Publish(ctx context.Context, events []switchboard.Event)
}

// Options configure New. Store and Handoff are required.
type Options struct {
	Store     Store
	Handoff   Handoff
	Typing    Typing
	Publisher Publisher
	// HTTPClient calls the chat API (default: a plain client; the agent's timeout bounds each run).
	HTTPClient *http.Client
	// DefaultBaseURL and DefaultAPIKey serve agents that leave theirs empty
	// (SWITCHBOARD_OPENAI_BASE_URL and SWITCHBOARD_OPENAI_API_KEY).
	DefaultBaseURL string
	DefaultAPIKey  string
	Clock          switchboard.Clock
	Logger         *slog.Logger
	// Retries is how often a 429, 5xx or network failure is retried (default 2; negative: none),
	// waiting Backoff (default 1s) and then twice as long each time.
	Retries int
	Backoff time.Duration
	// DefaultTimeout bounds a run whose agent has no timeout_seconds (default 30s).
	DefaultTimeout time.Duration
	// HistoryChars and HistoryMessages bound the history sent to the model (default 12,000 and 40).
	HistoryChars    int
	HistoryMessages int
}

// Outcome is what Reply did.
type Outcome string

// The outcomes of Reply.
const (
	Answered  Outcome = "answered"
	HandedOff Outcome = "handed_off"
	Skipped   Outcome = "skipped"
)

// Result tells what Reply did and why. Message is the message queued for the customer, if any (the
// answer, the unreadable-message reply, or the handoff message).
type Result struct {
	Outcome Outcome
	Reason  Reason
	Detail  string
	Message *switchboard.Message
}

// Runtime answers customers for AI agents. It is safe for concurrent use.
type Runtime struct {
	store     Store
	handoff   Handoff
	typing    Typing
	publisher Publisher
	http      *http.Client
	baseURL   string
	apiKey    string
	clock     switchboard.Clock
	log       *slog.Logger
	retries   int
	backoff   time.Duration
	timeout   time.Duration
	histChars int
	histMsgs  int
	locks     keyedLock
	noTools   sync.Map // base URL + model → true when the server refused tools
}

// New returns a runtime.
func New(opts Options) (*Runtime, error) {
	if opts.Store == nil || opts.Handoff == nil {
		return nil, errors.New("agents: Store and Handoff are required")
	}
	r := &Runtime{store: opts.Store, handoff: opts.Handoff, typing: opts.Typing, publisher: opts.Publisher, http: opts.HTTPClient,
		baseURL: opts.DefaultBaseURL, apiKey: opts.DefaultAPIKey, clock: opts.Clock, log: opts.Logger, retries: opts.Retries,
		backoff: opts.Backoff, timeout: opts.DefaultTimeout, histChars: opts.HistoryChars, histMsgs: opts.HistoryMessages}
	if r.http == nil {
		r.http = &http.Client{}
	}
	if r.baseURL == "" {
		r.baseURL = "https://api.openai.com/v1"
	}
	if r.clock == nil {
		r.clock = switchboard.SystemClock{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case r.retries == 0:
		r.retries = 2
	case r.retries < 0:
		r.retries = 0
	}
	if r.backoff <= 0 {
		r.backoff = time.Second
	}
	if r.timeout <= 0 {
		r.timeout = 30 * time.Second
	}
	if r.histChars <= 0 {
		r.histChars = 12000
	}
	if r.histMsgs <= 0 {
		r.histMsgs = 40
	}
	r.locks.m = map[int64]chan struct{}{}
	return r, nil
}

func (r *Runtime) publish(ctx context.Context, events []switchboard.Event) {
	if r.publisher != nil && len(events) > 0 {
		r.publisher.Publish(ctx, events)
	}
}

// keyedLock lets one goroutine at a time hold a key; others wait (or give up with their context).
type keyedLock struct {
	mu sync.Mutex
	m  map[int64]chan struct{}
}

func (k *keyedLock) lock(ctx context.Context, key int64) (func(), error) {
	for {
		k.mu.Lock()
		held, busy := k.m[key]
		if !busy {
			done := make(chan struct{})
			k.m[key] = done
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.m, key)
				k.mu.Unlock()
				close(done)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
