package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"switchboard"
)

// On PostgreSQL a group's common path is one transaction of two round trips: pgx pipelines the
// reads (BEGIN, the contacts locked, the wamids already stored, their open conversations locked, the
// messages statuses and reactions change, locked, ids for the new messages), then the writes
// (messages, conversations, jobs, changed messages, events, COMMIT). Arrays and
// unnest keep every statement's text the same whatever the group's size, so each is prepared once
// per connection. A busy server spends most of a transaction waiting for its turn on a CPU between
// round trips, so two round trips instead of nine is most of the gain of group commit.

const (
	pgContactColumns = `id, name, wa_id, bsuid, phone, tags, opted_out, opted_out_at, created_at, updated_at`

	pgConversationColumnsOf = `c.id, c.channel_id, c.contact_id, c.status, c.assignee_kind, c.assignee_id, c.team_id, c.ai_handed_off,
  c.last_inbound_at, c.last_message_at, c.last_message_preview, c.unread_count, c.waiting_since, c.assigned_at, c.resolved_at,
  c.resolutions, c.away_sent_for, c.created_at, c.updated_at`

	// The two reads by channel are written so that no statistics can lead the planner to scan the
	// channel's rows: a channel the statistics have not seen yet (a new number, or one grown since the
	// last ANALYZE) is estimated at one row, and PostgreSQL then preferred "channel_id = $1" alone as
	// the index condition, filtering every message or open conversation of the channel by the array
	// (measured: 2,700 index entries read per duplicate check, 5 ms each, growing with the channel).
	// Each wamid is therefore looked up by itself on the unique (channel_id, external_id) index, and
	// the channel of a conversation is a filter ("+ 0" is not indexable), so that the contact drives.
	pgLockContacts = `SELECT ` + pgContactColumns + ` FROM contacts WHERE wa_id = ANY($1) ORDER BY id FOR UPDATE`
	pgStoredWamids = `SELECT m.external_id FROM unnest($2::text[]) AS w(wamid)
CROSS JOIN LATERAL (SELECT external_id FROM messages WHERE channel_id = $1 AND external_id = w.wamid LIMIT 1) m`
	pgLockConversations = `SELECT ` + pgConversationColumnsOf + ` FROM conversations c JOIN contacts k ON k.id = c.contact_id
WHERE k.wa_id = ANY($2) AND c.channel_id + 0 = $1 AND c.status <> 'resolved' ORDER BY c.id FOR UPDATE OF c`
	pgMessageIDs = `SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $1)`

	pgRenameContacts = `UPDATE contacts SET name = v.name, updated_at = $3 FROM unnest($1::bigint[], $2::text[]) AS v(id, name)
WHERE contacts.id = v.id`
	pgInsertMessages = `INSERT INTO messages (id, conversation_id, channel_id, direction, sender, sender_name, type, text, private,
  external_id, status, status_rank, error_code, error_title, error_details, media, reactions, reply_to, payload, timestamp, created_at)
SELECT id, conversation_id, channel_id, 'inbound', 'customer', sender_name, type, text, false, external_id, 'received', $16, error_code,
  error_title, error_details, media, reactions, reply_to, payload, timestamp, $17
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[],
  $10::text[], $11::text[], $12::int[], $13::text[], $14::text[], $15::text[])
  AS v(id, conversation_id, channel_id, type, text, external_id, media, reply_to, timestamp, payload, sender_name, error_code,
  error_title, error_details, reactions)`
	pgUpdateConversations = `UPDATE conversations SET last_inbound_at = v.last_inbound_at, unread_count = v.unread_count,
  last_message_at = COALESCE(v.last_message_at, conversations.last_message_at),
  last_message_preview = COALESCE(v.preview, conversations.last_message_preview), updated_at = $6
FROM unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::timestamptz[], $5::text[])
  AS v(id, last_inbound_at, unread_count, last_message_at, preview)
WHERE conversations.id = v.id`
	pgInsertJobs = `INSERT INTO jobs (kind, key, payload, state, run_at, attempts, max_attempts, leased_by, last_error, created_at, updated_at)
SELECT kind, key, payload, 'queued', $4, 0, $5, '', '', $4, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS v(kind, key, payload)`
	pgInsertEvents = `INSERT INTO events (type, channel_id, conversation_id, data, created_at)
SELECT type, channel_id, conversation_id, data, $5
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) WITH ORDINALITY AS v(type, channel_id, conversation_id, data, n)
ORDER BY n RETURNING seq`
)

