// Package graphtest is a fake of Meta's Graph API for WhatsApp, faithful enough for the real
// whatsapp.Client: tests, the in-server sandbox and the load generator talk to it instead of Meta.
//
//	client ──POST /{v}/{phone-number-id}/messages──▶ Server ── validates like Meta, records, answers wamid
//	                                                   │
//	   webhook endpoint ◀──signed status webhooks──────┘ (sent → delivered → read, async, retried)
//	   webhook endpoint ◀──Deliver(Inbound(TextMessage(...)))── tests play the customer
//
// A Server is an http.Handler: wrap it with httptest.NewServer or mount it under a prefix with
// http.StripPrefix. It also serves media (GET/POST/DELETE and an expiring, token-checked download URL),
// template listing with cursor paging, and injected failures with Meta's error bodies.
package graphtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"switchboard/whatsapp"
)

// Options configures a Server. The zero value works.
type Options struct {
	// Clock stamps webhooks, statuses and media URL expiry; nil means time.Now.
	Clock func() time.Time
	// HTTPClient posts webhooks; nil means a client with a 10-second timeout.
	HTTPClient *http.Client
	// Logger receives the fake's own log lines; nil discards them. Tokens are never logged.
	Logger *slog.Logger
	// StatusDelay is waited before each status webhook of a send; 0 posts them at once (then, as with
	// Meta, a status may arrive before the send's HTTP answer has been read).
	StatusDelay time.Duration
	// BaseURL is the fake's external root including any mount prefix (http://host:port/sandbox/graph),
	// used in paging links and media URLs. Empty derives it from each request's Host and path.
	BaseURL string
	// MediaURLTTL is how long a media download URL works; 0 means 5 minutes, like Meta's.
	MediaURLTTL time.Duration
	// WebhookAttempts is how many times a webhook POST is tried before it is dropped; 0 means 3.
	WebhookAttempts int
	// WebhookRetryDelay is the wait before the first retry, doubled for each next one; 0 means 100 ms.
	WebhookRetryDelay time.Duration
	// OmitConversation leaves statuses[].conversation out, like webhooks of v24.0 and later.
	OmitConversation bool
	// Keep bounds how many of the latest accepted sends, refused sends and read receipts are kept for
	// Sent, Rejected and ReadReceipts; 0 keeps every one (tests). A long-running sandbox sets it.
	Keep int
}

// Number is a business phone number the fake knows, with its credentials and webhook endpoint.
type Number struct {
	PhoneNumberID      string
	DisplayPhoneNumber string
	WABAID             string
	// Token is the bearer token sends for this number must carry.
	Token string
	// AppSecret signs the webhooks posted for this number.
	AppSecret string
	// WebhookURL receives status webhooks and Deliver posts; empty means none are posted.
	WebhookURL string
}

// Server is the fake Graph API. All methods are safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool // set by Close; no webhook goroutine starts after it
	numbers   map[string]Number
	sent      []SentMessage
	rejected  []RejectedSend
	seq       int // numbers send requests, accepted or rejected
	accepted  int // accepted sends, whether kept or not
	reads     []ReadReceipt
	changed   chan struct{} // closed and replaced whenever sent grows
	templates map[string][]json.RawMessage
	media     map[string]*mediaItem
	links     map[string]mediaLink
	faults    faults
}

