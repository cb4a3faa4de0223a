package store

import (
	"context"
	"encoding/json"
	"time"
)

// ChannelEventRecord is a channel event as kept (channel_events): what Meta reported about a channel
// besides messages — a quality rating, an account update, out-of-band errors, a template's status, a
// status value we do not know — and when it arrived. Details is the value Meta sent, as JSON.
type ChannelEventRecord struct {
	ID        int64           `json:"id"`
	ChannelID int64           `json:"channel_id"`
	Field     string          `json:"field"`
	Details   json.RawMessage `json:"details"`
	CreatedAt time.Time       `json:"created_at"`
}

// ListChannelEvents returns a page of a channel's events, newest first: the latest ones, or those
// older than the cursor. The next cursor leads further back ("" at the oldest). limit is 50 when
// outside 1..200.
func (s *Store) ListChannelEvents(ctx context.Context, channelID int64, cursor string, limit int) ([]*ChannelEventRecord, string, error) {
	rows, next, err := newestFirst(s.conn(ctx).Where("channel_id = ?", channelID), cursor, "events", limit,
		func(r channelEventRow) int64 { return r.ID })
	if err != nil {
		return nil, "", err
	}
	out := make([]*ChannelEventRecord, len(rows))
	for i, r := range rows {
		details := json.RawMessage(r.Payload)
		if !json.Valid(details) {
			// Every writer stores JSON; should one not have, the text is still shown rather than
			// breaking the whole list.
			details, _ = json.Marshal(r.Payload)
		}
		out[i] = &ChannelEventRecord{ID: r.ID, ChannelID: r.ChannelID, Field: r.Field, Details: details, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, next, nil
}
