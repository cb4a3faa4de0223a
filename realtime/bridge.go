package realtime

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard"
)

// Bridge carries notices between the server processes that share a database.
type Bridge interface {
	// Notify tells the other processes about events committed here, or carries an ephemeral event.
	Notify(ctx context.Context, n Notice) error
	// Listen sends the notices of all processes (its own included; the broker ignores those) to out
	// until ctx ends, reconnecting as needed. It calls connected after each successful (re)connection,
	// so the broker can read from the log whatever it missed while disconnected.
	Listen(ctx context.Context, out chan<- Notice, connected func()) error
}

// Notice is what crosses between processes: sequence numbers of committed events (their bodies are
// read from the log) or one ephemeral event, carried whole.
type Notice struct {
	Origin string             `json:"o"`
	Seqs   []int64            `json:"s,omitempty"`
	Event  *switchboard.Event `json:"e,omitempty"`
}

// MaxPayload is the largest NOTIFY payload written: PostgreSQL refuses 8000 bytes and more.
const MaxPayload = 7900

// ErrTooLarge reports an ephemeral event too large for one notice; it is delivered only locally.
var ErrTooLarge = errors.New("realtime: event too large for a notice")

// encodeNotice splits a notice into payloads of at most MaxPayload bytes: sequence numbers are spread
// over several payloads; an ephemeral event must fit in one.
func encodeNotice(n Notice) ([]string, error) {
	if n.Event != nil {
		b, err := json.Marshal(Notice{Origin: n.Origin, Event: n.Event})
		if err != nil {
			return nil, err
		}
		if len(b) > MaxPayload {
			return nil, ErrTooLarge
		}
		return []string{string(b)}, nil
	}
	var out []string
	head := `{"o":` + strconv.Quote(n.Origin) + `,"s":[`
	buf := []byte(head)
	count := 0
	for _, seq := range n.Seqs {
		num := strconv.FormatInt(seq, 10)
		if count > 0 && len(buf)+len(num)+3 > MaxPayload {
			out = append(out, string(append(buf, "]}"...)))
			buf, count = []byte(head), 0
		}
		if count > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, num...)
		count++
	}
	if count > 0 {
		out = append(out, string(append(buf, "]}"...)))
	}
	return out, nil
}

// decodeNotice parses a payload written by encodeNotice.
func decodeNotice(payload string) (Notice, error) {
	var n Notice
	err := json.Unmarshal([]byte(payload), &n)
	return n, err
}

// DefaultChannel is the PostgreSQL notification channel the processes share.
const DefaultChannel = "switchboard_events"

// PostgresOptions configure NewPostgresBridge.
type PostgresOptions struct {
	// URL is the database URL; the bridge opens its own dedicated connection for LISTEN.
	URL string
	// DB sends NOTIFY (the store's pool, store.SQL()).
	DB *sql.DB
	// Channel defaults to DefaultChannel.
	Channel string
	Logger  *slog.Logger
	// IdleCheck is how long the listener waits for a notification before it pings the server to
	// find a dead connection (default 30 s).
	IdleCheck time.Duration
}

// PostgresBridge carries notices between processes with LISTEN/NOTIFY: NOTIFY goes through the
// shared pool, LISTEN runs on one dedicated pgx connection that is re-established (with backoff)
// whenever it fails.
type PostgresBridge struct {
	url       string
	db        *sql.DB
	channel   string
	log       *slog.Logger
	idleCheck time.Duration
}

// NewPostgresBridge returns a bridge for the database at opts.URL.
func NewPostgresBridge(opts PostgresOptions) *PostgresBridge {
	if opts.Channel == "" {
		opts.Channel = DefaultChannel
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IdleCheck <= 0 {
		opts.IdleCheck = 30 * time.Second
	}
	return &PostgresBridge{url: opts.URL, db: opts.DB, channel: opts.Channel, log: opts.Logger, idleCheck: opts.IdleCheck}
}

// Notify sends the notice as one or more NOTIFY payloads below PostgreSQL's 8000-byte limit.
func (p *PostgresBridge) Notify(ctx context.Context, n Notice) error {
	payloads, err := encodeNotice(n)
	if err != nil {
		return err
	}
	for _, payload := range payloads {
		if _, err := p.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, p.channel, payload); err != nil {
			return err
		}
	}
	return nil
}

// Listen receives notices until ctx ends. After every (re)connection and LISTEN it calls connected:
// notifications sent while the connection was down are lost, so the broker re-reads the log.
func (p *PostgresBridge) Listen(ctx context.Context, out chan<- Notice, connected func()) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		wasUp, err := p.listenOnce(ctx, out, connected)
		if ctx.Err() != nil {
			break
		}
		if wasUp {
			backoff = 100 * time.Millisecond
		}
		p.log.Warn("realtime: LISTEN connection lost; reconnecting", "err", err, "backoff", backoff.String())
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	return nil
}

// listenOnce runs one connection until it fails; wasUp reports whether LISTEN succeeded on it.
func (p *PostgresBridge) listenOnce(ctx context.Context, out chan<- Notice, connected func()) (wasUp bool, err error) {
	cfg, err := pgx.ParseConfig(p.url)
	if err != nil {
		return false, err
	}
	cfg.RuntimeParams["application_name"] = "switchboard-realtime"
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(connectCtx, cfg)
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		return false, err
	}
	connected()
	for {
		waitCtx, cancel := context.WithTimeout(ctx, p.idleCheck)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			// Quiet for a while: make sure the connection is still alive.
			pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err = conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return true, err
			}
			continue
		}
		if err != nil {
			return true, err
		}
		notice, err := decodeNotice(n.Payload)
		if err != nil {
			p.log.Warn("realtime: ignoring a malformed notification", "err", err)
			continue
		}
		select {
		case out <- notice:
		case <-ctx.Done():
			return true, ctx.Err()
		}
	}
}
