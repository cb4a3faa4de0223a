package server

import (
	"context"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/pipeline"
	"switchboard/store"
	"switchboard/store/storetest"
)

// fakeMessenger stands in for the outbound service: it queues the message in the store and publishes
// its events, then plays the send job (Meta accepts the message) and publishes that too.
type fakeMessenger struct {
	env  *wsEnv
	mu   sync.Mutex
	last pipeline.SendRequest
}

func (m *fakeMessenger) Send(ctx context.Context, agent *switchboard.Agent, req pipeline.SendRequest) (*switchboard.Message, error) {
	m.mu.Lock()
	m.last = req
	m.mu.Unlock()
	st := m.env.st
	conv, err := st.Conversation(ctx, req.ConversationID)
	if err != nil {
		return nil, err
	}
	if ok, err := st.IsChannelMember(ctx, conv.ChannelID, agent.ID); err != nil || (!ok && agent.Role != switchboard.RoleAdmin) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "Conversation not found.")
	}
	msg := &switchboard.Message{ConversationID: conv.ID, Sender: switchboard.SenderAgent, SenderID: &agent.ID,
		SenderName: agent.Name, ClientID: req.ClientID, Type: switchboard.TypeText, Text: req.Text}
	switch {
	case req.Private:
		msg.Type, msg.Private = switchboard.TypeNote, true
	case req.Template != nil:
		msg.Type, msg.Text = switchboard.TypeTemplate, req.Template.Name
	case !conv.WindowOpen(time.Now()):
		return nil, switchboard.Errorf(switchboard.EWINDOWCLOSED, "The 24-hour window is closed; send a template.")
	}
	out, evs, err := st.QueueOutbound(ctx, msg)
	if err != nil {
		return nil, err
	}
	m.env.broker.Publish(ctx, evs)
	if !out.Private && out.Status == switchboard.MsgQueued {
		_, evs, err := st.MarkSent(ctx, out.ID, "wamid.out."+itoa64(out.ID), time.Now())
		if err != nil {
			return nil, err
		}
		m.env.broker.Publish(ctx, evs)
	}
	return out, nil
}

// recorder implements the typing, read and presence consumers and remembers the calls.
type recorder struct {
	mu           sync.Mutex
	typing       []int64
	reads        [][2]int64
	availability []switchboard.Availability
	online       map[int64]int
}

func (r *recorder) Typing(ctx context.Context, conversationID int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.typing = append(r.typing, conversationID)
	return nil
}

func (r *recorder) MarkRead(ctx context.Context, agentID, conversationID int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, [2]int64{agentID, conversationID})
	return nil
}

func (r *recorder) Connect(agentID int64)    { r.mu.Lock(); r.online[agentID]++; r.mu.Unlock() }
func (r *recorder) Disconnect(agentID int64) { r.mu.Lock(); r.online[agentID]--; r.mu.Unlock() }

func (r *recorder) SetAvailability(ctx context.Context, agentID int64, a switchboard.Availability) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.availability = append(r.availability, a)
	return nil
}

