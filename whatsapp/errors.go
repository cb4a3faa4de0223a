package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ErrTransport wraps failures to reach the Graph API or to read its answer (connection refused or
// reset, TLS, a truncated body). Such errors classify as ClassRetry.
var ErrTransport = errors.New("whatsapp: graph api unreachable")

// GraphError is an error answer of the Graph API, decoded from Meta's body
//
//	{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,
//	  "error_data":{"messaging_product":"whatsapp","details":"..."},"error_subcode":2494055,
//	  "fbtrace_id":"...","is_transient":false,"error_user_title":"...","error_user_msg":"..."}}
//
// or, when the body is not such JSON (a proxy's HTML page, an empty 502), built from the HTTP status
// with Code 0 and an empty Type. Branch on Code (see Classify), never on HTTPStatus or the text.
type GraphError struct {
	HTTPStatus int
	Code       int
	// Subcode is error_subcode: deprecated by Meta but still sent (e.g. 2494055 with 130429).
	Subcode int
	// Type is the Graph error type, e.g. "OAuthException"; empty when the body was not a Graph error.
	Type    string
	Message string
	// Title is the short explanation for an agent: error_user_title, else Message without its
	// "(#code) " prefix.
	Title string
	// Details is error_data.details, Meta's longer explanation (for non-JSON bodies, the body's start).
	Details string
	// UserMessage is error_user_msg, when Meta sends one.
	UserMessage string
	// FBTraceID identifies the request for Meta support; log it.
	FBTraceID   string
	IsTransient bool
}

// Error renders the code, the title, the details and the trace id.
func (e *GraphError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "whatsapp: graph api error %d (HTTP %d): %s", e.Code, e.HTTPStatus, firstNonEmpty(e.Title, e.Message))
	if e.Details != "" {
		b.WriteString(": " + e.Details)
	}
	if e.FBTraceID != "" {
		b.WriteString(" [fbtrace_id " + e.FBTraceID + "]")
	}
	return b.String()
}

// graphErrorWire is Meta's error body, used both to decode answers and (Body) to produce them.
type graphErrorWire struct {
	Error struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		ErrorData *struct {
			MessagingProduct string `json:"messaging_product,omitempty"`
			Details          string `json:"details"`
		} `json:"error_data,omitempty"`
		Subcode        int    `json:"error_subcode,omitempty"`
		IsTransient    bool   `json:"is_transient,omitempty"`
		ErrorUserTitle string `json:"error_user_title,omitempty"`
		ErrorUserMsg   string `json:"error_user_msg,omitempty"`
		FBTraceID      string `json:"fbtrace_id,omitempty"`
	} `json:"error"`
}

// Body returns e as the JSON body Meta sends with an error answer (the fake Graph API serves it).
func (e *GraphError) Body() []byte {
	var w graphErrorWire
	w.Error.Message, w.Error.Type, w.Error.Code = e.Message, e.Type, e.Code
	w.Error.Subcode, w.Error.IsTransient, w.Error.FBTraceID = e.Subcode, e.IsTransient, e.FBTraceID
	w.Error.ErrorUserMsg = e.UserMessage
	if e.Details != "" {
		w.Error.ErrorData = &struct {
			MessagingProduct string `json:"messaging_product,omitempty"`
			Details          string `json:"details"`
		}{"whatsapp", e.Details}
	}
	b, _ := json.Marshal(w)
	return b
}

// codePrefix matches the "(#131047) " Meta puts before the title in error messages.
var codePrefix = regexp.MustCompile(`^\(#-?\d+\)\s*`)

// decodeGraphError builds the error of a non-2xx answer from its status and body.
func decodeGraphError(status int, body []byte) *GraphError {
	var w struct {
		Error *struct {
			Message     flexString `json:"message"`
			Type        flexString `json:"type"`
			Code        flexInt    `json:"code"`
			Subcode     flexInt    `json:"error_subcode"`
			FBTraceID   flexString `json:"fbtrace_id"`
			IsTransient flexBool   `json:"is_transient"`
			UserTitle   flexString `json:"error_user_title"`
			UserMsg     flexString `json:"error_user_msg"`
			ErrorData   struct {
				Details flexString `json:"details"`
			} `json:"error_data"`
		} `json:"error"`
	}
	if decodeTolerant(body, &w) && w.Error != nil && (w.Error.Code != 0 || w.Error.Type != "" || w.Error.Message != "") {
		x := w.Error
		e := &GraphError{
			HTTPStatus: status, Code: int(x.Code), Subcode: int(x.Subcode), Type: string(x.Type),
			Message: string(x.Message), Details: string(x.ErrorData.Details), UserMessage: string(x.UserMsg),
			FBTraceID: string(x.FBTraceID), IsTransient: bool(x.IsTransient),
		}
		e.Title = firstNonEmpty(string(x.UserTitle), codePrefix.ReplaceAllString(e.Message, ""))
		return e
	}
	return &GraphError{
		HTTPStatus: status,
		Message:    fmt.Sprintf("HTTP %d %s", status, http.StatusText(status)),
		Title:      http.StatusText(status),
		Details:    snippet(body, 256),
	}
}

