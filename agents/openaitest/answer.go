package openaitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// answer waits for the reply's delay (or the client's giving up), then writes it: an error body, a
// chat completion, or a stream of chunks when the request asked for one.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, c *ChatRequest, reply Reply) {
	if reply.Delay > 0 {
		t := time.NewTimer(reply.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	if reply.failed() {
		reply.Delay = 0
		writeReply(w, r, reply)
		return
	}
	s.mu.Lock()
	s.seq++
	id := s.seq
	s.mu.Unlock()
	calls := make([]ToolCall, len(reply.ToolCalls))
	for i, fc := range reply.ToolCalls {
		calls[i] = ToolCall{ID: fmt.Sprintf("call_%06d_%d", id, i), Type: "function", Function: fc}
	}
	for k, vs := range reply.Header {
		w.Header()[k] = vs
	}
	completionID, created := fmt.Sprintf("chatcmpl-fake%06d", id), time.Now().Unix()
	if c.Stream {
		writeStream(w, completionID, created, c.Model, reply, calls)
		return
	}
	msg := responseMessage{Role: "assistant", ToolCalls: calls}
	if reply.Content != "" || len(calls) == 0 {
		content := reply.Content
		msg.Content = &content
	}
	prompt := 0
	for _, m := range c.Messages {
		prompt += estimateTokens(m.Text()) + 4
	}
	completion := estimateTokens(reply.Content)
	for _, fc := range reply.ToolCalls {
		completion += estimateTokens(fc.Name + fc.Arguments)
	}
	writeJSON(w, http.StatusOK, chatResponse{ID: completionID, Object: "chat.completion", Created: created, Model: c.Model,
		Choices:           []choice{{Index: 0, Message: msg, FinishReason: reply.finishReason()}},
		Usage:             usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion},
		SystemFingerprint: "fp_openaitest"})
}

// writeStream sends the answer as server-sent events: the role, the content in a few pieces, the
// tool calls, the finish reason, then [DONE].
func writeStream(w http.ResponseWriter, id string, created int64, model string, reply Reply, calls []ToolCall) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(d chunkDelta, finish *string) {
		b, _ := json.Marshal(chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model,
			Choices: []chunkChoice{{Index: 0, Delta: d, FinishReason: finish}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	send(chunkDelta{Role: "assistant"}, nil)
	for _, piece := range splitWords(reply.Content, 3) {
		send(chunkDelta{Content: piece}, nil)
	}
	for i, call := range calls {
		send(chunkDelta{ToolCalls: []chunkToolCall{{Index: i, ToolCall: call}}}, nil)
	}
	finish := reply.finishReason()
	send(chunkDelta{}, &finish)
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

// splitWords cuts s into pieces of about n words, keeping the spaces, as a model streams tokens.
func splitWords(s string, n int) []string {
	if s == "" {
		return nil
	}
	var out []string
	words := strings.SplitAfter(s, " ")
	for len(words) > 0 {
		k := min(n, len(words))
		out = append(out, strings.Join(words[:k], ""))
		words = words[k:]
	}
	return out
}

// writeReply writes an error reply: OpenAI's JSON error body, or the reply's raw body.
func writeReply(w http.ResponseWriter, r *http.Request, reply Reply) {
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, vs := range reply.Header {
		w.Header()[k] = vs
	}
	if reply.Body != "" {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.WriteHeader(reply.Status)
		fmt.Fprint(w, reply.Body)
		return
	}
	writeJSON(w, reply.Status, errorBody{Error: reply.Error})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
