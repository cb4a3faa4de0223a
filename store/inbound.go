package store

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard"
)

type parkedStatusRow struct {
	ID         int64
	ChannelID  int64
	ExternalID string
	Status     string
	Payload    string
	OccurredAt time.Time
	CreatedAt  time.Time
}

func (parkedStatusRow) TableName() string { return "parked_statuses" }

type channelEventRow struct {
	ID        int64
	ChannelID int64
	Field     string
	Payload   string
	CreatedAt time.Time
}

func (channelEventRow) TableName() string { return "channel_events" }

// IngestInbound stores one webhook's batch for a channel in a single transaction: contacts upserted,
// conversations found, reopened or started, messages inserted once per wamid (a repeated delivery is
// a no-op), reactions attached to their messages, statuses applied monotonically or parked until
// their message exists, an inbound job enqueued per new message that needs one (InboundBatch.NeedsWork),
// and the events to publish logged. Contacts are locked in a fixed order so concurrent webhooks lock
// rows in the same order. It is IngestInboundMany with one item.
func (s *Store) IngestInbound(ctx context.Context, ch *switchboard.Channel, b *switchboard.InboundBatch) (*switchboard.IngestResult, error) {
	res, err := s.IngestInboundMany(ctx, []switchboard.ChannelInbound{{Channel: ch, Batch: b}})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// groupByContact keeps each contact's messages in arrival order and orders the contacts by id.
func groupByContact(msgs []switchboard.InboundMessage) [][]*switchboard.InboundMessage {
	byKey := map[string][]*switchboard.InboundMessage{}
	for i := range msgs {
		k := msgs[i].WaID + "|" + msgs[i].BSUID
		if msgs[i].NumberChange != nil {
			k = msgs[i].NumberChange.OldWaID + "|" + msgs[i].BSUID
		}
		byKey[k] = append(byKey[k], &msgs[i])
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]*switchboard.InboundMessage, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

func (s *Store) ingestContact(ctx context.Context, tx *gorm.DB, ch *switchboard.Channel, msgs []*switchboard.InboundMessage, needsWork func(switchboard.InboundWork) bool, res *switchboard.IngestResult) error {
	for _, m := range msgs {
		waID := m.WaID
		if m.NumberChange != nil {
			waID = m.NumberChange.OldWaID
		}
		contact, err := s.upsertContact(ctx, tx, waID, m.BSUID, m.ProfileName)
		if err != nil {
			return err
		}
		switch {
		case m.Reaction != nil:
			if err := s.applyReaction(ctx, tx, ch.ID, m.Reaction, m.Timestamp, res); err != nil {
				return err
			}
		case m.RevokedID != "":
			if err := s.applyRevoke(ctx, tx, ch.ID, m.RevokedID, res); err != nil {
				return err
			}
		case m.NumberChange != nil:
			if err := s.changeNumber(ctx, tx, ch, contact, m, needsWork, res); err != nil {
				return err
			}
		case m.Message != nil:
			if err := s.storeInbound(ctx, tx, ch, contact, m.Message, needsWork, res); err != nil {
				return err
			}
		}
	}
	return nil
}

// upsertContact finds the contact by WhatsApp id (or business-scoped id), creating it when new, and
// locks its row so one contact's messages are stored one transaction at a time.
func (s *Store) upsertContact(ctx context.Context, tx *gorm.DB, waID, bsuid, name string) (*contactRow, error) {
	if waID == "" && bsuid == "" {
		return nil, switchboard.Errorf(switchboard.EINVALID, "A message without a sender id cannot be stored.")
	}
	col, key := "wa_id", waID
	if waID == "" {
		col, key = "bsuid", bsuid
	}
	// Most messages come from known contacts: one locked read. A new contact is inserted (a concurrent
	// insert of the same one is a no-op) and read again, locked.
	now := s.now()
	var found []contactRow
	if err := tx.Clauses(forUpdate()).Where(col+" = ?", key).Limit(1).Find(&found).Error; err != nil {
		return nil, err
	}
	if len(found) == 0 {
		row := contactRow{Name: name, Phone: switchboard.PhoneFromWaID(waID), Tags: "[]", CreatedAt: now, UpdatedAt: now}
		if waID != "" {
			row.WaID = &waID
		}
		if bsuid != "" {
			row.BSUID = &bsuid
		}
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: col}}, TargetWhere: clause.Where{Exprs: []clause.Expression{
			clause.Expr{SQL: col + " IS NOT NULL"}}}, DoNothing: true}).Create(&row).Error; err != nil {
			return nil, err
		}
		found = nil
		if err := tx.Clauses(forUpdate()).Where(col+" = ?", key).Limit(1).Find(&found).Error; err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "The contact could not be stored; try again.")
		}
	}
	got := found[0]
	updates := map[string]any{}
	if name != "" && name != got.Name {
		updates["name"] = name
	}
	if bsuid != "" && got.BSUID == nil {
		updates["bsuid"] = bsuid
	}
	if len(updates) > 0 {
		updates["updated_at"] = now
		if err := tx.Model(&contactRow{}).Where("id = ?", got.ID).Updates(updates).Error; err != nil {
			return nil, err
		}
		if name != "" {
			got.Name = name
		}
	}
	return &got, nil
}