func (r *recorder) onlineCount(agentID int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.online[agentID]
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

func TestWSInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rec := &recorder{online: map[int64]int{}}
		fm := &fakeMessenger{}
		env := newWSEnv(t, st, HubOptions{Messenger: fm, Typing: rec, Reads: rec, Presence: rec}, nil)
		fm.env = env
		ch1, ch2 := mustWSChannel(t, st, "1001"), mustWSChannel(t, st, "2002")
		a, tokA := mustWSAgent(t, st, "Ana", switchboard.RoleAgent, ch1.ID)
		_, tokB := mustWSAgent(t, st, "Bea", switchboard.RoleAgent, ch1.ID)
		_, tokC := mustWSAgent(t, st, "Cid", switchboard.RoleAgent, ch2.ID)
		_, tokD := mustWSAgent(t, st, "Dee Admin", switchboard.RoleAdmin)
		A, B, C, D := env.dial(tokA, ""), env.dial(tokB, ""), env.dial(tokC, ""), env.dial(tokD, "")
		eventually(t, "presence connect", func() bool { return rec.onlineCount(a.ID) == 1 })

		conv := conversationOf(t, env.customerSays(ch1, "33612345678", "wamid.in.1", "My order is late", time.Now()))
		for _, c := range []*wsConn{A, B, D} {
			if f := c.nextOf(switchboard.EventMessageCreated); f.field("text") != "My order is late" || f.Seq == 0 {
				t.Fatalf("customer message: %+v", f)
			}
		}

		t.Run("a reply over the socket is acked and its events reach colleagues", func(t *testing.T) {
			A, B := A.in(t), B.in(t)
			A.send(frameSend, "c-1", map[string]any{"conversation_id": conv, "text": "On it!"})
			var msgID string
			var seen []string
			for len(seen) < 3 {
				f := A.nextOf("ack", switchboard.EventMessageCreated, switchboard.EventMessageUpdated)
				if f.Type == "ack" {
					if f.ID != "c-1" {
						t.Fatalf("ack %+v", f)
					}
					msgID = f.field("message_id")
				}
				seen = append(seen, f.Type)
			}
			created := B.nextOf(switchboard.EventMessageCreated)
			if created.field("text") != "On it!" || created.field("sender") != "agent" || created.field("id") != msgID {
				t.Fatalf("B saw %s, want message %s", created.Data, msgID)
			}
			if u := B.nextOf(switchboard.EventMessageUpdated); u.field("status") != switchboard.MsgSent || u.Seq <= created.Seq {
				t.Fatalf("status event %s", u.Data)
			}
			// The same client id again: the same message, not a second one.
			A.send(frameSend, "c-1", map[string]any{"conversation_id": conv, "text": "On it!"})
			if f := A.nextOf("ack"); f.field("message_id") != msgID {
				t.Fatalf("retry acked %s, want %s", f.field("message_id"), msgID)
			}
		})
		t.Run("a colleague's note reaches the agent", func(t *testing.T) {
			A, B := A.in(t), B.in(t)
			B.send(frameSend, "n-1", map[string]any{"conversation_id": conv, "text": "VIP customer", "private": true})
			if f := B.nextOf("ack", "error"); f.Type != "ack" {
				t.Fatalf("note: %s", f.Data)
			}
			if f := A.nextOf(switchboard.EventMessageCreated); f.field("text") != "VIP customer" || f.field("private") != "true" {
				t.Fatalf("A saw %s", f.Data)
			}
		})
		t.Run("refused sends come back as errors with stable codes", func(t *testing.T) {
			A, env := A.in(t), env.in(t)
			old := conversationOf(t, env.customerSays(ch1, "14155550100", "wamid.in.old", "hello?", time.Now().Add(-48*time.Hour)))
			other := conversationOf(t, env.customerSays(ch2, "4915123456789", "wamid.in.2", "Hallo", time.Now()))
			cases := []struct {
				id   string
				data map[string]any
				code string
			}{
				{"w-1", map[string]any{"conversation_id": old, "text": "Sorry for the wait"}, switchboard.EWINDOWCLOSED},
				{"f-1", map[string]any{"conversation_id": other, "text": "Hi"}, switchboard.ENOTFOUND},
				{"", map[string]any{"conversation_id": conv, "text": "no id"}, switchboard.EINVALID},
			}
			for _, tc := range cases {
				A.send(frameSend, tc.id, tc.data)
				if f := A.nextOf("ack", "error"); f.Type != "error" || f.ID != tc.id || f.field("code") != tc.code {
					t.Errorf("%s: got %s %s, want error %s", tc.id, f.Type, f.Data, tc.code)
				}
			}
			// Outside the window, a template goes through, with its parameters intact.
			A.send(frameSend, "tpl-1", map[string]any{"conversation_id": old, "template": map[string]any{
				"name": "order_update", "language": "en_US", "params": []string{"Ana", "#1042"}}})
			if f := A.nextOf("ack", "error"); f.Type != "ack" {
				t.Fatalf("template: %s", f.Data)
			}
			fm.mu.Lock()
			last := fm.last
			fm.mu.Unlock()
			if tpl := last.Template; tpl == nil || tpl.Name != "order_update" || tpl.Language != "en_US" ||
				string(tpl.Params) != `["Ana","#1042"]` || last.ClientID != "tpl-1" {
				t.Fatalf("the messenger got %+v", last)
			}
		})
		t.Run("typing reaches colleagues and WhatsApp at most every 20 s", func(t *testing.T) {
			A, B := A.in(t), B.in(t)
			A.send(frameTyping, "t-1", map[string]any{"conversation_id": conv, "on": true})
			A.nextOf("ack")
			f := B.nextOf(switchboard.EventTyping)
			if f.field("agent_id") != itoa64(a.ID) || f.field("on") != "true" || f.Seq != 0 {
				t.Fatalf("typing frame %+v", f)
			}
			A.send(frameTyping, "t-2", map[string]any{"conversation_id": conv, "on": false})
			A.nextOf("ack")
			if f := B.nextOf(switchboard.EventTyping); f.field("on") != "false" {
				t.Fatalf("typing off: %s", f.Data)
			}
			typingCalls := func() int {
				rec.mu.Lock()
				defer rec.mu.Unlock()
				return len(rec.typing)
			}
			// The indicator goes to WhatsApp off the socket's goroutine: wait for the first one.
			eventually(t, "WhatsApp typing indicator", func() bool { return typingCalls() >= 1 })
			A.send(frameTyping, "t-3", map[string]any{"conversation_id": conv, "on": true})
			A.nextOf("ack")
			// A second indicator within 20 s would have been started before the ack; give it time to land.
			time.Sleep(50 * time.Millisecond)
			if calls := typingCalls(); calls != 1 {
				t.Fatalf("WhatsApp typing indicator sent %d times, want 1", calls)
			}
		})
		t.Run("read and presence reach their services", func(t *testing.T) {
			A := A.in(t)
			A.send(frameRead, "r-1", map[string]any{"conversation_id": conv})
			if f := A.nextOf("ack", "error"); f.Type != "ack" {
				t.Fatalf("read: %s", f.Data)
			}
			A.send(framePresence, "p-1", map[string]any{"availability": "away"})
			if f := A.nextOf("ack", "error"); f.Type != "ack" {
				t.Fatalf("presence: %s", f.Data)
			}
			A.send(framePresence, "p-2", map[string]any{"availability": "asleep"})
			if f := A.nextOf("ack", "error"); f.field("code") != switchboard.EINVALID {
				t.Fatalf("bad availability: %s", f.Data)
			}
			A.send("dance", "x-1", map[string]any{})
			if f := A.nextOf("error"); f.ID != "x-1" || f.field("code") != switchboard.EINVALID {
				t.Fatalf("unknown frame: %s", f.Data)
			}
			A.send(framePing, "ping-1", nil)
			if f := A.nextOf("pong", "error"); f.Type != "pong" || f.ID != "ping-1" {
				t.Fatalf("ping: %+v", f)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.reads) != 1 || rec.reads[0] != [2]int64{a.ID, conv} || len(rec.availability) != 1 || rec.availability[0] != switchboard.Away {
				t.Fatalf("reads %v availability %v", rec.reads, rec.availability)
			}
		})
		t.Run("an agent of another channel sees none of it; an admin sees all", func(t *testing.T) {
			C, D, env := C.in(t), D.in(t), env.in(t)
			marker := env.customerSays(ch2, "4915123456789", "wamid.in.marker", "marker", time.Now())
			for {
				f := C.next()
				if f.Seq == 0 || f.field("channel_id") == itoa64(ch1.ID) || (f.Type == switchboard.EventConversationCreated && f.field("channel_id") != itoa64(ch2.ID)) {
					t.Fatalf("agent C received %s %s", f.Type, f.Data)
				}
				if f.Seq >= marker[len(marker)-1].Seq {
					break
				}
			}
			if f := D.nextOf(switchboard.EventTyping); f.field("on") != "true" {
				t.Fatalf("admin typing frame %s", f.Data)
			}
			for f := D.next(); f.field("text") != "marker"; f = D.next() {
			}
		})
		A.conn.Close()
		eventually(t, "presence disconnect", func() bool { return rec.onlineCount(a.ID) == 0 })
	})
}
