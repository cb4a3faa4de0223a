package agents_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/agents"
	"switchboard/agents/openaitest"
)

func TestErrorHandoff(t *testing.T) {
	tests := []struct {
		name     string
		script   []openaitest.Reply
		reason   agents.Reason
		detail   string
		requests int
	}{
		{"server errors after two retries", []openaitest.Reply{openaitest.ServerError(), openaitest.Overloaded(), openaitest.ServerError()},
			agents.ReasonAPIError, "HTTP 500", 3},
		{"rate limited after two retries", []openaitest.Reply{openaitest.RateLimited(), openaitest.RateLimited(), openaitest.RateLimited()},
			agents.ReasonRateLimited, "HTTP 429 rate_limit_exceeded", 3},
		{"no quota is not retried", []openaitest.Reply{openaitest.QuotaExceeded()}, agents.ReasonRateLimited, "insufficient_quota", 1},
		{"a wrong key is not retried", []openaitest.Reply{openaitest.Unauthorized()}, agents.ReasonAPIError, "HTTP 401 invalid_api_key", 1},
		{"a proxy's HTML error", []openaitest.Reply{openaitest.BadGateway(), openaitest.BadGateway(), openaitest.BadGateway()},
			agents.ReasonAPIError, "HTTP 502", 3},
		{"too slow", []openaitest.Reply{openaitest.Slow(3*time.Second, openaitest.Text("late"))}, agents.ReasonTimeout, "no answer within 300ms", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			each(t, func(a *switchboard.AIAgent, o *agents.Options) { o.DefaultTimeout = 300 * time.Millisecond }, func(t *testing.T, e *env) {
				e.ai.Script(tt.script...)
				convID, msgID := e.text("Where is my order?")
				res := e.reply(convID, msgID)
				if res.Outcome != agents.HandedOff || res.Reason != tt.reason || !strings.Contains(res.Detail, tt.detail) {
					t.Fatalf("result: %+v", res)
				}
				if n := len(e.ai.Requests()); n != tt.requests {
					t.Fatalf("%d requests, want %d", n, tt.requests)
				}
				if ai, activities := e.outbound(convID); len(ai) != 1 || len(activities) != 1 || len(e.handoffs.calls()) != 1 {
					t.Fatalf("handoff: %q %q %v", ai, activities, e.handoffs.calls())
				}
			})
		})
	}
	t.Run("a retry that succeeds answers", func(t *testing.T) {
		each(t, nil, func(t *testing.T, e *env) {
			e.ai.Script(openaitest.RateLimited(), openaitest.ServerError(), openaitest.Text("Here it is"))
			convID, msgID := e.text("Where is my order?")
			if res := e.reply(convID, msgID); res.Outcome != agents.Answered || res.Message.Text != "Here it is" {
				t.Fatalf("result: %+v", res)
			}
		})
	})
}

