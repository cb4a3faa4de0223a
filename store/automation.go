package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

// SetContactOptOut records a customer's opt-out (optedOut true: business-initiated templates are
// refused from now on) or opt-in (false, which clears it). changed is false when the contact was
// already in that state; the first opt-out time is kept across repeated STOPs.
func (s *Store) SetContactOptOut(ctx context.Context, contactID int64, optedOut bool) (contact *switchboard.Contact, changed bool, err error) {
	err = s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		var row contactRow
		if err := tx.Clauses(forUpdate()).Where("id = ?", contactID).Take(&row).Error; err != nil {
			return translateNotFound(err, "Contact")
		}
		if row.OptedOut != optedOut {
			now := s.now()
			updates := map[string]any{"opted_out": optedOut, "updated_at": now, "opted_out_at": nil}
			row.OptedOut, row.OptedOutAt, row.UpdatedAt = optedOut, nil, now
			if optedOut {
				updates["opted_out_at"], row.OptedOutAt = now, &now
			}
			if err := tx.Model(&contactRow{}).Where("id = ?", row.ID).Updates(updates).Error; err != nil {
				return err
			}
			changed = true
		}
		contact = row.toDomain()
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return contact, changed, nil
}

// LogActivity adds an activity line (what the server did: a keyword action, a survey note) to a
// conversation. It is never sent to the customer. With a clientID, a repeated call (a retried job)
// returns the line already logged instead of adding another.
func (s *Store) LogActivity(ctx context.Context, conversationID int64, text, clientID string) (*switchboard.Message, []switchboard.Event, error) {
	var out *switchboard.Message
	var events []switchboard.Event
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		var conv conversationRow
		if err := tx.Where("id = ?", conversationID).Take(&conv).Error; err != nil {
			return translateNotFound(err, "Conversation")
		}
		m, ev, err := s.logActivityTx(ctx, tx, &conv, text, clientID)
		if err != nil {
			return err
		}
		out = m
		if ev != nil {
			events = append(events, *ev)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, events, nil
}

// logActivityTx stores an activity line in the caller's transaction and logs its message.created
// event; ev is nil when the line with this clientID already exists.
func (s *Store) logActivityTx(ctx context.Context, tx *gorm.DB, conv *conversationRow, text, clientID string) (*switchboard.Message, *switchboard.Event, error) {
	if clientID != "" {
		var existing messageRow
		err := tx.Where("conversation_id = ? AND client_id = ?", conv.ID, clientID).Take(&existing).Error
		if err == nil {
			return existing.toDomain(), nil, nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, err
		}
	}
	m := &switchboard.Message{ConversationID: conv.ID, ChannelID: conv.ChannelID, Direction: switchboard.Outbound,
		Sender: switchboard.SenderSystem, Type: switchboard.TypeActivity, Text: text, Status: switchboard.MsgSent,
		ClientID: clientID, CreatedAt: s.now()}
	if err := m.Validate(); err != nil {
		return nil, nil, err
	}
	row := messageToRow(m)
	if err := tx.Create(row).Error; err != nil {
		return nil, nil, err
	}
	m.ID = row.ID
	ev, err := s.recordEvent(ctx, tx, switchboard.EventMessageCreated, conv.ChannelID, conv.ID, m)
	if err != nil {
		return nil, nil, err
	}
	return m, &ev, nil
}

// AwaySentFor returns the start of the closed period for which the conversation last got the
// away message, or nil when it never did.
func (s *Store) AwaySentFor(ctx context.Context, conversationID int64) (*time.Time, error) {
	var row conversationRow
	if err := s.conn(ctx).Select("id", "away_sent_for").Where("id = ?", conversationID).Take(&row).Error; err != nil {
		return nil, translateNotFound(err, "Conversation")
	}
	return utcPtr(row.AwaySentFor), nil
}

// MarkAwaySent records that the conversation got the away message for the closed period that began
// at period. It reports false when that was already recorded.
func (s *Store) MarkAwaySent(ctx context.Context, conversationID int64, period time.Time) (bool, error) {
	p := utc(period)
	res := s.conn(ctx).Model(&conversationRow{}).
		Where("id = ? AND (away_sent_for IS NULL OR away_sent_for <> ?)", conversationID, p).
		Update("away_sent_for", p)
	if res.Error != nil {
		return false, translate(res.Error)
	}
	if res.RowsAffected == 0 {
		if _, err := s.AwaySentFor(ctx, conversationID); err != nil {
			return false, err
		}
	}
	return res.RowsAffected == 1, nil
}
