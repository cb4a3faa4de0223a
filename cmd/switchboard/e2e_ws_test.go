package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard"
	"switchboard/store/storetest"
	"switchboard/whatsapp/graphtest"
)

// wsFrame is a server frame as the browser reads it.
type wsFrame struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Seq  int64           `json:"seq"`
	Data json.RawMessage `json:"data"`
}

// field returns one field of the frame's data, strings unquoted.
func (f wsFrame) field(name string) string {
	var m map[string]json.RawMessage
	json.Unmarshal(f.Data, &m)
	return strings.Trim(string(m[name]), `"`)
}

// agentSocket is the signed-in admin's websocket, for tests that write frames as well as read them
// (connectAgent only reads). Unlike connectAgent's, its reader never drops a frame.
type agentSocket struct {
	t      *testing.T
	conn   *websocket.Conn
	frames chan wsFrame
}

// openSocket connects to /api/v1/ws as the browser does (session cookie, Origin) and reads the hello.
func (e *e2e) openSocket() *agentSocket {
	e.t.Helper()
	conn := e.dialWS()
	e.t.Cleanup(func() { conn.Close() })
	s := &agentSocket{t: e.t, conn: conn, frames: make(chan wsFrame, 1024)}
	go func() {
		defer close(s.frames)
		for {
			var f wsFrame
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			s.frames <- f
		}
	}()
	if f := s.next(); f.Type != "hello" {
		e.t.Fatalf("first frame %+v, want hello", f)
	}
	return s
}

// next returns the next frame; the test fails after 30 s without one.
func (s *agentSocket) next() wsFrame {
	s.t.Helper()
	select {
	case f, ok := <-s.frames:
		if !ok {
			s.t.Fatal("the websocket closed")
		}
		return f
	case <-time.After(30 * time.Second):
		s.t.Fatal("no frame within 30 s")
	}
	return wsFrame{}
}

// nextOf returns the next frame of one of the given types, skipping others.
func (s *agentSocket) nextOf(types ...string) wsFrame {
	s.t.Helper()
	for {
		f := s.next()
		for _, typ := range types {
			if f.Type == typ {
				return f
			}
		}
	}
}

// nextMessage returns the next message.created or message.updated frame with the given text (when
// text is set) or message id (when id is set).
func (s *agentSocket) nextMessage(typ, text, id string) wsFrame {
	s.t.Helper()
	for {
		f := s.nextOf(typ)
		if (text == "" || f.field("text") == text) && (id == "" || f.field("id") == id) {
			return f
		}
	}
}

// send writes a client frame.
func (s *agentSocket) send(typ, id string, data any) {
	s.t.Helper()
	if err := s.conn.WriteJSON(map[string]any{"type": typ, "id": id, "data": data}); err != nil {
		s.t.Fatal(err)
	}
}

// sendText sends a reply over the socket and returns the acked message id.
func (s *agentSocket) sendText(clientID string, conv, text string) string {
	s.t.Helper()
	s.send("message.send", clientID, map[string]any{"conversation_id": json.RawMessage(conv), "text": text})
	f := s.nextOf("ack", "error")
	if f.Type != "ack" || f.ID != clientID || f.field("message_id") == "" {
		s.t.Fatalf("send %s: %s %s %s", clientID, f.Type, f.ID, f.Data)
	}
	return f.field("message_id")
}

// statusRank orders the delivery statuses; a message never moves backwards.
var statusRank = map[string]int{switchboard.MsgQueued: 0, switchboard.MsgSent: 1, switchboard.MsgDelivered: 2, switchboard.MsgRead: 3}

// followStatuses reads message.updated frames of one message until it is read, and checks that the
// statuses went sent → delivered → read without moving backwards; it returns the last frame.
func (s *agentSocket) followStatuses(id string) wsFrame {
	s.t.Helper()
	var seen []string
	for {
		f := s.nextMessage(switchboard.EventMessageUpdated, "", id)
		st := f.field("status")
		if _, ok := statusRank[st]; !ok {
			s.t.Fatalf("message %s: status %q in %s", id, st, f.Data)
		}
		if n := len(seen); n > 0 && statusRank[st] < statusRank[seen[n-1]] {
			s.t.Fatalf("message %s went backwards: %v then %s", id, seen, st)
		}
		if n := len(seen); n == 0 || seen[n-1] != st {
			seen = append(seen, st)
		}
		if st == switchboard.MsgRead {
			if got := strings.Join(seen, " → "); !strings.HasSuffix(got, "sent → delivered → read") {
				s.t.Fatalf("message %s statuses: %s, want sent → delivered → read", id, got)
			}
			return f
		}
	}
}

