package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard"
	"switchboard/agents/openaitest"
	"switchboard/whatsapp/graphtest"
)

// connectAgent opens the admin's websocket (online presence) and returns a channel of frame types
// with their data.
func (e *e2e) connectAgent() (<-chan map[string]any, func()) {
	e.t.Helper()
	conn := e.dialWS()
	frames := make(chan map[string]any, 1024)
	go func() {
		defer close(frames)
		for {
			var f map[string]any
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			select {
			case frames <- f:
			default:
			}
		}
	}()
	return frames, func() { conn.Close() }
}

// dialWS opens the signed-in admin's websocket as the browser does (session cookie, Origin).
func (e *e2e) dialWS() *websocket.Conn {
	e.t.Helper()
	u, _ := url.Parse(e.base)
	u.Scheme, u.Path = "ws", "/api/v1/ws"
	h := http.Header{"Origin": {"http://localhost:8080"}}
	for _, c := range e.http.Jar.Cookies(&url.URL{Scheme: "http", Host: u.Host}) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	conn, res, err := websocket.DefaultDialer.Dial(u.String(), h)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		e.t.Fatalf("websocket: %v (HTTP %d)", err, status)
	}
	return conn
}

// adminID returns the signed-in admin's id.
func (e *e2e) adminID() int64 {
	var me struct {
		Agent switchboard.Agent `json:"agent"`
	}
	e.call("GET", "/api/v1/me", nil, http.StatusOK, &me)
	return me.Agent.ID
}

func (e *e2e) conversationByID(id int64) switchboard.Conversation {
	var c switchboard.Conversation
	e.call("GET", fmt.Sprintf("/api/v1/conversations/%d", id), nil, http.StatusOK, &c)
	return c
}

// TestAssignmentAndWorkspace: an online agent of the channel gets a new conversation by load, sees
// it live on the websocket, resolves it, and the CSAT survey goes out; the customer's list answer is
// recorded without reopening the conversation and shows in the report.
func TestAssignmentAndWorkspace(t *testing.T) {
	e := startE2E(t, "")
	me := e.adminID()
	e.call("POST", fmt.Sprintf("/api/v1/channels/%d/members", e.chID), map[string]any{"agent_id": me, "capacity": 5}, http.StatusCreated, nil)
	e.call("PUT", fmt.Sprintf("/api/v1/channels/%d/settings", e.chID), map[string]any{
		"csat":     map[string]any{"enabled": true, "expiry_hours": 24},
		"greeting": map[string]any{"enabled": true, "text": "Hi! We got your message."}}, http.StatusOK, nil)
	frames, closeWS := e.connectAgent()
	defer closeWS()
	time.Sleep(100 * time.Millisecond) // let the hub register the socket (presence) before the customer writes

	body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("33612345678", "Marie", "Bonjour"))
	e.customerSays(body)
	conv := e.conversation("33612345678")
	e.eventually("the conversation to be assigned to the online agent", func() bool {
		c := e.conversationByID(conv)
		return c.Assignee != nil && c.Assignee.Kind == switchboard.AssigneeHuman && c.Assignee.ID == me
	})
	sawMessage := false
	e.eventually("the customer's message on the agent's websocket", func() bool {
		for {
			select {
			case f := <-frames:
				if f["type"] == switchboard.EventMessageCreated {
					if d, _ := f["data"].(map[string]any); d["text"] == "Bonjour" {
						sawMessage = true
					}
				}
			default:
				return sawMessage
			}
		}
	})
	// The greeting went out before anyone answered.
	e.eventually("the greeting to reach WhatsApp", func() bool {
		for _, s := range e.fake.Sent() {
			if s.Message.Text != nil && s.Message.Text.Body == "Hi! We got your message." {
				return true
			}
		}
		return false
	})

	e.call("POST", fmt.Sprintf("/api/v1/conversations/%d/resolve", conv), nil, http.StatusOK, nil)
	var survey graphtest.SentMessage
	e.eventually("the CSAT survey to reach WhatsApp", func() bool {
		for _, s := range e.fake.Sent() {
			if s.Type == "interactive" {
				survey = s
				return true
			}
		}
		return false
	})
	var wire struct {
		Interactive struct {
			Action struct {
				Sections []struct {
					Rows []struct{ ID, Title string } `json:"rows"`
				} `json:"sections"`
			} `json:"action"`
		} `json:"interactive"`
	}
	json.Unmarshal(survey.Body, &wire)
	rows := wire.Interactive.Action.Sections[0].Rows
	if len(rows) != 5 {
		t.Fatalf("survey rows: %s", survey.Body)
	}
	var five struct{ ID, Title string }
	for _, r := range rows {
		if strings.HasSuffix(r.ID, ":5") {
			five = r
		}
	}
	body, _ = e.fake.Inbound(e.number.PhoneNumberID, graphtest.ListReply("33612345678", "Marie", survey.MessageID, five.ID, five.Title, ""))
	e.customerSays(body)
	e.eventually("the rating in the CSAT report", func() bool {
		var rep map[string]any
		e.call("GET", "/api/v1/reports/csat", nil, http.StatusOK, &rep)
		avg, _ := rep["average"].(float64)
		return avg == 5
	})
	if c := e.conversationByID(conv); c.Status != switchboard.StatusResolved {
		t.Fatalf("a CSAT answer must not reopen the conversation: %s", c.Status)
	}
}

