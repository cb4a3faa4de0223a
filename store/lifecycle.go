package store

import (
	"context"
	"encoding/json"

	"gorm.io/gorm"

	"switchboard"
)

// ResolveConversation closes a conversation: it stops counting against its assignee's capacity, its
// unread count is cleared, an activity line says who resolved it, and (in the same transaction) the
// CSAT job for this resolution is queued. Resolving a resolved conversation is a no-op.
func (s *Store) ResolveConversation(ctx context.Context, id int64, by *switchboard.Agent) (*switchboard.Conversation, []switchboard.Event, bool, error) {
	var events []switchboard.Event
	changed := false
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		events, changed = nil, false
		var conv conversationRow
		if err := tx.Clauses(forUpdate()).Where("id = ?", id).Take(&conv).Error; err != nil {
			return translateNotFound(err, "Conversation")
		}
		if conv.Status == switchboard.StatusResolved {
			return nil
		}
		now := s.now()
		conv.Status, conv.ResolvedAt, conv.Resolutions, conv.UnreadCount, conv.WaitingSince =
			switchboard.StatusResolved, &now, conv.Resolutions+1, 0, nil
		if err := tx.Model(&conversationRow{}).Where("id = ?", id).Updates(map[string]any{"status": conv.Status, "resolved_at": now,
			"resolutions": conv.Resolutions, "unread_count": 0, "waiting_since": nil, "updated_at": now}).Error; err != nil {
			return err
		}
		job := switchboard.CSATSendJob{ConversationID: id, Resolution: conv.Resolutions}
		if conv.AssigneeKind == switchboard.AssigneeHuman {
			job.AgentID = conv.AssigneeID
		}
		payload, _ := json.Marshal(job)
		if err := s.enqueueJob(ctx, tx, &switchboard.Job{Kind: switchboard.CSATSendJobKind, Key: switchboard.ConversationJobKey(id), Payload: payload}); err != nil {
			return err
		}
		evs, err := s.lifecycleEvents(ctx, tx, &conv, switchboard.EventConversationResolved, "Resolved by "+who(by)+".")
		events, changed = evs, true
		return err
	})
	if err != nil {
		return nil, nil, false, err
	}
	conv, err := s.Conversation(ctx, id)
	return conv, events, changed, err
}

// ReopenConversation opens a resolved (or pending) conversation again; a CSAT survey still waiting is
// cancelled. Reopening an open conversation is a no-op.
func (s *Store) ReopenConversation(ctx context.Context, id int64, by *switchboard.Agent) (*switchboard.Conversation, []switchboard.Event, bool, error) {
	var events []switchboard.Event
	changed := false
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		events, changed = nil, false
		var conv conversationRow
		if err := tx.Clauses(forUpdate()).Where("id = ?", id).Take(&conv).Error; err != nil {
			return translateNotFound(err, "Conversation")
		}
		if conv.Status == switchboard.StatusOpen {
			return nil
		}
		if conv.Status == switchboard.StatusResolved {
			var active int64
			if err := tx.Model(&conversationRow{}).Where("channel_id = ? AND contact_id = ? AND status <> ? AND id <> ?",
				conv.ChannelID, conv.ContactID, switchboard.StatusResolved, id).Count(&active).Error; err != nil {
				return err
			}
			if active > 0 {
				return switchboard.Errorf(switchboard.ECONFLICT, "The customer already has a newer open conversation on this channel.")
			}
		}
		if _, err := s.cancelCSATTx(ctx, tx, id); err != nil {
			return err
		}
		now := s.now()
		conv.Status = switchboard.StatusOpen
		if err := tx.Model(&conversationRow{}).Where("id = ?", id).Updates(map[string]any{"status": conv.Status, "updated_at": now}).Error; err != nil {
			return err
		}
		evs, err := s.lifecycleEvents(ctx, tx, &conv, switchboard.EventConversationUpdated, "Reopened by "+who(by)+".")
		events, changed = evs, true
		return err
	})
	if err != nil {
		return nil, nil, false, err
	}
	conv, err := s.Conversation(ctx, id)
	return conv, events, changed, err
}

// lifecycleEvents writes the activity line and the conversation event of a status change.
func (s *Store) lifecycleEvents(ctx context.Context, tx *gorm.DB, conv *conversationRow, typ, activity string) ([]switchboard.Event, error) {
	_, actEv, err := s.logActivityTx(ctx, tx, conv, activity, "")
	if err != nil {
		return nil, err
	}
	view, err := s.conversationTx(tx, conv.ID, "")
	if err != nil {
		return nil, err
	}
	ev, err := s.recordEvent(ctx, tx, typ, conv.ChannelID, conv.ID, view)
	if err != nil {
		return nil, err
	}
	return []switchboard.Event{*actEv, ev}, nil
}

func who(a *switchboard.Agent) string {
	if a == nil {
		return "the system"
	}
	return a.Name
}

// MarkConversationRead clears a conversation's unread count and returns the wamid of the customer's
// latest message (to mark it read at WhatsApp), or "" when there is none.
func (s *Store) MarkConversationRead(ctx context.Context, id int64) (string, []switchboard.Event, error) {
	var wamid string
	var events []switchboard.Event
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		wamid, events = "", nil
		var conv conversationRow
		if err := tx.Clauses(forUpdate()).Where("id = ?", id).Take(&conv).Error; err != nil {
			return translateNotFound(err, "Conversation")
		}
		var last []messageRow
		if err := tx.Where("conversation_id = ? AND direction = ? AND external_id IS NOT NULL", id, switchboard.Inbound).
			Order("id DESC").Limit(1).Find(&last).Error; err != nil {
			return err
		}
		if len(last) == 1 {
			wamid = *last[0].ExternalID
		}
		if conv.UnreadCount == 0 {
			return nil
		}
		conv.UnreadCount = 0
		if err := tx.Model(&conversationRow{}).Where("id = ?", id).Update("unread_count", 0).Error; err != nil {
			return err
		}
		view, err := s.conversationTx(tx, conv.ID, "")
		if err != nil {
			return err
		}
		ev, err := s.recordEvent(ctx, tx, switchboard.EventConversationUpdated, conv.ChannelID, conv.ID, view)
		events = []switchboard.Event{ev}
		return err
	})
	return wamid, events, err
}
