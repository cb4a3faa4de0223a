package switchboard

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error codes are stable strings that clients can branch on. The server maps each to one HTTP status.
const (
	EINVALID      = "invalid"       // the input is malformed or fails validation
	ENOTFOUND     = "not_found"     // the thing asked for does not exist (or is not visible)
	ECONFLICT     = "conflict"      // the request collides with the current state (duplicate, stale)
	EUNAUTHORIZED = "unauthorized"  // no valid credentials
	EFORBIDDEN    = "forbidden"     // valid credentials without the right to do this
	EUNAVAILABLE  = "unavailable"   // a dependency (database, Graph API) cannot serve right now
	EINTERNAL     = "internal"      // a bug or an unexpected failure; details are only logged
	ERATELIMITED  = "rate_limited"  // too many attempts; try again later
	ETOOLARGE     = "too_large"     // the request body exceeds the limit
	EWINDOWCLOSED = "window_closed" // a free-form message outside WhatsApp's 24-hour window
	EOPTEDOUT     = "opted_out"     // the contact opted out of business-initiated messages
)

// Error is the one error type of Switchboard. Code is stable and safe to show; Message is a human
// sentence safe to show to the caller; Fields maps input field names to what is wrong with each.
// Err, when set, is the underlying cause: it is logged, never shown.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(k + ": " + e.Fields[k])
		}
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code and message that keeps err as its cause.
func WrapError(code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other non-nil
// error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of the first *Error in err's chain, or a generic sentence.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "An internal error occurred."
}

// ErrorFields returns the field errors of the first *Error in err's chain, or nil.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code string) bool { return err != nil && ErrorCode(err) == code }

// FieldError returns an EINVALID error with one problem on one field.
func FieldError(field, msg string) *Error {
	return &Error{Code: EINVALID, Message: "Some fields are invalid.", Fields: map[string]string{field: msg}}
}

// Problems collects validation problems keyed by field name. The zero value is ready to use.
type Problems map[string]string

// Add records msg for field unless the field already has a problem (the first one is the most useful).
func (p *Problems) Add(field, msg string) {
	if *p == nil {
		*p = Problems{}
	}
	if _, ok := (*p)[field]; !ok {
		(*p)[field] = msg
	}
}

// Check records msg for field when ok is false.
func (p *Problems) Check(ok bool, field, msg string) {
	if !ok {
		p.Add(field, msg)
	}
}

// Merge adds the problems of a nested value under prefix (e.g. "settings.greeting"); an empty prefix
// keeps the field names as they are.
func (p *Problems) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	fields := ErrorFields(err)
	if len(fields) == 0 {
		p.Add(prefix, ErrorMessage(err))
		return
	}
	for k, v := range fields {
		if prefix != "" {
			k = prefix + "." + k
		}
		p.Add(k, v)
	}
}

// Err returns an EINVALID *Error listing the problems, or nil when there are none.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "Some fields are invalid.", Fields: map[string]string(p)}
}
