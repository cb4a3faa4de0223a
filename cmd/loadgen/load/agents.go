package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// tracker matches the agents' message.created frames with the webhooks that carried the messages.
// Each tracked wamid keeps the start of its latest delivery attempt and how many agents showed it.
// Entries are kept for the whole run (about 100 bytes each): a frame often arrives before the 200
// has been read, and a retried delivery must still find its wamid already shown.
type tracker struct {
	agents int32
	// from is the start of the measured window (UnixNano): frames of earlier attempts are not timed.
	from    atomic.Int64
	pending sync.Map // wamid → *trackEntry
	frames  Recorder
	seen    atomic.Int64
}

type trackEntry struct {
	start atomic.Int64 // UnixNano of the latest attempt
	acked atomic.Bool
	shown atomic.Int32
}

// attempt notes that wamids are being posted now.
func (t *tracker) attempt(ids []string, at time.Time) {
	for _, id := range ids {
		v, _ := t.pending.LoadOrStore(id, &trackEntry{})
		v.(*trackEntry).start.Store(at.UnixNano())
	}
}

// acked notes that the webhook carrying ids got a 200.
func (t *tracker) ack(ids []string) {
	for _, id := range ids {
		if v, ok := t.pending.Load(id); ok {
			v.(*trackEntry).acked.Store(true)
		}
	}
}

// shown records an agent's frame for wamid at time at.
func (t *tracker) shown(wamid string, at time.Time) {
	v, ok := t.pending.Load(wamid)
	if !ok {
		return
	}
	e := v.(*trackEntry)
	if start := e.start.Load(); start >= t.from.Load() {
		t.frames.Add(at.Sub(time.Unix(0, start)))
	}
	t.seen.Add(1)
	e.shown.Add(1)
}

// missing counts the acknowledged messages that some agent has not shown yet.
func (t *tracker) missing() int {
	n := 0
	t.pending.Range(func(_, v any) bool {
		if e := v.(*trackEntry); e.acked.Load() && e.shown.Load() < t.agents {
			n++
		}
		return true
	})
	return n
}

// AgentCred is an agent of the load with its API token.
type AgentCred struct {
	ID    int64  `json:"id"`
	Token string `json:"-"`
}

// agentConn is one agent's websocket: it reads every frame, times the message.created frames of
// tracked wamids, answers some customer messages, and reconnects with last_seq when dropped.
type agentConn struct {
	index, of int
	cred      AgentCred
	wsURL     string
	dialer    *websocket.Dialer
	track     *tracker
	replies   *rate.Limiter // nil: the agent never replies
	stats     *agentStats
	logf      func(string, ...any)

	writeMu sync.Mutex
	conn    *websocket.Conn
	lastSeq int64
	sent    int64
}

// agentStats are the counters shared by all agents.
type agentStats struct {
	connects   atomic.Int64
	reconnects atomic.Int64
	frames     atomic.Int64
	resyncs    atomic.Int64
	replies    atomic.Int64
	replyAcks  atomic.Int64
	replyErrs  Counter
	dialErrs   Counter
}

// wsURL turns the server's base URL into its websocket endpoint.
func wsURL(base string) string {
	u := strings.TrimRight(base, "/") + "/api/v1/ws"
	if rest, ok := strings.CutPrefix(u, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(u, "http://")
}

// dial connects (resuming after lastSeq) and returns when the hello frame has arrived.
func (a *agentConn) dial(ctx context.Context) error {
	u := a.wsURL
	if a.lastSeq > 0 {
		u += "?last_seq=" + strconv.FormatInt(a.lastSeq, 10)
	}
	h := http.Header{"Authorization": {"Bearer " + a.cred.Token}}
	conn, res, err := a.dialer.DialContext(ctx, u, h)
	if err != nil {
		if res != nil {
			a.stats.dialErrs.Inc(strconv.Itoa(res.StatusCode))
			return fmt.Errorf("websocket of agent %d: %s: %w", a.cred.ID, res.Status, err)
		}
		a.stats.dialErrs.Inc("transport")
		return fmt.Errorf("websocket of agent %d: %w", a.cred.ID, err)
	}
	conn.SetReadLimit(16 << 20)
	a.conn = conn
	a.stats.connects.Add(1)
	return nil
}

// frame is the part of a server frame the loadgen reads.
type frame struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Seq  int64           `json:"seq"`
	Data json.RawMessage `json:"data"`
}

type messageData struct {
	ConversationID int64  `json:"conversation_id"`
	Direction      string `json:"direction"`
	ExternalID     string `json:"external_id"`
}

// run reads frames until ctx ends, reconnecting after a drop.
func (a *agentConn) run(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() {
		a.writeMu.Lock()
		if a.conn != nil {
			a.conn.Close()
		}
		a.writeMu.Unlock()
	})
	defer stop()
	for ctx.Err() == nil {
		if a.conn == nil {
			if err := a.dial(ctx); err != nil {
				if ctx.Err() == nil {
					a.logf("%v", err)
					sleepCtx(ctx, 200*time.Millisecond)
				}
				continue
			}
			a.stats.reconnects.Add(1)
		}
		a.read(ctx)
		a.writeMu.Lock()
		a.conn.Close()
		a.conn = nil
		a.writeMu.Unlock()
	}
}

