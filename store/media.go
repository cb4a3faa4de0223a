package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"switchboard"
)

// An attachment's download ends with one change to its message and a message.updated event. On
// PostgreSQL that transaction is two pipelined round trips (BEGIN and the update returning the whole
// row; then the event and COMMIT) instead of four: every customer photo, voice note and document
// takes this path once.

// pgMessageColumns lists the columns of messages in the order of messageRow's fields (scanMessageRow).
const pgMessageColumns = `id, conversation_id, channel_id, direction, sender, sender_id, sender_name, type, text, private, external_id,
  status, status_rank, error_code, error_title, error_details, media, reactions, reply_to, payload, client_id, timestamp, sent_at,
  delivered_at, read_at, played_at, failed_at, created_at`

// pgSetMedia changes an attachment; with $3 only while it is pending (the download job: a second
// run of the job, after a lease expired, changes nothing).
const pgSetMedia = `UPDATE messages SET media = $1 WHERE id = $2 AND (NOT $3::boolean OR media::jsonb ->> 'status' = 'pending')
RETURNING ` + pgMessageColumns

// scanMessageRow reads a row of pgMessageColumns.
func scanMessageRow(r pgx.Row, m *messageRow) error {
	return r.Scan(&m.ID, &m.ConversationID, &m.ChannelID, &m.Direction, &m.Sender, &m.SenderID, &m.SenderName, &m.Type, &m.Text,
		&m.Private, &m.ExternalID, &m.Status, &m.StatusRank, &m.ErrorCode, &m.ErrorTitle, &m.ErrorDetails, &m.Media, &m.Reactions,
		&m.ReplyTo, &m.Payload, &m.ClientID, &m.Timestamp, &m.SentAt, &m.DeliveredAt, &m.ReadAt, &m.PlayedAt, &m.FailedAt, &m.CreatedAt)
}

// SetMedia records the state of a message's attachment (downloaded, or unavailable) and logs the
// message.updated event. An unknown message is ENOTFOUND.
func (s *Store) SetMedia(ctx context.Context, messageID int64, media switchboard.Media) (*switchboard.Message, []switchboard.Event, error) {
	msg, events, err := s.setMedia(ctx, messageID, media, false)
	if err == nil && msg == nil {
		return nil, nil, notFound("Message")
	}
	return msg, events, err
}

// ResolvePendingMedia is SetMedia for the download job: it changes the attachment only while it is
// pending, and returns no message (and no error) when it is not (resolved by an earlier run of the
// job) or when the message is unknown.
func (s *Store) ResolvePendingMedia(ctx context.Context, messageID int64, media switchboard.Media) (*switchboard.Message, []switchboard.Event, error) {
	return s.setMedia(ctx, messageID, media, true)
}

func (s *Store) setMedia(ctx context.Context, messageID int64, media switchboard.Media, pendingOnly bool) (*switchboard.Message, []switchboard.Event, error) {
	b, err := json.Marshal(media)
	if err != nil {
		return nil, nil, err
	}
	if s.dialect == "postgres" {
		return s.setMediaPostgres(ctx, messageID, string(b), pendingOnly)
	}
	var out *switchboard.Message
	res := &switchboard.IngestResult{}
	err = s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		out, res.Events = nil, nil
		q := `UPDATE messages SET media = ? WHERE id = ?`
		if pendingOnly {
			q += ` AND json_extract(media, '$.status') = 'pending'`
		}
		var rows []messageRow // the row as updated, in the same statement
		if err := tx.Raw(q+` RETURNING *`, string(b), messageID).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		out = rows[0].toDomain()
		return s.messageUpdated(ctx, tx, &rows[0], res)
	})
	if err != nil || out == nil {
		return nil, nil, err
	}
	return out, res.Events, nil
}

func (s *Store) setMediaPostgres(ctx context.Context, messageID int64, media string, pendingOnly bool) (*switchboard.Message, []switchboard.Event, error) {
	var out *switchboard.Message
	var events []switchboard.Event
	err := s.withPgx(ctx, func(pc *pgx.Conn) error {
		var first pgx.Batch
		first.Queue("BEGIN")
		first.Queue(pgSetMedia, media, messageID, pendingOnly)
		br := pc.SendBatch(ctx, &first)
		var row messageRow
		_, err := br.Exec()
		if err == nil {
			err = scanMessageRow(br.QueryRow(), &row)
		}
		found := !errors.Is(err, pgx.ErrNoRows)
		if !found {
			err = nil
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if !found {
			_, err = pc.Exec(ctx, "COMMIT")
			return err
		}
		msg := row.toDomain()
		evRows, err := newEventRows([]pendingEvent{{switchboard.EventMessageUpdated, row.ChannelID, row.ConversationID, msg}}, s.now())
		if err != nil {
			return err
		}
		ev := evRows[0]
		var second pgx.Batch
		second.Queue(pgInsertEvents, []string{ev.Type}, []int64{ev.ChannelID}, []int64{ev.ConversationID}, []string{ev.Data}, ev.CreatedAt)
		second.Queue("COMMIT")
		br = pc.SendBatch(ctx, &second)
		err = br.QueryRow().Scan(&ev.Seq)
		if err == nil {
			_, err = br.Exec()
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("store: record the attachment's event: %w", err)
		}
		out, events = msg, []switchboard.Event{ev.toDomain()}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, events, nil
}
