// Package openaitest is a fake OpenAI-compatible chat-completions server for tests and the sandbox.
// It serves POST {base}/chat/completions (base is /v1, or any prefix, as self-hosted servers use)
// and GET {base}/models with OpenAI's documented JSON shapes: chat.completion objects with tool calls,
// streamed chat.completion.chunk events, and error bodies {"error": {"message", "type", "param",
// "code"}} for 400, 401, 404, 429 and 5xx. Answers are scripted in order (a default answers when the
// script is empty), every request is recorded, and an answer can be slow.
//
//	srv := openaitest.NewServer(openaitest.Options{APIKey: "sk-test"})
//	defer srv.Close()
//	srv.Script(openaitest.Text("Hello!"), openaitest.RateLimited())
//	client := openai.NewClientWithConfig(config with BaseURL srv.BaseURL())
package openaitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Options configure the fake server.
type Options struct {
	// APIKey, when set, must come as "Authorization: Bearer <key>"; otherwise the answer is OpenAI's 401.
	APIKey string
	// Default answers when the script is empty; the zero value answers "OK".
	Default *Reply
	// Models are listed by GET /v1/models (default: gpt-4o-mini).
	Models []string
}

// Request is a recorded request.
type Request struct {
	Method        string
	Path          string
	Authorization string
	Header        http.Header
	// Chat is the decoded body of a chat-completions request.
	Chat ChatRequest
	Raw  []byte
	At   time.Time
}

// Server is the fake. It is an http.Handler; NewServer also listens on a local port.
type Server struct {
	// URL is the root of a listening server (empty for a bare handler); BaseURL adds /v1.
	URL  string
	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	script   []Reply
	requests []Request
	seq      int
}

// New returns the fake as a bare http.Handler, for mounting under a path (the sandbox does).
func New(opts Options) *Server {
	if opts.Default == nil {
		opts.Default = &Reply{Content: "OK"}
	}
	if len(opts.Models) == 0 {
		opts.Models = []string{"gpt-4o-mini"}
	}
	return &Server{opts: opts}
}

// NewServer starts the fake on a local port; Close stops it.
func NewServer(opts Options) *Server {
	s := New(opts)
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// Close stops a listening server.
func (s *Server) Close() {
	if s.srv != nil {
		s.srv.CloseClientConnections()
		s.srv.Close()
	}
}

// BaseURL is what a client is configured with: the root URL and /v1.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Script queues answers; each chat request takes the next one.
func (s *Server) Script(replies ...Reply) {
	s.mu.Lock()
	s.script = append(s.script, replies...)
	s.mu.Unlock()
}

// Pending returns how many scripted answers are left.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script)
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ServeHTTP answers like OpenAI's API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	req := Request{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Header: r.Header.Clone(),
		Raw: raw, At: time.Now()}
	chat := strings.HasSuffix(r.URL.Path, "/chat/completions")
	if chat {
		json.Unmarshal(raw, &req.Chat)
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()

	switch {
	case !chat && !strings.HasSuffix(r.URL.Path, "/models"):
		writeReply(w, r, Failure(http.StatusNotFound, "invalid_request_error", nil, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)))
	case !s.authorized(req.Authorization):
		writeReply(w, r, s.unauthorized(req.Authorization))
	case !chat && r.Method == http.MethodGet:
		s.writeModels(w)
	case r.Method != http.MethodPost:
		writeReply(w, r, Failure(http.StatusMethodNotAllowed, "invalid_request_error", nil,
			fmt.Sprintf("Invalid method for URL (%s %s)", r.Method, r.URL.Path)))
	default:
		if bad, ok := validate(raw, &req.Chat); !ok {
			writeReply(w, r, bad)
			return
		}
		s.answer(w, r, &req.Chat, s.next())
	}
}

// next takes the next scripted answer, or the default.
func (s *Server) next() Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.script) == 0 {
		return *s.opts.Default
	}
	r := s.script[0]
	s.script = s.script[1:]
	return r
}

func (s *Server) authorized(header string) bool {
	return s.opts.APIKey == "" || header == "Bearer "+s.opts.APIKey
}

// unauthorized is OpenAI's 401: a missing key and a wrong key have different messages.
func (s *Server) unauthorized(header string) Reply {
	if !strings.HasPrefix(header, "Bearer ") || strings.TrimPrefix(header, "Bearer ") == "" {
		return Failure(http.StatusUnauthorized, "invalid_request_error", nil,
			"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
	}
	return Unauthorized()
}

func (s *Server) writeModels(w http.ResponseWriter) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	out := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list"}
	for _, m := range s.opts.Models {
		out.Data = append(out.Data, model{ID: m, Object: "model", Created: 1700000000, OwnedBy: "openaitest"})
	}
	writeJSON(w, http.StatusOK, out)
}

// validate checks a chat request the way OpenAI does, answering 400 with the parameter at fault.
func validate(raw []byte, c *ChatRequest) (Reply, bool) {
	if !json.Valid(raw) {
		return invalidRequest("", "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"), false
	}
	if c.Model == "" {
		return invalidRequest("", "you must provide a model parameter"), false
	}
	if len(c.Messages) == 0 {
		return invalidRequest("messages", "[] is too short - 'messages'"), false
	}
	for i, m := range c.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			return invalidRequest(fmt.Sprintf("messages.[%d].role", i), fmt.Sprintf("Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'tool', 'developer'.", m.Role)), false
		}
		if m.Role == "tool" && m.ToolCallID == "" {
			return invalidRequest(fmt.Sprintf("messages.[%d].tool_call_id", i), "Missing required parameter: 'messages.["+fmt.Sprint(i)+"].tool_call_id'."), false
		}
	}
	for i, t := range c.Tools {
		if t.Type != "function" || t.Function.Name == "" {
			return invalidRequest(fmt.Sprintf("tools[%d]", i), fmt.Sprintf("Missing required parameter: 'tools[%d].function.name'.", i)), false
		}
	}
	if c.Temperature != nil && (*c.Temperature < 0 || *c.Temperature > 2) {
		return invalidRequest("temperature", fmt.Sprintf("Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got %v instead.", *c.Temperature)), false
	}
	return Reply{}, true
}
