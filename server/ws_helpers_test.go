package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard"
	"switchboard/config"
	"switchboard/pipeline"
	"switchboard/realtime"
	"switchboard/store"
	"switchboard/whatsapp"
)

// wsEnv is one server process: a real store, a broker, a hub and the HTTP server with the websocket
// route mounted the way routes.go mounts it (behind requireAuth).
type wsEnv struct {
	t      testing.TB
	st     *store.Store
	broker *realtime.Broker
	hub    *Hub
	srv    *Server
	url    string
	// stopHub stops the hub's Run (and waits for it).
	stopHub func()
}

const wsOrigin = "http://localhost:8080"

func newWSEnv(t testing.TB, st *store.Store, opts HubOptions, bridge realtime.Bridge) *wsEnv {
	t.Helper()
	return newWSEnvListener(t, st, opts, bridge, nil)
}

// newWSEnvListener is newWSEnv with a hook on the HTTP listener.
func newWSEnvListener(t testing.TB, st *store.Store, opts HubOptions, bridge realtime.Bridge, wrap func(net.Listener) net.Listener) *wsEnv {
	t.Helper()
	broker, err := realtime.New(context.Background(), realtime.Options{Log: st, Bridge: bridge, PollInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	bctx, bcancel := context.WithCancel(context.Background())
	bdone := make(chan struct{})
	go func() { broker.Run(bctx); close(bdone) }()
	opts.Store, opts.Broker = st, broker
	hub := NewHub(opts)
	hctx, hcancel := context.WithCancel(context.Background())
	hdone := make(chan struct{})
	go func() { hub.Run(hctx); close(hdone) }()
	var once sync.Once
	stopHub := func() { once.Do(func() { hcancel(); <-hdone }) }

	cfg := &config.Config{PublicURL: wsOrigin, SessionTTL: 24 * time.Hour}
	srv := New(Options{Config: cfg, Store: st, Web: http.NotFoundHandler(), Hub: hub,
		Inbound: pipeline.NewInbound(pipeline.InboundOptions{Store: st, Publisher: broker})})
	hs := httptest.NewUnstartedServer(srv)
	if wrap != nil {
		hs.Listener = wrap(hs.Listener)
	}
	hs.Start()
	t.Cleanup(func() {
		stopHub()
		hs.Close()
		bcancel()
		<-bdone
	})
	return &wsEnv{t: t, st: st, broker: broker, hub: hub, srv: srv, url: hs.URL, stopHub: stopHub}
}

var (
	hashOnce  sync.Once
	knownHash string
)

const wsPassword = "correct-horse-battery"

// mustWSAgent creates an agent in the given channels and an API token for them.
func mustWSAgent(t testing.TB, st *store.Store, name string, role switchboard.Role, channelIDs ...int64) (*switchboard.Agent, string) {
	t.Helper()
	hashOnce.Do(func() { knownHash, _ = HashPassword(wsPassword) })
	ctx := context.Background()
	a := &switchboard.Agent{Name: name, Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com",
		Role: role, PasswordHash: knownHash}
	if err := st.CreateAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, id := range channelIDs {
		if err := st.PutChannelMember(ctx, &switchboard.ChannelMember{ChannelID: id, AgentID: a.ID, Capacity: 10}); err != nil {
			t.Fatal(err)
		}
	}
	token := tokenPrefix + randomToken(24)
	if err := st.CreateAPIToken(ctx, &switchboard.APIToken{AgentID: a.ID, Name: "websocket test", Prefix: token[:8],
		Hash: sha256Hex(token)}); err != nil {
		t.Fatal(err)
	}
	return a, token
}

func mustWSChannel(t testing.TB, st *store.Store, phoneNumberID string) *switchboard.Channel {
	t.Helper()
	c := &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, Name: "Support " + phoneNumberID, PhoneNumber: "+14155550123",
		PhoneNumberID: phoneNumberID, BusinessAccountID: "102290129340398", APIKey: "EAAG-secret-" + phoneNumberID,
		AppSecret: "app-secret-" + phoneNumberID, VerifyToken: "verify-token-0123456789", AssignmentMode: switchboard.AssignByLoad,
		DefaultCapacity: 10, Settings: switchboard.DefaultChannelSettings()}
	if err := st.CreateChannel(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// customerSays stores a customer's message as webhook ingestion does and publishes its events.
func (e *wsEnv) customerSays(ch *switchboard.Channel, waID, wamid, text string, at time.Time) []switchboard.Event {
	e.t.Helper()
	batch := &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{{WaID: waID, ProfileName: "Customer " + waID,
		ExternalID: wamid, Timestamp: at, Message: &switchboard.Message{Type: switchboard.TypeText, Text: text, ExternalID: wamid, Timestamp: &at}}}}
	res, err := e.st.IngestInbound(context.Background(), ch, batch)
	if err != nil {
		e.t.Fatal(err)
	}
	e.broker.Publish(context.Background(), res.Events)
	return res.Events
}

// textWebhook is the body Meta posts for one customer text message to the channel's number.
func textWebhook(ch *switchboard.Channel, waID, wamid, text string, at time.Time) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":%q,"changes":[{"field":"messages",
"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":%q,"phone_number_id":%q},
"contacts":[{"profile":{"name":"Customer %s"},"wa_id":%q}],"messages":[{"from":%q,"id":%q,
"timestamp":"%d","type":"text","text":{"body":%q}}]}}]}]}`, ch.BusinessAccountID, strings.TrimPrefix(ch.PhoneNumber, "+"),
		ch.PhoneNumberID, waID, waID, waID, wamid, at.Unix(), text)
}

// webhookClient keeps connections open for many concurrent webhooks, as Meta's senders do.
var webhookClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// postWebhook POSTs body to this process's webhook endpoint for the channel, signed with the channel's
// app secret as Meta signs it, and fails unless it is acknowledged (200). Safe from any goroutine.
func (e *wsEnv) postWebhook(ch *switchboard.Channel, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, e.url+"/webhooks/whatsapp/"+itoa64(ch.ID), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(body, ch.AppSecret))
	res, err := webhookClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook answered %d", res.StatusCode)
	}
	return nil
}

// conversationOf returns the conversation id carried by ingestion events.
func conversationOf(t testing.TB, evs []switchboard.Event) int64 {
	t.Helper()
	for _, ev := range evs {
		if ev.ConversationID > 0 {
			return ev.ConversationID
		}
	}
	t.Fatal("no conversation in the events")
	return 0
}

// wsFrame is a frame as a test client reads it, stamped with the time it was read off the socket.
type wsFrame struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Seq  int64           `json:"seq"`
	Data json.RawMessage `json:"data"`
	at   time.Time
}

// field decodes one field of the frame's data.
func (f wsFrame) field(name string) string {
	var m map[string]json.RawMessage
	json.Unmarshal(f.Data, &m)
	return strings.Trim(string(m[name]), `"`)
}