// snippet returns the start of a body as one line of valid UTF-8, for error details.
func snippet(body []byte, limit int) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > limit {
		s = s[:limit]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return strings.ToValidUTF8(s, "")
}

// Class is what a caller should do about a failed call.
type Class int

// The classes Classify returns.
const (
	// ClassPermanent: do not retry; show the code and title (bad parameters, policy, undeliverable).
	ClassPermanent Class = iota
	// ClassRetry: try again later (rate limits, Meta outages, network errors, timeouts); see RetryAfter.
	ClassRetry
	// ClassWindowClosed: 131047, the 24-hour customer service window is closed; only a template can
	// be sent.
	ClassWindowClosed
	// ClassTokenInvalid: the channel's token or permissions are wrong; pause the channel and alert an
	// admin until they are replaced.
	ClassTokenInvalid
	// ClassCanceled: the caller's own context was cancelled (shutdown); nothing is known about the
	// call, so neither fail nor count the attempt: leave the work for the next run.
	ClassCanceled
)

// String names the class.
func (c Class) String() string {
	switch c {
	case ClassRetry:
		return "retry"
	case ClassWindowClosed:
		return "window_closed"
	case ClassTokenInvalid:
		return "token_invalid"
	case ClassCanceled:
		return "canceled"
	}
	return "permanent"
}

// Classify sorts an error of this package (a *GraphError from a call, an Error from a webhook,
// ErrTransport, a validation error) or any transport error into a Class. Codes follow Meta's error
// table: 130429, 131056, 4, 80007, 131000, 1, 2, 131016, 133004 and 131057 retry, as does anything
// marked is_transient and any HTTP 5xx or 429 without a known permanent code; 131047 is the closed
// window; 190 and the auth/permission codes 0, 3, 10 and 200–299 mean bad credentials. Timeouts and
// network errors retry; a cancelled parent context is ClassCanceled. Everything else is permanent.
func Classify(err error) Class {
	if err == nil {
		return ClassPermanent
	}
	var ge *GraphError
	if errors.As(err, &ge) {
		return ge.class()
	}
	if code, ok := webhookErrorCode(err); ok {
		return classOfCode(code, false)
	}
	if errors.Is(err, context.Canceled) {
		return ClassCanceled
	}
	if errors.Is(err, ErrTransport) || errors.Is(err, context.DeadlineExceeded) {
		return ClassRetry
	}
	var netErr interface{ Timeout() bool }
	if errors.As(err, &netErr) {
		return ClassRetry
	}
	return ClassPermanent
}

func webhookErrorCode(err error) (int, bool) {
	var v Error
	if errors.As(err, &v) {
		return v.Code, true
	}
	var p *Error
	if errors.As(err, &p) && p != nil {
		return p.Code, true
	}
	return 0, false
}

func (e *GraphError) class() Class {
	fromGraph := e.Type != ""
	if c := classOfCode(e.Code, fromGraph); c != ClassPermanent {
		return c
	}
	if e.IsTransient {
		return ClassRetry
	}
	if e.HTTPStatus >= 500 || e.HTTPStatus == http.StatusTooManyRequests {
		if _, known := codeTable[e.Code]; !known || !fromGraph {
			return ClassRetry
		}
	}
	if !fromGraph && e.HTTPStatus == http.StatusUnauthorized {
		return ClassTokenInvalid
	}
	return ClassPermanent
}

// classOfCode classifies a Meta error code. Code 0 means "auth failure" only when it came in a real
// Graph error body (a decoded non-JSON answer also has Code 0).
func classOfCode(code int, fromGraph bool) Class {
	switch code {
	case 130429, 131056, 4, 80007, 131000, 1, 2, 131016, 133004, 131057:
		return ClassRetry
	case 131047:
		return ClassWindowClosed
	case 190, 3, 10:
		return ClassTokenInvalid
	case 0:
		if fromGraph {
			return ClassTokenInvalid
		}
		return ClassPermanent
	}
	if code >= 200 && code <= 299 {
		return ClassTokenInvalid
	}
	return ClassPermanent
}
