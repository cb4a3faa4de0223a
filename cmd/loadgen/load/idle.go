package load

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// IdleConfig is a run of idle agent websockets: many open inboxes with nothing happening, to
// measure what each connection costs the server.
type IdleConfig struct {
	Setup SetupConfig
	// Conns websockets are opened, spread over Setup.Agents agents (one agent may have several tabs
	// and devices open).
	Conns int
	// Hold is how long the connections stay open once all are up; Settle is waited before the first
	// memory reading after they are up.
	Hold   time.Duration
	Settle time.Duration
	// DialConcurrency bounds simultaneous handshakes.
	DialConcurrency int
	// PID, when set, is the server's process id on this machine: its RSS is also read from /proc.
	PID int
	// SaveAgents, when set, writes the created agents and their tokens to this file and returns
	// without connecting; AgentsFile reuses such a file instead of creating agents. Together they
	// let the server be restarted between the setup (which hashes every agent's password, a
	// memory-hungry step) and the measurement, so the baseline is a fresh process.
	SaveAgents string
	AgentsFile string
	Logf       func(format string, args ...any)
}

// savedAgents is the file SaveAgents writes.
type savedAgents struct {
	Agents []savedAgent `json:"agents"`
}

type savedAgent struct {
	ID    int64  `json:"id"`
	Token string `json:"token"`
}

// IdleResult is what the idle run measured.
type IdleResult struct {
	Label         string           `json:"label,omitempty"`
	Target        string           `json:"target"`
	Agents        int              `json:"agents"`
	Requested     int              `json:"requested"`
	Connected     int64            `json:"connected"`
	Failed        map[string]int64 `json:"failed,omitempty"`
	Dropped       int64            `json:"dropped_while_holding"`
	ServerClients float64          `json:"server_websocket_clients"`
	ConnectSec    float64          `json:"connect_s"`
	HoldSec       float64          `json:"hold_s"`
	// Resident memory of the server from its /metrics (process_resident_memory_bytes): before any
	// connection, once all are up, and at the end of the hold.
	RSSBefore float64 `json:"rss_before_bytes"`
	RSSUp     float64 `json:"rss_connected_bytes"`
	RSSEnd    float64 `json:"rss_end_bytes"`
	// From /proc/PID/status when PID was given: the current and peak resident set.
	ProcRSS     int64   `json:"proc_vmrss_bytes,omitempty"`
	ProcPeakRSS int64   `json:"proc_vmhwm_bytes,omitempty"`
	PerConnKB   float64 `json:"per_connection_kb"`
}

