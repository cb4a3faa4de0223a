package load

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is a run's measurements.
type Result struct {
	Label        string  `json:"label,omitempty"`
	Target       string  `json:"target"`
	Concurrency  int     `json:"concurrency"`
	RateTarget   float64 `json:"rate_target"`
	WarmupSec    float64 `json:"warmup_s"`
	SettleSec    float64 `json:"settle_s"` // how long the window waited after the warm-up for its routing
	Settled      bool    `json:"settled"`  // whether that routing was done when the window opened
	DurationSec  float64 `json:"duration_s"`
	Agents       int     `json:"agents"`
	Contacts     int     `json:"contacts"`
	Mix          string  `json:"mix"`
	Batch        int     `json:"batch"`
	Attempts     int64   `json:"attempts"`
	Acked        int64   `json:"acked_webhooks"`
	AckedPerSec  float64 `json:"acked_webhooks_per_s"`
	Messages     int64   `json:"acked_messages"`
	MessagesSec  float64 `json:"acked_messages_per_s"`
	Statuses     int64   `json:"acked_statuses"`
	StoredPerSec float64 `json:"server_stored_messages_per_s"`
	// Unacked counts webhooks that never got a 200, even after retries.
	Unacked int64            `json:"unacked_webhooks"`
	Errors  map[string]int64 `json:"errors_by_status"`
	Kinds   []KindCount      `json:"acked_items_by_kind"`
	Ack     Latency          `json:"ack_latency"`
	Frame   Latency          `json:"webhook_to_agent_frame_latency"`
	// FramesMissing counts acknowledged messages some agent had not shown when the drain ended.
	FramesMissing   int              `json:"frames_missing"`
	AgentConnects   int64            `json:"agent_connects"`
	AgentReconnects int64            `json:"agent_reconnects"`
	AgentResyncs    int64            `json:"agent_resyncs"`
	AgentDialErrors map[string]int64 `json:"agent_dial_errors,omitempty"`
	Replies         int64            `json:"agent_replies"`
	ReplyAcks       int64            `json:"agent_reply_acks"`
	ReplyErrors     map[string]int64 `json:"agent_reply_errors,omitempty"`
	GraphSends      int              `json:"graph_api_sends"`
	StatusesDropped int64            `json:"statuses_dropped"`
	Server          ServerFigures    `json:"server"`

	// AckedIDs and UnackedIDs are the tracked wamids (messages that must be stored) of webhooks that
	// got a 200 / never did; kept only with RecordAcked.
	AckedIDs   []string `json:"-"`
	UnackedIDs []string `json:"-"`
}

// ServerFigures are read from the server's /metrics around the run.
type ServerFigures struct {
	StoredMessages    float64 `json:"stored_messages"`
	Duplicates        float64 `json:"duplicate_messages"`
	InboundJobsDone   float64 `json:"inbound_jobs_done"`
	WebsocketEvicted  float64 `json:"websocket_evictions"`
	ResidentBytes     float64 `json:"resident_memory_bytes"`
	WebsocketsAtEnd   float64 `json:"websockets_at_end"`
	MetricsUnreadable bool    `json:"metrics_unreadable,omitempty"`
}

// result assembles the measurements.
func (r *runner) result(start time.Time) *Result {
	d := r.cfg.Duration.Seconds()
	res := &Result{
		Target: r.env.API.Base(), Concurrency: r.cfg.Concurrency, RateTarget: r.cfg.Rate, WarmupSec: r.cfg.Warmup.Seconds(), SettleSec: r.settled.Seconds(), Settled: r.settledOK, DurationSec: d,
		Agents: len(r.env.Agents), Contacts: r.cfg.Contacts, Mix: r.cfg.Mix.String(), Batch: r.cfg.Batch,
		Attempts: r.attempts.Load(), Acked: r.acked.Load(), Messages: r.messages.Load(), Statuses: r.statusAcks.Load(),
		Unacked: r.unacked.Load(), Errors: r.errors.Snapshot(), Kinds: kindCounts(r.kinds.Snapshot()),
		Ack: r.ack.Summary(), Frame: r.track.frames.Summary(), FramesMissing: r.track.missing(),
		StatusesDropped: r.dropped.Load(),
	}
	res.AckedPerSec = float64(r.ackedIn.Load()) / d
	res.MessagesSec = float64(r.messagesIn.Load()) / d
	r.idsMu.Lock()
	res.AckedIDs, res.UnackedIDs = r.ackedIDs, r.unackedIDs
	r.idsMu.Unlock()
	return res
}

// serverFigures subtracts the counters read at the start of the measured window from those read at
// its end; evictions count over the whole run, and memory is read after it.
func serverFigures(before, atEnd, after map[string]float64) ServerFigures {
	delta := func(name string) float64 { return atEnd[name] - before[name] }
	return ServerFigures{
		StoredMessages:   delta("switchboard_inbound_messages_total"),
		Duplicates:       delta("switchboard_inbound_duplicates_total"),
		InboundJobsDone:  delta(`switchboard_jobs_finished_total{kind="inbound",outcome="done"}`),
		WebsocketEvicted: after["switchboard_websocket_evictions_total"] - before["switchboard_websocket_evictions_total"],
		ResidentBytes:    after["process_resident_memory_bytes"],
		WebsocketsAtEnd:  after["switchboard_websocket_clients"],
	}
}

