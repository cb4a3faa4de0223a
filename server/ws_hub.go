package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
)

// HubOptions configure NewHub. Store and Broker are required; a nil Messenger, TypingNotifier,
// ReadMarker or PresenceTracker makes the matching client frame answer "unavailable".
type HubOptions struct {
	Store     HubStore
	Broker    EventBroker
	Messenger Messenger
	Typing    TypingNotifier
	Reads     ReadMarker
	Presence  PresenceTracker
	Logger    *slog.Logger
	// SendBuffer is how many frames may wait for a client before it counts as slow and is evicted
	// (default 128).
	SendBuffer int
	// WriteWait bounds one frame's write (default 10 s); PongWait is how long a silent peer is kept
	// (default 60 s; pings go out at 9/10 of it); MaxFrame is the largest client frame (default 64 KB).
	WriteWait time.Duration
	PongWait  time.Duration
	MaxFrame  int64
	// RefreshInterval is how often memberships, roles and sessions are re-read (default 1 min); a
	// channel.updated event also triggers it.
	RefreshInterval time.Duration
	// MaxReplay is how many log rows a resume may scan before the client is told to resync (default 10,000).
	MaxReplay int
}

// Hub holds the process's agent websockets and sends each event to the clients allowed to see it.
// Delivery never blocks: a client whose queue is full is evicted, outside the hub's lock.
type Hub struct {
	opts     HubOptions
	log      *slog.Logger
	upgrader websocket.Upgrader
	cancel   func()

	mu      sync.Mutex
	clients map[*client]struct{}
	lastSeq int64 // the newest event handed to the clients, in order
	stopped bool
	wg      sync.WaitGroup

	typingMu sync.Mutex
	typingAt map[int64]time.Time

	refresh   chan struct{}
	evictions atomic.Int64
}

// NewHub returns a hub subscribed to the broker. Run must be called for housekeeping and shutdown.
func NewHub(opts HubOptions) *Hub {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SendBuffer <= 0 {
		opts.SendBuffer = 128
	}
	if opts.WriteWait <= 0 {
		opts.WriteWait = 10 * time.Second
	}
	if opts.PongWait <= 0 {
		opts.PongWait = 60 * time.Second
	}
	if opts.MaxFrame <= 0 {
		opts.MaxFrame = 64 << 10
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = time.Minute
	}
	if opts.MaxReplay <= 0 {
		opts.MaxReplay = 10000
	}
	h := &Hub{opts: opts, log: opts.Logger, clients: map[*client]struct{}{}, typingAt: map[int64]time.Time{},
		refresh: make(chan struct{}, 1)}
	// Small read buffers and pooled write buffers keep an idle connection cheap; the Origin is checked
	// before the upgrade (only cookie sessions need it).
	h.upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferPool: &sync.Pool{},
		HandshakeTimeout: opts.WriteWait, CheckOrigin: func(*http.Request) bool { return true }}
	h.lastSeq, h.cancel = opts.Broker.Subscribe(h.deliver)
	return h
}

// Run refreshes memberships periodically and on demand until ctx ends, then closes every client
// ("going away": they reconnect, to another replica if this one is stopping) and waits for their
// goroutines, at most a write deadline.
func (h *Hub) Run(ctx context.Context) error {
	t := time.NewTicker(h.opts.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			h.stop()
			return nil
		case <-t.C:
			h.refreshAll(ctx)
			h.pruneTyping()
		case <-h.refresh:
			h.refreshAll(ctx)
		}
	}
}

func (h *Hub) stop() {
	h.cancel()
	h.mu.Lock()
	h.stopped = true
	clients := h.clients
	h.clients = map[*client]struct{}{}
	h.mu.Unlock()
	for c := range clients {
		c.close(websocket.CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(h.opts.WriteWait + time.Second):
		h.log.Warn("websocket: some connections did not close in time")
	}
}

func (h *Hub) isStopped() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stopped
}

// Clients returns the number of connected clients.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// Evictions returns how many slow clients have been disconnected.
func (h *Hub) Evictions() int64 { return h.evictions.Load() }

// Collectors returns the hub's Prometheus metrics, for Metrics.Register.
func (h *Hub) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_websocket_clients",
			Help: "Agent websockets connected to this process."}, func() float64 { return float64(h.Clients()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "switchboard_websocket_evictions_total",
			Help: "Agent websockets disconnected for not reading fast enough."}, func() float64 { return float64(h.Evictions()) }),
	}
}

