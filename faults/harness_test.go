package faults

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchboard/cmd/loadgen/load"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/whatsapp/graphtest"
)

// params are the sizes of the suite: the short form by default, the long form with FAULTS_LONG=1.
type params struct {
	long        bool
	killCycles  int
	rate        float64
	graphDown   time.Duration
	replies     int
	pgRestarts  int
	pgDowntime  time.Duration
	settleLimit time.Duration
}

func suiteParams() params {
	p := params{killCycles: 3, rate: 80, graphDown: 5 * time.Second, replies: 8, pgRestarts: 1, pgDowntime: 2 * time.Second,
		settleLimit: 3 * time.Minute}
	if os.Getenv("FAULTS_LONG") != "" {
		p = params{long: true, killCycles: 12, rate: 200, graphDown: 30 * time.Second, replies: 25, pgRestarts: 3,
			pgDowntime: 3 * time.Second, settleLimit: 5 * time.Minute}
	}
	if v, err := strconv.Atoi(os.Getenv("FAULTS_KILL_CYCLES")); err == nil && v > 0 {
		p.killCycles = v
	}
	return p
}

const adminEmail, adminPassword = "admin@example.com", "faults-admin-password"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds cmd/switchboard once per test process, the way it ships (CGO_ENABLED=0).
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("the fault suite builds and runs the real server; skipped with -short")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "switchboard-faults-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "switchboard")
		cmd := exec.Command("go", "build", "-o", binPath, "switchboard/cmd/switchboard")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freeAddr returns a loopback address with a port nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is the server running as a child process, restartable on the same address and data.
type proc struct {
	t       *testing.T
	bin     string
	env     []string
	addr    string
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// newProc prepares a server on a fresh data directory, calling fakeURL as its Graph API; databaseURL
// empty means the embedded SQLite.
func newProc(t *testing.T, databaseURL, fakeURL string) *proc {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	p := &proc{t: t, bin: binary(t), addr: addr, logPath: filepath.Join(dir, "server.log")}
	p.env = append(os.Environ(),
		"SWITCHBOARD_ADDR="+addr, "SWITCHBOARD_PUBLIC_URL=http://"+addr, "SWITCHBOARD_DATA_DIR="+filepath.Join(dir, "data"),
		"SWITCHBOARD_SANDBOX=false", "SWITCHBOARD_ADMIN_EMAIL="+adminEmail, "SWITCHBOARD_ADMIN_PASSWORD="+adminPassword,
		"SWITCHBOARD_GRAPH_API_URL="+fakeURL, "SWITCHBOARD_LOG_LEVEL=warn", "SWITCHBOARD_WORKERS=4",
		"SWITCHBOARD_SHUTDOWN_TIMEOUT=5s", "SWITCHBOARD_JOB_LEASE=5s", "DATABASE_URL="+databaseURL)
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("server log (tail):\n%s", p.logTail(60))
		}
	})
	return p
}

// URL is the server's base URL.
func (p *proc) URL() string { return "http://" + p.addr }

// sqlitePath is the database file of an embedded-mode server.
func (p *proc) sqlitePath() string {
	for _, kv := range p.env {
		if dir, ok := strings.CutPrefix(kv, "SWITCHBOARD_DATA_DIR="); ok {
			return filepath.Join(dir, "switchboard.db")
		}
	}
	return ""
}

// start runs the server and waits until /readyz answers 200; it fails the test otherwise.
func (p *proc) start() {
	p.t.Helper()
	if err := p.tryStart(); err != nil {
		p.t.Fatal(err)
	}
}

// tryStart runs the server and waits until /readyz answers 200. It may be called from any goroutine.
func (p *proc) tryStart() error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin, "serve")
	cmd.Env, cmd.Stdout, cmd.Stderr = p.env, logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.starts++
	p.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("server exited while starting:\n%s", p.logTail(30))
		default:
		}
		if res, err := http.Get(p.URL() + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready after 60 s:\n%s", p.logTail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill9 kills the server with SIGKILL, as a crash or the OOM killer would, and reaps it.
func (p *proc) kill9() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// stop asks the server to shut down (SIGTERM) and kills it if it takes too long.
func (p *proc) stop() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}
}

// alive reports whether the current server process is still running.
func (p *proc) alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *proc) logTail(lines int) string {
	b, _ := os.ReadFile(p.logPath)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// newFake starts a fake Graph API for the server to call.
func newFake(t *testing.T) (*graphtest.Server, string) {
	t.Helper()
	fake := graphtest.New(graphtest.Options{StatusDelay: 20 * time.Millisecond})
	hs := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); hs.Close() })
	return fake, hs.URL
}

