package faults

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/cmd/loadgen/load"
)

// privatePostgres starts a throwaway PostgreSQL cluster with scripts/pg.sh that this test alone may
// restart (the shared TEST_DATABASE_URL server must stay up for the other tests). It returns the URL
// and functions that stop and start the cluster on the same port.
func privatePostgres(t *testing.T) (dsn string, stop, start func() error) {
	t.Helper()
	if os.Getenv("TEST_DATABASE_URL") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TEST_DATABASE_URL is not set under CI: run the tests through scripts/test.sh")
		}
		t.Skip("TEST_DATABASE_URL is not set; scripts/test.sh starts a PostgreSQL for these tests")
	}
	if !havePostgresBinaries() {
		t.Skip("the PostgreSQL server binaries (initdb, pg_ctl) are not installed: a private cluster to restart cannot be started")
	}
	script, err := filepath.Abs(filepath.Join("..", "scripts", "pg.sh"))
	if err != nil {
		t.Fatal(err)
	}
	// The cluster runs as the postgres user when we are root: its directory must be reachable.
	dir, err := os.MkdirTemp("", "switchboard-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	pg := func(args ...string) (string, error) {
		out, err := exec.Command(script, args...).Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			return "", fmt.Errorf("pg.sh %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return strings.TrimSpace(string(out)), nil
	}
	if dsn, err = pg("start", dir); err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command(script, "stop", dir).Run()
		os.RemoveAll(dir)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	stop = func() error { _, err := pg("stop", dir); return err }
	start = func() error { _, err := pg("start", dir, port); return err }
	return dsn, stop, start
}

func havePostgresBinaries() bool {
	if _, err := exec.LookPath("pg_ctl"); err == nil {
		return true
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	return len(matches) > 0
}

// TestPostgresRestart restarts PostgreSQL under load. The server is not touched: it must recover by
// itself. Webhooks it could not store are answered with an error (5xx), never 200: every wamid that
// got a 200 is in the database, once, and the retried ones are too.
func TestPostgresRestart(t *testing.T) {
	t.Parallel()
	p := suiteParams()
	dsn, stopPG, startPG := privatePostgres(t)
	fake, fakeURL := newFake(t)
	srv := newProc(t, dsn, fakeURL)
	srv.start()
	env := setup(t, srv, fake, 2)

	period := 4 * time.Second
	duration := time.Duration(p.pgRestarts)*period + 3*time.Second
	type outcome struct {
		n   int
		err error
	}
	restarts := make(chan outcome, 1)
	go func() {
		n := 0
		time.Sleep(2 * time.Second)
		for range p.pgRestarts {
			if err := stopPG(); err != nil {
				restarts <- outcome{n, err}
				return
			}
			time.Sleep(p.pgDowntime)
			if err := startPG(); err != nil {
				restarts <- outcome{n, err}
				return
			}
			n++
			time.Sleep(period - p.pgDowntime)
		}
		restarts <- outcome{n, nil}
	}()
	res, err := load.Run(t.Context(), env, load.Config{Concurrency: 8, Rate: p.rate, Duration: duration, Drain: 60 * time.Second,
		Contacts: 200, Mix: load.Mix{load.KindText: 80, load.KindMedia: 10, load.KindInteractive: 10}, ReplyRate: 5,
		Retry: true, RecordAcked: true, Fake: fake, Timeout: 10 * time.Second, Seed: 23})
	if err != nil {
		t.Fatal(err)
	}
	o := <-restarts
	if o.err != nil {
		t.Fatal(o.err)
	}
	n := o.n
	t.Logf("%d PostgreSQL restarts; %s; errors %v", n, res, res.Errors)
	if !srv.alive() {
		t.Fatal("the server process exited when PostgreSQL restarted")
	}
	if r, err := http.Get(srv.URL() + "/readyz"); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("the server is not ready after PostgreSQL came back: %v", err)
	} else {
		r.Body.Close()
	}
	if non200(res) == 0 {
		t.Fatal("no webhook was refused while PostgreSQL was down: the outage was not observed")
	}
	for status := range res.Errors {
		if status == "200" || (!strings.HasPrefix(status, "5") && status != "transport_error" && status != "timeout") {
			t.Errorf("while PostgreSQL was down the server answered %s (want 5xx)", status)
		}
	}
	if res.Unacked != 0 {
		t.Fatalf("%d webhooks were never acknowledged after PostgreSQL came back: the server did not recover", res.Unacked)
	}
	l := settle(t, openDB(t, srv, dsn), env.ChannelID, p.settleLimit)
	v := judge(res.AckedIDs, l)
	t.Logf("after %d PostgreSQL restarts: %s", n, v)
	if !v.clean() {
		t.Fatal(v)
	}
}
