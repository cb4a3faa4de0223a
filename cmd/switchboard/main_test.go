package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestBadConfigurationNamesEveryProblem(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), nil, env(map[string]string{
		"DATABASE_URL":          "mysql://root@db/switchboard",
		"SWITCHBOARD_ADDR":      ":http-alt-port",
		"SWITCHBOARD_LOG_LEVEL": "loud",
	}), strings.NewReader(""), &stdout, &stderr)
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"DATABASE_URL", "SWITCHBOARD_ADDR", "SWITCHBOARD_LOG_LEVEL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

// syncBuffer is a goroutine-safe writer the test can read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeEmbeddedAndShutdown starts the real program on port 0 with the embedded database, checks
// it is ready and serves the app, then stops it the way SIGTERM does.
func TestServeEmbeddedAndShutdown(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{
			"SWITCHBOARD_ADDR":           "127.0.0.1:0",
			"SWITCHBOARD_DATA_DIR":       dir,
			"SWITCHBOARD_ADMIN_EMAIL":    "admin@example.com",
			"SWITCHBOARD_ADMIN_PASSWORD": "correct-horse-battery",
		}), strings.NewReader(""), pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no start-up line: %v\n%s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	base := strings.Fields(strings.TrimPrefix(line, "switchboard listening on "))[0]
	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
	}
	// The app's routes are served by the embedded UI: the built app (200), or in a checkout whose UI
	// is not built yet, the page that says how to build it (503).
	for _, path := range []string{"/", "/login"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if (res.StatusCode != http.StatusOK && res.StatusCode != http.StatusServiceUnavailable) || !strings.Contains(string(body), "Switchboard") {
			t.Fatalf("GET %s: %d %.200s", path, res.StatusCode, body)
		}
	}
	var probe bytes.Buffer
	if err := run(t.Context(), []string{"healthcheck"}, env(map[string]string{"SWITCHBOARD_ADDR": strings.TrimPrefix(base, "http://")}),
		nil, &probe, io.Discard); err != nil || !strings.Contains(probe.String(), "ready") {
		t.Fatalf("healthcheck: %v %q", err, probe.String())
	}
	res, err := http.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"admin@example.com","password":"correct-horse-battery"}`))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the first admin from the environment cannot sign in: %v %v", err, res)
	}
	res.Body.Close()

	// A request in flight when the shutdown starts is finished, not cut: its body is still arriving.
	body, bodyW := io.Pipe()
	inFlight := make(chan *http.Response, 1)
	go func() {
		res, err := http.Post(base+"/api/v1/auth/login", "application/json", body)
		if err != nil {
			t.Errorf("the request in flight failed: %v", err)
		}
		inFlight <- res
	}()
	bodyW.Write([]byte(`{"email":"admin@example.com",`))
	time.Sleep(100 * time.Millisecond) // the server has the request's head
	cancel()
	time.Sleep(100 * time.Millisecond) // the shutdown has begun
	bodyW.Write([]byte(`"password":"correct-horse-battery"}`))
	bodyW.Close()
	if res := <-inFlight; res == nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the request in flight during shutdown: %v", res)
	} else {
		res.Body.Close()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop")
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop logged:\n%s", stderr.String())
	}
}

func TestAdminCreate(t *testing.T) {
	dir := t.TempDir()
	e := env(map[string]string{"SWITCHBOARD_DATA_DIR": dir})
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"admin", "create", "-email", "ops@example.com", "-name", "Ops", "-password", "-"}, e,
		strings.NewReader("a-long-password\n"), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "created admin Ops <ops@example.com>") {
		t.Fatalf("admin create: %v %s %s", err, out.String(), errOut.String())
	}
	err = run(t.Context(), []string{"admin", "create", "-email", "ops@example.com", "-password", "-"}, e,
		strings.NewReader("a-long-password\n"), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("creating the same admin twice: %v", err)
	}
	err = run(t.Context(), []string{"admin", "create", "-email", "x@example.com", "-password", "short"}, e, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "at least 10") {
		t.Fatalf("short password: %v", err)
	}
}