// read handles frames until the connection fails.
func (a *agentConn) read(ctx context.Context) {
	for {
		_, data, err := a.conn.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		a.stats.frames.Add(1)
		// Most frames are events the agents do not need (conversation snapshots, message updates): take
		// their sequence number from the frame's head instead of decoding them (a third of the
		// generator's CPU otherwise).
		typ, seq, ok := frameHead(data)
		if ok && typ != "message.created" {
			a.lastSeq = max(a.lastSeq, seq) // conversation snapshots, message updates, presence: not needed
			continue
		}
		// A new message: the three fields the load needs, read without decoding the message (its
		// webhook payload included), which was a third of the generator's CPU too.
		if ok && typ == "message.created" {
			if m, found := messageFields(data); found {
				a.lastSeq = max(a.lastSeq, seq)
				if m.Direction == "inbound" && m.ExternalID != "" {
					a.track.shown(m.ExternalID, now)
					a.maybeReply(m.ConversationID)
				}
				continue
			}
		}
		var f frame
		if json.Unmarshal(data, &f) != nil {
			continue
		}
		if f.Seq > a.lastSeq && f.Type != "resync" {
			a.lastSeq = f.Seq
		}
		switch f.Type {
		case "message.created":
			var m messageData
			if json.Unmarshal(f.Data, &m) != nil || m.Direction != "inbound" || m.ExternalID == "" {
				continue
			}
			a.track.shown(m.ExternalID, now)
			a.maybeReply(m.ConversationID)
		case "resync":
			// The missed events are gone: carry on from the server's cursor (a browser would reload).
			a.stats.resyncs.Add(1)
			a.lastSeq = f.Seq
		case "ack":
			if strings.HasPrefix(f.ID, "lg-") {
				a.stats.replyAcks.Add(1)
			}
		case "error":
			var e struct {
				Code string `json:"code"`
			}
			json.Unmarshal(f.Data, &e)
			a.stats.replyErrs.Inc(e.Code)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// frameHead reads the type and sequence number at the start of an event frame as the server writes
// it ({"type":"…","seq":N,…}); ok is false for any other shape, which the caller then decodes.
func frameHead(data []byte) (typ string, seq int64, ok bool) {
	rest, found := bytes.CutPrefix(data, []byte(`{"type":"`))
	if !found {
		return "", 0, false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return "", 0, false
	}
	typ, rest = string(rest[:end]), rest[end+1:]
	if rest, found = bytes.CutPrefix(rest, []byte(`,"seq":`)); !found {
		return "", 0, false
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		seq = seq*10 + int64(rest[n]-'0')
		n++
	}
	if n == 0 || n == len(rest) || (rest[n] != ',' && rest[n] != '}') {
		return "", 0, false
	}
	return typ, seq, true
}

// messageFields reads conversation_id, direction and external_id among the top-level fields of a
// message.created frame's data ({"type":…,"seq":N,"data":{…}}), skipping every other value
// whatever it holds; found is false when the frame has another shape.
func messageFields(frame []byte) (m messageData, found bool) {
	i := bytes.Index(frame, []byte(`,"data":{`))
	if i < 0 {
		return m, false
	}
	d := frame[i+len(`,"data":{`):]
	seen := 0
	for p := 0; p < len(d); {
		switch d[p] {
		case '}':
			return m, seen == 3
		case ',', ' ':
			p++
			continue
		case '"':
		default:
			return m, false
		}
		end := stringEnd(d, p)
		if end < 0 || end+1 >= len(d) || d[end+1] != ':' {
			return m, false
		}
		key := string(d[p+1 : end])
		p = end + 2
		vend := valueEnd(d, p)
		if vend < 0 {
			return m, false
		}
		val := d[p:vend]
		switch key {
		case "conversation_id":
			n, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil {
				return m, false
			}
			m.ConversationID, seen = n, seen+1
		case "direction", "external_id":
			var v string
			if len(val) >= 2 && val[0] == '"' && bytes.IndexByte(val, '\\') < 0 {
				v = string(val[1 : len(val)-1]) // no escapes: the bytes are the string
			} else if json.Unmarshal(val, &v) != nil {
				return m, false
			}
			if key == "direction" {
				m.Direction = v
			} else {
				m.ExternalID = v
			}
			seen++
		}
		if seen == 3 {
			return m, true
		}
		p = vend
	}
	return m, false
}

// stringEnd returns the index of the quote closing the JSON string that opens at d[p], or -1.
func stringEnd(d []byte, p int) int {
	for i := p + 1; i < len(d); i++ {
		switch d[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// valueEnd returns the index just past the JSON value that starts at d[p], or -1.
func valueEnd(d []byte, p int) int {
	if p >= len(d) {
		return -1
	}
	switch d[p] {
	case '"':
		if e := stringEnd(d, p); e >= 0 {
			return e + 1
		}
		return -1
	case '{', '[':
		depth := 0
		for i := p; i < len(d); i++ {
			switch d[i] {
			case '"':
				if i = stringEnd(d, i); i < 0 {
					return -1
				}
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	for i := p; i < len(d); i++ { // number, true, false, null
		if d[i] == ',' || d[i] == '}' {
			return i
		}
	}
	return -1
}

// maybeReply answers a customer message when this agent is the one that answers the conversation
// and the reply budget allows, as an agent typing in the inbox would.
func (a *agentConn) maybeReply(conversationID int64) {
	if a.replies == nil || conversationID <= 0 || int(conversationID%int64(a.of)) != a.index || !a.replies.Allow() {
		return
	}
	a.sent++
	f, _ := json.Marshal(map[string]any{"type": "message.send", "id": fmt.Sprintf("lg-%d-%d", a.cred.ID, a.sent),
		"data": map[string]any{"conversation_id": conversationID, "text": replies[int(a.sent)%len(replies)]}})
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	if a.conn == nil {
		return
	}
	a.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if a.conn.WriteMessage(websocket.TextMessage, f) == nil {
		a.stats.replies.Add(1)
	}
}

var replies = []string{
	"Thanks for your message! Let me check that for you.",
	"I'm sorry about that. Could you send me your order number?",
	"Your parcel left our warehouse this morning; you will get a tracking link shortly.",
	"Done! Anything else I can help with?",
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
