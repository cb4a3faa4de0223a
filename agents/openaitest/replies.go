package openaitest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Reply is one scripted answer of the fake server. A Status of 0 or 200 answers with a chat
// completion (Content and/or ToolCalls); any other status answers with Error as OpenAI's error
// body, or with Body verbatim when set (a proxy's HTML page, say). Delay holds the answer back, as a
// slow model would; a client that gives up meanwhile is noticed.
type Reply struct {
	Content      string
	ToolCalls    []FunctionCall
	FinishReason string
	Status       int
	Error        APIError
	Body         string
	Header       http.Header
	Delay        time.Duration
}

// Text answers with an assistant message.
func Text(content string) Reply { return Reply{Content: content} }

// CallTool answers with a call of the named function; args is marshalled to the JSON arguments string
// (a string is used as it is, which lets a test send malformed arguments).
func CallTool(name string, args any) Reply {
	var raw string
	switch a := args.(type) {
	case string:
		raw = a
	default:
		b, err := json.Marshal(a)
		if err != nil {
			panic("openaitest: arguments cannot be marshalled: " + err.Error())
		}
		raw = string(b)
	}
	return Reply{ToolCalls: []FunctionCall{{Name: name, Arguments: raw}}}
}

// Slow delays r by d.
func Slow(d time.Duration, r Reply) Reply {
	r.Delay = d
	return r
}

// Failure answers with an error status and OpenAI's error body.
func Failure(status int, typ string, code any, message string) Reply {
	return Reply{Status: status, Error: APIError{Message: message, Type: typ, Code: code}}
}

// Unauthorized is OpenAI's answer to a wrong API key (which it shows masked).
func Unauthorized() Reply {
	return Failure(http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
		"Incorrect API key provided: sk-abc***wxyz. You can find your API key at https://platform.openai.com/account/api-keys.")
}

// RateLimited is OpenAI's answer when the requests-per-minute limit is reached, with Retry-After.
func RateLimited() Reply {
	r := Failure(http.StatusTooManyRequests, "requests", "rate_limit_exceeded",
		"Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.")
	r.Header = http.Header{"Retry-After": {strconv.Itoa(20)}}
	return r
}

// QuotaExceeded is OpenAI's 429 when the account has no credit left (retrying does not help).
func QuotaExceeded() Reply {
	return Failure(http.StatusTooManyRequests, "insufficient_quota", "insufficient_quota",
		"You exceeded your current quota, please check your plan and billing details.")
}

// ServerError is OpenAI's 500.
func ServerError() Reply {
	return Failure(http.StatusInternalServerError, "server_error", nil,
		"The server had an error while processing your request. Sorry about that!")
}

// Overloaded is OpenAI's 503 when the engine is overloaded.
func Overloaded() Reply {
	return Failure(http.StatusServiceUnavailable, "server_error", nil,
		"The engine is currently overloaded, please try again later.")
}

// BadGateway is a proxy's 502 with an HTML body, as seen in front of self-hosted servers.
func BadGateway() Reply {
	return Reply{Status: http.StatusBadGateway, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
		Header: http.Header{"Content-Type": {"text/html"}}}
}

// failed reports whether r answers with an error.
func (r Reply) failed() bool { return r.Status != 0 && r.Status != http.StatusOK }

// finishReason is the documented finish reason of a successful answer.
func (r Reply) finishReason() string {
	switch {
	case r.FinishReason != "":
		return r.FinishReason
	case len(r.ToolCalls) > 0:
		return "tool_calls"
	}
	return "stop"
}

// invalidRequest is a 400 about the request itself, naming the parameter when there is one.
func invalidRequest(param, message string) Reply {
	r := Failure(http.StatusBadRequest, "invalid_request_error", nil, message)
	if param != "" {
		r.Error.Param = &param
	}
	return r
}