// ingestManyPostgres stores a group on PostgreSQL: the common path (with the statuses and reactions
// of messages already stored) pipelined in its own transaction, then what is left (new contacts and
// conversations, reopens, parked statuses...) in a second one through GORM. Should the second fail,
// the first stays committed: the webhooks are answered with an error, and Meta's retry finds those
// messages stored (duplicates, ignored) and stores the rest.
func (s *Store) ingestManyPostgres(ctx context.Context, items []switchboard.ChannelInbound) ([]*switchboard.IngestResult, error) {
	results := make([]*switchboard.IngestResult, len(items))
	for i := range results {
		results[i] = &switchboard.IngestResult{}
	}
	b := newCommonBatch(items, results, s.now(), true)
	if len(b.candidates) > 0 || len(b.updates) > 0 {
		if err := s.commonPipelined(ctx, b); err != nil {
			return nil, err
		}
	}
	more := false
	for i, it := range items {
		if len(b.rest[i]) > 0 || len(b.restStatuses[i]) > 0 || len(it.Batch.Templates) > 0 || len(it.Batch.Events) > 0 {
			more = true
		}
	}
	if !more {
		return results, nil
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		for i, it := range items {
			if err := s.ingestRest(ctx, tx, it.Channel, it.Batch, b.rest[i], b.restStatuses[i], results[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// commonPipelined runs the common path of b in one transaction of two pipelined round trips.
func (s *Store) commonPipelined(ctx context.Context, b *commonBatch) error {
	if err := s.withPgx(ctx, func(pc *pgx.Conn) error { return s.pipelined(ctx, pc, b) }); err != nil {
		return err
	}
	s.signalJobs(len(b.jobs))
	return nil
}

// withPgx runs fn on a pooled connection's pgx.Conn, for statements pipelined by hand. When fn fails
// the transaction it may have opened is rolled back, and the connection dropped if even that fails.
func (s *Store) withPgx(ctx context.Context, fn func(pc *pgx.Conn) error) error {
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return translate(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: the PostgreSQL driver is %T, not pgx", dc)
		}
		pc := sc.Conn()
		if err := fn(pc); err != nil {
			if !pc.IsClosed() {
				if _, rerr := pc.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
					return errors.Join(err, driver.ErrBadConn) // the connection is in an unknown state: drop it
				}
			}
			return err
		}
		return nil
	})
	return translate(err)
}

func (s *Store) pipelined(ctx context.Context, pc *pgx.Conn, b *commonBatch) error {
	// Round trip 1: the reads, under the locks.
	var reads pgx.Batch
	reads.Queue("BEGIN")
	if len(b.contactWaIDs) > 0 {
		reads.Queue(pgLockContacts, b.contactWaIDs)
	}
	for _, ch := range b.channels {
		reads.Queue(pgStoredWamids, ch, b.wamids[ch])
		reads.Queue(pgLockConversations, ch, b.waIDs)
	}
	for _, ch := range b.updateChans {
		reads.Queue(pgLockMessages, ch, b.updateWamids[ch])
	}
	if len(b.candidates) > 0 {
		reads.Queue(pgMessageIDs, len(b.candidates))
	}
	br := pc.SendBatch(ctx, &reads)
	ids, err := b.readPipelined(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	b.plan()
	for i, row := range b.rows {
		row.ID = ids[i]
	}
	b.follow()
	b.planUpdates()
	if len(b.rows) == 0 && len(b.dirty) == 0 {
		_, err := pc.Exec(ctx, "COMMIT")
		return err
	}
	evRows, err := newEventRows(b.events, b.now)
	if err != nil {
		return err
	}

	// Round trip 2: the writes and the commit.
	var writes pgx.Batch
	if len(b.names) > 0 {
		var cids []int64
		var names []string
		for id, name := range b.names {
			cids, names = append(cids, id), append(names, name)
		}
		writes.Queue(pgRenameContacts, cids, names, b.now)
	}
	if len(b.rows) > 0 {
		writes.Queue(pgInsertMessages, messageColumns(b.rows)...)
		writes.Queue(pgUpdateConversations, conversationColumns(b.changes, b.now)...)
	}
	if len(b.jobs) > 0 {
		kinds, keys, payloads := make([]string, len(b.jobs)), make([]string, len(b.jobs)), make([]string, len(b.jobs))
		for i, j := range b.jobs {
			kinds[i], keys[i], payloads[i] = j.Kind, j.Key, string(j.Payload)
		}
		writes.Queue(pgInsertJobs, kinds, keys, payloads, b.now, switchboard.DefaultMaxAttempts)
	}
	if len(b.dirty) > 0 {
		writes.Queue(pgUpdateMessages, updatedMessageColumns(b.dirty)...)
	}
	types, chans, convs, data := make([]string, len(evRows)), make([]int64, len(evRows)), make([]int64, len(evRows)), make([]string, len(evRows))
	for i, r := range evRows {
		types[i], chans[i], convs[i], data[i] = r.Type, r.ChannelID, r.ConversationID, r.Data
	}
	writes.Queue(pgInsertEvents, types, chans, convs, data, b.now)
	writes.Queue("COMMIT")
	br = pc.SendBatch(ctx, &writes)
	err = b.writePipelined(br, evRows)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// readPipelined reads the first round trip's results into b and returns the new messages' ids.
func (b *commonBatch) readPipelined(br pgx.BatchResults) ([]int64, error) {
	if _, err := br.Exec(); err != nil { // BEGIN
		return nil, err
	}
	var contacts []contactRow
	if len(b.contactWaIDs) > 0 {
		rows, _ := br.Query()
		var err error
		contacts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (contactRow, error) {
			var c contactRow
			err := r.Scan(&c.ID, &c.Name, &c.WaID, &c.BSUID, &c.Phone, &c.Tags, &c.OptedOut, &c.OptedOutAt, &c.CreatedAt, &c.UpdatedAt)
			return c, err
		})
		if err != nil {
			return nil, err
		}
	}
	b.contacts = make(map[string]*contactRow, len(contacts))
	for i := range contacts {
		b.contacts[*contacts[i].WaID] = &contacts[i]
	}
	b.stored, b.open, b.locked = map[string]bool{}, map[convKey]*conversationRow{}, map[string]*messageRow{}
	for _, ch := range b.channels {
		rows, _ := br.Query()
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, err
		}
		for _, w := range found {
			b.stored[storedKey(ch, w)] = true
		}
		rows, _ = br.Query()
		convs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (conversationRow, error) {
			var c conversationRow
			err := r.Scan(&c.ID, &c.ChannelID, &c.ContactID, &c.Status, &c.AssigneeKind, &c.AssigneeID, &c.TeamID, &c.AIHandedOff,
				&c.LastInboundAt, &c.LastMessageAt, &c.LastMessagePreview, &c.UnreadCount, &c.WaitingSince, &c.AssignedAt, &c.ResolvedAt,
				&c.Resolutions, &c.AwaySentFor, &c.CreatedAt, &c.UpdatedAt)
			return c, err
		})
		if err != nil {
			return nil, err
		}
		for i := range convs {
			b.open[convKey{ch, convs[i].ContactID}] = &convs[i]
		}
	}
	for _, ch := range b.updateChans {
		rows, _ := br.Query()
		msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*messageRow, error) {
			m := &messageRow{}
			return m, scanMessageRow(r, m)
		})
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			b.locked[storedKey(ch, *m.ExternalID)] = m
		}
	}
	if len(b.candidates) == 0 {
		return nil, nil
	}
	rows, _ := br.Query()
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// writePipelined checks the second round trip's results and records the events' sequence numbers.
func (b *commonBatch) writePipelined(br pgx.BatchResults, evRows []eventRow) error {
	if len(b.names) > 0 {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	if len(b.rows) > 0 {
		tag, err := br.Exec()
		if err != nil {
			return err
		}
		if tag.RowsAffected() != int64(len(b.rows)) {
			return switchboard.Errorf(switchboard.EUNAVAILABLE, "Messages were stored concurrently; try again.")
		}
		if tag, err = br.Exec(); err != nil {
			return err
		}
		if tag.RowsAffected() != int64(len(b.changes)) {
			return switchboard.Errorf(switchboard.EUNAVAILABLE, "A conversation changed while its messages were stored; try again.")
		}
	}
	if len(b.jobs) > 0 {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	if len(b.dirty) > 0 {
		tag, err := br.Exec()
		if err != nil {
			return err
		}
		if tag.RowsAffected() != int64(len(b.dirty)) {
			return fmt.Errorf("store: %d messages updated, %d expected", tag.RowsAffected(), len(b.dirty))
		}
	}
	rows, _ := br.Query()
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	if len(seqs) != len(evRows) {
		return fmt.Errorf("store: %d events recorded, %d sequence numbers returned", len(evRows), len(seqs))
	}
	// One insert numbers its rows in the order it inserts them (ORDER BY n): sorted, the numbers
	// match the rows, even if other transactions took numbers in between.
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	evs := make([]switchboard.Event, len(evRows))
	for i := range evRows {
		evRows[i].Seq = seqs[i]
		evs[i] = evRows[i].toDomain()
	}
	if _, err := br.Exec(); err != nil { // COMMIT
		return err
	}
	b.recorded(evs)
	return nil
}

// messageColumns turns the common path's message rows into pgInsertMessages' arguments.
func messageColumns(rows []*messageRow) []any {
	n := len(rows)
	ids, convs, chans := make([]int64, n), make([]int64, n), make([]int64, n)
	types, texts, wamids := make([]string, n), make([]string, n), make([]*string, n)
	media, replyTo, payloads := make([]*string, n), make([]string, n), make([]*string, n)
	stamps, senders, codes := make([]*time.Time, n), make([]string, n), make([]*int32, n)
	titles, details, reactions := make([]string, n), make([]string, n), make([]string, n)
	var createdAt time.Time
	rank := 0
	for i, r := range rows {
		ids[i], convs[i], chans[i], types[i], texts[i], wamids[i] = r.ID, r.ConversationID, r.ChannelID, r.Type, r.Text, r.ExternalID
		media[i], replyTo[i], payloads[i], stamps[i], createdAt = r.Media, r.ReplyTo, r.Payload, r.Timestamp, r.CreatedAt
		senders[i], titles[i], details[i], reactions[i], rank = r.SenderName, r.ErrorTitle, r.ErrorDetails, r.Reactions, r.StatusRank
		if r.ErrorCode != nil {
			code := int32(*r.ErrorCode)
			codes[i] = &code
		}
	}
	return []any{ids, convs, chans, types, texts, wamids, media, replyTo, stamps, payloads, senders, codes, titles, details, reactions, rank, createdAt}
}

// conversationColumns turns conversation changes into pgUpdateConversations' arguments.
func conversationColumns(changes []*conversationChange, now time.Time) []any {
	n := len(changes)
	ids, inbound, unread := make([]int64, n), make([]time.Time, n), make([]int32, n)
	last, previews := make([]*time.Time, n), make([]*string, n)
	for i, c := range changes {
		ids[i], inbound[i], unread[i], last[i], previews[i] = c.id, c.lastInbound, int32(c.unread), c.lastMessageAt, c.preview
	}
	return []any{ids, inbound, unread, last, previews, now}
}
