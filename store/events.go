package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

type eventRow struct {
	Seq            int64 `gorm:"primaryKey"`
	Type           string
	ChannelID      int64
	ConversationID int64
	Data           string
	CreatedAt      time.Time
}

func (eventRow) TableName() string { return "events" }

func (r *eventRow) toDomain() switchboard.Event {
	return switchboard.Event{Seq: r.Seq, Type: r.Type, ChannelID: r.ChannelID, ConversationID: r.ConversationID,
		Data: json.RawMessage(r.Data), CreatedAt: r.CreatedAt.UTC()}
}

// recordEvent appends an event to the log inside the caller's transaction; it gets its sequence
// number there and is published only after the commit.
func (s *Store) recordEvent(ctx context.Context, tx *gorm.DB, typ string, channelID, conversationID int64, data any) (switchboard.Event, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return switchboard.Event{}, err
	}
	row := eventRow{Type: typ, ChannelID: channelID, ConversationID: conversationID, Data: string(b), CreatedAt: s.now()}
	// A plain statement: every status, reaction, send and download writes one, and GORM's Create
	// machinery cost more than the insert.
	if err := tx.Raw(`INSERT INTO events (type, channel_id, conversation_id, data, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq`,
		row.Type, row.ChannelID, row.ConversationID, row.Data, row.CreatedAt).Row().Scan(&row.Seq); err != nil {
		return switchboard.Event{}, err
	}
	return row.toDomain(), nil
}

// EventsAfter returns up to limit events with a sequence number above seq, in order.
func (s *Store) EventsAfter(ctx context.Context, seq int64, limit int) ([]switchboard.Event, error) {
	var rows []eventRow
	if err := s.conn(ctx).Where("seq > ?", seq).Order("seq").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]switchboard.Event, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// PruneEvents drops events older than before, keeping the log bounded.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	res := s.conn(ctx).Where("created_at < ?", utc(before)).Delete(&eventRow{})
	return res.RowsAffected, translate(res.Error)
}

// pendingEvent is an event to record.
type pendingEvent struct {
	typ                       string
	channelID, conversationID int64
	data                      any
}

// newEventRows encodes events for the log.
func newEventRows(evs []pendingEvent, now time.Time) ([]eventRow, error) {
	rows := make([]eventRow, len(evs))
	for i, e := range evs {
		b, err := json.Marshal(e.data)
		if err != nil {
			return nil, err
		}
		rows[i] = eventRow{Type: e.typ, ChannelID: e.channelID, ConversationID: e.conversationID, Data: string(b), CreatedAt: now}
	}
	return rows, nil
}

// recordEvents appends several events to the log in one statement, in order.
func (s *Store) recordEvents(ctx context.Context, tx *gorm.DB, evs ...pendingEvent) ([]switchboard.Event, error) {
	rows, err := newEventRows(evs, s.now())
	if err != nil {
		return nil, err
	}
	if err := tx.Create(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]switchboard.Event, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}
