package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

// QueueOutbound stores a message the business sends (status queued) and, in the same transaction,
// the job that will send it, so a reply is never lost between the two. A private note is stored
// without a job. With a ClientID, a repeated request returns the message already queued instead of
// sending twice.
func (s *Store) QueueOutbound(ctx context.Context, m *switchboard.Message) (*switchboard.Message, []switchboard.Event, error) {
	now := s.now()
	m.Direction, m.CreatedAt = switchboard.Outbound, now
	if m.Private {
		m.Status = switchboard.MsgSent
	} else {
		m.Status = switchboard.MsgQueued
	}
	if err := m.Validate(); err != nil {
		return nil, nil, err
	}
	var out *switchboard.Message
	var events []switchboard.Event
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		var conv conversationRow
		if err := tx.Clauses(forUpdate()).Where("id = ?", m.ConversationID).Take(&conv).Error; err != nil {
			return translateNotFound(err, "Conversation")
		}
		m.ChannelID = conv.ChannelID
		if m.ClientID != "" {
			var existing messageRow
			err := tx.Where("conversation_id = ? AND client_id = ?", m.ConversationID, m.ClientID).Take(&existing).Error
			if err == nil {
				out = existing.toDomain()
				return nil
			}
			if !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
		}
		row := messageToRow(m)
		row.ID = 0
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		m.ID = row.ID
		if !m.Private {
			job, _ := json.Marshal(switchboard.SendJob{MessageID: row.ID})
			if err := s.enqueueJob(ctx, tx, &switchboard.Job{Kind: switchboard.SendJobKind, Key: switchboard.ConversationJobKey(conv.ID), Payload: job,
				MaxAttempts: switchboard.SendMaxAttempts}); err != nil {
				return err
			}
			if err := tx.Model(&conversationRow{}).Where("id = ?", conv.ID).Updates(map[string]any{
				"last_message_at": now, "last_message_preview": preview(m), "updated_at": now}).Error; err != nil {
				return err
			}
		}
		ev, err := s.recordEvent(ctx, tx, switchboard.EventMessageCreated, conv.ChannelID, conv.ID, m)
		if err != nil {
			return err
		}
		events = append(events, ev)
		out = m
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, events, nil
}

// MarkSent records that Meta accepted a message under wamid, and applies any status webhooks that
// arrived for that wamid before the send call returned.
func (s *Store) MarkSent(ctx context.Context, messageID int64, wamid string, at time.Time) (*switchboard.Message, []switchboard.Event, error) {
	return s.updateOutbound(ctx, messageID, func(ctx context.Context, tx *gorm.DB, row *messageRow, res *switchboard.IngestResult) error {
		at := utc(at)
		// A message failed without a wamid whose send Meta accepted after all (its job was buried while
		// a worker that had lost touch with the database was still sending) is sent: that is the truth.
		abandoned := row.Status == switchboard.MsgFailed && row.ExternalID == nil
		row.ExternalID, row.SentAt = &wamid, &at
		updates := map[string]any{"external_id": wamid, "sent_at": at}
		if row.Status == switchboard.MsgQueued || abandoned {
			row.Status, row.StatusRank = switchboard.MsgSent, switchboard.StatusRank(switchboard.MsgSent)
			updates["status"], updates["status_rank"] = row.Status, row.StatusRank
		}
		if abandoned {
			row.FailedAt, row.ErrorCode, row.ErrorTitle, row.ErrorDetails = nil, nil, "", ""
			updates["failed_at"], updates["error_code"], updates["error_title"], updates["error_details"] = nil, nil, "", ""
		}
		if err := tx.Model(&messageRow{}).Where("id = ?", row.ID).Updates(updates).Error; err != nil {
			return err
		}
		return s.applyParked(ctx, tx, row, nil)
	})
}

// MarkFailed records that a message could not be sent, with Meta's code and title.
func (s *Store) MarkFailed(ctx context.Context, messageID int64, e switchboard.MessageError, at time.Time) (*switchboard.Message, []switchboard.Event, error) {
	return s.updateOutbound(ctx, messageID, func(ctx context.Context, tx *gorm.DB, row *messageRow, res *switchboard.IngestResult) error {
		return failRow(tx, row, e, at)
	})
}

