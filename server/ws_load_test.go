package server

import (
	"context"
	"net"
	"slices"
	"strconv"
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

// stallEnv is a server whose socket buffers are small (see smallSendBuffers) with active clients of
// one agent connected, for measuring what a stalled client does to the others.
type stallEnv struct {
	*wsEnv
	channelID int64
	token     string
	active    []*wsConn
}

func newStallEnv(tb testing.TB, sendBuffer, clients int) *stallEnv {
	tb.Helper()
	st := storetest.SQLite(tb, storetest.Options{})
	env := newWSEnvListener(tb, st, HubOptions{SendBuffer: sendBuffer}, nil,
		func(l net.Listener) net.Listener { return smallSendBuffers{l} })
	ch := mustWSChannel(tb, st, "1001")
	_, tok := mustWSAgent(tb, st, "Ana", switchboard.RoleAgent, ch.ID)
	s := &stallEnv{wsEnv: env, channelID: ch.ID, token: tok, active: make([]*wsConn, clients)}
	for i := range s.active {
		s.active[i] = env.dial(tok, "")
	}
	s.waitClients(tb, clients)
	return s
}

// dialStalled connects a client that never reads, with a tiny receive buffer.
func (s *stallEnv) dialStalled(tb testing.TB) *websocket.Conn {
	tb.Helper()
	conn, _, err := stalledDialer.Dial(s.wsURL(""), map[string][]string{"Authorization": {"Bearer " + s.token}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

func (s *stallEnv) waitClients(tb testing.TB, n int) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); s.hub.Clients() != n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%d clients, want %d", s.hub.Clients(), n)
		}
	}
}

// fanout logs and publishes one event of 8 KB, waits until every active client has it, and returns
// each one's publish → read delay. The next event is only published once all have this one, so a
// client that held the others back would show here as a delay or a timeout.
func (s *stallEnv) fanout(tb testing.TB) []time.Duration {
	tb.Helper()
	ev := logEvent(tb, s.st, s.channelID, 8<<10)
	t0 := time.Now()
	s.broker.Publish(context.Background(), []switchboard.Event{ev})
	ds := make([]time.Duration, len(s.active))
	for i, c := range s.active {
		f := c.next()
		if f.Seq != ev.Seq {
			tb.Fatalf("active client got seq %d, want %d", f.Seq, ev.Seq)
		}
		ds[i] = f.at.Sub(t0)
	}
	return ds
}

// longestQueue is the most frames waiting for one client of the hub: once the active clients have
// read an event, the stalled client's backlog.
func longestQueue(h *Hub) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for c := range h.clients {
		n = max(n, len(c.send))
	}
	return n
}

// percentile returns the q-quantile of ds (sorted in place).
func percentile(ds []time.Duration, q float64) time.Duration {
	slices.Sort(ds)
	return ds[int(q*float64(len(ds)-1))]
}

// TestWSEvictsStalledClient: one client that stops reading among 49 active ones. While it still holds
// its connection and its queue fills, every event reaches every active client before the next is
// published, none of them held back by the stalled one (which would take its write deadline, 10 s:
// none waits 5 s); then it is evicted and the others go on. Each phase's delays are logged; how
// they compare is measured by BenchmarkWSStalledClient, not asserted here.
func TestWSEvictsStalledClient(t *testing.T) {
	const sendBuffer, clients = 16, 49
	s := newStallEnv(t, sendBuffer, clients)

	var before, during, after []time.Duration
	for range 20 {
		before = append(before, s.fanout(t)...)
	}
	stalled := s.dialStalled(t)
	s.waitClients(t, clients+1)
	// Every event published while the stalled client is connected counts, the one whose delivery
	// finds its queue full and evicts it included.
	events, queued := 0, 0
	for ; s.hub.Evictions() == 0; events++ {
		if events == 2000 {
			t.Fatal("the stalled client was never evicted")
		}
		during = append(during, s.fanout(t)...)
		queued = max(queued, longestQueue(s.hub))
	}
	t.Logf("stalled client evicted after %d events of 8 KB; up to %d frames were queued for it meanwhile", events, queued)
	if queued < sendBuffer/2 {
		t.Fatalf("the stalled client's queue held at most %d frames: it was not stalled", queued)
	}
	for range 10 {
		after = append(after, s.fanout(t)...)
	}
	if got := s.hub.Clients(); got != clients {
		t.Fatalf("%d clients, want the %d active ones", got, clients)
	}

	// A client held back by the stalled one would wait for its write deadline (10 s).
	if worst := slices.Max(during); worst > 5*time.Second {
		t.Errorf("an active client waited %v for an event while the stalled client was connected", worst)
	}
	for _, phase := range []struct {
		name string
		ds   []time.Duration
	}{{"before the stall", before}, {"stalled client connected", during}, {"after its eviction", after}} {
		t.Logf("%-25s %4d deliveries  p50 %-10v p99 %v", phase.name, len(phase.ds), percentile(phase.ds, 0.50), percentile(phase.ds, 0.99))
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

// BenchmarkWSStalledClient measures publish → read latency of 49 active clients of one agent, 8 KB
// events published one at a time, alone and beside a client that never reads (re-dialed each time
// it is evicted, so one is always there with its queue filling; the default 128-frame buffer).
func BenchmarkWSStalledClient(b *testing.B) {
	for _, stall := range []bool{false, true} {
		name := "alone"
		if stall {
			name = "one-stalled"
		}
		b.Run(name, func(b *testing.B) {
			const clients = 49
			s := newStallEnv(b, 0, clients)
			var ds []time.Duration
			b.ResetTimer()
			for range b.N {
				if stall && s.hub.Clients() == clients {
					b.StopTimer()
					s.dialStalled(b)
					s.waitClients(b, clients+1)
					b.StartTimer()
				}
				ds = append(ds, s.fanout(b)...)
			}
			b.StopTimer()
			if stall {
				b.ReportMetric(float64(s.hub.Evictions()), "evictions")
			}
			reportPercentiles(b, ds)
		})
	}
}

// TestWSTwoProcesses runs two server processes on one PostgreSQL database, each with its own store
// (pool), broker and LISTEN bridge: a signed webhook POSTed to the first reaches the agents of the
// second, and what an agent does on the second reaches colleagues on the first.
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

	// Meta's webhook, signed, POSTed to the first process, reaches the agent connected to the second.
	if err := one.postWebhook(ch, textWebhook(ch, "33612345678", "wamid.in.1", "Hello from process one", time.Now())); err != nil {
		t.Fatal(err)
	}
	created := A.nextOf(switchboard.EventMessageCreated)
	if created.field("text") != "Hello from process one" || created.field("external_id") != "wamid.in.1" || created.field("direction") != "inbound" {
		t.Fatalf("A got %s", created.Data)
	}
	conv, err := strconv.ParseInt(created.field("conversation_id"), 10, 64)
	if err != nil || conv == 0 {
		t.Fatalf("no conversation in %s", created.Data)
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
	if err := one.postWebhook(ch, textWebhook(ch, "33612345678", "wamid.in.2", "while you moved", time.Now())); err != nil {
		t.Fatal(err)
	}
	moved := one.dial(tokA, "?last_seq="+itoa64(cursor))
	if f := moved.nextOf(switchboard.EventMessageCreated); f.field("text") != "while you moved" {
		t.Fatalf("after moving: %s", f.Data)
	}
}
