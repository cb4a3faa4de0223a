package store

import (
	"context"
	"time"

	"switchboard"
)

type deadLetterRow struct {
	ID         int64
	ChannelID  *int64
	Body       string
	Error      string
	ReceivedAt time.Time
}

func (deadLetterRow) TableName() string { return "dead_letters" }

// RecordDeadLetter keeps a webhook body that could not be parsed.
func (s *Store) RecordDeadLetter(ctx context.Context, channelID int64, body []byte, reason string) error {
	row := deadLetterRow{Body: string(body), Error: truncate(reason, 2000), ReceivedAt: s.now()}
	if channelID > 0 {
		row.ChannelID = &channelID
	}
	return translate(s.conn(ctx).Create(&row).Error)
}

// ListDeadLetters returns the most recent dead letters first.
func (s *Store) ListDeadLetters(ctx context.Context, limit int) ([]switchboard.DeadLetter, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var rows []deadLetterRow
	if err := s.conn(ctx).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]switchboard.DeadLetter, len(rows))
	for i, r := range rows {
		out[i] = switchboard.DeadLetter{ID: r.ID, ChannelID: r.ChannelID, Body: r.Body, Error: r.Error, ReceivedAt: r.ReceivedAt.UTC()}
	}
	return out, nil
}

// DeadLetter returns one kept webhook.
func (s *Store) DeadLetter(ctx context.Context, id int64) (*switchboard.DeadLetter, error) {
	var r deadLetterRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translateNotFound(err, "Dead letter")
	}
	return &switchboard.DeadLetter{ID: r.ID, ChannelID: r.ChannelID, Body: r.Body, Error: r.Error, ReceivedAt: r.ReceivedAt.UTC()}, nil
}

// DeleteDeadLetter forgets a kept webhook (after it was replayed).
func (s *Store) DeleteDeadLetter(ctx context.Context, id int64) error {
	res := s.conn(ctx).Delete(&deadLetterRow{}, id)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("Dead letter")
	}
	return nil
}
