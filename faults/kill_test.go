package faults

import (
	"math/rand/v2"
	"testing"
	"time"

	"switchboard/cmd/loadgen/load"
)

// TestKillDuringLoad kills the server with SIGKILL repeatedly while customers write, restarting it on
// the same database each time. The load generator resends what did not get a 200, as Meta does.
// Afterwards every wamid that was ever acknowledged is stored exactly once, announced once, and its
// inbound job has run (none queued, running or dead; every open conversation assigned or queued).
func TestKillDuringLoad(t *testing.T) {
	p := suiteParams()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			url := ""
			if db == "postgres" {
				url = postgresURL(t)
			}
			fake, fakeURL := newFake(t)
			srv := newProc(t, url, fakeURL)
			srv.start()
			env := setup(t, srv, fake, 2)

			cycle := 2500 * time.Millisecond
			duration := time.Duration(p.killCycles)*cycle + 2*time.Second
			type outcome struct {
				n   int
				err error
			}
			kills := make(chan outcome, 1)
			go func() {
				rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
				n := 0
				time.Sleep(1500 * time.Millisecond)
				for range p.killCycles {
					// Kill at a random moment of the cycle: during a transaction, a job, a send.
					time.Sleep(time.Duration(500+rng.IntN(1500)) * time.Millisecond)
					srv.kill9()
					n++
					if err := srv.tryStart(); err != nil {
						kills <- outcome{n, err}
						return
					}
				}
				kills <- outcome{n, nil}
			}()
			res, err := load.Run(t.Context(), env, load.Config{Concurrency: 8, Rate: p.rate, Duration: duration, Drain: 90 * time.Second,
				Contacts: 200, Mix: load.Mix{load.KindText: 70, load.KindMedia: 10, load.KindInteractive: 10, load.KindLocation: 5, load.KindReaction: 5},
				ReplyRate: 5, Retry: true, RecordAcked: true, Fake: fake, Timeout: 10 * time.Second, Seed: 11})
			if err != nil {
				t.Fatal(err)
			}
			o := <-kills
			if o.err != nil {
				t.Fatalf("restart after kill %d: %v", o.n, o.err)
			}
			killed := o.n
			t.Logf("%s: %d kill -9 cycles; %s; errors %v", db, killed, res, res.Errors)
			if killed != p.killCycles {
				t.Fatalf("%d kills, want %d", killed, p.killCycles)
			}
			if res.Unacked != 0 {
				t.Fatalf("%d webhooks were never acknowledged, even after retries", res.Unacked)
			}
			if res.Acked == 0 || len(res.AckedIDs) == 0 {
				t.Fatal("nothing was acknowledged")
			}
			if res.FramesMissing != 0 {
				t.Errorf("%d acknowledged messages never reached every agent's websocket (resume after a restart)", res.FramesMissing)
			}

			l := settle(t, openDB(t, srv, url), env.ChannelID, p.settleLimit)
			v := judge(res.AckedIDs, l)
			t.Logf("%s: %s (%d conversations)", db, v, l.conversation)
			if !v.clean() {
				t.Fatalf("after %d kill -9 cycles: %s", killed, v)
			}
		})
	}
}
