package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"switchboard"
	"switchboard/pipeline"
)

// The agent websocket (GET /api/v1/ws). The server sends one JSON document per frame:
//
//	{"type": "hello", "seq": n, "data": {"agent_id", "role", "channel_ids"}}   first frame; n is the resume cursor
//	{"type": "message.created"|..., "seq": n, "data": {...}}                   a domain event, in seq order
//	{"type": "typing", "data": {"conversation_id", "agent_id", "agent_name", "on"}}
//	{"type": "ack", "id": "...", "data": {...}} / {"type": "error", "id": "...", "data": {"code", "message"}}
//	{"type": "resync", "seq": n}   the missed events are no longer kept: reload over REST, then resume from n
//
// A client keeps the highest seq it has seen and reconnects with ?last_seq=n: it gets the events it
// missed, in order, then the live stream. A resume frame does the same on an open connection, but
// what it replays comes after any live event already sent. Rarely, an event whose transaction
// committed long after its sequence number was taken arrives late, below the highest seq.
// Client frames are {"type", "id", "data"}: message.send, typing, read, presence, resume and ping
// (answered with a pong, for browsers that cannot send protocol pings). A request with an id gets
// exactly one ack or error; message.send requires one (it is the idempotency key).

// Messenger sends an agent's message; the outbound service enforces the 24-hour window
// (EWINDOWCLOSED), membership and idempotency on req.ClientID.
type Messenger interface {
	Send(ctx context.Context, agent *switchboard.Agent, req pipeline.SendRequest) (*switchboard.Message, error)
}

// TypingNotifier shows the customer WhatsApp's typing indicator in a conversation.
type TypingNotifier interface {
	Typing(ctx context.Context, conversationID int64) error
}

// ReadMarker resets a conversation's unread count and marks the customer's messages read at WhatsApp.
type ReadMarker interface {
	MarkRead(ctx context.Context, agentID, conversationID int64) error
}

// PresenceTracker keeps the agents' presence: a connected socket makes an agent online, and the agent
// says whether they are available.
type PresenceTracker interface {
	Connect(agentID int64)
	Disconnect(agentID int64)
	SetAvailability(ctx context.Context, agentID int64, availability switchboard.Availability) error
}

// EventBroker is the process's event bus (realtime.Broker): the hub subscribes to it, and publishes
// ephemeral events (Seq 0, such as typing) through it so that they reach every replica.
type EventBroker interface {
	Subscribe(fn func(switchboard.Event)) (head int64, cancel func())
	Publish(ctx context.Context, events []switchboard.Event)
}

// HubStore is the storage the websocket hub reads.
type HubStore interface {
	Agent(ctx context.Context, id int64) (*switchboard.Agent, error)
	SessionAgent(ctx context.Context, id string) (*switchboard.Session, *switchboard.Agent, error)
	TokenAgent(ctx context.Context, hash string) (*switchboard.APIToken, *switchboard.Agent, error)
	AgentChannelIDs(ctx context.Context, agentID int64) ([]int64, error)
	Conversation(ctx context.Context, id int64) (*switchboard.Conversation, error)
	EventsAfter(ctx context.Context, seq int64, limit int) ([]switchboard.Event, error)
}

// Client frame types.
const (
	frameSend     = "message.send"
	frameTyping   = "typing"
	frameRead     = "read"
	framePresence = "presence"
	frameResume   = "resume"
	framePing     = "ping"
)

// inFrame is a frame from the browser.
type inFrame struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

// outFrame is a frame to the browser.
type outFrame struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Seq  int64  `json:"seq,omitempty"`
	Data any    `json:"data,omitempty"`
}

// eventFrame is a domain event as the browser sees it.
type eventFrame struct {
	Type string          `json:"type"`
	Seq  int64           `json:"seq,omitempty"`
	Data json.RawMessage `json:"data"`
}

