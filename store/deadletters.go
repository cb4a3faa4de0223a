package store

import (
	"context"
	"time"
)

type deadLetterRow struct {
	ID         int64
	ChannelID  *int64
	Body       string
	Error      string
	ReceivedAt time.Time
}

func (deadLetterRow) TableName() string { return "dead_letters" }

// DeadLetter is a correctly signed webhook that could not be understood, kept for admins.
type DeadLetter struct {
	ID         int64     `json:"id"`
	ChannelID  *int64    `json:"channel_id"`
	Body       string    `json:"body"`
	Error      string    `json:"error"`
	ReceivedAt time.Time `json:"received_at"`
}

// RecordDeadLetter keeps a webhook body that could not be parsed.
func (s *Store) RecordDeadLetter(ctx context.Context, channelID int64, body []byte, reason string) error {
	row := deadLetterRow{Body: string(body), Error: truncate(reason, 2000), ReceivedAt: s.now()}
	if channelID > 0 {
		row.ChannelID = &channelID
	}
	return translate(s.conn(ctx).Create(&row).Error)
}

// ListDeadLetters returns the most recent dead letters first.
func (s *Store) ListDeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var rows []deadLetterRow
	if err := s.conn(ctx).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]DeadLetter, len(rows))
	for i, r := range rows {
		out[i] = DeadLetter{ID: r.ID, ChannelID: r.ChannelID, Body: r.Body, Error: r.Error, ReceivedAt: r.ReceivedAt.UTC()}
	}
	return out, nil
}
