package realtime_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"switchboard"
	"switchboard/realtime"
	"switchboard/store"
	"switchboard/store/storetest"
)

// execer is a database handle or an open transaction.
type execer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// insertEvent appends an event to the log the way the store does inside a change's transaction, and
// returns it with its sequence number.
func insertEvent(t *testing.T, st *store.Store, db execer, channelID int64) switchboard.Event {
	t.Helper()
	q := `INSERT INTO events (type, channel_id, conversation_id, data, created_at) VALUES (?, ?, 0, '{"n":1}', ?) RETURNING seq`
	if st.Dialect() == "postgres" {
		q = `INSERT INTO events (type, channel_id, conversation_id, data, created_at) VALUES ($1, $2, 0, '{"n":1}', $3) RETURNING seq`
	}
	ev := switchboard.Event{Type: switchboard.EventMessageCreated, ChannelID: channelID, Data: json.RawMessage(`{"n":1}`),
		CreatedAt: time.Now().UTC()}
	if err := db.QueryRowContext(t.Context(), q, ev.Type, channelID, ev.CreatedAt).Scan(&ev.Seq); err != nil {
		t.Fatalf("insert event: %v", err)
	}
	return ev
}

// recorder subscribes to a broker and collects what it delivers.
type recorder chan switchboard.Event

func subscribe(b *realtime.Broker) recorder {
	r := make(recorder, 10000)
	b.Subscribe(func(e switchboard.Event) { r <- e })
	return r
}

// next waits for the next delivery.
func (r recorder) next(t *testing.T) switchboard.Event {
	t.Helper()
	select {
	case e := <-r:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event delivered within 10 s")
		return switchboard.Event{}
	}
}

// quiet asserts that nothing is delivered for a while.
func (r recorder) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case e := <-r:
		t.Fatalf("unexpected event %d", e.Seq)
	case <-time.After(d):
	}
}

func startBroker(t *testing.T, opts realtime.Options) *realtime.Broker {
	t.Helper()
	b, err := realtime.New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

func TestBrokerOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		old := insertEvent(t, st, st.SQL(), 1)
		b := startBroker(t, realtime.Options{Log: st, PollInterval: time.Hour})
		if b.Head() != old.Seq {
			t.Fatalf("head %d, want the newest event %d", b.Head(), old.Seq)
		}
		got := subscribe(b)

		t.Run("publishes that race their commits are delivered in sequence order", func(t *testing.T) {
			e1, e2, e3 := insertEvent(t, st, st.SQL(), 1), insertEvent(t, st, st.SQL(), 1), insertEvent(t, st, st.SQL(), 1)
			b.Publish(t.Context(), []switchboard.Event{e3})
			b.Publish(t.Context(), []switchboard.Event{e2, e3})
			got.quiet(t, 50*time.Millisecond)
			b.Publish(t.Context(), []switchboard.Event{e1})
			for _, want := range []int64{e1.Seq, e2.Seq, e3.Seq} {
				if e := got.next(t); e.Seq != want {
					t.Fatalf("got %d, want %d", e.Seq, want)
				}
			}
			got.quiet(t, 50*time.Millisecond)
		})
		t.Run("a commit nobody published is read from the log behind the gap it leaves", func(t *testing.T) {
			e1, e2 := insertEvent(t, st, st.SQL(), 1), insertEvent(t, st, st.SQL(), 1)
			b.Publish(t.Context(), []switchboard.Event{e2})
			for _, want := range []int64{e1.Seq, e2.Seq} {
				if e := got.next(t); e.Seq != want || string(e.Data) != `{"n":1}` {
					t.Fatalf("got %d %s, want %d", e.Seq, e.Data, want)
				}
			}
		})
		t.Run("ephemeral events are delivered at once", func(t *testing.T) {
			b.Publish(t.Context(), []switchboard.Event{{Type: switchboard.EventTyping, ChannelID: 1, Data: json.RawMessage(`{}`)}})
			if e := got.next(t); e.Type != switchboard.EventTyping || e.Seq != 0 {
				t.Fatalf("got %+v", e)
			}
		})
	})
}

