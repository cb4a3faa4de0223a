package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

// statusColumn names the timestamp column each delivery status sets.
var statusColumn = map[string]string{
	switchboard.MsgSent:      "sent_at",
	switchboard.MsgDelivered: "delivered_at",
	switchboard.MsgRead:      "read_at",
	switchboard.MsgPlayed:    "played_at",
	switchboard.MsgFailed:    "failed_at",
}

// parkedStatusTTL is how long a status for an unknown message waits for it.
const parkedStatusTTL = 24 * time.Hour

// applyStatus applies a status webhook to our message: delivery statuses only move it forward
// (sent < delivered < read < played; a late "sent" never undoes "read"), failed is final and keeps
// Meta's code and title. A status for a message we do not know yet (the send call has not returned)
// is parked and applied when the message gets its wamid.
func (s *Store) applyStatus(ctx context.Context, tx *gorm.DB, channelID int64, st *switchboard.StatusUpdate, res *switchboard.IngestResult) error {
	if _, known := statusColumn[st.Status]; !known {
		// Unknown values are kept raw, as Meta sent them, for admins; they never change a message.
		b := []byte(st.Payload)
		if len(b) == 0 {
			b, _ = json.Marshal(map[string]any{"id": st.ExternalID, "status": st.Status, "timestamp": st.At.Unix()})
		}
		row := channelEventRow{ChannelID: channelID, Field: "status:" + st.Status, Payload: string(b), CreatedAt: s.now()}
		return tx.Create(&row).Error
	}
	row, err := s.lockMessage(tx, channelID, st.ExternalID)
	if err != nil {
		return err
	}
	if row == nil {
		b, _ := json.Marshal(st)
		res.Parked++
		return tx.Create(&parkedStatusRow{ChannelID: channelID, ExternalID: st.ExternalID, Status: st.Status, Payload: string(b),
			OccurredAt: utc(st.At), CreatedAt: s.now()}).Error
	}
	changed, err := s.applyStatusTo(ctx, tx, row, st)
	if err != nil || !changed {
		return err
	}
	res.Statuses++
	return s.messageUpdated(ctx, tx, row, res)
}

// applyStatusTo updates a locked message row with a status and reports whether anything changed.
func (s *Store) applyStatusTo(ctx context.Context, tx *gorm.DB, row *messageRow, st *switchboard.StatusUpdate) (bool, error) {
	updates := statusChange(row, st, s.now())
	if len(updates) == 0 {
		return false, nil
	}
	return true, tx.Model(&messageRow{}).Where("id = ?", row.ID).Updates(updates).Error
}

// statusChange applies a status to a message row in memory and returns the columns it changed (none
// when the status changes nothing). now stands in for a status without a time.
func statusChange(row *messageRow, st *switchboard.StatusUpdate, now time.Time) map[string]any {
	at := utc(st.At)
	if st.At.IsZero() {
		at = now
	}
	updates := map[string]any{}
	col := statusColumn[st.Status]
	if st.Status == switchboard.MsgFailed {
		if row.Status == switchboard.MsgFailed {
			return nil
		}
		updates["status"], updates["failed_at"] = switchboard.MsgFailed, at
		row.Status, row.FailedAt = switchboard.MsgFailed, &at
		if st.Error != nil {
			code := st.Error.Code
			updates["error_code"], updates["error_title"], updates["error_details"] = code, st.Error.Title, st.Error.Details
			row.ErrorCode, row.ErrorTitle, row.ErrorDetails = &code, st.Error.Title, st.Error.Details
		}
	} else {
		rank := switchboard.StatusRank(st.Status)
		if row.Status != switchboard.MsgFailed && rank > row.StatusRank {
			updates["status"], updates["status_rank"] = st.Status, rank
			row.Status, row.StatusRank = st.Status, rank
		}
		// Keep the first time of each step, even when it arrives late (read before delivered).
		if current := statusTime(row, st.Status); current == nil {
			updates[col] = at
			setStatusTime(row, st.Status, at)
		}
	}
	return updates
}

func statusTime(r *messageRow, status string) *time.Time {
	switch status {
	case switchboard.MsgSent:
		return r.SentAt
	case switchboard.MsgDelivered:
		return r.DeliveredAt
	case switchboard.MsgRead:
		return r.ReadAt
	case switchboard.MsgPlayed:
		return r.PlayedAt
	}
	return r.FailedAt
}

func setStatusTime(r *messageRow, status string, at time.Time) {
	switch status {
	case switchboard.MsgSent:
		r.SentAt = &at
	case switchboard.MsgDelivered:
		r.DeliveredAt = &at
	case switchboard.MsgRead:
		r.ReadAt = &at
	case switchboard.MsgPlayed:
		r.PlayedAt = &at
	}
}

// applyParked applies the statuses that arrived before a message got its wamid, in the order they
// occurred, and forgets them.
func (s *Store) applyParked(ctx context.Context, tx *gorm.DB, row *messageRow, res *switchboard.IngestResult) error {
	if row.ExternalID == nil {
		return nil
	}
	var parked []parkedStatusRow
	if err := tx.Where("channel_id = ? AND external_id = ?", row.ChannelID, *row.ExternalID).Order("occurred_at, id").Find(&parked).Error; err != nil {
		return err
	}
	changed := false
	for _, p := range parked {
		var st switchboard.StatusUpdate
		if err := json.Unmarshal([]byte(p.Payload), &st); err != nil {
			continue
		}
		c, err := s.applyStatusTo(ctx, tx, row, &st)
		if err != nil {
			return err
		}
		changed = changed || c
	}
	if len(parked) > 0 {
		if err := tx.Where("channel_id = ? AND external_id = ?", row.ChannelID, *row.ExternalID).Delete(&parkedStatusRow{}).Error; err != nil {
			return err
		}
	}
	if changed && res != nil {
		return s.messageUpdated(ctx, tx, row, res)
	}
	return nil
}

// PruneParkedStatuses forgets parked statuses whose message never appeared.
func (s *Store) PruneParkedStatuses(ctx context.Context) (int64, error) {
	res := s.conn(ctx).Where("created_at < ?", s.now().Add(-parkedStatusTTL)).Delete(&parkedStatusRow{})
	return res.RowsAffected, translate(res.Error)
}
