package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"

	"switchboard"
)

// verdict is what the model decided: an answer, or a handoff with its reason.
type verdict struct {
	text    string
	handoff Reason
	detail  string
}

// think asks the agent's chat API for the next message, within the agent's timeout. A failure of the
// API becomes a handoff verdict; only the end of ctx itself (shutdown) is returned as an error, so the
// job is retried later instead of handing off.
func (r *Runtime) think(ctx context.Context, rn *run, recent []*switchboard.Message) (verdict, error) {
	a := rn.agent
	base, key := a.Endpoint(r.baseURL, r.apiKey)
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = base
	cfg.HTTPClient = r.http
	client := openai.NewClientWithConfig(cfg)
	timeout := r.timeout
	if a.TimeoutSeconds > 0 {
		timeout = time.Duration(a.TimeoutSeconds) * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	now := r.clock.Now()
	msgs := history(recent, rn.msg.ID, r.histChars, r.histMsgs)
	request := func(tools bool) openai.ChatCompletionRequest {
		req := openai.ChatCompletionRequest{Model: a.Model, Temperature: temperature(a.Model, a.Temperature),
			Messages: append([]openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleSystem, Content: systemPrompt(a, rn.conv, now, tools)}}, msgs...)}
		if tools {
			req.Tools = []openai.Tool{handoffToolDef()}
		}
		return req
	}
	log := r.log.With("conversation_id", rn.conv.ID, "ai_agent_id", a.ID, "model", a.Model, "base_url", redactURL(base))
	toolsKey := base + "\x00" + a.Model
	_, noTools := r.noTools.Load(toolsKey)
	res, err := r.call(cctx, client, request(!noTools), key, log)
	if err != nil && !noTools && refusesTools(err) {
		// Ollama, vLLM without --enable-auto-tool-choice and llama.cpp without --jinja refuse tools:
		// ask for a marker answer instead, and remember.
		log.Info("the chat server refuses tools; asking for a marker answer instead", "err", redact(err.Error(), key))
		r.noTools.Store(toolsKey, true)
		noTools = true
		res, err = r.call(cctx, client, request(false), key, log)
	}
	if err != nil {
		if ctx.Err() != nil {
			return verdict{}, ctx.Err()
		}
		reason, detail := classify(err, timeout)
		log.Warn("ai model call failed; handing off", "reason", string(reason), "err", redact(err.Error(), key))
		return verdict{handoff: reason, detail: detail}, nil
	}
	log.Debug("ai model answered", "completion_id", res.ID, "prompt_tokens", res.Usage.PromptTokens, "completion_tokens", res.Usage.CompletionTokens)
	return parse(res), nil
}

// call sends the request, retrying 408, 429 and 5xx answers and network failures with exponential
// backoff while the context allows.
func (r *Runtime) call(ctx context.Context, c *openai.Client, req openai.ChatCompletionRequest, key string, log *slog.Logger) (openai.ChatCompletionResponse, error) {
	for attempt := 0; ; attempt++ {
		res, err := c.CreateChatCompletion(ctx, req)
		if err == nil {
			return res, nil
		}
		if attempt >= r.retries || !retryable(err) || ctx.Err() != nil || refusesTools(err) {
			return res, err
		}
		delay := r.backoff << attempt
		delay += time.Duration(rand.Int64N(int64(delay)/5 + 1))
		log.Warn("ai model call failed; retrying", "attempt", attempt+1, "in", delay, "err", redact(err.Error(), key))
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return res, err
		}
	}
}

// status returns the HTTP status of a chat API error, its error code, and its message; 0 when the
// server was not reached.
func status(err error) (int, string, string) {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		code, _ := apiErr.Code.(string)
		return apiErr.HTTPStatusCode, code, apiErr.Message
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode, "", string(reqErr.Body)
	}
	return 0, "", ""
}

func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	st, code, _ := status(err)
	switch {
	case st == http.StatusTooManyRequests:
		return code != "insufficient_quota" // no credit left: waiting does not help
	case st == http.StatusRequestTimeout || st >= 500:
		return true
	case st == 0:
		var urlErr *url.Error
		return errors.As(err, &urlErr) // the server could not be reached
	}
	return false
}

// refusesTools reports whether the server refused the request because of its tools.
func refusesTools(err error) bool {
	st, _, msg := status(err)
	return (st == http.StatusBadRequest || st == http.StatusUnprocessableEntity || st >= 500) && strings.Contains(strings.ToLower(msg), "tool")
}

// classify turns a failed call into a handoff reason and a detail safe to show and log: the status
// and the error code, never the message (a server may echo the request, key included).
func classify(err error, timeout time.Duration) (Reason, string) {
	st, code, _ := status(err)
	detail := fmt.Sprintf("HTTP %d", st)
	if code != "" {
		detail += " " + code
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) && st == 0:
		return ReasonTimeout, "no answer within " + timeout.String()
	case st == http.StatusTooManyRequests:
		return ReasonRateLimited, detail
	case st > 0:
		return ReasonAPIError, detail
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return ReasonAPIError, "the server could not be reached"
	}
	return ReasonAPIError, "the request could not be made"
}

// parse reads the model's decision from its first choice.
func parse(res openai.ChatCompletionResponse) verdict {
	if len(res.Choices) == 0 {
		return verdict{handoff: ReasonEmptyAnswer}
	}
	ch := res.Choices[0]
	if calls := ch.Message.ToolCalls; len(calls) > 0 {
		return verdict{handoff: ReasonModel, detail: toolReason(calls[0].Function.Name, calls[0].Function.Arguments)}
	}
	if fc := ch.Message.FunctionCall; fc != nil {
		return verdict{handoff: ReasonModel, detail: toolReason(fc.Name, fc.Arguments)}
	}
	if ch.FinishReason == openai.FinishReasonContentFilter {
		return verdict{handoff: ReasonContentFilter}
	}
	text := whatsappText(ch.Message.Content)
	if rest, ok := strings.CutPrefix(text, handoffMarker); ok {
		return verdict{handoff: ReasonModel, detail: clip(strings.Join(strings.Fields(rest), " "), 200)}
	}
	if text == "" {
		return verdict{handoff: ReasonEmptyAnswer}
	}
	return verdict{text: text}
}

// toolReason is the reason the model gave handoff_to_human; any other tool it called (it has no
// other) is read as a request for a person too.
func toolReason(name, args string) string {
	if name != handoffTool {
		return "it called an unknown tool"
	}
	var in struct {
		Reason string `json:"reason"`
	}
	json.Unmarshal([]byte(args), &in)
	return clip(strings.Join(strings.Fields(in.Reason), " "), 200)
}

// temperature is the value to send. Reasoning models (o1, o3, o4, gpt-5) accept only their default,
// so none is sent; go-openai omits a zero, so 0 is sent as the smallest positive float instead.
func temperature(model string, t float64) float32 {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5"} {
		if strings.HasPrefix(model, p) {
			return 0
		}
	}
	if t <= 0 {
		return 1e-45 // math.SmallestNonzeroFloat32: greedy decoding
	}
	return float32(t)
}

// redact removes the API key from a text that may quote it (an error from a misbehaving server).
func redact(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}

// redactURL drops credentials and the query from a base URL before it is logged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[invalid url]"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}
