package graphtest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"switchboard/whatsapp"
)

const (
	testPNID    = "109876543210987"
	testWABA    = "210987654321098"
	testDisplay = "15550001234"
	testToken   = "EAAG-test-token"
	testSecret  = "app-secret-0123"
	customer    = "4915112345678"
)

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// delivery is one webhook POST the receiver got, already verified and parsed.
type delivery struct {
	Body    []byte
	Header  http.Header
	Webhook *whatsapp.Webhook
}

// receiver is the test's webhook endpoint: it checks every signature with whatsapp.VerifySignature and
// can refuse the first posts to exercise the fake's retries.
type receiver struct {
	*httptest.Server
	t       *testing.T
	mu      sync.Mutex
	got     []delivery
	refuse  int
	arrived chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, arrived: make(chan struct{}, 1024)}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := whatsapp.VerifySignature(body, r.Header.Get(whatsapp.SignatureHeader), testSecret); err != nil {
		rc.t.Errorf("webhook signature: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	wh, err := whatsapp.ParseWebhook(body)
	if err != nil {
		rc.t.Errorf("webhook body: %v", err)
	}
	rc.mu.Lock()
	rc.got = append(rc.got, delivery{Body: body, Header: r.Header.Clone(), Webhook: wh})
	refuse := rc.refuse > 0
	if refuse {
		rc.refuse--
	}
	rc.mu.Unlock()
	rc.arrived <- struct{}{}
	if refuse {
		http.Error(w, "try later", http.StatusInternalServerError)
	}
}

// wait returns the first n deliveries, failing the test after a few seconds.
func (rc *receiver) wait(n int) []delivery {
	rc.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		rc.mu.Lock()
		if len(rc.got) >= n {
			out := append([]delivery(nil), rc.got[:n]...)
			rc.mu.Unlock()
			return out
		}
		rc.mu.Unlock()
		select {
		case <-rc.arrived:
		case <-timeout:
			rc.t.Fatalf("waited for %d webhooks, got %d", n, rc.count())
		}
	}
}

// refuseNext makes the receiver answer 500 to its next n posts.
func (rc *receiver) refuseNext(n int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.refuse = n
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// statuses flattens the statuses of the deliveries.
func statuses(ds []delivery) []whatsapp.Status {
	var out []whatsapp.Status
	for _, d := range ds {
		for _, c := range d.Webhook.Changes {
			out = append(out, c.Statuses...)
		}
	}
	return out
}

// harness is a fake served over HTTP, a real client pointed at it and a webhook receiver.
type harness struct {
	fake   *Server
	srv    *httptest.Server
	client *whatsapp.Client
	hooks  *receiver
	clock  *testClock
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{clock: &testClock{now: time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)}, hooks: newReceiver(t)}
	if opts.Clock == nil {
		opts.Clock = h.clock.Now
	}
	if opts.WebhookRetryDelay == 0 {
		opts.WebhookRetryDelay = 5 * time.Millisecond
	}
	h.fake = New(opts)
	t.Cleanup(h.fake.Close)
	h.fake.RegisterNumber(Number{PhoneNumberID: testPNID, DisplayPhoneNumber: testDisplay, WABAID: testWABA,
		Token: testToken, AppSecret: testSecret, WebhookURL: h.hooks.URL + "/webhooks/whatsapp/1"})
	h.srv = httptest.NewServer(h.fake)
	t.Cleanup(h.srv.Close)
	h.client = whatsapp.NewClient(whatsapp.ClientOptions{HTTPClient: h.srv.Client(), BaseURL: h.srv.URL, Version: "v25.0"})
	return h
}

func (h *harness) sendText(ctx context.Context, text string) (whatsapp.SendResult, error) {
	return h.client.Send(ctx, testToken, testPNID, whatsapp.OutboundMessage{To: customer, Text: &whatsapp.Text{Body: text}})
}
