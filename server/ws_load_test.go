package server

import (
	"context"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard"
	"switchboard/realtime"
	"switchboard/store"
	"switchboard/store/storetest"
)

// logEvent appends an event with a body of about size bytes to the log (as a store change would,
// in its own transaction) and returns it for publishing.
func logEvent(t testing.TB, st *store.Store, channelID int64, size int) switchboard.Event {
	t.Helper()
	data := `{"text":"` + strings.Repeat("x", size) + `"}`
	q := `INSERT INTO events (type, channel_id, conversation_id, data, created_at) VALUES (?, ?, 0, ?, ?) RETURNING seq`
	if st.Dialect() == "postgres" {
		q = strings.NewReplacer("?, ?, 0, ?, ?", "$1, $2, 0, $3, $4").Replace(q)
	}
	ev := switchboard.Event{Type: switchboard.EventMessageUpdated, ChannelID: channelID, Data: []byte(data), CreatedAt: time.Now().UTC()}
	if err := st.SQL().QueryRow(q, ev.Type, channelID, data, ev.CreatedAt).Scan(&ev.Seq); err != nil {
		t.Fatal(err)
	}
	return ev
}

// stalledDialer connects with a tiny receive buffer, fixed before the handshake, so that a client
// that never reads fills up after a few frames instead of after megabytes.
var stalledDialer = &websocket.Dialer{NetDialContext: (&net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
	var err error
	c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
	return err
}}).DialContext}

// smallSendBuffers fixes the server side's socket send buffer at 16 KB. On loopback the kernel
// otherwise grows it to megabytes, which a stalled reader takes hundreds of frames to fill (the
// behaviour is the same, the test just gets slow).
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

func TestWSEvictsStalledClient(t *testing.T) {
	st := storetest.SQLite(t, storetest.Options{})
	env := newWSEnvListener(t, st, HubOptions{SendBuffer: 16}, nil,
		func(l net.Listener) net.Listener { return smallSendBuffers{l} })
	ch := mustWSChannel(t, st, "1001")
	_, tok := mustWSAgent(t, st, "Ana", switchboard.RoleAgent, ch.ID)
	stalled, _, err := stalledDialer.Dial(env.wsURL(""), map[string][]string{"Authorization": {"Bearer " + tok}})
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	active := make([]*wsConn, 50)
	for i := range active {
		active[i] = env.dial(tok, "")
	}
	eventually(t, "51 clients", func() bool { return env.hub.Clients() == 51 })

	// Every event reaches every active client before the next one is published, while the stalled
	// client's buffers fill up, until it is evicted; then the others go on receiving.
	publish := func() {
		ev := logEvent(t, st, ch.ID, 8<<10)
		env.broker.Publish(context.Background(), []switchboard.Event{ev})
		for _, c := range active {
			if f := c.next(); f.Seq != ev.Seq {
				t.Fatalf("active client got seq %d, want %d", f.Seq, ev.Seq)
			}
		}
	}
	n := 0
	for ; env.hub.Evictions() == 0; n++ {
		if n == 2000 {
			t.Fatal("the stalled client was never evicted")
		}
		publish()
	}
	t.Logf("stalled client evicted after %d events of 8 KB", n)
	for range 20 {
		publish()
	}
	if got := env.hub.Clients(); got != 50 {
		t.Fatalf("%d clients, want the 50 active ones", got)
	}
	// The stalled connection was closed by the server: reading drains what was buffered, then fails.
	stalled.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := stalled.ReadMessage(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the stalled connection is still open")
			}
			break
		}
	}
}

// TestWSTwoProcesses runs two server processes on one PostgreSQL database, each with its own store
// (pool), broker and LISTEN bridge: what one stores, the other's agents see.
func TestWSTwoProcesses(t *testing.T) {
	url := storetest.PostgresURL(t)
	open := func() *store.Store {
		st, err := store.Open(t.Context(), store.Options{DatabaseURL: url, Key: storetest.Key, SkipMigrations: true, MaxConns: 5})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st1, st2 := open(), open()
	fm1, fm2 := &fakeMessenger{}, &fakeMessenger{}
	one := newWSEnv(t, st1, HubOptions{Messenger: fm1}, realtime.NewPostgresBridge(realtime.PostgresOptions{URL: url, DB: st1.SQL()}))
	two := newWSEnv(t, st2, HubOptions{Messenger: fm2}, realtime.NewPostgresBridge(realtime.PostgresOptions{URL: url, DB: st2.SQL()}))
	fm1.env, fm2.env = one, two
	ch := mustWSChannel(t, st1, "1001")
	_, tokA := mustWSAgent(t, st1, "Ana", switchboard.RoleAgent, ch.ID)
	_, tokB := mustWSAgent(t, st1, "Bea", switchboard.RoleAgent, ch.ID)
	A := two.dial(tokA, "") // on the second process
	B := one.dial(tokB, "") // on the first

	// A webhook stored by the first process reaches the agent connected to the second.
	conv := conversationOf(t, one.customerSays(ch, "33612345678", "wamid.in.1", "Hello from process one", time.Now()))
	if f := A.nextOf(switchboard.EventMessageCreated); f.field("text") != "Hello from process one" {
		t.Fatalf("A got %s", f.Data)
	}
	// A reply sent on the second process is acked there and reaches the colleague on the first.
	A.send(frameSend, "c-1", map[string]any{"conversation_id": conv, "text": "Answer from process two"})
	if f := A.nextOf("ack", "error"); f.Type != "ack" {
		t.Fatalf("send: %s", f.Data)
	}
	B.nextOf(switchboard.EventMessageCreated) // the customer's message
	if f := B.nextOf(switchboard.EventMessageCreated); f.field("text") != "Answer from process two" {
		t.Fatalf("B got %s", f.Data)
	}
	updated := B.nextOf(switchboard.EventMessageUpdated)
	if updated.field("status") != switchboard.MsgSent {
		t.Fatalf("B got %s", updated.Data)
	}
	// Typing crosses too, without touching the log.
	A.send(frameTyping, "", map[string]any{"conversation_id": conv, "on": true})
	if f := B.nextOf(switchboard.EventTyping); f.field("on") != "true" {
		t.Fatalf("B got %s", f.Data)
	}
	// A client moving from one replica to the other resumes from its cursor.
	cursor := updated.Seq
	A.conn.Close()
	one.customerSays(ch, "33612345678", "wamid.in.2", "while you moved", time.Now())
	moved := one.dial(tokA, "?last_seq="+itoa64(cursor))
	if f := moved.nextOf(switchboard.EventMessageCreated); f.field("text") != "while you moved" {
		t.Fatalf("after moving: %s", f.Data)
	}
}