// setup creates the load's channel and agents on the running server.
func setup(t *testing.T, p *proc, fake *graphtest.Server, agents int) *load.Env {
	t.Helper()
	env, err := load.Setup(t.Context(), load.SetupConfig{BaseURL: p.URL(), AdminEmail: adminEmail, AdminPassword: adminPassword,
		Fake: fake, Agents: agents, Capacity: 20})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// openDB opens the server's database from the test (PostgreSQL, or the SQLite file the server is
// using: WAL lets the two processes share it).
func openDB(t *testing.T, p *proc, databaseURL string) *sql.DB {
	t.Helper()
	opts := store.Options{DatabaseURL: databaseURL, Key: storetest.Key, SkipMigrations: true, MaxConns: 2}
	if databaseURL == "" {
		opts.SQLitePath = p.sqlitePath()
	}
	st, err := store.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.SQL()
}

// ledger is what the database holds for a channel, compared with what the server acknowledged.
type ledger struct {
	stored       map[string]int // inbound wamid → rows
	created      map[string]int // inbound wamid → message.created events
	jobs         map[string]int // state → inbound jobs
	unrouted     int            // open conversations with neither an assignee nor a place in the queue
	conversation int
}

func readLedger(t *testing.T, db *sql.DB, channelID int64) *ledger {
	t.Helper()
	l := &ledger{stored: map[string]int{}, created: map[string]int{}, jobs: map[string]int{}}
	ch := strconv.FormatInt(channelID, 10)
	rows, err := db.Query(`SELECT external_id, count(*) FROM messages WHERE channel_id = ` + ch +
		` AND direction = 'inbound' AND external_id IS NOT NULL GROUP BY external_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		l.stored[id] = n
	}
	rows.Close()
	rows, err = db.Query(`SELECT data FROM events WHERE type = 'message.created' AND channel_id = ` + ch)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			t.Fatal(err)
		}
		var m struct {
			Direction  string `json:"direction"`
			ExternalID string `json:"external_id"`
		}
		if json.Unmarshal([]byte(data), &m) == nil && m.Direction == "inbound" && m.ExternalID != "" {
			l.created[m.ExternalID]++
		}
	}
	rows.Close()
	rows, err = db.Query(`SELECT state, count(*) FROM jobs WHERE kind = 'inbound' GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			t.Fatal(err)
		}
		l.jobs[state] = n
	}
	rows.Close()
	if err := db.QueryRow(`SELECT count(*) FROM conversations WHERE channel_id = ` + ch).Scan(&l.conversation); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM conversations WHERE channel_id = ` + ch +
		` AND status <> 'resolved' AND assignee_kind = '' AND waiting_since IS NULL`).Scan(&l.unrouted); err != nil {
		t.Fatal(err)
	}
	return l
}

// settle waits until no inbound job is queued or running (a job whose worker was killed waits for its
// lease to expire), and returns the final ledger.
func settle(t *testing.T, db *sql.DB, channelID int64, limit time.Duration) *ledger {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		l := readLedger(t, db, channelID)
		if l.jobs["queued"] == 0 && l.jobs["running"] == 0 {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbound jobs did not settle within %s: %v", limit, l.jobs)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// verdict compares the acknowledged wamids with the ledger: lost (acked, not stored), duplicated
// (stored or announced more than once) and unprocessed work.
type verdict struct {
	acked, lost, duplicated, announcedTwice, deadJobs, unrouted int
	examples                                                    []string
}

func judge(acked []string, l *ledger) verdict {
	v := verdict{acked: len(acked), deadJobs: l.jobs["dead"], unrouted: l.unrouted}
	seen := map[string]bool{}
	for _, id := range acked {
		if seen[id] {
			continue
		}
		seen[id] = true
		switch n := l.stored[id]; {
		case n == 0:
			v.lost++
			if len(v.examples) < 5 {
				v.examples = append(v.examples, "lost "+id)
			}
		case n > 1:
			v.duplicated++
		}
		if l.created[id] > 1 {
			v.announcedTwice++
		}
	}
	for id, n := range l.stored {
		if n > 1 && !seen[id] {
			v.duplicated++
		}
	}
	return v
}

func (v verdict) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d acked wamids: %d lost, %d duplicated, %d announced twice; %d dead inbound jobs, %d unrouted conversations",
		v.acked, v.lost, v.duplicated, v.announcedTwice, v.deadJobs, v.unrouted)
	for _, e := range v.examples {
		b.WriteString("; " + e)
	}
	return b.String()
}

func (v verdict) clean() bool {
	return v.lost == 0 && v.duplicated == 0 && v.announcedTwice == 0 && v.deadJobs == 0 && v.unrouted == 0
}

// postgresURL returns a fresh database on TEST_DATABASE_URL's server, or skips (fails under CI).
func postgresURL(t *testing.T) string {
	t.Helper()
	return storetest.PostgresURL(t)
}

// non200 sums the error counts of a result.
func non200(res *load.Result) int64 {
	var n int64
	for _, c := range res.Errors {
		n += c
	}
	return n
}
