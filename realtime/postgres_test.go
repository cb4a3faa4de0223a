package realtime_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"switchboard"
	"switchboard/realtime"
	"switchboard/store"
	"switchboard/store/storetest"
)

// process is one server process's share of the realtime machinery: its own store (pool) and broker
// with a LISTEN bridge, on a database other processes share.
type process struct {
	store  *store.Store
	broker *realtime.Broker
	got    recorder
}

func startProcess(t *testing.T, url string, opts realtime.Options) *process {
	t.Helper()
	st, err := store.Open(t.Context(), store.Options{DatabaseURL: url, Key: storetest.Key, SkipMigrations: true, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts.Log = st
	opts.Bridge = realtime.NewPostgresBridge(realtime.PostgresOptions{URL: url, DB: st.SQL()})
	b := startBroker(t, opts)
	return &process{store: st, broker: b, got: subscribe(b)}
}

// waitListening waits until n LISTEN connections other than the excluded ones are up on the test
// database and returns their pids.
func waitListening(t *testing.T, admin *sql.DB, n int, exclude ...int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := admin.Query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'switchboard-realtime'
			AND datname = current_database() AND query LIKE 'LISTEN%'`)
		if err != nil {
			t.Fatal(err)
		}
		var pids []int
		for rows.Next() {
			var pid int
			rows.Scan(&pid)
			if !slices.Contains(exclude, pid) {
				pids = append(pids, pid)
			}
		}
		rows.Close()
		if len(pids) >= n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d LISTEN connections, want %d", len(pids), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTwoProcesses(t *testing.T) {
	url := storetest.PostgresURL(t)
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// Polling is off: only NOTIFY and the resync after a reconnection can move events across.
	one := startProcess(t, url, realtime.Options{PollInterval: time.Hour})
	two := startProcess(t, url, realtime.Options{PollInterval: time.Hour})
	waitListening(t, admin, 2)

	t.Run("an event committed on one process reaches the other's subscribers", func(t *testing.T) {
		e := insertEvent(t, one.store, one.store.SQL(), 7)
		one.broker.Publish(t.Context(), []switchboard.Event{e})
		if g := one.got.next(t); g.Seq != e.Seq {
			t.Fatalf("local: got %d, want %d", g.Seq, e.Seq)
		}
		g := two.got.next(t)
		if g.Seq != e.Seq || g.ChannelID != 7 || string(g.Data) != `{"n":1}` {
			t.Fatalf("remote: got %+v, want seq %d read from the log", g, e.Seq)
		}
		one.got.quiet(t, 100*time.Millisecond) // its own notice is not delivered twice
	})
	t.Run("a burst arrives complete and in order", func(t *testing.T) {
		var want []int64
		for range 300 {
			e := insertEvent(t, two.store, two.store.SQL(), 7)
			want = append(want, e.Seq)
			two.broker.Publish(t.Context(), []switchboard.Event{e})
		}
		for _, w := range want {
			if g := one.got.next(t); g.Seq != w {
				t.Fatalf("got %d, want %d", g.Seq, w)
			}
			two.got.next(t)
		}
	})
	t.Run("ephemeral events travel whole", func(t *testing.T) {
		typing := switchboard.Event{Type: switchboard.EventTyping, ChannelID: 7, ConversationID: 3,
			Data: json.RawMessage(`{"conversation_id":3,"on":true}`)}
		one.broker.Publish(t.Context(), []switchboard.Event{typing})
		one.got.next(t)
		if g := two.got.next(t); g.Type != switchboard.EventTyping || g.ConversationID != 3 || string(g.Data) != string(typing.Data) {
			t.Fatalf("got %+v", g)
		}
	})
	t.Run("after the LISTEN connection dies, the process re-listens and reads what it missed", func(t *testing.T) {
		pids := waitListening(t, admin, 2)
		// Kill both listeners, then commit while they are (probably) still down.
		for _, pid := range pids {
			if _, err := admin.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
				t.Fatal(err)
			}
		}
		missed := insertEvent(t, one.store, one.store.SQL(), 7)
		one.broker.Publish(t.Context(), []switchboard.Event{missed})
		one.got.next(t)
		if g := two.got.next(t); g.Seq != missed.Seq {
			t.Fatalf("got %d, want %d", g.Seq, missed.Seq)
		}
		waitListening(t, admin, 2, pids...)
		after := insertEvent(t, one.store, one.store.SQL(), 7)
		one.broker.Publish(t.Context(), []switchboard.Event{after})
		if g := two.got.next(t); g.Seq != after.Seq {
			t.Fatalf("got %d, want %d", g.Seq, after.Seq)
		}
	})
}

// TestListenerBackoff checks that a broker whose listener cannot connect keeps
// serving local events and catches up once it can.
func TestListenerBackoff(t *testing.T) {
	url := storetest.PostgresURL(t)
	st, err := store.Open(t.Context(), store.Options{DatabaseURL: url, Key: storetest.Key, SkipMigrations: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bad := realtime.NewPostgresBridge(realtime.PostgresOptions{URL: "postgres://nobody@127.0.0.1:1/none?connect_timeout=1", DB: st.SQL()})
	b := startBroker(t, realtime.Options{Log: st, Bridge: bad, PollInterval: time.Hour})
	got := subscribe(b)
	e := insertEvent(t, st, st.SQL(), 1)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	b.Publish(ctx, []switchboard.Event{e})
	if g := got.next(t); g.Seq != e.Seq {
		t.Fatalf("got %d, want %d", g.Seq, e.Seq)
	}
}
