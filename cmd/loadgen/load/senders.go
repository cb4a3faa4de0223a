package load

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"switchboard/whatsapp"
)

// sender posts webhooks: retries first, then statuses, then new customer webhooks while the window
// is open; after it, only retries and statuses until the drain ends.
func (r *runner) sender(mainCtx, drainCtx context.Context, g *Generator, tokens <-chan struct{}) {
	for {
		select {
		case w := <-r.retry:
			r.post(drainCtx, w)
			continue
		default:
		}
		select {
		case w := <-r.statuses:
			r.post(drainCtx, w)
			continue
		default:
		}
		if mainCtx.Err() == nil {
			if tokens == nil {
				r.post(drainCtx, g.Next())
				continue
			}
			select {
			case <-tokens:
				r.post(drainCtx, g.Next())
			case w := <-r.retry:
				r.post(drainCtx, w)
			case w := <-r.statuses:
				r.post(drainCtx, w)
			case <-mainCtx.Done():
			}
			continue
		}
		if r.pending.Load() == 0 && len(r.retry) == 0 && len(r.statuses) == 0 {
			return
		}
		select {
		case w := <-r.retry:
			r.post(drainCtx, w)
		case w := <-r.statuses:
			r.post(drainCtx, w)
		case <-drainCtx.Done():
			r.giveUpQueued()
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// post delivers one webhook, signed as Meta signs it, and records the outcome.
func (r *runner) post(ctx context.Context, w *Webhook) {
	if ctx.Err() != nil {
		r.giveUp(w)
		return
	}
	w.Attempts++
	r.attempts.Add(1)
	start := time.Now()
	r.track.attempt(w.Tracked, start)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.env.WebhookURL, bytes.NewReader(w.Body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(w.Body, r.env.Number.AppSecret))
	req.Header.Set("User-Agent", "facebookexternalua")
	res, err := r.http.Do(req)
	status := "transport_error"
	if err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		status = strconv.Itoa(res.StatusCode)
	} else if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if ctx.Err() != nil {
			r.giveUp(w)
			return
		}
		status = "timeout"
	}
	elapsed := time.Since(start)
	if err == nil && res.StatusCode == http.StatusOK {
		r.acked.Add(1)
		r.messages.Add(int64(w.Messages))
		r.statusAcks.Add(int64(w.Statuses))
		if start.UnixNano() >= r.windowStart.Load() && time.Now().UnixNano() < r.mainEnd.Load() {
			r.ackedIn.Add(1)
			r.messagesIn.Add(int64(w.Messages))
			r.ack.Add(elapsed)
		}
		for _, k := range w.Kinds {
			r.kinds.Inc(string(k))
		}
		r.track.ack(w.Tracked)
		if r.cfg.RecordAcked && len(w.Tracked) > 0 {
			r.idsMu.Lock()
			r.ackedIDs = append(r.ackedIDs, w.Tracked...)
			r.idsMu.Unlock()
		}
		return
	}
	r.errors.Inc(status)
	if !r.cfg.Retry {
		r.giveUp(w)
		return
	}
	// Meta retries with a growing delay; a refused connection (the server restarting) is retried
	// soon, but the sender pauses briefly so it does not spin.
	backoff := min(100*time.Millisecond<<min(w.Attempts-1, 6), 5*time.Second)
	r.waitMu.Lock()
	r.waiting[w] = true
	r.pending.Add(1)
	r.waitMu.Unlock()
	time.AfterFunc(backoff, func() {
		r.waitMu.Lock()
		defer r.waitMu.Unlock()
		if r.waiting[w] { // not given up meanwhile
			delete(r.waiting, w)
			select {
			case r.retry <- w:
			default:
				r.giveUp(w) // 65,536 retries already queued: the run is hopeless anyway
			}
			r.pending.Add(-1)
		}
	})
	if err != nil {
		sleepCtx(ctx, 20*time.Millisecond)
	}
}

// giveUp counts a webhook that will not be delivered again.
func (r *runner) giveUp(w *Webhook) {
	r.unacked.Add(1)
	if r.cfg.RecordAcked && len(w.Tracked) > 0 {
		r.idsMu.Lock()
		r.unackedIDs = append(r.unackedIDs, w.Tracked...)
		r.idsMu.Unlock()
	}
}

// giveUpQueued gives up on the retries still queued or waiting for their time when the drain ends.
func (r *runner) giveUpQueued() {
	r.waitMu.Lock()
	for w := range r.waiting {
		delete(r.waiting, w)
		r.pending.Add(-1)
		r.giveUp(w)
	}
	r.waitMu.Unlock()
	for {
		select {
		case w := <-r.retry:
			r.giveUp(w)
		default:
			return
		}
	}
}

// feedStatuses turns the fake's accepted sends into status webhooks (sent, delivered, read), posted
// by the senders like every other webhook, and remembers the wamids for reactions and button taps.
func (r *runner) feedStatuses(ctx context.Context) {
	seen := map[string]bool{}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range r.cfg.Fake.SentTo(r.env.Number.PhoneNumberID) {
			if seen[s.MessageID] {
				continue
			}
			seen[s.MessageID] = true
			r.outbound.Add(s.MessageID)
			for _, st := range []string{whatsapp.StatusSent, whatsapp.StatusDelivered, whatsapp.StatusRead} {
				select {
				case r.statuses <- StatusWebhook(r.env.Number, s.MessageID, s.WaID, st, time.Now()):
				default:
					r.dropped.Add(1)
				}
			}
		}
	}
}
