package realtime

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
)

func ev(seq int64) switchboard.Event {
	return switchboard.Event{Seq: seq, Type: switchboard.EventMessageCreated, Data: json.RawMessage(`{}`)}
}

func seqsOf(ds []delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ev.Seq
	}
	return out
}

func TestSequencer(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("reorders and drops duplicates", func(t *testing.T) {
		s := newSequencer(10, time.Second, time.Minute)
		got := s.add([]switchboard.Event{ev(12), ev(13)}, t0, nil)
		if len(got) != 0 || !s.hasGap() {
			t.Fatalf("released %v before 11 arrived", seqsOf(got))
		}
		got = s.add([]switchboard.Event{ev(11), ev(12), ev(9)}, t0, nil)
		if want := []int64{11, 12, 13}; !slices.Equal(seqsOf(got), want) {
			t.Fatalf("got %v, want %v", seqsOf(got), want)
		}
		if s.hasGap() || s.head != 13 {
			t.Fatalf("head %d gap %v", s.head, s.hasGap())
		}
		if got := s.add([]switchboard.Event{ev(13)}, t0, nil); len(got) != 0 {
			t.Fatalf("duplicate delivered: %v", seqsOf(got))
		}
	})
	t.Run("a gap waits for the timeout, then a late arrival is still delivered", func(t *testing.T) {
		s := newSequencer(10, time.Second, time.Minute)
		s.add([]switchboard.Event{ev(13)}, t0, nil)
		if got := s.expire(t0.Add(999*time.Millisecond), nil); len(got) != 0 {
			t.Fatalf("gap given up early: %v", seqsOf(got))
		}
		got := s.expire(t0.Add(time.Second), nil)
		if want := []int64{13}; !slices.Equal(seqsOf(got), want) {
			t.Fatalf("got %v, want %v", seqsOf(got), want)
		}
		if !s.missing(11) || !s.missing(12) || s.missing(13) || s.oldestSkipped() != 11 {
			t.Fatalf("skipped numbers not remembered: %v", s.skipped)
		}
		got = s.add([]switchboard.Event{ev(12), ev(12)}, t0.Add(2*time.Second), nil)
		if len(got) != 1 || got[0].ev.Seq != 12 || !got[0].late {
			t.Fatalf("late event: got %+v", got)
		}
		// After the late window the number is forgotten and a stray copy is dropped.
		s.expire(t0.Add(2*time.Minute), nil)
		if got := s.add([]switchboard.Event{ev(11)}, t0.Add(2*time.Minute), nil); len(got) != 0 || s.oldestSkipped() != 0 {
			t.Fatalf("expired skipped number delivered: %v", seqsOf(got))
		}
	})
	t.Run("progress restarts the gap clock", func(t *testing.T) {
		s := newSequencer(0, time.Second, time.Minute)
		s.add([]switchboard.Event{ev(2), ev(4)}, t0, nil)
		s.add([]switchboard.Event{ev(1)}, t0.Add(900*time.Millisecond), nil) // releases 1, 2; now 3 is missing
		if got := s.expire(t0.Add(1500*time.Millisecond), nil); len(got) != 0 {
			t.Fatalf("new gap given up too early: %v", seqsOf(got))
		}
		if got := s.expire(t0.Add(1900*time.Millisecond), nil); !slices.Equal(seqsOf(got), []int64{4}) {
			t.Fatalf("got %v, want [4]", seqsOf(got))
		}
	})
	t.Run("numbers missing at start-up are watched", func(t *testing.T) {
		s := newSequencer(10, time.Second, time.Minute)
		s.skipMissing(5, 10, map[int64]bool{6: true, 7: true, 9: true, 10: true}, t0)
		if !s.isSkipped(8) || s.isSkipped(9) || s.isSkipped(5) {
			t.Fatalf("skipped %v", s.skipped)
		}
		got := s.add([]switchboard.Event{ev(8)}, t0, nil)
		if len(got) != 1 || !got[0].late {
			t.Fatalf("in-flight event at start-up not delivered: %+v", got)
		}
	})
}

func TestEncodeNotice(t *testing.T) {
	var seqs []int64
	for i := range int64(3000) {
		seqs = append(seqs, 9_000_000_000_000+i)
	}
	payloads, err := encodeNotice(Notice{Origin: "abc", Seqs: seqs})
	if err != nil {
		t.Fatal(err)
	}
	if len(payloads) < 2 {
		t.Fatalf("3000 large numbers fit in %d payload(s)", len(payloads))
	}
	var back []int64
	for _, p := range payloads {
		if len(p) > MaxPayload {
			t.Fatalf("payload of %d bytes", len(p))
		}
		n, err := decodeNotice(p)
		if err != nil || n.Origin != "abc" {
			t.Fatalf("decode %q: %v", p[:40], err)
		}
		back = append(back, n.Seqs...)
	}
	if !slices.Equal(back, seqs) {
		t.Fatal("sequence numbers changed on the way")
	}
	big := ev(0)
	big.Data = json.RawMessage(`"` + strings.Repeat("x", MaxPayload) + `"`)
	if _, err := encodeNotice(Notice{Origin: "abc", Event: &big}); err != ErrTooLarge {
		t.Fatalf("oversized ephemeral event: %v", err)
	}
	small := ev(0)
	payloads, _ = encodeNotice(Notice{Origin: "abc", Event: &small})
	if n, _ := decodeNotice(payloads[0]); n.Event == nil || n.Event.Type != small.Type {
		t.Fatalf("ephemeral event lost: %v", payloads)
	}
}

// memLog is an EventLog over a slice, for tests that do not need a database.
type memLog struct{ seqs []int64 }

func (m *memLog) EventsAfter(ctx context.Context, seq int64, limit int) ([]switchboard.Event, error) {
	var out []switchboard.Event
	for _, s := range m.seqs {
		if s > seq && len(out) < limit {
			out = append(out, ev(s))
		}
	}
	return out, nil
}

func TestLastSeq(t *testing.T) {
	for _, seqs := range [][]int64{nil, {1}, {1, 2, 3}, {5, 6, 40, 41, 97}, {3, 1000, 1001, 123456}} {
		got, err := lastSeq(t.Context(), &memLog{seqs: seqs})
		want := int64(0)
		if len(seqs) > 0 {
			want = seqs[len(seqs)-1]
		}
		if err != nil || got != want {
			t.Errorf("lastSeq(%v) = %d, %v; want %d", seqs, got, err, want)
		}
	}
}

// fakeBridge lets a test trigger a reconnection by hand.
type fakeBridge struct{ reconnect chan struct{} }

func (f *fakeBridge) Notify(ctx context.Context, n Notice) error { return nil }

func (f *fakeBridge) Listen(ctx context.Context, out chan<- Notice, connected func()) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.reconnect:
			connected()
		}
	}
}

func TestReconnectResyncs(t *testing.T) {
	log := &memLog{seqs: []int64{1, 2}}
	bridge := &fakeBridge{reconnect: make(chan struct{})}
	b, err := New(t.Context(), Options{Log: log, Bridge: bridge, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if b.Head() != 2 {
		t.Fatalf("head %d, want 2", b.Head())
	}
	got := make(chan int64, 10)
	b.Subscribe(func(e switchboard.Event) { got <- e.Seq })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	// Committed by another process while the connection was down: no notice ever arrives.
	log.seqs = append(log.seqs, 3, 4)
	bridge.reconnect <- struct{}{}
	for _, want := range []int64{3, 4} {
		select {
		case s := <-got:
			if s != want {
				t.Fatalf("got %d, want %d", s, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d not delivered after a reconnection", want)
		}
	}
}
