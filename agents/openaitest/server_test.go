package openaitest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"

	"switchboard/agents/openaitest"
)

func client(base, key string) *openai.Client {
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = base
	cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	return openai.NewClientWithConfig(cfg)
}

func chat(model string, tools bool) openai.ChatCompletionRequest {
	req := openai.ChatCompletionRequest{Model: model, Temperature: 0.5, Messages: []openai.ChatCompletionMessage{
		{Role: openai.ChatMessageRoleSystem, Content: "Be brief."},
		{Role: openai.ChatMessageRoleUser, Content: "Hello"},
	}}
	if tools {
		req.Tools = []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: "handoff_to_human", Parameters: json.RawMessage(`{"type":"object","properties":{"reason":{"type":"string"}}}`)}}}
	}
	return req
}

func TestAnswersAndToolCalls(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{APIKey: "sk-fake"})
	defer srv.Close()
	srv.Script(openaitest.Text("Hi there!"), openaitest.CallTool("handoff_to_human", map[string]string{"reason": "asked for a person"}))
	c := client(srv.BaseURL(), "sk-fake")

	res, err := c.CreateChatCompletion(t.Context(), chat("gpt-4o-mini", true))
	if err != nil || len(res.Choices) != 1 || res.Choices[0].Message.Content != "Hi there!" ||
		res.Choices[0].FinishReason != openai.FinishReasonStop || res.Object != "chat.completion" || res.Usage.TotalTokens == 0 {
		t.Fatalf("answer: %+v %v", res, err)
	}
	res, err = c.CreateChatCompletion(t.Context(), chat("gpt-4o-mini", true))
	if err != nil || res.Choices[0].FinishReason != openai.FinishReasonToolCalls || len(res.Choices[0].Message.ToolCalls) != 1 {
		t.Fatalf("tool call: %+v %v", res, err)
	}
	call := res.Choices[0].Message.ToolCalls[0]
	if call.Type != openai.ToolTypeFunction || call.ID == "" || call.Function.Name != "handoff_to_human" || call.Function.Arguments != `{"reason":"asked for a person"}` {
		t.Fatalf("call: %+v", call)
	}
	// The script is used up: the default answers.
	if res, err := c.CreateChatCompletion(t.Context(), chat("gpt-4o-mini", false)); err != nil || res.Choices[0].Message.Content != "OK" {
		t.Fatalf("default: %+v %v", res, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 || reqs[0].Path != "/v1/chat/completions" || reqs[0].Authorization != "Bearer sk-fake" ||
		reqs[0].Chat.Model != "gpt-4o-mini" || len(reqs[0].Chat.Messages) != 2 || reqs[0].Chat.Messages[1].Text() != "Hello" ||
		len(reqs[0].Chat.Tools) != 1 || reqs[0].Chat.Temperature == nil || *reqs[0].Chat.Temperature != 0.5 {
		t.Fatalf("recorded: %+v", reqs[0])
	}
}

func TestErrorShapes(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{APIKey: "sk-fake"})
	defer srv.Close()
	c := client(srv.BaseURL(), "sk-fake")
	tests := []struct {
		reply  openaitest.Reply
		status int
		code   any
	}{
		{openaitest.RateLimited(), 429, "rate_limit_exceeded"},
		{openaitest.QuotaExceeded(), 429, "insufficient_quota"},
		{openaitest.ServerError(), 500, nil},
		{openaitest.Overloaded(), 503, nil},
	}
	for _, tt := range tests {
		srv.Script(tt.reply)
		_, err := c.CreateChatCompletion(t.Context(), chat("gpt-4o-mini", false))
		var apiErr *openai.APIError
		// go-openai reads a null code as 0.
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != tt.status || (tt.code != nil && apiErr.Code != tt.code) || apiErr.Message == "" {
			t.Errorf("%d: %#v", tt.status, err)
		}
	}
	srv.Script(openaitest.BadGateway())
	_, err := c.CreateChatCompletion(t.Context(), chat("gpt-4o-mini", false))
	var reqErr *openai.RequestError
	if !errors.As(err, &reqErr) || reqErr.HTTPStatusCode != 502 {
		t.Errorf("502 from a proxy: %#v", err)
	}

	// A wrong or missing key is OpenAI's 401, whatever the script says.
	for _, key := range []string{"sk-wrong", ""} {
		_, err = client(srv.BaseURL(), key).CreateChatCompletion(t.Context(), chat("gpt-4o-mini", false))
		var apiErr *openai.APIError
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 401 {
			t.Errorf("key %q: %#v", key, err)
		}
	}
	// Requests OpenAI would refuse are 400 with the parameter named.
	bad := chat("gpt-4o-mini", false)
	bad.Messages = nil
	_, err = c.CreateChatCompletion(t.Context(), bad)
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 400 || apiErr.Param == nil || *apiErr.Param != "messages" {
		t.Errorf("no messages: %#v", err)
	}
	if _, err := c.CreateChatCompletion(t.Context(), chat("", false)); !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 400 {
		t.Errorf("no model: %#v", err)
	}
	res, err := http.Get(srv.URL + "/v1/nothing")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 404 || !strings.Contains(string(body), `"type":"invalid_request_error"`) {
		t.Errorf("unknown path: %d %s", res.StatusCode, body)
	}
}

func TestBaseURLWithoutV1AndModels(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{Models: []string{"llama3.1", "qwen2.5"}})
	defer srv.Close()
	// llama.cpp and others accept /chat/completions directly under their base URL.
	c := client(srv.URL, "")
	if _, err := c.CreateChatCompletion(t.Context(), chat("llama3.1", false)); err != nil {
		t.Fatal(err)
	}
	if r := srv.Requests()[0]; r.Path != "/chat/completions" || r.Authorization != "" {
		t.Fatalf("request: %+v", r)
	}
	models, err := client(srv.BaseURL(), "").ListModels(t.Context())
	if err != nil || len(models.Models) != 2 || models.Models[1].ID != "qwen2.5" {
		t.Fatalf("models: %+v %v", models, err)
	}
}

func TestStream(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{})
	defer srv.Close()
	srv.Script(openaitest.Text("One two three four five"))
	req := chat("gpt-4o-mini", false)
	req.Stream = true
	stream, err := client(srv.BaseURL(), "").CreateChatCompletionStream(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var text strings.Builder
	for {
		ch, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		text.WriteString(ch.Choices[0].Delta.Content)
	}
	if text.String() != "One two three four five" {
		t.Fatalf("streamed %q", text.String())
	}
}

func TestSlowAnswerAndClientTimeout(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{})
	defer srv.Close()
	srv.Script(openaitest.Slow(2*time.Second, openaitest.Text("late")), openaitest.Slow(30*time.Millisecond, openaitest.Text("in time")))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client(srv.BaseURL(), "").CreateChatCompletion(ctx, chat("gpt-4o-mini", false))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("slow answer: %v after %v", err, time.Since(start))
	}
	res, err := client(srv.BaseURL(), "").CreateChatCompletion(t.Context(), chat("gpt-4o-mini", false))
	if err != nil || res.Choices[0].Message.Content != "in time" || len(srv.Requests()) != 2 || srv.Pending() != 0 {
		t.Fatalf("second answer: %+v %v", res, err)
	}
}