// latestConversation returns the contact's most recent conversation on the channel, locked, or nil.
func (s *Store) latestConversation(tx *gorm.DB, channelID, contactID int64) (*conversationRow, error) {
	var rows []conversationRow
	if err := tx.Clauses(forUpdate()).Where("channel_id = ? AND contact_id = ?", channelID, contactID).Order("id DESC").Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// activeConversation returns the conversation a new customer message belongs to, given the contact's
// latest one on the channel: the open or pending one, else a resolved one reopened within the reopen
// window, else a new one. created/reopened tell which.
func (s *Store) activeConversation(ctx context.Context, tx *gorm.DB, ch *switchboard.Channel, contactID int64, latest *conversationRow, at time.Time) (conv *conversationRow, created, reopened bool, err error) {
	now := s.now()
	if c := latest; c != nil {
		if c.Status != switchboard.StatusResolved {
			return c, false, false, nil
		}
		window := time.Duration(ch.Settings.ReopenWindowHours) * time.Hour
		if c.ResolvedAt != nil && at.Sub(*c.ResolvedAt) <= window {
			if err := tx.Model(&conversationRow{}).Where("id = ?", c.ID).
				Updates(map[string]any{"status": switchboard.StatusOpen, "updated_at": now}).Error; err != nil {
				return nil, false, false, err
			}
			c.Status, c.UpdatedAt = switchboard.StatusOpen, now
			return c, false, true, nil
		}
	}
	c := &conversationRow{ChannelID: ch.ID, ContactID: contactID, Status: switchboard.StatusOpen, CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(c).Error; err != nil {
		return nil, false, false, err
	}
	return c, true, false, nil
}

// preview shortens a message for the conversation list.
func preview(m *switchboard.Message) string {
	t := strings.Join(strings.Fields(m.Text), " ")
	if t == "" {
		t = "[" + m.Type + "]"
	}
	if utf8.RuneCountInString(t) > 140 {
		t = string([]rune(t)[:140]) + "…"
	}
	return t
}

func (s *Store) storeInbound(ctx context.Context, tx *gorm.DB, ch *switchboard.Channel, contact *contactRow, m *switchboard.Message, needsWork func(switchboard.InboundWork) bool, res *switchboard.IngestResult) error {
	now := s.now()
	at := now
	if m.Timestamp != nil && !m.Timestamp.IsZero() {
		at = utc(*m.Timestamp)
	}
	// A retry of a stored message changes nothing.
	var dup int64
	if err := tx.Model(&messageRow{}).Where("channel_id = ? AND external_id = ?", ch.ID, m.ExternalID).Count(&dup).Error; err != nil {
		return err
	}
	if dup > 0 {
		res.Duplicates++
		return nil
	}
	latest, err := s.latestConversation(tx, ch.ID, contact.ID)
	if err != nil {
		return err
	}
	// An answer to a pending CSAT survey belongs to the resolved conversation and does not reopen it.
	conv, err := s.csatReplyTx(ctx, tx, ch, latest, m)
	if err != nil {
		return err
	}
	created, reopened := false, false
	if conv == nil {
		if conv, created, reopened, err = s.activeConversation(ctx, tx, ch, contact.ID, latest, at); err != nil {
			return err
		}
	}
	msg := *m
	msg.ConversationID, msg.ChannelID = conv.ID, ch.ID
	msg.Direction, msg.Sender, msg.Status = switchboard.Inbound, switchboard.SenderCustomer, switchboard.MsgReceived
	msg.CreatedAt, msg.Timestamp = now, &at
	row := messageToRow(&msg)
	row.ID = 0
	ins := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "channel_id"}, {Name: "external_id"}},
		TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "external_id IS NOT NULL"}}}, DoNothing: true}).Create(row)
	if ins.Error != nil {
		return ins.Error
	}
	if ins.RowsAffected == 0 {
		res.Duplicates++
		return nil
	}
	msg.ID = row.ID
	lastInbound := at
	if conv.LastInboundAt != nil && conv.LastInboundAt.After(at) {
		lastInbound = *conv.LastInboundAt // an older message delivered late does not shorten the window
	}
	// The conversation row is locked (latestConversation), so its new state is known without a reread.
	conv.LastInboundAt, conv.UnreadCount, conv.UpdatedAt = &lastInbound, conv.UnreadCount+1, now
	updates := map[string]any{"last_inbound_at": lastInbound, "unread_count": conv.UnreadCount, "updated_at": now}
	if conv.LastMessageAt == nil || !at.Before(*conv.LastMessageAt) {
		conv.LastMessageAt, conv.LastMessagePreview = &at, preview(&msg)
		updates["last_message_at"], updates["last_message_preview"] = at, conv.LastMessagePreview
	}
	if err := tx.Model(&conversationRow{}).Where("id = ?", conv.ID).Updates(updates).Error; err != nil {
		return err
	}
	convView := conv.toDomain()
	convView.Contact = contact.toDomain()
	ij := switchboard.InboundJob{ConversationID: conv.ID, MessageID: msg.ID, NewConversation: created, Reopened: reopened}
	if err := s.enqueueJobs(ctx, tx, messageJobs(needsWork, switchboard.InboundWork{Channel: ch, Conversation: convView, Message: &msg,
		Job: ij, AwaySentFor: conv.AwaySentFor})); err != nil {
		return err
	}
	typ := switchboard.EventConversationUpdated
	if created {
		typ = switchboard.EventConversationCreated
	}
	evs, err := s.recordEvents(ctx, tx, pendingEvent{typ, ch.ID, conv.ID, convView}, pendingEvent{switchboard.EventMessageCreated, ch.ID, conv.ID, &msg})
	if err != nil {
		return err
	}
	res.Events = append(res.Events, evs...)
	res.Messages++
	return nil
}