// MarkAbandoned fails a message whose send nobody finished (its job was buried: the worker stopped on
// the last attempt), provided it is still queued without a wamid, checked under the message's lock; a
// message sent or failed meanwhile is left alone (nil, no events).
func (s *Store) MarkAbandoned(ctx context.Context, messageID int64, e switchboard.MessageError, at time.Time) (*switchboard.Message, []switchboard.Event, error) {
	msg, events, err := s.updateOutbound(ctx, messageID, func(ctx context.Context, tx *gorm.DB, row *messageRow, res *switchboard.IngestResult) error {
		if row.Status != switchboard.MsgQueued || row.ExternalID != nil {
			return errUnchanged
		}
		return failRow(tx, row, e, at)
	})
	if errors.Is(err, errUnchanged) || switchboard.IsCode(err, switchboard.ENOTFOUND) {
		return nil, nil, nil
	}
	return msg, events, err
}

// errUnchanged rolls back an update that finds nothing to change.
var errUnchanged = errors.New("unchanged")

func failRow(tx *gorm.DB, row *messageRow, e switchboard.MessageError, at time.Time) error {
	at = utc(at)
	code := e.Code
	row.Status, row.FailedAt, row.ErrorCode, row.ErrorTitle, row.ErrorDetails = switchboard.MsgFailed, &at, &code, e.Title, e.Details
	return tx.Model(&messageRow{}).Where("id = ?", row.ID).Updates(map[string]any{"status": switchboard.MsgFailed,
		"failed_at": at, "error_code": code, "error_title": e.Title, "error_details": e.Details}).Error
}

// updateOutbound changes one outbound message under a row lock and logs the message.updated event.
func (s *Store) updateOutbound(ctx context.Context, id int64, change func(ctx context.Context, tx *gorm.DB, row *messageRow, res *switchboard.IngestResult) error) (*switchboard.Message, []switchboard.Event, error) {
	var out *switchboard.Message
	res := &switchboard.IngestResult{}
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		res.Events = nil
		var row messageRow
		if err := tx.Clauses(forUpdate()).Where("id = ? AND direction = ?", id, switchboard.Outbound).Take(&row).Error; err != nil {
			return translateNotFound(err, "Message")
		}
		if err := change(ctx, tx, &row, res); err != nil {
			return err
		}
		out = row.toDomain()
		return s.messageUpdated(ctx, tx, &row, res)
	})
	if err != nil {
		return nil, nil, err
	}
	return out, res.Events, nil
}

// RetryOutbound puts a failed message back in the queue with a new send job.
func (s *Store) RetryOutbound(ctx context.Context, messageID int64) (*switchboard.Message, []switchboard.Event, error) {
	return s.updateOutbound(ctx, messageID, func(ctx context.Context, tx *gorm.DB, row *messageRow, res *switchboard.IngestResult) error {
		if row.Status != switchboard.MsgFailed {
			return switchboard.Errorf(switchboard.ECONFLICT, "Only a failed message can be sent again.")
		}
		row.Status, row.StatusRank, row.ErrorCode, row.ErrorTitle, row.ErrorDetails, row.FailedAt = switchboard.MsgQueued, 0, nil, "", "", nil
		if err := tx.Model(&messageRow{}).Where("id = ?", row.ID).Updates(map[string]any{"status": switchboard.MsgQueued, "status_rank": 0,
			"error_code": nil, "error_title": "", "error_details": "", "failed_at": nil}).Error; err != nil {
			return err
		}
		job, _ := json.Marshal(switchboard.SendJob{MessageID: row.ID})
		return s.enqueueJob(ctx, tx, &switchboard.Job{Kind: switchboard.SendJobKind, Key: switchboard.ConversationJobKey(row.ConversationID), Payload: job,
			MaxAttempts: switchboard.SendMaxAttempts})
	})
}
