package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard"
	"switchboard/realtime"
	"switchboard/store"
	"switchboard/store/storetest"
)

// latencyProbe is a set of websocket clients that timestamp every frame they receive, keyed by a
// string the benchmark chooses (the seq, or the message's wamid).
type latencyProbe struct {
	mu      sync.Mutex
	sent    map[string]time.Time
	got     []time.Duration
	arrived chan struct{}
}

func (p *latencyProbe) start(b *testing.B, env *wsEnv, token string, clients int, key func(wsFrameData) string) {
	for range clients {
		conn, _, err := websocket.DefaultDialer.Dial(env.wsURL(""), http.Header{"Authorization": {"Bearer " + token}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		go func() {
			for {
				_, data, err := conn.ReadMessage()
				if err != nil {
					return
				}
				now := time.Now()
				var f wsFrameData
				if json.Unmarshal(data, &f) != nil || f.Type != switchboard.EventMessageCreated {
					continue
				}
				p.mu.Lock()
				if t0, ok := p.sent[key(f)]; ok {
					p.got = append(p.got, now.Sub(t0))
				}
				p.mu.Unlock()
				p.arrived <- struct{}{}
			}
		}()
	}
}

// wsFrameData is the part of a message.created frame the probe reads.
type wsFrameData struct {
	Type string `json:"type"`
	Seq  int64  `json:"seq"`
	Data struct {
		ExternalID string `json:"external_id"`
	} `json:"data"`
}

// report reports the percentiles of the latencies seen.
func (p *latencyProbe) report(b *testing.B) {
	p.mu.Lock()
	defer p.mu.Unlock()
	reportPercentiles(b, p.got)
}

// reportPercentiles reports the p50 and p99 of ds in microseconds.
func reportPercentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		b.Fatal("no latencies measured")
	}
	slices.Sort(ds)
	pct := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(0, "ns/op")
}

// paced runs fn b.N times at about 200 per second, one call after the other (a slow call lowers the
// rate: it suits calls much shorter than 5 ms), and waits until every client has the last frame.
func (p *latencyProbe) paced(b *testing.B, clients int, fn func(i int)) time.Duration {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		fn(i)
	}
	p.wait(b, b.N*clients)
	b.StopTimer()
	return time.Since(start)
}

// openLoop starts fn(i), i from 0 to b.N-1, each on its own goroutine, one every 5 ms from the start
// (200 per second) whatever the earlier calls are doing: a slow server cannot lower the offered rate,
// it shows as latency and as an achieved rate below the offered one. It waits for every call and for
// every client to have every frame, and reports the offered rate (calls started per second) and the
// achieved rate (calls completed per second, from the first completion to the last).
func (p *latencyProbe) openLoop(b *testing.B, clients int, fn func(i int) error) {
	const every = 5 * time.Millisecond
	var (
		wg                  sync.WaitGroup
		mu                  sync.Mutex
		lastStart           time.Time
		firstDone, lastDone time.Time
	)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			time.Sleep(d)
		}
		lastStart = time.Now()
		wg.Go(func() {
			if err := fn(i); err != nil {
				b.Error(err)
				return
			}
			now := time.Now()
			mu.Lock()
			if firstDone.IsZero() || now.Before(firstDone) {
				firstDone = now
			}
			if now.After(lastDone) {
				lastDone = now
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	p.wait(b, b.N*clients)
	b.StopTimer()
	if b.N > 1 {
		b.ReportMetric(float64(b.N-1)/lastStart.Sub(start).Seconds(), "offered-msgs/s")
		b.ReportMetric(float64(b.N-1)/lastDone.Sub(firstDone).Seconds(), "msgs/s")
	}
}

// wait waits for n frames in all, failing when none comes for 10 s.
func (p *latencyProbe) wait(b *testing.B, n int) {
	for range n {
		select {
		case <-p.arrived:
		case <-time.After(10 * time.Second):
			b.Fatal("frames missing")
		}
	}
}

// eachDB runs a benchmark on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
func eachDB(b *testing.B, fn func(b *testing.B, st *store.Store)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite(b, storetest.Options{})) })
	b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres(b, storetest.Options{})) })
}

// BenchmarkWSPublishLatency measures publish → agent frame latency: 20 agents of one channel, a
// customer message stored and published about 200 times per second.
func BenchmarkWSPublishLatency(b *testing.B) {
	eachDB(b, func(b *testing.B, st *store.Store) {
		env := newWSEnv(b, st, HubOptions{}, nil)
		benchPublishLatency(b, env, env)
	})
}

// BenchmarkWSCrossProcessLatency is the same with the agents on a second server process: the
// event travels by NOTIFY and is read back from the log there.
func BenchmarkWSCrossProcessLatency(b *testing.B) {
	url := storetest.PostgresURL(b)
	envs := make([]*wsEnv, 2)
	for i := range envs {
		st, err := store.Open(context.Background(), store.Options{DatabaseURL: url, Key: storetest.Key, SkipMigrations: true, MaxConns: 5})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		envs[i] = newWSEnv(b, st, HubOptions{}, realtime.NewPostgresBridge(realtime.PostgresOptions{URL: url, DB: st.SQL()}))
	}
	benchPublishLatency(b, envs[0], envs[1])
}