// wsConn is a test websocket client that reads every frame in the background, reporting to t.
type wsConn struct {
	t testing.TB
	*wsStream
}

type wsStream struct {
	conn   *websocket.Conn
	frames chan wsFrame
	hello  wsFrame
	// closeErr is the error that ended the reader, readable once frames is closed.
	closeErr error
}

// in returns the same connection reporting to t (a subtest).
func (c *wsConn) in(t testing.TB) *wsConn { return &wsConn{t: t, wsStream: c.wsStream} }

// in returns the environment reporting to t (a subtest).
func (e *wsEnv) in(t testing.TB) *wsEnv {
	c := *e
	c.t = t
	return &c
}

func (e *wsEnv) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(e.url, "http") + "/api/v1/ws" + query
}

// dial connects with a bearer token and reads the hello frame.
func (e *wsEnv) dial(token, query string) *wsConn {
	e.t.Helper()
	conn, res, err := websocket.DefaultDialer.Dial(e.wsURL(query), http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		e.t.Fatalf("dial: %v (status %d)", err, status)
	}
	return e.wrap(conn)
}

func (e *wsEnv) wrap(conn *websocket.Conn) *wsConn {
	e.t.Helper()
	c := &wsConn{t: e.t, wsStream: &wsStream{conn: conn, frames: make(chan wsFrame, 4096)}}
	go func() {
		defer close(c.frames)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				c.closeErr = err
				return
			}
			f := wsFrame{at: time.Now()}
			if err := json.Unmarshal(data, &f); err != nil {
				c.closeErr = err
				return
			}
			c.frames <- f
		}
	}()
	e.t.Cleanup(func() { conn.Close() })
	c.hello = c.next()
	if c.hello.Type != "hello" {
		e.t.Fatalf("first frame %+v, want hello", c.hello)
	}
	return c
}

// next returns the next frame; the test fails after 10 s without one.
func (c *wsConn) next() wsFrame {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatalf("connection closed: %v", c.closeErr)
		}
		return f
	case <-time.After(10 * time.Second):
		c.t.Fatal("no frame within 10 s")
	}
	return wsFrame{}
}

// nextOf returns the next frame of one of the given types, skipping others.
func (c *wsConn) nextOf(types ...string) wsFrame {
	c.t.Helper()
	for {
		f := c.next()
		for _, t := range types {
			if f.Type == t {
				return f
			}
		}
	}
}

// send writes a client frame.
func (c *wsConn) send(typ, id string, data any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(map[string]any{"type": typ, "id": id, "data": data}); err != nil {
		c.t.Fatal(err)
	}
}

// closed waits for the server to end the connection and returns the close error.
func (c *wsConn) closed() error {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				return c.closeErr
			}
		case <-deadline:
			c.t.Fatal("connection still open after 10 s")
			return nil
		}
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func isCloseCode(err error, code int) bool { return websocket.IsCloseError(err, code) }
