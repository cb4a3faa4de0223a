package graphtest

import (
	"slices"
	"strings"
	"time"
	"unicode"

	"switchboard/whatsapp"
)

// faults holds the injected failures and the status flow; guarded by Server.mu.
type faults struct {
	failNext      int
	failNextCode  int
	failUntil     time.Time
	failForCode   int
	latency       time.Duration
	down          bool
	asyncFailures map[string]int // recipient digits → error code of the failed status
	flow          []string
}

func defaultFlow() []string {
	return []string{whatsapp.StatusSent, whatsapp.StatusDelivered, whatsapp.StatusRead}
}

// FailNext makes the next n sends (POST /messages with a message; read receipts are not counted)
// fail with code. Graph codes get Meta's body from whatsapp.ErrorForCode and a plausible HTTP status
// (130429 → 429, 131047/131026/132000/132001 → 400, 190 → 401, 131000 → 500 ...); codes 500–599 are
// plain HTTP errors with a non-JSON body, like an outage in front of the API. Rejected lists the
// sends refused this way.
func (s *Server) FailNext(n int, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failNext, s.faults.failNextCode = max(n, 0), code
}

// FailFor makes every send fail with code (as FailNext does) until d has passed on the Clock.
func (s *Server) FailFor(d time.Duration, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failUntil, s.faults.failForCode = s.opts.Clock().Add(d), code
}

// SetLatency delays every answer by d (0 removes the delay); a caller's timeout cuts it short.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.latency = d
}

// Down makes every route answer a plain 503 while down is true.
func (s *Server) Down(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.down = down
}

// SetAsyncFailure makes sends to the recipient to (any spelling: "+49 151…" or digits) be accepted and
// then followed by a failed status webhook carrying code (e.g. 131047, 131026), instead of the status
// flow. Code 0 removes the rule.
func (s *Server) SetAsyncFailure(to string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.faults.asyncFailures, waID(to))
		return
	}
	s.faults.asyncFailures[waID(to)] = code
}

// SetStatusFlow chooses the status webhooks that follow an accepted send, in order: e.g. "sent";
// "sent", "delivered"; nothing for none. Values are posted as given, so an unknown status can be
// played too. Reactions only ever get "sent", as with Meta. The default is sent, delivered, read.
func (s *Server) SetStatusFlow(statuses ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.flow = slices.Clone(statuses)
}

// conditions returns the latency and outage that apply to every request.
func (s *Server) conditions() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.latency, s.faults.down
}

// takeFailure consumes an injected send failure, returning its code or 0.
func (s *Server) takeFailure() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.failNext > 0 {
		s.faults.failNext--
		return s.faults.failNextCode
	}
	if s.opts.Clock().Before(s.faults.failUntil) {
		return s.faults.failForCode
	}
	return 0
}

// plainFailure reports whether an injected code is an HTTP status (500–599) answered with a plain,
// non-JSON body, like an outage in front of the API, rather than a Graph error code.
func plainFailure(code int) bool { return code >= 500 && code <= 599 }

// waID reduces a recipient to the digits Meta answers as wa_id ("+49 (151) 123-4" → "491511234");
// values with letters, such as BSUIDs, stay as they are.
func waID(to string) string {
	to = strings.TrimSpace(to)
	var b strings.Builder
	for _, r := range to {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case unicode.IsLetter(r):
			return to
		}
	}
	return b.String()
}