// messageJobs are the jobs a stored customer message gets: its inbound job when needsWork says it has
// work (nil: always), and the download of its attachment.
func messageJobs(needsWork func(switchboard.InboundWork) bool, w switchboard.InboundWork) []*switchboard.Job {
	var jobs []*switchboard.Job
	if needsWork == nil || needsWork(w) {
		payload, _ := json.Marshal(w.Job)
		jobs = append(jobs, &switchboard.Job{Kind: switchboard.InboundJobKind, Key: switchboard.ConversationJobKey(w.Conversation.ID), Payload: payload})
	}
	if m := w.Message; m.Media != nil && m.Media.Status == switchboard.MediaPending {
		payload, _ := json.Marshal(switchboard.MediaJob{MessageID: m.ID, ChannelID: w.Channel.ID, Media: m.Media})
		jobs = append(jobs, &switchboard.Job{Kind: switchboard.MediaJobKind, Key: "media:" + strconv.FormatInt(m.ID, 10), Payload: payload})
	}
	return jobs
}

// lockMessage returns the channel's message with this wamid, locked, or nil when unknown.
func (s *Store) lockMessage(tx *gorm.DB, channelID int64, externalID string) (*messageRow, error) {
	var row messageRow
	err := tx.Clauses(forUpdate()).Where("channel_id = ? AND external_id = ?", channelID, externalID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &row, err
}

func (s *Store) messageUpdated(ctx context.Context, tx *gorm.DB, row *messageRow, res *switchboard.IngestResult) error {
	ev, err := s.recordEvent(ctx, tx, switchboard.EventMessageUpdated, row.ChannelID, row.ConversationID, row.toDomain())
	if err != nil {
		return err
	}
	res.Events = append(res.Events, ev)
	return nil
}

// applyReaction sets or removes the customer's reaction on one of the channel's messages. A reaction
// to a message we do not know is dropped: there is nothing to show it on.
func (s *Store) applyReaction(ctx context.Context, tx *gorm.DB, channelID int64, r *switchboard.ReactionChange, at time.Time, res *switchboard.IngestResult) error {
	row, err := s.lockMessage(tx, channelID, r.TargetExternalID)
	if err != nil || row == nil {
		return err
	}
	row.Reactions = withCustomerReaction(row.Reactions, r, at, s.now())
	if err := tx.Model(&messageRow{}).Where("id = ?", row.ID).Update("reactions", row.Reactions).Error; err != nil {
		return err
	}
	return s.messageUpdated(ctx, tx, row, res)
}

// withCustomerReaction returns a message's reactions (JSON) with the customer's reaction set or
// removed: a customer has one reaction per message. now stands in for a reaction without a time.
func withCustomerReaction(reactionsJSON string, r *switchboard.ReactionChange, at, now time.Time) string {
	var reactions []switchboard.Reaction
	json.Unmarshal([]byte(reactionsJSON), &reactions)
	kept := reactions[:0]
	for _, x := range reactions {
		if x.Sender != switchboard.SenderCustomer {
			kept = append(kept, x)
		}
	}
	if !r.Removed {
		if at.IsZero() {
			at = now
		}
		kept = append(kept, switchboard.Reaction{Emoji: r.Emoji, Sender: switchboard.SenderCustomer, At: utc(at)})
	}
	b, _ := json.Marshal(kept)
	return string(b)
}

// applyRevoke marks a message the customer deleted; its text is kept for the agents' record.
func (s *Store) applyRevoke(ctx context.Context, tx *gorm.DB, channelID int64, externalID string, res *switchboard.IngestResult) error {
	row, err := s.lockMessage(tx, channelID, externalID)
	if err != nil || row == nil {
		return err
	}
	payload := map[string]any{}
	if row.Payload != nil {
		json.Unmarshal([]byte(*row.Payload), &payload)
	}
	payload["revoked"] = true
	b, _ := json.Marshal(payload)
	p := string(b)
	row.Payload = &p
	if err := tx.Model(&messageRow{}).Where("id = ?", row.ID).Update("payload", p).Error; err != nil {
		return err
	}
	return s.messageUpdated(ctx, tx, row, res)
}

// changeNumber re-keys the contact to its new WhatsApp id and notes the change in its conversation.
// If the new number already belongs to another contact, both are kept and the note says so.
func (s *Store) changeNumber(ctx context.Context, tx *gorm.DB, ch *switchboard.Channel, contact *contactRow, m *switchboard.InboundMessage, needsWork func(switchboard.InboundWork) bool, res *switchboard.IngestResult) error {
	nc := m.NumberChange
	note := "The customer changed their number from " + switchboard.PhoneFromWaID(nc.OldWaID) + " to " + switchboard.PhoneFromWaID(nc.NewWaID) + "."
	var taken int64
	if err := tx.Model(&contactRow{}).Where("wa_id = ? AND id <> ?", nc.NewWaID, contact.ID).Count(&taken).Error; err != nil {
		return err
	}
	if taken == 0 && nc.NewWaID != "" {
		if err := tx.Model(&contactRow{}).Where("id = ?", contact.ID).Updates(map[string]any{
			"wa_id": nc.NewWaID, "phone": switchboard.PhoneFromWaID(nc.NewWaID), "updated_at": s.now()}).Error; err != nil {
			return err
		}
	} else if taken > 0 {
		note += " That number already belongs to another contact, so both are kept."
	}
	msg := &switchboard.Message{Type: switchboard.TypeActivity, Text: note, ExternalID: m.ExternalID}
	if !m.Timestamp.IsZero() {
		at := m.Timestamp
		msg.Timestamp = &at
	}
	return s.storeInbound(ctx, tx, ch, contact, msg, needsWork, res)
}
