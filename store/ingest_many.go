package store

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

// IngestInboundMany stores several webhooks' batches in one transaction (group commit), each with
// the guarantees of IngestInbound, and returns one result per item. The common case — a message from
// a known contact whose conversation on the channel is open — is stored with a few statements for
// the whole set (the contacts locked in one read, one duplicate check and one conversation read per
// channel, one insert each for the messages, jobs and events, one update per conversation); the rest
// (new contacts and conversations, reopens, survey answers, reactions, deletions, number changes,
// statuses, template and account news) takes the per-item path, in the same transaction. If the
// transaction fails, nothing of it is stored: the caller may store the items one by one.
func (s *Store) IngestInboundMany(ctx context.Context, items []switchboard.ChannelInbound) ([]*switchboard.IngestResult, error) {
	var results []*switchboard.IngestResult
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		results = make([]*switchboard.IngestResult, len(items))
		for i := range results {
			results[i] = &switchboard.IngestResult{}
		}
		rest, err := s.ingestCommon(ctx, tx, items, results)
		if err != nil {
			return err
		}
		for i, it := range items {
			if err := s.ingestRest(ctx, tx, it.Channel, it.Batch, rest[i], results[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// ingestRest stores what the common path left of one item: its other messages (by contact, in the
// order they came), then statuses, template changes and channel events.
func (s *Store) ingestRest(ctx context.Context, tx *gorm.DB, ch *switchboard.Channel, b *switchboard.InboundBatch, msgs []switchboard.InboundMessage, res *switchboard.IngestResult) error {
	for _, g := range groupByContact(msgs) {
		if err := s.ingestContact(ctx, tx, ch, g, b.NeedsWork, res); err != nil {
			return err
		}
	}
	for i := range b.Statuses {
		if err := s.applyStatus(ctx, tx, ch.ID, &b.Statuses[i], res); err != nil {
			return err
		}
	}
	for i := range b.Templates {
		if err := s.applyTemplateChange(ctx, tx, ch.ID, &b.Templates[i]); err != nil {
			return err
		}
	}
	for _, e := range b.Events {
		row := channelEventRow{ChannelID: ch.ID, Field: e.Field, Payload: string(e.Payload), CreatedAt: s.now()}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
	}
	return nil
}

// commonMessage is a customer message on the common path.
type commonMessage struct {
	item int
	ch   *switchboard.Channel
	in   *switchboard.InboundMessage
}

// convKey names a contact's conversation on a channel.
type convKey struct{ channelID, contactID int64 }

// ingestCommon stores the items' common-case messages and returns, per item, the messages left for
// the per-item path.
func (s *Store) ingestCommon(ctx context.Context, tx *gorm.DB, items []switchboard.ChannelInbound, results []*switchboard.IngestResult) ([][]switchboard.InboundMessage, error) {
	rest := make([][]switchboard.InboundMessage, len(items))
	var candidates []commonMessage
	waIDs := map[string]bool{}
	for i, it := range items {
		for j := range it.Batch.Messages {
			m := &it.Batch.Messages[j]
			if m.Message == nil || m.Reaction != nil || m.NumberChange != nil || m.RevokedID != "" || m.WaID == "" ||
				m.Message.ExternalID == "" || m.Message.Type == switchboard.TypeActivity {
				rest[i] = append(rest[i], *m)
				continue
			}
			candidates = append(candidates, commonMessage{item: i, ch: it.Channel, in: m})
			waIDs[m.WaID] = true
		}
	}
	if len(candidates) == 0 {
		return rest, nil
	}
	// The contacts, locked in one read in id order (every path locks a contact before writing its
	// messages, so the duplicate check below cannot be raced).
	ids := make([]string, 0, len(waIDs))
	for id := range waIDs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var contacts []contactRow
	if err := tx.Clauses(forUpdate()).Where("wa_id IN ?", ids).Order("id").Find(&contacts).Error; err != nil {
		return nil, err
	}
	byWaID := make(map[string]*contactRow, len(contacts))
	for i := range contacts {
		byWaID[*contacts[i].WaID] = &contacts[i]
	}
	// Per channel: the wamids already stored, and each contact's latest conversation, locked.
	type channelSet struct {
		wamids   []string
		contacts []int64
	}
	sets := map[int64]*channelSet{}
	for _, c := range candidates {
		contact := byWaID[c.in.WaID]
		if contact == nil {
			continue
		}
		set := sets[c.ch.ID]
		if set == nil {
			set = &channelSet{}
			sets[c.ch.ID] = set
		}
		set.wamids = append(set.wamids, c.in.Message.ExternalID)
		set.contacts = append(set.contacts, contact.ID)
	}
	stored := map[string]bool{} // "channel|wamid"
	latest := map[convKey]*conversationRow{}
	for channelID, set := range sets {
		var found []string
		if err := tx.Model(&messageRow{}).Where("channel_id = ? AND external_id IN ?", channelID, set.wamids).Pluck("external_id", &found).Error; err != nil {
			return nil, err
		}
		for _, w := range found {
			stored[strconv.FormatInt(channelID, 10)+"|"+w] = true
		}
		var convs []conversationRow
		if err := tx.Clauses(forUpdate()).Where("id IN (?)", tx.Model(&conversationRow{}).Select("MAX(id)").
			Where("channel_id = ? AND contact_id IN ?", channelID, set.contacts).Group("contact_id")).Order("id").Find(&convs).Error; err != nil {
			return nil, err
		}
		for i := range convs {
			latest[convKey{channelID, convs[i].ContactID}] = &convs[i]
		}
	}

	now := s.now()
	type storedMessage struct {
		item    int
		ch      *switchboard.Channel
		contact *contactRow
		conv    *conversationRow
		msg     switchboard.Message
	}
	var out []*storedMessage
	var rows []*messageRow
	names := map[int64]string{} // contact id → new profile name
	for _, c := range candidates {
		contact := byWaID[c.in.WaID]
		var conv *conversationRow
		if contact != nil {
			conv = latest[convKey{c.ch.ID, contact.ID}]
		}
		if conv == nil || conv.Status == switchboard.StatusResolved {
			// A new contact or conversation, a reopen or a survey answer: the per-item path.
			rest[c.item] = append(rest[c.item], *c.in)
			continue
		}
		key := strconv.FormatInt(c.ch.ID, 10) + "|" + c.in.Message.ExternalID
		if stored[key] {
			results[c.item].Duplicates++
			continue
		}
		stored[key] = true
		if c.in.ProfileName != "" && c.in.ProfileName != contact.Name {
			contact.Name, names[contact.ID] = c.in.ProfileName, c.in.ProfileName
		}
		at := now
		if t := c.in.Message.Timestamp; t != nil && !t.IsZero() {
			at = utc(*t)
		}
		msg := *c.in.Message
		msg.ConversationID, msg.ChannelID = conv.ID, c.ch.ID
		msg.Direction, msg.Sender, msg.Status = switchboard.Inbound, switchboard.SenderCustomer, switchboard.MsgReceived
		msg.CreatedAt, msg.Timestamp = now, &at
		row := messageToRow(&msg)
		row.ID = 0
		rows = append(rows, row)
		out = append(out, &storedMessage{item: c.item, ch: c.ch, contact: contact, conv: conv, msg: msg})
	}
	if len(rows) == 0 {
		return rest, nil
	}
	for id, name := range names {
		if err := tx.Model(&contactRow{}).Where("id = ?", id).Updates(map[string]any{"name": name, "updated_at": now}).Error; err != nil {
			return nil, err
		}
	}
	ins := tx.Create(&rows)
	if ins.Error != nil {
		return nil, ins.Error
	}
	if ins.RowsAffected != int64(len(rows)) {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Messages were stored concurrently; try again.")
	}

	// Each conversation as its messages leave it, in order; one update per conversation.
	var jobs []*switchboard.Job
	var pending []pendingEvent
	var owners []int // the item of each pending event
	changed := map[int64]*conversationChange{}
	var order []int64
	for i, sm := range out {
		sm.msg.ID = rows[i].ID
		conv, at := sm.conv, *sm.msg.Timestamp
		lastInbound := at
		if conv.LastInboundAt != nil && conv.LastInboundAt.After(at) {
			lastInbound = *conv.LastInboundAt // an older message delivered late does not shorten the window
		}
		conv.LastInboundAt, conv.UnreadCount, conv.UpdatedAt = &lastInbound, conv.UnreadCount+1, now
		u := changed[conv.ID]
		if u == nil {
			u = &conversationChange{id: conv.ID}
			changed[conv.ID] = u
			order = append(order, conv.ID)
		}
		u.lastInbound, u.unread = lastInbound, conv.UnreadCount
		if conv.LastMessageAt == nil || !at.Before(*conv.LastMessageAt) {
			conv.LastMessageAt, conv.LastMessagePreview = &at, preview(&sm.msg)
			u.lastMessageAt, u.preview = &at, &conv.LastMessagePreview
		}
		view := conv.toDomain()
		view.Contact = sm.contact.toDomain()
		ij := switchboard.InboundJob{ConversationID: conv.ID, MessageID: sm.msg.ID}
		needs := items[sm.item].Batch.NeedsWork
		if needs == nil || needs(switchboard.InboundWork{Channel: sm.ch, Conversation: view, Message: &sm.msg, Job: ij, AwaySentFor: conv.AwaySentFor}) {
			payload, _ := json.Marshal(ij)
			jobs = append(jobs, &switchboard.Job{Kind: switchboard.InboundJobKind, Key: switchboard.ConversationJobKey(conv.ID), Payload: payload})
		}
		if sm.msg.Media != nil && sm.msg.Media.Status == switchboard.MediaPending {
			payload, _ := json.Marshal(switchboard.MediaJob{MessageID: sm.msg.ID})
			jobs = append(jobs, &switchboard.Job{Kind: switchboard.MediaJobKind, Key: "media:" + strconv.FormatInt(sm.msg.ID, 10), Payload: payload})
		}
		msg := sm.msg
		pending = append(pending, pendingEvent{switchboard.EventConversationUpdated, sm.ch.ID, conv.ID, view},
			pendingEvent{switchboard.EventMessageCreated, sm.ch.ID, conv.ID, &msg})
		owners = append(owners, sm.item, sm.item)
		results[sm.item].Messages++
	}
	changes := make([]*conversationChange, len(order))
	for i, id := range order {
		changes[i] = changed[id]
	}
	if err := updateConversations(tx, changes, now); err != nil {
		return nil, err
	}
	if err := s.enqueueJobs(ctx, tx, jobs); err != nil {
		return nil, err
	}
	evs, err := s.recordEvents(ctx, tx, pending...)
	if err != nil {
		return nil, err
	}
	for i, ev := range evs {
		results[owners[i]].Events = append(results[owners[i]].Events, ev)
	}
	return rest, nil
}

// conversationChange is what new messages changed in a conversation.
type conversationChange struct {
	id          int64
	lastInbound time.Time
	unread      int
	// lastMessageAt and preview are nil when no new message is the latest one.
	lastMessageAt *time.Time
	preview       *string
}

// updateConversations writes the changes with one statement (an update joined to a VALUES list; the
// casts type the parameters for PostgreSQL and are harmless on SQLite).
func updateConversations(tx *gorm.DB, changes []*conversationChange, now time.Time) error {
	if len(changes) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, 0, len(changes)*5+1)
	b.WriteString(`UPDATE conversations SET last_inbound_at = v.column2, unread_count = v.column3,
  last_message_at = COALESCE(v.column4, conversations.last_message_at),
  last_message_preview = COALESCE(v.column5, conversations.last_message_preview), updated_at = ?
FROM (VALUES `)
	args = append(args, now)
	for i, c := range changes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(CAST(? AS bigint), CAST(? AS timestamptz), CAST(? AS integer), CAST(? AS timestamptz), CAST(? AS text))")
		args = append(args, c.id, c.lastInbound, c.unread, c.lastMessageAt, c.preview)
	}
	b.WriteString(") AS v WHERE conversations.id = v.column1")
	res := tx.Exec(b.String(), args...)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != int64(len(changes)) {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "A conversation changed while its messages were stored; try again.")
	}
	return nil
}

// enqueueJobs stores several jobs with one insert inside the caller's transaction.
func (s *Store) enqueueJobs(ctx context.Context, tx *gorm.DB, jobs []*switchboard.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	if len(jobs) == 1 {
		return s.enqueueJob(ctx, tx, jobs[0])
	}
	now := s.now()
	rows := make([]jobRow, len(jobs))
	for i, j := range jobs {
		if j.MaxAttempts == 0 {
			j.MaxAttempts = switchboard.DefaultMaxAttempts
		}
		if j.RunAt.IsZero() {
			j.RunAt = now
		}
		if err := j.Validate(); err != nil {
			return err
		}
		rows[i] = jobRow{Kind: j.Kind, Key: j.Key, Payload: string(j.Payload), State: switchboard.JobQueued, RunAt: utc(j.RunAt),
			MaxAttempts: j.MaxAttempts, CreatedAt: now, UpdatedAt: now}
	}
	if err := tx.Create(&rows).Error; err != nil {
		return err
	}
	for i := range rows {
		*jobs[i] = *rows[i].toDomain()
	}
	if st, ok := ctx.Value(txStateKey{}).(*txState); ok {
		st.enqueued = true
	}
	return nil
}
