package realtime

import (
	"context"
	"time"

	"switchboard"
)

// inFlightWindow is how many sequence numbers below the starting watermark are watched for
// transactions that were still committing when the broker started.
const inFlightWindow = 1000

// lastSeq returns the newest sequence number in the log. A log that knows it answers directly;
// otherwise it is found with O(log n) indexed probes of EventsAfter(x, 1).
func lastSeq(ctx context.Context, log EventLog) (int64, error) {
	if l, ok := log.(interface {
		LastEventSeq(ctx context.Context) (int64, error)
	}); ok {
		return l.LastEventSeq(ctx)
	}
	next := func(after int64) (int64, error) {
		evs, err := log.EventsAfter(ctx, after, 1)
		if err != nil || len(evs) == 0 {
			return 0, err
		}
		return evs[0].Seq, nil
	}
	// lo is a sequence number known to exist (or 0); no event lies above hi.
	lo, err := next(0)
	if err != nil || lo == 0 {
		return 0, err
	}
	hi := lo
	for {
		s, err := next(hi)
		if err != nil {
			return 0, err
		}
		if s == 0 {
			break
		}
		lo, hi = s, s*2
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		s, err := next(mid)
		if err != nil {
			return 0, err
		}
		if s == 0 {
			hi = mid
		} else {
			lo = s
		}
	}
	return lo, nil
}

// watchInFlight marks the numbers missing just below the starting watermark as skipped, so that an
// event whose transaction was still committing at start-up is delivered when it appears.
func (b *Broker) watchInFlight(ctx context.Context, head int64) error {
	from := max(head-inFlightWindow, 0)
	present := map[int64]bool{}
	for after := from; after < head; {
		evs, err := b.log.EventsAfter(ctx, after, readPage)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			present[ev.Seq] = true
		}
		if len(evs) < readPage {
			break
		}
		after = evs[len(evs)-1].Seq
	}
	b.seq.skipMissing(from, head, present, time.Now())
	return nil
}

// readLog reads what was committed above the watermark and feeds it to the sequencer. When a gap
// holds the watermark back, the cursor moves past the rows already read so a long run of waiting
// events is not read again page after page.
func (b *Broker) readLog(ctx context.Context, out []delivery) []delivery {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	after := b.seq.head
	for range maxPages {
		evs, err := b.log.EventsAfter(ctx, after, readPage)
		if err != nil {
			if ctx.Err() == nil {
				b.logger.Warn("realtime: read the event log", "after", after, "err", err)
			}
			return out
		}
		out = b.seq.add(evs, time.Now(), out)
		if len(evs) < readPage {
			return out
		}
		after = max(b.seq.head, evs[len(evs)-1].Seq)
	}
	poke(b.resync) // more to read: continue after serving other work
	return out
}

// readLate re-reads the small trailing window that holds numbers given up on, and delivers those
// that have committed since.
func (b *Broker) readLate(ctx context.Context, out []delivery) []delivery {
	oldest := b.seq.oldestSkipped()
	if oldest == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	evs, err := b.log.EventsAfter(ctx, oldest-1, readPage)
	if err != nil {
		return out
	}
	found := evs[:0:0]
	for _, ev := range evs {
		if b.seq.isSkipped(ev.Seq) {
			found = append(found, ev)
		}
	}
	return b.seq.add(found, time.Now(), out)
}

// onNotices handles a notice from another process and any others already waiting: ephemeral events
// are delivered as they are; sequence numbers that are news trigger one read of the log.
func (b *Broker) onNotices(ctx context.Context, first Notice, out []delivery) []delivery {
	read := false
	var late []int64
	handle := func(n Notice) {
		if n.Origin == b.origin {
			return
		}
		if n.Event != nil {
			b.dispatch(*n.Event, false)
		}
		for _, seq := range n.Seqs {
			switch {
			case seq > b.seq.head && b.seq.missing(seq):
				read = true
			case b.seq.isSkipped(seq):
				late = append(late, seq)
			}
		}
	}
	handle(first)
	for more := true; more; {
		select {
		case n := <-b.remote:
			handle(n)
		default:
			more = false
		}
	}
	if read {
		out = b.readLog(ctx, out)
	}
	for _, seq := range late {
		out = b.fetchLate(ctx, seq, out)
	}
	return out
}

// fetchLate reads one given-up event that another process reports as committed.
func (b *Broker) fetchLate(ctx context.Context, seq int64, out []delivery) []delivery {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	evs, err := b.log.EventsAfter(ctx, seq-1, 1)
	if err != nil || len(evs) == 0 || evs[0].Seq != seq {
		return out
	}
	return b.seq.add([]switchboard.Event{evs[0]}, time.Now(), out)
}