// TestWSReplyReachesWhatsApp: over the agent's websocket on the real server, a reply is acked with
// its message id, reaches the Graph API (graphtest) in Meta's body shape, and its status events
// follow on the socket as graphtest posts the signed status webhooks back: sent → delivered → read.
// The same client id sent again is acked with the same message, and Meta gets it once. Before that,
// the agent's read and typing frames reach Meta as mark-as-read and the typing indicator. Both
// databases.
func TestWSReplyReachesWhatsApp(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dsn string) {
		e := startE2E(t, dsn)
		ws := e.openSocket()
		body, _ := e.fake.Inbound(e.number.PhoneNumberID, graphtest.TextMessage("33612345678", "Marie", "Bonjour, ma commande ?"))
		e.customerSays(body)
		created := ws.nextMessage(switchboard.EventMessageCreated, "Bonjour, ma commande ?", "")
		conv, wamid := created.field("conversation_id"), created.field("external_id")

		// Reading the conversation marks the customer's message read at WhatsApp; typing shows her
		// WhatsApp's typing indicator (Meta's mark-as-read call with typing_indicator).
		receipt := func(typing bool) bool {
			for _, r := range e.fake.ReadReceipts() {
				if r.MessageID == wamid && r.Typing == typing {
					return true
				}
			}
			return false
		}
		for _, f := range []struct{ typ, id string }{{"read", "read-1"}, {"typing", "typing-1"}} {
			ws.send(f.typ, f.id, map[string]any{"conversation_id": json.RawMessage(conv), "on": true})
			if a := ws.nextOf("ack", "error"); a.Type != "ack" || a.ID != f.id {
				t.Fatalf("%s: %s %s %s", f.typ, a.Type, a.ID, a.Data)
			}
		}
		e.eventually("the customer's message marked read at WhatsApp", func() bool { return receipt(false) })
		e.eventually("WhatsApp's typing indicator shown to the customer", func() bool { return receipt(true) })

		id := ws.sendText("reply-1", conv, "Bonjour Marie, je regarde.")
		got, err := e.fake.WaitForSent(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		e.wantTextSent(got[0], "+33612345678", "Bonjour Marie, je regarde.")
		if read := ws.followStatuses(id); read.field("external_id") != got[0].MessageID {
			t.Fatalf("the read message carries wamid %q, Meta answered %q", read.field("external_id"), got[0].MessageID)
		}

		// A retried send (same client id) is the same message; a later reply in the conversation is
		// sent after anything queued before it, so once it reaches Meta a duplicate would have too.
		if again := ws.sendText("reply-1", conv, "Bonjour Marie, je regarde."); again != id {
			t.Fatalf("the retried send was acked as message %s, want %s", again, id)
		}
		ws.sendText("reply-2", conv, "C'est parti.")
		got, err = e.fake.WaitForSent(t.Context(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[1].Message.Text == nil || got[1].Message.Text.Body != "C'est parti." {
			t.Fatalf("Meta got %d sends, the second %s; want the reply once, then the next one", len(got), got[len(got)-1].Body)
		}
	})
}

// replica starts a second Switchboard process (run) on the same PostgreSQL database and data
// directory (so the same secret key) as e, with its own listener, pool, workers and LISTEN
// connection, talking to the same Graph API fake; it returns e signed in to that process.
func (e *e2e) replica() *e2e {
	e.t.Helper()
	two := *e
	two.start()
	return &two
}

// TestWSTwoServerProcesses: two real Switchboard processes on one PostgreSQL database. Meta's webhook
// goes to the first; the agent connected to the second sees the message, replies over that socket,
// and sees the reply's statuses, whose webhooks also go to the first; a colleague on the first sees
// the reply.
func TestWSTwoServerProcesses(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	one := startE2E(t, dsn)
	two := one.replica()
	agent := two.openSocket()     // on the second process
	colleague := one.openSocket() // on the first

	body, _ := one.fake.Inbound(one.number.PhoneNumberID, graphtest.TextMessage("4915112345678", "Lena", "Hallo, wo ist mein Paket?"))
	one.customerSays(body) // to the first process's webhook endpoint
	conv := agent.nextMessage(switchboard.EventMessageCreated, "Hallo, wo ist mein Paket?", "").field("conversation_id")

	id := agent.sendText("r-1", conv, "Es ist unterwegs.")
	if _, err := one.fake.WaitForSent(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	agent.followStatuses(id)
	if f := colleague.nextMessage(switchboard.EventMessageCreated, "Es ist unterwegs.", ""); f.field("id") != id {
		t.Fatalf("the colleague saw %s, want message %s", f.Data, id)
	}
	if n := len(one.fake.Sent()); n != 1 {
		t.Fatalf("Meta got %d sends, want 1", n)
	}
}