func TestAPIKeyNeverLogged(t *testing.T) {
	each(t, nil, func(t *testing.T, e *env) {
		// A misbehaving server quotes the whole key in its error; the key still never reaches the logs,
		// the activity line or the handoff reason.
		echo := openaitest.Failure(http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: "+agentKey)
		e.ai.Script(openaitest.Text("Hello!"), echo, echo, openaitest.Failure(http.StatusInternalServerError, "server_error", nil, "upstream rejected "+agentKey))
		convID, msgID := e.text("Hi")
		e.reply(convID, msgID)
		e.clock.Advance(time.Minute)
		_, msgID = e.text("Another question")
		if res := e.reply(convID, msgID); res.Outcome != agents.HandedOff || strings.Contains(res.Detail, agentKey) {
			t.Fatalf("result: %+v", res)
		}
		logs := e.logs.String()
		if !strings.Contains(logs, "ai model call failed") || !strings.Contains(logs, "ai answered") {
			t.Fatalf("the runs were not logged:\n%s", logs)
		}
		if strings.Contains(logs, agentKey) || strings.Contains(logs, "7f3a9c") {
			t.Fatalf("the API key is in the logs:\n%s", logs)
		}
		for _, m := range e.messages(convID) {
			if strings.Contains(m.Text, agentKey) {
				t.Fatalf("the API key is in a message: %q", m.Text)
			}
		}
		if e.ai.Requests()[0].Authorization != "Bearer "+agentKey {
			t.Fatal("the key was not sent to the server")
		}
	})
}

func TestWindowClosedHandoff(t *testing.T) {
	each(t, nil, func(t *testing.T, e *env) {
		convID, msgID := e.text("Hello")
		e.clock.Advance(25 * time.Hour) // the job ran late: WhatsApp no longer accepts free-form messages
		res := e.reply(convID, msgID)
		if res.Outcome != agents.HandedOff || res.Reason != agents.ReasonWindowClosed || res.Message != nil {
			t.Fatalf("result: %+v", res)
		}
		if ai, activities := e.outbound(convID); len(ai) != 0 || len(activities) != 1 || len(e.ai.Requests()) != 0 {
			t.Fatalf("no message may be sent outside the window: %q %q", ai, activities)
		}
	})
}

func TestUnreadableMessages(t *testing.T) {
	t.Run("handoff", func(t *testing.T) { testUnreadableHandoff(t) })
	t.Run("reply", func(t *testing.T) { testUnreadableReply(t) })
}

func testUnreadableHandoff(t *testing.T) {
	each(t, nil, func(t *testing.T, e *env) {
		convID, msgID := e.customer("image", "")
		e.assignToAI(convID)
		if res := e.reply(convID, msgID); res.Outcome != agents.HandedOff || res.Reason != agents.ReasonUnreadable || !strings.Contains(res.Detail, "image") {
			t.Fatalf("image: %+v", res)
		}
	})
}

func testUnreadableReply(t *testing.T) {
	polite := "I can only read text for now. Could you type your question?"
	each(t, func(a *switchboard.AIAgent, o *agents.Options) {
		a.UnreadableAction, a.UnreadableReply = switchboard.UnreadableReply, polite
	}, func(t *testing.T, e *env) {
		convID, msgID := e.customer("audio", "")
		e.assignToAI(convID)
		res := e.reply(convID, msgID)
		if res.Outcome != agents.Answered || res.Message.Text != polite || len(e.ai.Requests()) != 0 || len(e.handoffs.calls()) != 0 {
			t.Fatalf("voice note: %+v", res)
		}
		// The model later sees that something it could not read was sent.
		e.clock.Advance(time.Minute)
		_, msgID = e.text("Sorry: where is my order?")
		e.reply(convID, msgID)
		got := texts(e.ai.Requests()[0].Chat.Messages)
		if !strings.Contains(got, "user: [The customer sent an audio message that you cannot see]") || !strings.Contains(got, "assistant: "+polite) {
			t.Fatalf("history: %s", got)
		}
	})
}

func TestServerWithoutTools(t *testing.T) {
	each(t, func(a *switchboard.AIAgent, o *agents.Options) { a.Model = "llama2" }, func(t *testing.T, e *env) {
		e.ai.Script(openaitest.Failure(http.StatusBadRequest, "api_error", nil, "registry.ollama.ai/library/llama2:latest does not support tools"),
			openaitest.Text("Hello there!"), openaitest.Text("HANDOFF: the customer is upset"))
		convID, msgID := e.text("Hi")
		if res := e.reply(convID, msgID); res.Outcome != agents.Answered || res.Message.Text != "Hello there!" {
			t.Fatalf("fallback answer: %+v", res)
		}
		e.clock.Advance(time.Minute)
		_, msgID = e.text("This is useless!!")
		if res := e.reply(convID, msgID); res.Outcome != agents.HandedOff || res.Reason != agents.ReasonModel || !strings.Contains(res.Detail, "upset") {
			t.Fatalf("marker handoff: %+v", res)
		}
		reqs := e.ai.Requests()
		if len(reqs) != 3 || len(reqs[0].Chat.Tools) != 1 || len(reqs[1].Chat.Tools) != 0 || len(reqs[2].Chat.Tools) != 0 ||
			!strings.Contains(reqs[1].Chat.Messages[0].Text(), "HANDOFF:") {
			t.Fatalf("requests: %d", len(reqs))
		}
	})
}

func TestAgentSettings(t *testing.T) {
	t.Run("defaults", func(t *testing.T) { testAgentDefaults(t) })
	t.Run("the server's key stays with the server's base URL", func(t *testing.T) { testServerKeyStaysHome(t) })
	t.Run("disabled and deleted", func(t *testing.T) { testAgentGone(t) })
}

// testAgentDefaults: an agent without base URL or key uses the server's defaults; temperature 0 is
// sent, not dropped.
func testAgentDefaults(t *testing.T) {
	each(t, func(a *switchboard.AIAgent, o *agents.Options) {
		o.DefaultBaseURL, o.DefaultAPIKey = a.BaseURL, agentKey
		a.BaseURL, a.APIKey, a.Temperature = "", "", 0
	}, func(t *testing.T, e *env) {
		convID, msgID := e.text("Hi")
		if res := e.reply(convID, msgID); res.Outcome != agents.Answered {
			t.Fatalf("result: %+v", res)
		}
		r := e.ai.Requests()[0]
		if r.Authorization != "Bearer "+agentKey || r.Chat.Temperature == nil || *r.Chat.Temperature > 0.001 {
			t.Fatalf("request: %s %v", r.Authorization, r.Chat.Temperature)
		}
	})
}

// testServerKeyStaysHome: an agent pointed at another server (a local Ollama, say) without a key of its
// own sends no key, rather than the server's OpenAI key. (The fake wants agentKey, so it answers 401
// and the agent hands off: the point is what the request carried.)
func testServerKeyStaysHome(t *testing.T) {
	each(t, func(a *switchboard.AIAgent, o *agents.Options) {
		o.DefaultBaseURL, o.DefaultAPIKey = "https://api.openai.com/v1", agentKey
		a.APIKey = ""
	}, func(t *testing.T, e *env) {
		convID, msgID := e.text("Hi")
		e.reply(convID, msgID)
		reqs := e.ai.Requests()
		if len(reqs) == 0 {
			t.Fatal("the agent's server was never called")
		}
		for _, r := range reqs {
			if strings.Contains(r.Authorization, agentKey) {
				t.Fatalf("the server's key went to the agent's own server: %q", r.Authorization)
			}
		}
	})
}

// testAgentGone: a disabled or deleted agent hands its conversations to people.
func testAgentGone(t *testing.T) {
	each(t, nil, func(t *testing.T, e *env) {
		convID, msgID := e.text("Hi")
		if _, err := e.st.UpdateAIAgent(t.Context(), e.agent.ID, func(a *switchboard.AIAgent) error { a.Enabled = false; return nil }); err != nil {
			t.Fatal(err)
		}
		if res := e.reply(convID, msgID); res.Reason != agents.ReasonAgentDisabled {
			t.Fatalf("disabled: %+v", res)
		}
		e.assignToAI(convID)
		e.exec("UPDATE conversations SET ai_handed_off = $1 WHERE id = $2", false, convID)
		if err := e.st.DeleteAIAgent(t.Context(), e.agent.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		_, msgID = e.text("Hello?")
		if res := e.reply(convID, msgID); res.Reason != agents.ReasonAgentMissing || res.Message != nil {
			t.Fatalf("deleted: %+v", res)
		}
		if len(e.ai.Requests()) != 0 || len(e.handoffs.calls()) != 2 {
			t.Fatalf("requests %d, handoffs %v", len(e.ai.Requests()), e.handoffs.calls())
		}
	})
}