// benchPublishLatency stores and publishes messages on pub, with the agents connected to sub.
func benchPublishLatency(b *testing.B, pub, sub *wsEnv) {
	st := pub.st
	ch := mustWSChannel(b, st, "1001")
	_, token := mustWSAgent(b, st, "Ana", switchboard.RoleAgent, ch.ID)
	const clients = 20
	p := &latencyProbe{sent: map[string]time.Time{}, arrived: make(chan struct{}, 1<<16)}
	p.start(b, sub, token, clients, func(f wsFrameData) string { return strconv.FormatInt(f.Seq, 10) })
	elapsed := p.paced(b, clients, func(i int) {
		at := time.Now()
		wamid := "wamid." + strconv.Itoa(i)
		batch := &switchboard.InboundBatch{Messages: []switchboard.InboundMessage{{WaID: "33612345678", ExternalID: wamid,
			Timestamp: at, Message: &switchboard.Message{Type: switchboard.TypeText, Text: "hello " + strconv.Itoa(i), ExternalID: wamid, Timestamp: &at}}}}
		res, err := st.IngestInbound(context.Background(), ch, batch)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		p.mu.Lock()
		for _, ev := range res.Events {
			p.sent[strconv.FormatInt(ev.Seq, 10)] = t0
		}
		p.mu.Unlock()
		pub.broker.Publish(context.Background(), res.Events)
	})
	p.report(b)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// BenchmarkWSWebhookLatency measures signed webhook POST → agent frame latency end to end (signature
// check, one-transaction ingestion, publish, fan-out) with 20 agents connected, webhooks offered at
// 200 per second open loop (each from its own goroutine, from 50 customers) whatever the server's
// answer time. msgs/s is the rate achieved: below the offered 200, the server did not keep up.
func BenchmarkWSWebhookLatency(b *testing.B) { eachDB(b, benchWebhookLatency) }

func benchWebhookLatency(b *testing.B, st *store.Store) {
	env := newWSEnv(b, st, HubOptions{}, nil)
	ch := mustWSChannel(b, st, "1001")
	_, token := mustWSAgent(b, st, "Ana", switchboard.RoleAgent, ch.ID)
	const clients = 20
	p := &latencyProbe{sent: map[string]time.Time{}, arrived: make(chan struct{}, 1<<16)}
	p.start(b, env, token, clients, func(f wsFrameData) string { return f.Data.ExternalID })
	p.openLoop(b, clients, func(i int) error {
		wamid := "wamid.bench." + strconv.Itoa(i)
		body := textWebhook(ch, fmt.Sprintf("49151123456%02d", i%50), wamid, "hello "+strconv.Itoa(i), time.Now())
		p.mu.Lock()
		p.sent[wamid] = time.Now()
		p.mu.Unlock()
		return env.postWebhook(ch, body)
	})
	p.report(b)
}

// BenchmarkWSIdleMemory measures the server's memory per idle websocket: 1,000 connections held by a
// child process (so the clients' own memory is not counted), heap and goroutine stacks after GC.
func BenchmarkWSIdleMemory(b *testing.B) {
	const conns = 1000
	st := storetest.SQLite(b, storetest.Options{})
	env := newWSEnv(b, st, HubOptions{}, nil)
	ch := mustWSChannel(b, st, "1001")
	_, token := mustWSAgent(b, st, "Ana", switchboard.RoleAgent, ch.ID)
	for range b.N {
		before, goroutines := memNow()
		child := exec.Command(os.Args[0], "-test.run=^TestWSIdleClientsHelper$")
		child.Env = append(os.Environ(), "SWITCHBOARD_WS_HELPER_URL="+env.wsURL(""), "SWITCHBOARD_WS_HELPER_TOKEN="+token,
			"SWITCHBOARD_WS_HELPER_CONNS="+strconv.Itoa(conns))
		stdin, _ := child.StdinPipe()
		stdout, _ := child.StdoutPipe()
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			b.Fatal(err)
		}
		if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
			b.Fatalf("helper: %q", line)
		}
		for env.hub.Clients() < conns {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		after, goroutinesAfter := memNow()
		heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		stack := float64(after.StackInuse) - float64(before.StackInuse)
		b.ReportMetric((heap+stack)/conns, "B/conn")
		b.ReportMetric(heap/conns, "heap-B/conn")
		b.ReportMetric(stack/conns, "stack-B/conn")
		b.ReportMetric(float64(goroutinesAfter-goroutines)/conns, "goroutines/conn")
		b.ReportMetric(0, "ns/op")
		stdin.Close()
		child.Wait()
		for env.hub.Clients() > 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func memNow() (runtime.MemStats, int) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m, runtime.NumGoroutine()
}

// TestWSIdleClientsHelper is the child process of BenchmarkWSIdleMemory: it opens the connections,
// answers pings, says "ready" and holds them until its stdin closes.
func TestWSIdleClientsHelper(t *testing.T) {
	url := os.Getenv("SWITCHBOARD_WS_HELPER_URL")
	if url == "" {
		t.Skip("the child process of BenchmarkWSIdleMemory")
	}
	n, _ := strconv.Atoi(os.Getenv("SWITCHBOARD_WS_HELPER_CONNS"))
	header := http.Header{"Authorization": {"Bearer " + os.Getenv("SWITCHBOARD_WS_HELPER_TOKEN")}}
	for range n {
		conn, _, err := websocket.DefaultDialer.Dial(url, header)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		go func() {
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}
