package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestGraphErrorDecoding(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   GraphError
	}{
		{"throughput with subcode", 400,
			`{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,
			"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},
			"error_subcode":2494055,"fbtrace_id":"AbCdEf123"}}`,
			GraphError{HTTPStatus: 400, Code: 130429, Subcode: 2494055, Type: "OAuthException", Message: "(#130429) Rate limit hit",
				Title: "Rate limit hit", Details: "Cloud API message throughput has been reached.", FBTraceID: "AbCdEf123"}},
		{"user title and transient flag", 500,
			`{"error":{"message":"An unknown error occurred","type":"OAuthException","code":"1","is_transient":true,
			"error_user_title":"Temporary problem","error_user_msg":"Please retry","fbtrace_id":"X"}}`,
			GraphError{HTTPStatus: 500, Code: 1, Type: "OAuthException", Message: "An unknown error occurred",
				Title: "Temporary problem", UserMessage: "Please retry", FBTraceID: "X", IsTransient: true}},
		{"expired token", 401,
			`{"error":{"message":"Error validating access token: Session has expired.","type":"OAuthException","code":190,"error_subcode":463}}`,
			GraphError{HTTPStatus: 401, Code: 190, Subcode: 463, Type: "OAuthException",
				Message: "Error validating access token: Session has expired.", Title: "Error validating access token: Session has expired."}},
		{"html from a proxy", 502, "<html>\n<body>Bad   Gateway</body></html>",
			GraphError{HTTPStatus: 502, Message: "HTTP 502 Bad Gateway", Title: "Bad Gateway", Details: "<html> <body>Bad Gateway</body></html>"}},
		{"empty body", 503, "",
			GraphError{HTTPStatus: 503, Message: "HTTP 503 Service Unavailable", Title: "Service Unavailable"}},
		{"json without error", 404, `{"data":[]}`,
			GraphError{HTTPStatus: 404, Message: "HTTP 404 Not Found", Title: "Not Found", Details: `{"data":[]}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := newGraphStub(t, tt.status, tt.body)
			_, err := stub.client().GetMedia(t.Context(), "tok", "123")
			var ge *GraphError
			if !errors.As(err, &ge) {
				t.Fatalf("GetMedia error = %v, want *GraphError", err)
			}
			if *ge != tt.want {
				t.Errorf("decoded\n got: %+v\nwant: %+v", *ge, tt.want)
			}
			if !strings.Contains(ge.Error(), fmt.Sprint(tt.want.Code)) {
				t.Errorf("Error() = %q", ge.Error())
			}
		})
	}
	if got := snippet([]byte(strings.Repeat("é", 300)), 11); got != "ééééé…" {
		t.Errorf("snippet cut = %q", got)
	}
}

func TestClassify(t *testing.T) {
	graph := func(status, code int) error {
		return &GraphError{HTTPStatus: status, Code: code, Type: "OAuthException"}
	}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"130429 throughput", graph(400, 130429), ClassRetry},
		{"131056 pair rate", graph(400, 131056), ClassRetry},
		{"4 app rate", graph(403, 4), ClassRetry},
		{"80007 waba rate", graph(400, 80007), ClassRetry},
		{"131000 unknown", graph(500, 131000), ClassRetry},
		{"1 api unknown", graph(500, 1), ClassRetry},
		{"2 api service", graph(503, 2), ClassRetry},
		{"131016 unavailable", graph(503, 131016), ClassRetry},
		{"133004 unavailable", graph(503, 133004), ClassRetry},
		{"131057 maintenance", graph(503, 131057), ClassRetry},
		{"is_transient", &GraphError{HTTPStatus: 400, Code: 131999, Type: "OAuthException", IsTransient: true}, ClassRetry},
		{"131047 window", graph(400, 131047), ClassWindowClosed},
		{"190 token", graph(401, 190), ClassTokenInvalid},
		{"0 auth in a graph body", graph(401, 0), ClassTokenInvalid},
		{"3 capability", graph(403, 3), ClassTokenInvalid},
		{"10 permission", graph(403, 10), ClassTokenInvalid},
		{"200 permission", graph(403, 200), ClassTokenInvalid},
		{"299 permission", graph(403, 299), ClassTokenInvalid},
		{"100 invalid parameter", graph(400, 100), ClassPermanent},
		{"131026 undeliverable", graph(400, 131026), ClassPermanent},
		{"132000 params", graph(400, 132000), ClassPermanent},
		{"132001 template", graph(404, 132001), ClassPermanent},
		{"133010 not registered", graph(400, 133010), ClassPermanent},
		{"5xx with a known permanent code", graph(500, 131026), ClassPermanent},
		{"5xx with an unknown code", graph(500, 987654), ClassRetry},
		{"plain 500", decodeGraphError(500, []byte("Internal Server Error")), ClassRetry},
		{"plain 502", decodeGraphError(502, nil), ClassRetry},
		{"plain 429", decodeGraphError(429, nil), ClassRetry},
		{"plain 401", decodeGraphError(401, []byte("nope")), ClassTokenInvalid},
		{"plain 404", decodeGraphError(404, []byte("nope")), ClassPermanent},
		{"wrapped graph error", fmt.Errorf("send job 7: %w", graph(400, 131047)), ClassWindowClosed},
		{"webhook error value", Error{Code: 131047}, ClassWindowClosed},
		{"webhook error pointer", &Error{Code: 130429}, ClassRetry},
		{"webhook undeliverable", fmt.Errorf("status: %w", Error{Code: 131026}), ClassPermanent},
		{"transport", fmt.Errorf("%w: connection reset", ErrTransport), ClassRetry},
		{"deadline", fmt.Errorf("%w: %w", ErrTransport, context.DeadlineExceeded), ClassRetry},
		{"net timeout", &net.OpError{Op: "dial", Err: timeoutErr{}}, ClassRetry},
		{"parent cancelled", fmt.Errorf("%w: %w", ErrTransport, context.Canceled), ClassCanceled},
		{"validation", &ValidationError{Field: "to", Problem: "is required"}, ClassPermanent},
		{"other", errors.New("boom"), ClassPermanent},
		{"nil", nil, ClassPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassifyTransportFailures(t *testing.T) {
	// A server that is gone: the connection is refused.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	c := NewClient(ClientOptions{BaseURL: url})
	err := c.MarkRead(t.Context(), "tok", "1", "wamid.1", false)
	if !errors.Is(err, ErrTransport) || Classify(err) != ClassRetry {
		t.Errorf("refused: %v (class %v)", err, Classify(err))
	}

	// A server slower than the call's deadline, and a caller that cancels.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices a closed connection only after the body is read
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	c = NewClient(ClientOptions{BaseURL: slow.URL})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := c.MarkRead(ctx, "tok", "1", "wamid.1", false); Classify(err) != ClassRetry {
		t.Errorf("deadline: %v (class %v)", err, Classify(err))
	}
	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	if err := c.MarkRead(ctx, "tok", "1", "wamid.1", false); Classify(err) != ClassCanceled {
		t.Errorf("cancel: %v (class %v)", err, Classify(err))
	}
	c = NewClient(ClientOptions{BaseURL: slow.URL, HTTPClient: &http.Client{Timeout: 20 * time.Millisecond}})
	if err := c.MarkRead(t.Context(), "tok", "1", "wamid.1", false); Classify(err) != ClassRetry {
		t.Errorf("client timeout: %v (class %v)", err, Classify(err))
	}
}

func TestRetryAfter(t *testing.T) {
	graph := func(code int) error { return &GraphError{HTTPStatus: 400, Code: code, Type: "OAuthException"} }
	within := func(got, base time.Duration) bool {
		return got >= base*8/10 && got <= base*12/10
	}
	tests := []struct {
		name    string
		err     error
		attempt int
		base    time.Duration
	}{
		{"pair rate 1", graph(131056), 1, 4 * time.Second},
		{"pair rate 2", graph(131056), 2, 16 * time.Second},
		{"pair rate 3", graph(131056), 3, 64 * time.Second},
		{"pair rate capped", graph(131056), 40, 15 * time.Minute},
		{"app rate 1", graph(4), 1, time.Minute},
		{"waba rate 3", graph(80007), 3, 4 * time.Minute},
		{"waba rate capped", graph(80007), 99, 30 * time.Minute},
		{"maintenance", graph(131057), 5, time.Minute},
		{"throughput 1", graph(130429), 1, time.Second},
		{"throughput 3", graph(130429), 3, 4 * time.Second},
		{"throughput capped", graph(130429), 1000, time.Minute},
		{"server error 1", decodeGraphError(502, nil), 1, 2 * time.Second},
		{"server error 3", decodeGraphError(503, nil), 3, 8 * time.Second},
		{"server error capped", graph(131000), 1 << 20, 15 * time.Second},
		{"transport attempt 0", ErrTransport, 0, 2 * time.Second},
		{"webhook error", Error{Code: 131056}, 2, 16 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 {
				if got := RetryAfter(tt.err, tt.attempt); !within(got, tt.base) {
					t.Fatalf("RetryAfter = %v, want %v ±20%%", got, tt.base)
				}
			}
		})
	}
	for _, err := range []error{graph(131047), graph(190), graph(100), context.Canceled, nil} {
		if got := RetryAfter(err, 1); got != 0 {
			t.Errorf("RetryAfter(%v) = %v, want 0", err, got)
		}
	}
}

func TestErrorForCode(t *testing.T) {
	for _, code := range []int{130429, 131047, 131026, 190, 131000, 132000, 132001, 2, 250, 555555} {
		ge := ErrorForCode(code)
		back := decodeGraphError(ge.HTTPStatus, ge.Body())
		if back.Code != code || back.Type != "OAuthException" || back.Title == "" || back.IsTransient != ge.IsTransient {
			t.Errorf("code %d: body %s decodes to %+v", code, ge.Body(), back)
		}
		if Classify(back) != Classify(ge) {
			t.Errorf("code %d: class changes through the body: %v vs %v", code, Classify(back), Classify(ge))
		}
		if ge.HTTPStatus < 400 {
			t.Errorf("code %d: HTTP status %d", code, ge.HTTPStatus)
		}
	}
	if ge := ErrorForCode(131047); ge.Message != "(#131047) Re-engagement message" || ge.Title != "Re-engagement message" {
		t.Errorf("131047 = %+v", ge)
	}
	if ge := ErrorForCode(250); ge.Title != "API Permission" || Classify(ge) != ClassTokenInvalid {
		t.Errorf("250 = %+v", ge)
	}
}