// New returns a Server with defaults filled in. Call Close to stop its background webhooks.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MediaURLTTL <= 0 {
		opts.MediaURLTTL = 5 * time.Minute
	}
	if opts.WebhookAttempts <= 0 {
		opts.WebhookAttempts = 3
	}
	if opts.WebhookRetryDelay <= 0 {
		opts.WebhookRetryDelay = 100 * time.Millisecond
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	s := &Server{opts: opts, log: opts.Logger.With("component", "graphtest"), numbers: map[string]Number{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.resetLocked()
	return s
}

// Close stops pending status webhooks and waits for their goroutines. The handler keeps answering.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// RegisterNumber adds a number (or replaces the one with the same PhoneNumberID).
func (s *Server) RegisterNumber(n Number) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.numbers[n.PhoneNumberID] = n
}

// Number returns the registered number with that id.
func (s *Server) Number(phoneNumberID string) (Number, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.numbers[phoneNumberID]
	return n, ok
}

// Reset forgets sends (accepted and rejected), read receipts, media, templates and every injected failure, latency and
// status flow; registered numbers stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

func (s *Server) resetLocked() {
	s.sent, s.rejected, s.reads, s.seq, s.accepted = nil, nil, nil, 0, 0
	if s.changed != nil {
		close(s.changed)
	}
	s.changed = make(chan struct{})
	s.templates = map[string][]json.RawMessage{}
	s.media = map[string]*mediaItem{}
	s.links = map[string]mediaLink{}
	s.faults = faults{flow: defaultFlow(), asyncFailures: map[string]int{}}
}

// ServeHTTP routes like graph.facebook.com: /{version}/{phone-number-id}/messages and /media,
// /{version}/{media-id}, /{version}/{waba-id}/message_templates and the media download URL.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	latency, down := s.conditions()
	if latency > 0 {
		// Read the body first: only then does net/http notice a caller that gives up and cancel r's
		// context, which ends the wait early.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxUpload+1<<20))
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	if down {
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(segs) == 2 && segs[0] == "whatsapp_business" && segs[1] == "attachments" && r.Method == http.MethodGet:
		s.handleDownload(w, r)
	case len(segs) < 2 || len(segs) > 3 || !strings.HasPrefix(segs[0], "v"):
		s.writeError(w, apiError(100, "Unknown path components: "+r.URL.Path, ""))
	case len(segs) == 3 && segs[2] == "messages" && r.Method == http.MethodPost:
		s.handleMessages(w, r, segs[1])
	case len(segs) == 3 && segs[2] == "media" && r.Method == http.MethodPost:
		s.handleUpload(w, r, segs[1])
	case len(segs) == 3 && segs[2] == "message_templates" && r.Method == http.MethodGet:
		s.handleTemplates(w, r, segs[0], segs[1])
	case len(segs) == 2 && r.Method == http.MethodGet:
		s.handleGetMedia(w, r, segs[1])
	case len(segs) == 2 && r.Method == http.MethodDelete:
		s.handleDeleteMedia(w, r, segs[1])
	default:
		s.writeError(w, unsupported(r.Method, segs[1]))
	}
}

// bearer returns the request's access token (Authorization header or access_token query).
func bearer(r *http.Request) string {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(tok)
	}
	return r.URL.Query().Get("access_token")
}

func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// invalidToken is Meta's answer to a missing or wrong token.
func invalidToken() *whatsapp.GraphError {
	return apiError(190, "Invalid OAuth access token - Cannot parse access token", "")
}

// unsupported is Meta's answer for an object that does not exist or is not the caller's.
func unsupported(method, id string) *whatsapp.GraphError {
	ge := apiError(100, "Unsupported "+strings.ToLower(method)+" request. Object with ID '"+id+
		"' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", "")
	ge.Type, ge.Subcode = "GraphMethodException", 33
	return ge
}

// apiError is Meta's answer for code (title, HTTP status and flags from whatsapp.ErrorForCode) with
// the given message ("" keeps "(#code) title") and error_data.details.
func apiError(code int, message, details string) *whatsapp.GraphError {
	ge := whatsapp.ErrorForCode(code)
	if message != "" {
		ge.Message = message
	}
	ge.Details = details
	return ge
}

// writeError answers with Meta's error body and a fresh fbtrace_id, and returns the error answered.
func (s *Server) writeError(w http.ResponseWriter, ge *whatsapp.GraphError) *whatsapp.GraphError {
	e := *ge
	e.FBTraceID = "A" + rand.Text()[:22]
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.HTTPStatus)
	w.Write(e.Body())
	return &e
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// externalBase is the fake's root as the caller sees it, for absolute links.
func (s *Server) externalBase(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	// Mounted behind http.StripPrefix, RequestURI still holds the prefix that URL.Path lost.
	prefix, _, _ := strings.Cut(r.RequestURI, "?")
	if esc := r.URL.EscapedPath(); strings.HasSuffix(prefix, esc) {
		prefix = strings.TrimSuffix(prefix, esc)
	} else {
		prefix = ""
	}
	return scheme + "://" + r.Host + prefix
}