// register adds a client and returns the watermark its live stream starts after; false once stopped.
// The client's reader and writer join the wait group here, under the lock that stop takes.
func (h *Hub) register(c *client, resume int64) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return 0, false
	}
	h.clients[c] = struct{}{}
	h.wg.Add(2)
	c.liveAfter = h.lastSeq
	if resume > h.lastSeq {
		c.skipUpTo = resume // it came from a replica further ahead: do not repeat what it has
	}
	return h.lastSeq, true
}

// unregister removes a client; it reports whether the client was still registered.
func (h *Hub) unregister(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.clients[c]
	delete(h.clients, c)
	return ok
}

// deliver sends one event to every client allowed to see it. The frame is encoded once; a client
// whose queue is full is evicted after the lock is released.
func (h *Hub) deliver(ev switchboard.Event) {
	data, err := encodeEvent(ev)
	if err != nil {
		h.log.Error("websocket: encode event", "seq", ev.Seq, "type", ev.Type, "err", err)
		return
	}
	msg, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		h.log.Error("websocket: prepare frame", "err", err)
		return
	}
	var typist int64
	if ev.Type == switchboard.EventTyping {
		var t struct {
			AgentID int64 `json:"agent_id"`
		}
		json.Unmarshal(ev.Data, &t)
		typist = t.AgentID
	}
	var slow []*client
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	if ev.Seq > h.lastSeq {
		h.lastSeq = ev.Seq
	}
	for c := range h.clients {
		if c.agentID == typist || !c.canSee(ev) || (ev.Seq > c.liveAfter && ev.Seq <= c.skipUpTo) {
			continue
		}
		select {
		case c.send <- msg:
		default:
			delete(h.clients, c)
			slow = append(slow, c)
		}
	}
	h.mu.Unlock()
	for _, c := range slow {
		h.evictions.Add(1)
		h.log.Warn("websocket: evicting a slow client", "agent_id", c.agentID, "queued", len(c.send))
		c.evict()
	}
	if ev.Type == switchboard.EventChannelUpdated {
		select {
		case h.refresh <- struct{}{}:
		default:
		}
	}
}

// refreshAll re-reads, per connected agent, the account (disabled or deleted: disconnected; role
// changes apply), the channel memberships, and whether the client's cookie session or API token still
// lives (signed out, revoked or expired: disconnected).
func (h *Hub) refreshAll(ctx context.Context) {
	h.mu.Lock()
	byAgent := map[int64][]*client{}
	for c := range h.clients {
		byAgent[c.agentID] = append(byAgent[c.agentID], c)
	}
	h.mu.Unlock()
	for agentID, clients := range byAgent {
		if ctx.Err() != nil {
			return
		}
		agent, err := h.opts.Store.Agent(ctx, agentID)
		if switchboard.IsCode(err, switchboard.ENOTFOUND) || (err == nil && agent.Disabled) {
			for _, c := range clients {
				h.drop(c, websocket.ClosePolicyViolation, "account disabled")
			}
			continue
		}
		if err != nil {
			h.log.Warn("websocket: refresh agent", "agent_id", agentID, "err", err)
			continue
		}
		ids, err := h.opts.Store.AgentChannelIDs(ctx, agentID)
		if err != nil {
			h.log.Warn("websocket: refresh memberships", "agent_id", agentID, "err", err)
			continue
		}
		for _, c := range clients {
			c.agent.Store(agent)
			c.setChannels(ids)
			switch {
			case c.sessionID != "":
				if _, _, err := h.opts.Store.SessionAgent(ctx, c.sessionID); switchboard.IsCode(err, switchboard.EUNAUTHORIZED) {
					h.drop(c, websocket.ClosePolicyViolation, "session ended")
				}
			case c.tokenHash != "":
				if _, _, err := h.opts.Store.TokenAgent(ctx, c.tokenHash); switchboard.IsCode(err, switchboard.EUNAUTHORIZED) {
					h.drop(c, websocket.ClosePolicyViolation, "API token revoked")
				}
			}
		}
	}
}

// drop unregisters a client and closes it with a reason.
func (h *Hub) drop(c *client, code int, reason string) {
	h.unregister(c)
	c.close(code, reason)
}