func TestBrokerPoll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := startBroker(t, realtime.Options{Log: st, PollInterval: 20 * time.Millisecond})
		got := subscribe(b)
		e := insertEvent(t, st, st.SQL(), 1) // committed, never published
		if g := got.next(t); g.Seq != e.Seq {
			t.Fatalf("got %d, want %d", g.Seq, e.Seq)
		}
		head, cancel := b.Subscribe(func(switchboard.Event) {})
		cancel()
		if head != e.Seq {
			t.Fatalf("a new subscriber starts at %d, want %d", head, e.Seq)
		}
	})
}

// TestBrokerOutOfOrderCommits uses PostgreSQL's real behaviour: a transaction that took its identity
// value first commits last.
func TestBrokerOutOfOrderCommits(t *testing.T) {
	st := storetest.Postgres(t, storetest.Options{})
	b := startBroker(t, realtime.Options{Log: st, PollInterval: time.Hour, GapTimeout: 300 * time.Millisecond,
		LateWindow: time.Minute})
	got := subscribe(b)
	begin := func() *sql.Tx {
		tx, err := st.SQL().BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}

	t.Run("a slow commit is waited for", func(t *testing.T) {
		slow := begin()
		early := insertEvent(t, st, slow, 1)
		late := insertEvent(t, st, st.SQL(), 1) // commits first
		b.Publish(t.Context(), []switchboard.Event{late})
		got.quiet(t, 100*time.Millisecond)
		if err := slow.Commit(); err != nil {
			t.Fatal(err)
		}
		// Not even published: the gap makes the broker re-read the log.
		if a, z := got.next(t), got.next(t); a.Seq != early.Seq || z.Seq != late.Seq {
			t.Fatalf("got %d, %d; want %d, %d", a.Seq, z.Seq, early.Seq, late.Seq)
		}
	})
	t.Run("a rolled-back number stops the stream only for the gap timeout", func(t *testing.T) {
		doomed := begin()
		insertEvent(t, st, doomed, 1)
		doomed.Rollback()
		after := insertEvent(t, st, st.SQL(), 1)
		b.Publish(t.Context(), []switchboard.Event{after})
		if e := got.next(t); e.Seq != after.Seq {
			t.Fatalf("got %d, want %d", e.Seq, after.Seq)
		}
	})
	t.Run("a commit later than the gap timeout is delivered late, not lost", func(t *testing.T) {
		slow := begin()
		lagging := insertEvent(t, st, slow, 1)
		ahead := insertEvent(t, st, st.SQL(), 1)
		b.Publish(t.Context(), []switchboard.Event{ahead})
		if e := got.next(t); e.Seq != ahead.Seq {
			t.Fatalf("got %d, want %d", e.Seq, ahead.Seq)
		}
		if err := slow.Commit(); err != nil {
			t.Fatal(err)
		}
		b.Publish(t.Context(), []switchboard.Event{lagging})
		if e := got.next(t); e.Seq != lagging.Seq {
			t.Fatalf("got %d, want the late %d", e.Seq, lagging.Seq)
		}
		if b.Head() != ahead.Seq {
			t.Fatalf("a late event moved the watermark to %d", b.Head())
		}
	})
	t.Run("many concurrent writers: every event exactly once, in order", func(t *testing.T) {
		const writers, each = 8, 25
		errs := make(chan error, writers)
		for range writers {
			go func() {
				for range each {
					tx, err := st.SQL().BeginTx(context.Background(), nil)
					if err != nil {
						errs <- err
						return
					}
					var seq int64
					err = tx.QueryRow(`INSERT INTO events (type, channel_id, conversation_id, data, created_at)
						VALUES ('x', 1, 0, '{}', now()) RETURNING seq`).Scan(&seq)
					time.Sleep(time.Duration(seq%3) * time.Millisecond) // commit out of order
					if err == nil {
						err = tx.Commit()
					}
					if err != nil {
						errs <- err
						return
					}
					b.Publish(context.Background(), []switchboard.Event{{Seq: seq, Type: "x", ChannelID: 1, Data: json.RawMessage(`{}`)}})
				}
				errs <- nil
			}()
		}
		for range writers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		var seqs []int64
		for range writers * each {
			seqs = append(seqs, got.next(t).Seq)
		}
		for i := 1; i < len(seqs); i++ {
			if seqs[i] <= seqs[i-1] {
				t.Fatalf("delivered out of order or twice: %v", seqs)
			}
		}
		got.quiet(t, 100*time.Millisecond)
	})
}