// TestKeywordsOptOut: "STOP" opts the contact out and gets the channel's response.
func TestKeywordsOptOut(t *testing.T) {
	e := startE2E(t, "")
	body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("447700900555", "Ola", "Stop"))
	e.customerSays(body)
	conv := e.conversation("447700900555")
	e.eventually("the opt-out response", func() bool {
		for _, s := range e.fake.Sent() {
			if s.Message.Text != nil && strings.Contains(s.Message.Text.Body, "unsubscribed") {
				return true
			}
		}
		return false
	})
	e.eventually("the contact to be opted out", func() bool {
		c := e.conversationByID(conv)
		return c.Contact != nil && c.Contact.OptedOut
	})
}

// TestAIAgentAnswersAndHandsOff: the channel's AI agent answers a customer through an OpenAI-compatible
// server (the reply reaches WhatsApp as sender "ai"), and hands the conversation to a person when the
// customer asks for one.
func TestAIAgentAnswersAndHandsOff(t *testing.T) {
	llm := openaitest.NewServer(openaitest.Options{APIKey: "sk-e2e-secret"})
	defer llm.Close()
	e := startE2E(t, "")
	var agent struct {
		ID int64 `json:"id"`
	}
	e.call("POST", "/api/v1/ai-agents", map[string]any{"name": "Ava", "model": "gpt-4o-mini", "instructions": "You help customers of Dupont Bikes.",
		"base_url": llm.BaseURL(), "api_key": "sk-e2e-secret", "enabled": true, "handoff_message": "A colleague will take over shortly."}, http.StatusCreated, &agent)
	e.call("PUT", fmt.Sprintf("/api/v1/channels/%d/assignment", e.chID), map[string]any{"mode": "load", "ai_agent_id": agent.ID}, http.StatusOK, nil)
	llm.Script(openaitest.Text("We are open from 9:00 to 18:00, Monday to Saturday."))

	body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("4915112345678", "Lena", "When are you open?"))
	e.customerSays(body)
	conv := e.conversation("4915112345678")
	e.eventually("the AI's answer to reach WhatsApp", func() bool {
		for _, s := range e.fake.Sent() {
			if s.Message.Text != nil && strings.Contains(s.Message.Text.Body, "9:00 to 18:00") {
				return true
			}
		}
		return false
	})
	var answer *switchboard.Message
	for _, m := range e.messages(conv) {
		if m.Sender == switchboard.SenderAI {
			answer = &m
		}
	}
	if answer == nil {
		t.Fatal("no message from the AI in the conversation")
	}
	if c := e.conversationByID(conv); c.Assignee == nil || c.Assignee.Kind != switchboard.AssigneeAI {
		t.Fatalf("the AI agent should own the conversation: %+v", c.Assignee)
	}
	// While it thought, the customer saw WhatsApp's typing indicator on her message.
	e.eventually("WhatsApp's typing indicator while the AI thought", func() bool {
		for _, r := range e.fake.ReadReceipts() {
			if r.Typing {
				return true
			}
		}
		return false
	})

	body, _ = e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("4915112345678", "Lena", "Ich möchte mit einem Menschen sprechen, bitte: human"))
	e.customerSays(body)
	e.eventually("the handoff", func() bool {
		c := e.conversationByID(conv)
		return c.AIHandedOff && (c.Assignee == nil || c.Assignee.Kind == switchboard.AssigneeHuman)
	})
	e.eventually("the handoff message to reach WhatsApp", func() bool {
		for _, s := range e.fake.Sent() {
			if s.Message.Text != nil && s.Message.Text.Body == "A colleague will take over shortly." {
				return true
			}
		}
		return false
	})
	if got := len(llm.Requests()); got != 1 {
		t.Fatalf("the model was called %d times; a phrase handoff must not call it", got)
	}
}

// TestQueueDrainsWhenAMemberJoins: with nobody eligible the conversation waits; an online agent who
// joins the channel takes it at once.
func TestQueueDrainsWhenAMemberJoins(t *testing.T) {
	e := startE2E(t, "")
	_, closeWS := e.connectAgent()
	defer closeWS()
	body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("33698765432", "Paul", "Allô ?"))
	e.customerSays(body)
	conv := e.conversation("33698765432")
	e.eventually("the conversation to wait in the queue", func() bool {
		c := e.conversationByID(conv)
		return c.WaitingSince != nil && c.Assignee == nil
	})
	me := e.adminID()
	e.call("POST", fmt.Sprintf("/api/v1/channels/%d/members", e.chID), map[string]any{"agent_id": me, "capacity": 3}, http.StatusCreated, nil)
	e.eventually("the new member to take the waiting conversation", func() bool {
		c := e.conversationByID(conv)
		return c.Assignee != nil && c.Assignee.ID == me
	})
}
