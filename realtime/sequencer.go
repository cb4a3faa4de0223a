package realtime

import (
	"time"

	"switchboard"
)

// maxSkipRecord bounds how many missing sequence numbers of one gap are remembered for late delivery;
// a larger jump (a sequence restarted or advanced by hand) is skipped without remembering.
const maxSkipRecord = 10000

// sequencer turns events that arrive in any order, more than once, or not at all into a stream in
// sequence order. It is owned by the broker's loop goroutine and not safe for concurrent use.
//
// Identity values are handed out when a row is inserted, not when its transaction commits, so on
// PostgreSQL seq 11 can be visible before seq 10 is. The sequencer therefore holds events back behind
// a missing number (a gap) until it arrives or the gap times out; a number given up on is remembered
// for a while, so if its transaction commits after all, the event is still delivered (late, out of
// order) instead of being lost.
type sequencer struct {
	// head is the watermark: every seq <= head has been delivered or given up on.
	head    int64
	pending map[int64]switchboard.Event
	// gapSince is when the current gap (head+1 missing while later events wait) was last worked on;
	// zero when there is no gap.
	gapSince time.Time
	// skipped holds given-up numbers and until when a late arrival is still delivered.
	skipped map[int64]time.Time
	timeout time.Duration
	lateFor time.Duration
}

// delivery is an event released by the sequencer; late ones arrive after higher numbers.
type delivery struct {
	ev   switchboard.Event
	late bool
}

func newSequencer(head int64, timeout, lateFor time.Duration) *sequencer {
	return &sequencer{head: head, pending: map[int64]switchboard.Event{}, skipped: map[int64]time.Time{},
		timeout: timeout, lateFor: lateFor}
}

// add takes events in any order and appends to out the ones that can now be delivered, in order.
func (s *sequencer) add(evs []switchboard.Event, now time.Time, out []delivery) []delivery {
	for _, ev := range evs {
		if ev.Seq <= s.head {
			if until, ok := s.skipped[ev.Seq]; ok {
				delete(s.skipped, ev.Seq)
				if now.Before(until) {
					out = append(out, delivery{ev: ev, late: true})
				}
			}
			continue // already delivered: a duplicate from another path
		}
		if _, ok := s.pending[ev.Seq]; !ok {
			s.pending[ev.Seq] = ev
		}
	}
	return s.drain(now, out)
}

// drain releases the run of pending events that follows head and notes whether a gap remains.
func (s *sequencer) drain(now time.Time, out []delivery) []delivery {
	advanced := false
	for {
		ev, ok := s.pending[s.head+1]
		if !ok {
			break
		}
		delete(s.pending, ev.Seq)
		s.head = ev.Seq
		out = append(out, delivery{ev: ev})
		advanced = true
	}
	switch {
	case len(s.pending) == 0:
		s.gapSince = time.Time{}
	case advanced || s.gapSince.IsZero():
		// A new gap, or progress on an old one: the waiting starts over.
		s.gapSince = now
	}
	return out
}

// hasGap reports whether events are waiting for a missing number.
func (s *sequencer) hasGap() bool { return len(s.pending) > 0 }

// missing reports whether seq would be news: above the watermark and not yet received, or given up
// on and still deliverable late.
func (s *sequencer) missing(seq int64) bool {
	if seq > s.head {
		_, ok := s.pending[seq]
		return !ok
	}
	_, ok := s.skipped[seq]
	return ok
}

// isSkipped reports whether seq was given up on and may still arrive late.
func (s *sequencer) isSkipped(seq int64) bool {
	_, ok := s.skipped[seq]
	return ok
}

// oldestSkipped returns the lowest given-up number still awaited, or 0.
func (s *sequencer) oldestSkipped() int64 {
	var min int64
	for seq := range s.skipped {
		if min == 0 || seq < min {
			min = seq
		}
	}
	return min
}

// expire gives up on a gap older than the timeout: the missing numbers below the first waiting event
// are remembered as skipped and the waiting events are released. It also forgets skipped numbers
// whose late window has passed.
func (s *sequencer) expire(now time.Time, out []delivery) []delivery {
	for seq, until := range s.skipped {
		if !now.Before(until) {
			delete(s.skipped, seq)
		}
	}
	if len(s.pending) == 0 || now.Sub(s.gapSince) < s.timeout {
		return out
	}
	first := s.firstPending()
	if first-s.head-1 <= maxSkipRecord {
		for seq := s.head + 1; seq < first; seq++ {
			s.skipped[seq] = now.Add(s.lateFor)
		}
	}
	s.head = first - 1
	return s.drain(now, out)
}

func (s *sequencer) firstPending() int64 {
	var min int64
	for seq := range s.pending {
		if min == 0 || seq < min {
			min = seq
		}
	}
	return min
}

// skipMissing records the numbers in (from, to] that are absent from present as skipped, so that
// events still in flight when the broker starts are delivered if they commit.
func (s *sequencer) skipMissing(from, to int64, present map[int64]bool, now time.Time) {
	if to-from > maxSkipRecord {
		from = to - maxSkipRecord
	}
	for seq := from + 1; seq <= to; seq++ {
		if !present[seq] {
			s.skipped[seq] = now.Add(s.lateFor)
		}
	}
}