// encodeEvent writes an event's frame. The data is JSON the store wrote with encoding/json (compact,
// HTML characters escaped), so it is copied as it is rather than validated and compacted again (that
// was most of the cost of fanning events out); a type that would need escaping goes through
// encoding/json.
func encodeEvent(ev switchboard.Event) ([]byte, error) {
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage(`{}`)
	}
	if !plainToken(ev.Type) {
		return json.Marshal(eventFrame{Type: ev.Type, Seq: ev.Seq, Data: data})
	}
	b := make([]byte, 0, len(ev.Type)+len(data)+40)
	b = append(b, `{"type":"`...)
	b = append(b, ev.Type...)
	b = append(b, '"')
	if ev.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, ev.Seq, 10)
	}
	b = append(b, `,"data":`...)
	b = append(b, data...)
	return append(b, '}'), nil
}

// plainToken reports whether s is made of lowercase letters, digits, dots and underscores only.
func plainToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return s != ""
}

// serveWS returns the handler of GET /api/v1/ws, behind requireAuth. A session cookie is only accepted
// from the configured public URL's origin (a foreign page could otherwise ride the cookie:
// cross-site websocket hijacking); a bearer token needs no Origin. Everything that can fail is checked
// before the upgrade, so failures are ordinary JSON errors. A nil hub answers 503.
func (h *Hub) serveWS(s *Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		if h == nil || h.isStopped() {
			return switchboard.Errorf(switchboard.EUNAVAILABLE, "Live updates are not available on this server.")
		}
		p := currentPrincipal(c)
		if p == nil {
			var err error
			if p, err = s.authenticate(c); err != nil {
				return err
			}
		}
		req := c.Request()
		if p.Session != nil && !sameOrigin(req.Header.Get("Origin"), s.cfg.PublicURL) {
			return switchboard.Errorf(switchboard.EFORBIDDEN, "Live updates may only be opened from %s.", s.cfg.PublicURL)
		}
		var resume int64
		if v := c.QueryParam("last_seq"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return invalid("last_seq must be a non-negative integer.")
			}
			resume = n
		}
		if !websocket.IsWebSocketUpgrade(req) {
			return invalid("This endpoint speaks the websocket protocol.")
		}
		cl, err := h.newClient(req.Context(), p)
		if err != nil {
			return err
		}
		hw := &hijackCoalescing{ResponseWriter: c.Response()}
		conn, err := h.upgrader.Upgrade(hw, req, nil)
		if err != nil {
			return nil // the upgrader has answered the handshake
		}
		cl.out = hw.conn
		// The connection gets fresh goroutines: the request's goroutine, its deep stack and Echo's
		// context are released now instead of being held for the connection's lifetime.
		c.Response().Status = http.StatusSwitchingProtocols
		go h.serveConn(conn, cl, resume)
		return nil
	}
}

// sameOrigin reports whether an Origin header names the public URL's scheme, host and port. When the
// public URL is a loopback address (the embedded default, http://localhost:8080), any loopback name for
// the same port is the same machine's page: localhost, 127.0.0.1 and [::1] are interchangeable.
func sameOrigin(origin, publicURL string) bool {
	o, err := url.Parse(origin)
	if err != nil || o.Host == "" {
		return false
	}
	p, err := url.Parse(publicURL)
	if err != nil || p.Host == "" {
		return false
	}
	if !strings.EqualFold(o.Scheme, p.Scheme) || originPort(o) != originPort(p) {
		return false
	}
	oh, ph := strings.ToLower(o.Hostname()), strings.ToLower(p.Hostname())
	return oh == ph || loopback(oh) && loopback(ph)
}

func originPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// errorData is the data of an error frame: the same code and message as the REST API's errors.
func errorData(err error) map[string]any {
	d := map[string]any{"code": switchboard.ErrorCode(err), "message": switchboard.ErrorMessage(err)}
	if f := switchboard.ErrorFields(err); len(f) > 0 {
		d["fields"] = f
	}
	return d
}