// Idle opens the connections, holds them, and reports the server's memory.
func Idle(ctx context.Context, cfg IdleConfig) (*IdleResult, error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Setup.Agents <= 0 {
		cfg.Setup.Agents = 100
	}
	if cfg.DialConcurrency <= 0 {
		cfg.DialConcurrency = 32
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 5 * time.Second
	}
	cfg.Setup.Logf = cfg.Logf
	env, err := idleEnv(ctx, cfg)
	if err != nil || cfg.SaveAgents != "" {
		return nil, err
	}
	res := &IdleResult{Target: env.API.Base(), Agents: len(env.Agents), Requested: cfg.Conns, Failed: map[string]int64{}}
	m, err := env.API.Metrics(ctx)
	if err != nil {
		return nil, err
	}
	res.RSSBefore = m["process_resident_memory_bytes"]

	dialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	url := wsURL(env.API.Base())
	conns := make([]*websocket.Conn, cfg.Conns)
	var connected, dropped atomic.Int64
	var closing atomic.Bool // set while the run closes its own connections: their read errors are not drops
	var failMu sync.Mutex
	var readers sync.WaitGroup
	sem := make(chan struct{}, cfg.DialConcurrency)
	var dials sync.WaitGroup
	start := time.Now()
	for i := range cfg.Conns {
		sem <- struct{}{}
		dials.Add(1)
		go func() {
			defer func() { <-sem; dials.Done() }()
			a := env.Agents[i%len(env.Agents)]
			conn, r, err := dialer.DialContext(ctx, url, http.Header{"Authorization": {"Bearer " + a.Token}})
			if err != nil {
				label := "transport"
				if r != nil {
					label = strconv.Itoa(r.StatusCode)
				}
				failMu.Lock()
				res.Failed[label]++
				failMu.Unlock()
				return
			}
			conns[i] = conn
			connected.Add(1)
			readers.Add(1)
			go func() {
				defer readers.Done()
				// Reading answers the server's pings; a read error before the end is a drop.
				for {
					if _, _, err := conn.ReadMessage(); err != nil {
						if ctx.Err() == nil && !closing.Load() {
							dropped.Add(1)
						}
						return
					}
				}
			}()
		}()
		if (i+1)%1000 == 0 {
			cfg.Logf("idle: %d/%d connections opened", i+1, cfg.Conns)
		}
	}
	dials.Wait()
	res.ConnectSec = time.Since(start).Seconds()
	res.Connected = connected.Load()
	cfg.Logf("idle: %d connected in %.1f s; settling %s", res.Connected, res.ConnectSec, cfg.Settle)
	sleepCtx(ctx, cfg.Settle)
	if m, err := env.API.Metrics(ctx); err == nil {
		res.RSSUp = m["process_resident_memory_bytes"]
		res.ServerClients = m["switchboard_websocket_clients"]
	}
	holdStart := time.Now()
	sleepCtx(ctx, cfg.Hold)
	res.HoldSec = time.Since(holdStart).Seconds()
	if m, err := env.API.Metrics(context.WithoutCancel(ctx)); err == nil {
		res.RSSEnd = m["process_resident_memory_bytes"]
	}
	if cfg.PID > 0 {
		res.ProcRSS, res.ProcPeakRSS = procRSS(cfg.PID)
	}
	res.Dropped = dropped.Load()
	if res.Connected > 0 {
		res.PerConnKB = (max(res.RSSUp, res.RSSEnd) - res.RSSBefore) / float64(res.Connected) / 1024
	}
	closing.Store(true)
	for _, c := range conns {
		if c != nil {
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			c.Close()
		}
	}
	readers.Wait()
	if len(res.Failed) == 0 {
		res.Failed = nil
	}
	return res, nil
}

// idleEnv creates the agents (saving them when asked) or reads them from AgentsFile.
func idleEnv(ctx context.Context, cfg IdleConfig) (*Env, error) {
	if cfg.AgentsFile != "" {
		b, err := os.ReadFile(cfg.AgentsFile)
		if err != nil {
			return nil, err
		}
		var saved savedAgents
		if err := json.Unmarshal(b, &saved); err != nil || len(saved.Agents) == 0 {
			return nil, fmt.Errorf("%s: no agents (%v)", cfg.AgentsFile, err)
		}
		env := &Env{API: NewAPI(cfg.Setup.BaseURL, cfg.Setup.HTTPClient)}
		for _, a := range saved.Agents {
			env.Agents = append(env.Agents, AgentCred{ID: a.ID, Token: a.Token})
		}
		return env, nil
	}
	env, err := Setup(ctx, cfg.Setup)
	if err != nil || cfg.SaveAgents == "" {
		return env, err
	}
	var saved savedAgents
	for _, a := range env.Agents {
		saved.Agents = append(saved.Agents, savedAgent{ID: a.ID, Token: a.Token})
	}
	b, _ := json.Marshal(saved)
	if err := os.WriteFile(cfg.SaveAgents, b, 0o600); err != nil {
		return nil, err
	}
	cfg.Logf("idle: %d agents saved to %s", len(saved.Agents), cfg.SaveAgents)
	return env, nil
}

// procRSS reads VmRSS and VmHWM (peak) of a process, in bytes.
func procRSS(pid int) (rss, peak int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return rss, peak
}
