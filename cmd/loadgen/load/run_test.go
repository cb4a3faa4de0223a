package load

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/whatsapp"
)

// flakyEndpoint answers 503 to the first delivery of each body and 200 to the next, checking the
// signature like the real endpoint; it counts what it saw.
type flakyEndpoint struct {
	secret string
	mu     sync.Mutex
	seen   map[string]int
	bad    int
}

func (f *flakyEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if whatsapp.VerifySignature(body, r.Header.Get(whatsapp.SignatureHeader), f.secret) != nil {
		f.mu.Lock()
		f.bad++
		f.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	f.seen[string(body)]++
	n := f.seen[string(body)]
	f.mu.Unlock()
	if n == 1 {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// TestSendersRetryUntilAcknowledged: a webhook refused with a 5xx is sent again, with the same bytes,
// until it gets a 200; every generated message ends up acknowledged exactly once, and the counters
// add up.
func TestSendersRetryUntilAcknowledged(t *testing.T) {
	ep := &flakyEndpoint{secret: testNumber.AppSecret, seen: map[string]int{}}
	hs := httptest.NewServer(ep)
	defer hs.Close()
	env := &Env{API: NewAPI(hs.URL, nil), Number: testNumber, WebhookURL: hs.URL + "/webhooks/whatsapp/1"}
	r := &runner{cfg: Config{Retry: true, RecordAcked: true}, env: env, track: &tracker{agents: 1}, http: hs.Client(),
		retry: make(chan *Webhook, 1024), statuses: make(chan *Webhook, 16), outbound: NewRing(4), waiting: map[*Webhook]bool{}}
	start := time.Now()
	r.windowStart.Store(start.UnixNano())
	r.mainEnd.Store(start.Add(time.Hour).UnixNano())

	mainCtx, stopMain := context.WithCancel(t.Context())
	drainCtx, stopDrain := context.WithTimeout(t.Context(), 30*time.Second)
	defer stopDrain()
	tokens := make(chan struct{}, 64)
	for range 40 {
		tokens <- struct{}{}
	}
	var wg sync.WaitGroup
	for i := range 4 {
		g := NewGenerator(testNumber, Contacts(10, "4930"), Mix{KindText: 3, KindReaction: 1}, nil, r.outbound, uint64(i+1))
		wg.Add(1)
		go func() { defer wg.Done(); r.sender(mainCtx, drainCtx, g, tokens) }()
	}
	for len(tokens) > 0 {
		time.Sleep(5 * time.Millisecond)
	}
	stopMain()
	wg.Wait()
	r.giveUpQueued()

	res := r.result(start)
	if ep.bad != 0 {
		t.Fatalf("%d webhooks were not signed with the app secret", ep.bad)
	}
	if res.Acked != 40 || res.Messages != 40 || res.Unacked != 0 || res.Attempts != 80 || res.Errors["503"] != 40 {
		t.Fatalf("acked %d, messages %d, unacked %d, attempts %d, errors %v; want 40, 40, 0, 80, 503: 40",
			res.Acked, res.Messages, res.Unacked, res.Attempts, res.Errors)
	}
	for body, n := range ep.seen {
		if n != 2 {
			t.Fatalf("a body was delivered %d times, want 2: %.80s", n, body)
		}
	}
	tracked := 0
	for _, k := range res.Kinds {
		if k.Kind == string(KindText) {
			tracked = int(k.Count)
		}
	}
	if len(res.AckedIDs) != tracked || len(res.UnackedIDs) != 0 {
		t.Fatalf("%d acked ids for %d text messages; %d unacked ids", len(res.AckedIDs), tracked, len(res.UnackedIDs))
	}
	if res.Ack.Count != 40 {
		t.Fatalf("ack latency samples: %d", res.Ack.Count)
	}
}

// TestDrainEndGivesUp: webhooks still failing when the drain ends are counted as unacknowledged,
// whether they wait for their retry time or sit in the queue, and their wamids are reported.
func TestDrainEndGivesUp(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer hs.Close()
	env := &Env{API: NewAPI(hs.URL, nil), Number: testNumber, WebhookURL: hs.URL}
	r := &runner{cfg: Config{Retry: true, RecordAcked: true}, env: env, track: &tracker{agents: 1}, http: hs.Client(),
		retry: make(chan *Webhook, 1024), statuses: make(chan *Webhook, 16), outbound: NewRing(4), waiting: map[*Webhook]bool{}}
	start := time.Now()
	r.windowStart.Store(start.UnixNano())
	r.mainEnd.Store(start.Add(time.Hour).UnixNano())
	mainCtx, stopMain := context.WithCancel(t.Context())
	stopMain()
	drainCtx, stopDrain := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer stopDrain()
	g := NewGenerator(testNumber, Contacts(3, "4931"), Mix{KindText: 1}, nil, r.outbound, 5)
	for range 5 {
		r.post(drainCtx, g.Next())
	}
	r.sender(mainCtx, drainCtx, g, nil)
	r.giveUpQueued()
	res := r.result(start)
	if res.Acked != 0 || res.Unacked != 5 || len(res.UnackedIDs) != 5 || res.Errors["500"] < 5 {
		t.Fatalf("acked %d, unacked %d (%d ids), errors %v", res.Acked, res.Unacked, len(res.UnackedIDs), res.Errors)
	}
	if r.pending.Load() != 0 || len(r.waiting) != 0 {
		t.Fatalf("%d still pending", r.pending.Load())
	}
}

// TestSettleWaitsForTheInboundQueue: the window waits while the server lists a queued inbound job,
// opens once the list is empty, and does not wait on a queue it cannot read.
func TestSettleWaitsForTheInboundQueue(t *testing.T) {
	var polls atomic.Int32
	queued := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/jobs" || r.URL.Query().Get("state") != "queued" || r.URL.Query().Get("kind") != "inbound" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if polls.Add(1) <= 2 {
			io.WriteString(w, `{"data":[{"id":7,"kind":"inbound","state":"queued"}],"next_cursor":""}`)
			return
		}
		io.WriteString(w, `{"data":[],"next_cursor":""}`)
	}))
	defer queued.Close()
	if waited, ok := settle(t.Context(), NewAPI(queued.URL, nil), time.Minute, t.Logf); !ok || polls.Load() != 3 {
		t.Fatalf("settle: waited %s, settled %v, %d polls", waited, ok, polls.Load())
	}

	var refused atomic.Int32
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refused.Add(1)
		http.Error(w, `{"error":{"code":"forbidden","message":"Admins only."}}`, http.StatusForbidden)
	}))
	defer forbidden.Close()
	if waited, ok := settle(t.Context(), NewAPI(forbidden.URL, nil), time.Minute, t.Logf); ok || refused.Load() != 1 {
		t.Fatalf("an unreadable queue: waited %s, settled %v, %d requests", waited, ok, refused.Load())
	}
}
