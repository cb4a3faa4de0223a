package server

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"switchboard"
)

// replayPage is how many log rows one resume query reads.
const replayPage = 200

// client is one agent websocket. Its writer goroutine is the only one that writes to the connection;
// the reader (the HTTP handler's goroutine) decodes client frames; a worker started on the first
// request runs them one at a time, in order.
type client struct {
	hub       *Hub
	conn      *websocket.Conn
	out       *coalescingConn // conn's network connection, for sending queued frames together
	agentID   int64
	sessionID string // "" for bearer tokens
	tokenHash string // "" for sessions
	agent     atomic.Pointer[switchboard.Agent]
	channels  atomic.Pointer[map[int64]struct{}]
	ctx       context.Context
	cancel    context.CancelFunc

	// send holds the frames waiting for the writer; the hub never blocks on it. It is never closed:
	// done, closed exactly once, stops the writer.
	send      chan *websocket.PreparedMessage
	resume    chan int64
	done      chan struct{}
	closeOnce sync.Once
	closeCode int
	closeText string

	// Guarded by hub.mu: the live stream carries events above liveAfter, minus those up to skipUpTo
	// that a client coming from a replica further ahead already has.
	liveAfter int64
	skipUpTo  int64

	// covered is owned by the writer: every visible event above it has been (or will be) sent.
	covered int64

	actions    chan inFrame
	workerOnce sync.Once
	// Owned by the worker.
	convChannel map[int64]int64
	typingSent  map[int64]typingState
}

type typingState struct {
	on bool
	at time.Time
}

// newClient prepares a client for a signed-in agent, reading their channels before the upgrade.
func (h *Hub) newClient(ctx context.Context, p *principal) (*client, error) {
	ids, err := h.opts.Store.AgentChannelIDs(ctx, p.Agent.ID)
	if err != nil {
		return nil, err
	}
	c := &client{hub: h, agentID: p.Agent.ID, send: make(chan *websocket.PreparedMessage, h.opts.SendBuffer),
		resume: make(chan int64, 4), done: make(chan struct{})}
	if p.Session != nil {
		c.sessionID = p.Session.ID
	}
	c.tokenHash = p.TokenHash
	c.agent.Store(p.Agent)
	c.setChannels(ids)
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return c, nil
}

func (c *client) setChannels(ids []int64) {
	m := make(map[int64]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	c.channels.Store(&m)
}

func (c *client) inChannel(id int64) bool {
	_, ok := (*c.channels.Load())[id]
	return ok
}

func (c *client) isAdmin() bool { return c.agent.Load().Role == switchboard.RoleAdmin }

// canSee reports whether the agent may receive an event: admins see everything; agents see their
// channels' events and presence; other channel-less events are for admins.
func (c *client) canSee(ev switchboard.Event) bool {
	if c.isAdmin() {
		return true
	}
	if ev.ChannelID == 0 {
		return ev.Type == switchboard.EventPresenceUpdated
	}
	return c.inChannel(ev.ChannelID)
}

// close stops the client with a close code for the peer; it is safe to call more than once.
func (c *client) close(code int, text string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.done)
		c.cancel()
	})
}

// evict drops a slow client at once: closing the connection also unblocks a writer stuck in a write.
func (c *client) evict() {
	c.close(websocket.ClosePolicyViolation, "too slow")
	c.conn.Close()
}

// enqueue queues a frame for the writer without blocking; a full queue evicts the client.
func (c *client) enqueue(msg *websocket.PreparedMessage) {
	select {
	case c.send <- msg:
	default:
		if c.hub.unregister(c) {
			c.hub.evictions.Add(1)
		}
		c.evict()
	}
}

// reply queues a frame for this client only (acks, errors, pongs).
func (c *client) reply(f outFrame) {
	data, err := json.Marshal(f)
	if err != nil {
		c.hub.log.Error("websocket: encode frame", "type", f.Type, "err", err)
		return
	}
	msg, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err == nil {
		c.enqueue(msg)
	}
}

// serveConn runs an upgraded connection until it ends. The calling goroutine reads; a second one
// writes. The agent counts as connected for presence while it runs.
func (h *Hub) serveConn(conn *websocket.Conn, c *client, resume int64) {
	c.conn = conn
	liveAfter, ok := h.register(c, resume)
	if !ok {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "server shutting down"),
			time.Now().Add(h.opts.WriteWait))
		conn.Close()
		return
	}
	defer h.wg.Done()
	if h.opts.Presence != nil {
		h.opts.Presence.Connect(c.agentID)
		defer h.opts.Presence.Disconnect(c.agentID)
	}
	go c.writePump(liveAfter, resume)
	c.readPump()
	h.unregister(c)
	c.close(websocket.CloseNormalClosure, "")
}

