package agents

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"

	"switchboard"
)

func TestMatchHandoffPhrase(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"Je veux parler à un CONSEILLER", "conseiller"},
		{"Can I talk to a human?", "human"},
		{"un humain svp", "humain"},
		{"Quiero hablar con una PERSONA", "persona"},
		{"¿Puedo hablar con un humáno?", "humano"}, // an accent the phrase does not have
		{"je veux l'agent", "agent"},
		{"Talk   to...   SOMEONE!", "talk to someone"},
		{"Ich möchte einen Mitarbeiter sprechen", "mitarbeiter"},
		{"Can I see my agenda?", ""},
		{"Your agents are great", ""},
		{"My order 1234 has not arrived", ""},
		{"", ""},
	}
	phrases := []string{"agent", "human", "humain", "conseiller", "persona", "humano", "talk to someone", "mitarbeiter"}
	for _, tt := range tests {
		if got := MatchHandoffPhrase(tt.text, phrases); got != tt.want {
			t.Errorf("MatchHandoffPhrase(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
	if got := MatchHandoffPhrase("Conseillère, s'il vous plaît", []string{"conseillère"}); got != "conseillère" {
		t.Errorf("an accented phrase matches its own spelling: %q", got)
	}
	if got := MatchHandoffPhrase("I want an agent", nil); got != "" {
		t.Errorf("no phrases, no match: %q", got)
	}
}

func TestWhatsAppText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"**Hello** __there__", "*Hello* _there_"},
		{"### Opening hours\n- Mon: 9-18", "*Opening hours*\n- Mon: 9-18"},
		{"See [the FAQ](https://x.example/faq) or [https://x.example](https://x.example).", "See the FAQ (https://x.example/faq) or https://x.example."},
		{"<think>The user wants hours.</think>\n\nWe open at 9.", "We open at 9."},
		{"  plain  ", "plain"},
	}
	for _, tt := range tests {
		if got := whatsappText(tt.in); got != tt.want {
			t.Errorf("whatsappText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := whatsappText(strings.Repeat("é", 5000)); len([]rune(got)) != switchboard.MaxTextLength {
		t.Errorf("long answers are cut to %d characters, got %d", switchboard.MaxTextLength, len([]rune(got)))
	}
}

func TestTemperature(t *testing.T) {
	if got := temperature("gpt-4o-mini", 0.7); got != float32(0.7) {
		t.Errorf("0.7: %v", got)
	}
	if got := temperature("llama3.1", 0); got <= 0 || got > 1e-30 {
		t.Errorf("0 must be sent as a tiny positive value (go-openai omits 0): %v", got)
	}
	for _, m := range []string{"o3-mini", "gpt-5-mini", "o4-mini"} {
		if got := temperature(m, 0.7); got != 0 {
			t.Errorf("%s accepts only its default temperature: %v", m, got)
		}
	}
}

func TestClassifyAndRedact(t *testing.T) {
	tests := []struct {
		err    error
		reason Reason
		detail string
		retry  bool
	}{
		{&openai.APIError{HTTPStatusCode: 429, Code: "rate_limit_exceeded"}, ReasonRateLimited, "HTTP 429 rate_limit_exceeded", true},
		{&openai.APIError{HTTPStatusCode: 429, Code: "insufficient_quota"}, ReasonRateLimited, "HTTP 429 insufficient_quota", false},
		{&openai.APIError{HTTPStatusCode: 503}, ReasonAPIError, "HTTP 503", true},
		{&openai.APIError{HTTPStatusCode: 401, Code: "invalid_api_key"}, ReasonAPIError, "HTTP 401 invalid_api_key", false},
		{&openai.RequestError{HTTPStatusCode: 502}, ReasonAPIError, "HTTP 502", true},
		{&url.Error{Op: "Post", URL: "http://x", Err: errors.New("connection refused")}, ReasonAPIError, "the server could not be reached", true},
		{&url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}, ReasonTimeout, "no answer within 30s", false},
	}
	for _, tt := range tests {
		reason, detail := classify(tt.err, 30*time.Second)
		if reason != tt.reason || detail != tt.detail || retryable(tt.err) != tt.retry {
			t.Errorf("%v: %s %q retry=%v", tt.err, reason, detail, retryable(tt.err))
		}
	}
	if !refusesTools(&openai.APIError{HTTPStatusCode: 400, Message: "llama2 does not support tools"}) || refusesTools(&openai.APIError{HTTPStatusCode: 400, Message: "bad"}) {
		t.Error("refusesTools")
	}
	if got := redact("Incorrect API key provided: sk-123", "sk-123"); got != "Incorrect API key provided: [redacted]" {
		t.Errorf("redact: %q", got)
	}
	if got := redactURL("https://user:pass@llm.example/v1?api-key=secret"); got != "https://llm.example/v1" {
		t.Errorf("redactURL: %q", got)
	}
}

func TestKeyedLock(t *testing.T) {
	var k keyedLock
	k.m = map[int64]chan struct{}{}
	unlock, err := k.lock(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	other, err := k.lock(t.Context(), 2)
	if err != nil {
		t.Fatal("another key is independent")
	}
	other()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := k.lock(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a held key waits: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := k.lock(t.Context(), 1)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}
