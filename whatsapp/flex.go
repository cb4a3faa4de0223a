package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Meta's payloads are not consistent about JSON types: timestamps arrive as strings or numbers,
// file_size as a string or an integer, template ids as integers. The flex types below accept every
// scalar spelling of a value so one odd field never costs the rest of a webhook. They are used only in
// the wire structs; the public types carry plain Go values.

// flexString accepts a JSON string, number or boolean and keeps its text; null and objects give "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		if bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
			// No escapes: the text between the quotes is the value (the document is already valid).
			*s = flexString(b[1 : len(b)-1])
			return nil
		}
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return nil
		}
		*s = flexString(v)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 't', 'f':
		*s = flexString(b)
	}
	return nil
}

// flexInt accepts a JSON number or a numeric string; anything else gives 0.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	_ = s.UnmarshalJSON(b)
	*n = flexInt(parseInt(string(s)))
	return nil
}

// parseInt reads an integer written as digits, an exponent or a fraction ("1.7e9", "12.0"); values that
// do not fit or are not numbers give 0.
func parseInt(s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0
	}
	return int64(f)
}

// flexFloat accepts a JSON number or a numeric string; anything else gives 0.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	var s flexString
	_ = s.UnmarshalJSON(b)
	v, err := strconv.ParseFloat(strings.TrimSpace(string(s)), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	*f = flexFloat(v)
	return nil
}

// flexBool accepts true/false as JSON booleans, strings ("true", "1") or numbers.
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	_ = s.UnmarshalJSON(b)
	parsed, err := strconv.ParseBool(strings.TrimSpace(string(s)))
	*v = flexBool(err == nil && parsed)
	return nil
}

// flexTime is a unix-seconds timestamp written as a string or a number; zero or garbage gives the
// zero time, so callers can tell "unknown" apart from a real instant.
type flexTime time.Time

func (t *flexTime) UnmarshalJSON(b []byte) error {
	var n flexInt
	_ = n.UnmarshalJSON(b)
	if n <= 0 {
		*t = flexTime{}
		return nil
	}
	*t = flexTime(time.Unix(int64(n), 0).UTC())
	return nil
}

// Time returns the timestamp as a UTC time.Time.
func (t flexTime) Time() time.Time { return time.Time(t) }

// flexText is a value that Meta documents as a JSON-encoded string (nfm_reply.response_json) but that
// a tolerant reader should also take as an inline object: it keeps the JSON text either way.
type flexText string

func (t *flexText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*t = ""
	case b[0] == '"':
		var v string
		if json.Unmarshal(b, &v) == nil {
			*t = flexText(v)
		}
	default:
		*t = flexText(b)
	}
	return nil
}

// decodeTolerant decodes raw into dst. An object or array whose inner parts have unexpected types still
// counts as decoded (encoding/json fills every part it can and skips the rest); null, absent values
// and scalars of the wrong kind do not.
func decodeTolerant(raw json.RawMessage, dst any) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return false
	}
	err := json.Unmarshal(raw, dst)
	if err == nil {
		return true
	}
	var typeErr *json.UnmarshalTypeError
	return errors.As(err, &typeErr) && (raw[0] == '{' || raw[0] == '[') && typeErr.Field != ""
}

// isObject reports whether raw is a JSON object (and not null, a string, a number or an array).
func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// decodeList decodes a JSON array element by element, skipping elements that do not decode, so a
// single malformed item never hides its neighbours.
func decodeList[T any](raw json.RawMessage) []T {
	var items []json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &items) != nil {
		return nil
	}
	out := make([]T, 0, len(items))
	for _, item := range items {
		var v T
		if decodeTolerant(item, &v) {
			out = append(out, v)
		}
	}
	return out
}