// String is a one-line summary of a result.
func (r *Result) String() string {
	return fmt.Sprintf("%.0f webhooks/s, %.0f messages/s acked; ack p99 %.1f ms; frame p99 %.1f ms; %d unacked",
		r.AckedPerSec, r.MessagesSec, r.Ack.P99, r.Frame.P99, r.Unacked)
}

// WriteTable prints a run's measurements as a table.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	title := "Switchboard load: " + r.Target
	if r.Label != "" {
		title += " (" + r.Label + ")"
	}
	fmt.Fprintln(tw, title)
	rate := "as fast as possible"
	if r.RateTarget > 0 {
		rate = fmt.Sprintf("%.0f webhooks/s", r.RateTarget)
	}
	row := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, args...)...)
	}
	row("senders (concurrency)", "%d", r.Concurrency)
	row("target", "%s", rate)
	switch {
	case r.SettleSec > 0 && r.Settled:
		row("warm-up / measured window", "%.0f s (+ %.1f s until its routing was done) / %.0f s", r.WarmupSec, r.SettleSec, r.DurationSec)
	case r.SettleSec > 0:
		row("warm-up / measured window", "%.0f s (+ %.1f s; its routing was NOT done) / %.0f s", r.WarmupSec, r.SettleSec, r.DurationSec)
	default:
		row("warm-up / measured window", "%.0f s / %.0f s", r.WarmupSec, r.DurationSec)
	}
	row("agents / contacts", "%d / %d", r.Agents, r.Contacts)
	row("mix (messages per webhook)", "%s (%d)", r.Mix, r.Batch)
	row("acked webhooks", "%d (%.1f/s in the window)", r.Acked, r.AckedPerSec)
	row("acked customer messages", "%d (%.1f/s in the window)", r.Messages, r.MessagesSec)
	row("acked status updates", "%d", r.Statuses)
	if !r.Server.MetricsUnreadable {
		row("stored by the server (window)", "%.0f messages (%.1f/s), %.0f duplicates ignored", r.Server.StoredMessages, r.StoredPerSec, r.Server.Duplicates)
		row("inbound jobs done (window)", "%.0f (%.1f/s)", r.Server.InboundJobsDone, r.Server.InboundJobsDone/r.DurationSec)
	}
	row("ack latency (ms)", "%s", latencyCells(r.Ack))
	row("webhook → agent frame (ms)", "%s", latencyCells(r.Frame))
	row("frames missing at the end", "%d", r.FramesMissing)
	row("delivery attempts / unacked", "%d / %d", r.Attempts, r.Unacked)
	row("errors by status", "%s", countCells(r.Errors))
	kinds := make([]string, len(r.Kinds))
	for i, k := range r.Kinds {
		kinds[i] = fmt.Sprintf("%s %d", k.Kind, k.Count)
	}
	row("acked items by kind", "%s", strings.Join(kinds, ", "))
	row("agent websockets", "%d connects, %d reconnects, %d resyncs", r.AgentConnects, r.AgentReconnects, r.AgentResyncs)
	if len(r.AgentDialErrors) > 0 {
		row("agent dial errors", "%s", countCells(r.AgentDialErrors))
	}
	row("agent replies", "%d sent, %d acked, errors: %s", r.Replies, r.ReplyAcks, countCells(r.ReplyErrors))
	row("Graph API sends (fake)", "%d; statuses dropped: %d", r.GraphSends, r.StatusesDropped)
	if !r.Server.MetricsUnreadable {
		row("server RSS at end", "%.1f MB; websocket evictions %.0f", r.Server.ResidentBytes/(1<<20), r.Server.WebsocketEvicted)
	}
	return tw.Flush()
}

// WriteTable prints the idle run's measurements as a table.
func (r *IdleResult) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	title := "Switchboard idle websockets: " + r.Target
	if r.Label != "" {
		title += " (" + r.Label + ")"
	}
	fmt.Fprintln(tw, title)
	row := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, args...)...)
	}
	row("connections", "%d requested, %d connected (%d agents), server counts %.0f", r.Requested, r.Connected, r.Agents, r.ServerClients)
	row("failed / dropped", "%s / %d", countCells(r.Failed), r.Dropped)
	row("connect time", "%.1f s; held %.0f s", r.ConnectSec, r.HoldSec)
	row("server RSS before", "%.1f MB", r.RSSBefore/(1<<20))
	row("server RSS connected", "%.1f MB", r.RSSUp/(1<<20))
	row("server RSS end of hold", "%.1f MB", r.RSSEnd/(1<<20))
	if r.ProcPeakRSS > 0 {
		row("server /proc VmRSS / VmHWM", "%.1f MB / %.1f MB", float64(r.ProcRSS)/(1<<20), float64(r.ProcPeakRSS)/(1<<20))
	}
	row("per connection", "%.1f KB", r.PerConnKB)
	return tw.Flush()
}

func latencyCells(l Latency) string {
	if l.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %.1f  p95 %.1f  p99 %.1f  max %.1f  (n=%d)", l.P50, l.P95, l.P99, l.Max, l.Count)
}

func countCells(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// WriteJSON writes v, indented, to path ("-" is standard output).
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