// readPump reads client frames until the connection fails or goes silent past the pong deadline.
func (c *client) readPump() {
	wait := c.hub.opts.PongWait
	c.conn.SetReadLimit(c.hub.opts.MaxFrame)
	c.conn.SetReadDeadline(time.Now().Add(wait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(wait)) })
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			if websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
				c.hub.log.Debug("websocket: read", "agent_id", c.agentID, "err", err)
			}
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(wait))
		c.handle(data)
	}
}

// writePump is the connection's only writer: the hello frame, a replay when resuming, then queued
// frames and pings, each under a write deadline. It closes the connection when it returns.
func (c *client) writePump(liveAfter, resume int64) {
	defer c.hub.wg.Done()
	defer c.conn.Close()
	ping := time.NewTicker(c.hub.opts.PongWait * 9 / 10)
	defer ping.Stop()
	c.covered = liveAfter
	cursor := liveAfter
	if resume > 0 {
		cursor = resume
	}
	ids := make([]int64, 0, len(*c.channels.Load()))
	for id := range *c.channels.Load() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	agent := c.agent.Load()
	hello, _ := json.Marshal(outFrame{Type: "hello", Seq: cursor,
		Data: map[string]any{"agent_id": agent.ID, "role": agent.Role, "channel_ids": ids}})
	if !c.write(hello) || (resume > 0 && !c.replay(resume)) {
		return
	}
	for {
		select {
		case msg := <-c.send:
			if !c.writeQueued(msg) {
				return
			}
		case after := <-c.resume:
			if !c.replay(after) {
				return
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.opts.WriteWait)); err != nil {
				return
			}
		case <-c.done:
			c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, c.closeText),
				time.Now().Add(c.hub.opts.WriteWait))
			return
		}
	}
}

// maxCoalesced bounds the frames sent in one system call.
const maxCoalesced = 64

// writeQueued sends msg and the frames queued behind it, together when the connection allows it.
func (c *client) writeQueued(msg *websocket.PreparedMessage) bool {
	c.conn.SetWriteDeadline(time.Now().Add(c.hub.opts.WriteWait))
	if c.out == nil {
		return c.conn.WritePreparedMessage(msg) == nil
	}
	c.out.batch()
	err := c.conn.WritePreparedMessage(msg)
	for n := 1; err == nil && n < maxCoalesced; n++ {
		select {
		case next := <-c.send:
			err = c.conn.WritePreparedMessage(next)
			continue
		default:
		}
		break
	}
	if ferr := c.out.flush(); err == nil {
		err = ferr
	}
	return err == nil
}

func (c *client) write(data []byte) bool {
	c.conn.SetWriteDeadline(time.Now().Add(c.hub.opts.WriteWait))
	return c.conn.WriteMessage(websocket.TextMessage, data) == nil
}

// replay sends the visible events in (after, covered] from the log, in order. If the log no longer
// holds event after itself (pruned) or the gap is too long, the client is told to resync instead.
// Events above covered have been or will be sent live, so nothing is sent twice.
func (c *client) replay(after int64) bool {
	if after <= 0 || after >= c.covered {
		return true
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	st := c.hub.opts.Store
	first, err := st.EventsAfter(ctx, after-1, 1)
	if err != nil || len(first) == 0 || first[0].Seq != after {
		if err != nil {
			c.hub.log.Warn("websocket: read the event log", "err", err)
		}
		return c.resync()
	}
	cursor, scanned := after, 0
	for cursor < c.covered {
		evs, err := st.EventsAfter(ctx, cursor, replayPage)
		if err != nil {
			c.hub.log.Warn("websocket: read the event log", "err", err)
			return c.resync()
		}
		for _, ev := range evs {
			if ev.Seq > c.covered {
				cursor = c.covered
				break
			}
			if scanned++; scanned > c.hub.opts.MaxReplay {
				return c.resync()
			}
			cursor = ev.Seq
			if !c.canSee(ev) {
				continue
			}
			data, err := encodeEvent(ev)
			if err == nil && !c.write(data) {
				return false
			}
		}
		if len(evs) < replayPage {
			break
		}
	}
	c.covered = after
	return true
}

// resync tells the client that what it missed is gone: reload over REST, then resume from seq.
func (c *client) resync() bool {
	data, _ := json.Marshal(outFrame{Type: "resync", Seq: c.covered})
	return c.write(data)
}
