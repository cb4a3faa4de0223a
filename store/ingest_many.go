package store

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

// IngestInboundMany stores several webhooks' batches together (group commit), each with the
// guarantees of IngestInbound, and returns one result per item. The common case — a message from a
// known contact whose conversation on the channel is open — is stored with a few statements for the
// whole set (the contacts locked in one read, and per channel one duplicate check and one read of the
// open conversations, locked; then one insert each for the messages, jobs and events and one update
// for all the conversations); the rest (new contacts and conversations, reopens, survey answers,
// reactions, deletions, number changes, statuses, template and account news) takes the per-item
// path. On SQLite all of it is one transaction; on PostgreSQL the common path is its own transaction
// of two pipelined round trips, which also applies the statuses and reactions to messages it finds
// (ingest_updates.go), and the rest a second one (see ingestManyPostgres). On an error the
// caller may store the items one by one: what was committed is found again as duplicates.
func (s *Store) IngestInboundMany(ctx context.Context, items []switchboard.ChannelInbound) ([]*switchboard.IngestResult, error) {
	if s.dialect == "postgres" {
		return s.ingestManyPostgres(ctx, items)
	}
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
			if err := s.ingestRest(ctx, tx, it.Channel, it.Batch, rest[i], it.Batch.Statuses, results[i]); err != nil {
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
// order they came), then its statuses left, template changes and channel events.
func (s *Store) ingestRest(ctx context.Context, tx *gorm.DB, ch *switchboard.Channel, b *switchboard.InboundBatch, msgs []switchboard.InboundMessage,
	statuses []switchboard.StatusUpdate, res *switchboard.IngestResult) error {
	for _, g := range groupByContact(msgs) {
		if err := s.ingestContact(ctx, tx, ch, g, b.NeedsWork, res); err != nil {
			return err
		}
	}
	for i := range statuses {
		if err := s.applyStatus(ctx, tx, ch.ID, &statuses[i], res); err != nil {
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

// commonBatch is the common path of a group: what it reads, then what it writes.
type commonBatch struct {
	items   []switchboard.ChannelInbound
	results []*switchboard.IngestResult
	// rest holds, per item, the messages left for the per-item path.
	rest       [][]switchboard.InboundMessage
	candidates []commonMessage
	waIDs      []string // the candidates' contacts, sorted
	// contactWaIDs are the contacts the common path locks: the candidates' and the reactions' senders, sorted.
	contactWaIDs []string
	wamids       map[int64][]string // channel → the candidates' wamids
	channels     []int64            // sorted

	// updates are the group's statuses and reactions (on PostgreSQL; see messageUpdate), with the
	// wamids they change per channel (sorted, each once); restStatuses holds, per item, the statuses
	// left for the per-item path.
	updates      []messageUpdate
	updateWamids map[int64][]string
	updateChans  []int64 // sorted
	restStatuses [][]switchboard.StatusUpdate

	// Read, under the contacts', conversations' and updated messages' locks.
	contacts map[string]*contactRow       // by wa_id
	stored   map[string]bool              // "channel|wamid" already stored
	open     map[convKey]*conversationRow // each contact's open (or pending) conversation per channel
	locked   map[string]*messageRow       // "channel|wamid" → a message the updates change

	// Planned.
	now     time.Time
	out     []*commonStored
	rows    []*messageRow
	names   map[int64]string // contact id → new profile name
	changes []*conversationChange
	jobs    []*switchboard.Job
	dirty   []*messageRow // messages the updates changed
	events  []pendingEvent
	owners  []int // the item of each event
}

// commonStored is a message the common path stores.
type commonStored struct {
	item    int
	ch      *switchboard.Channel
	contact *contactRow
	conv    *conversationRow
	msg     switchboard.Message
}

// newCommonBatch sorts a group's messages: the candidates for the common path, and the rest. With
// updates, the reactions and statuses are candidates too (PostgreSQL's pipelined path), applied in
// the per-item path's order: an item's messages, then its statuses.
func newCommonBatch(items []switchboard.ChannelInbound, results []*switchboard.IngestResult, now time.Time, updates bool) *commonBatch {
	b := &commonBatch{items: items, results: results, rest: make([][]switchboard.InboundMessage, len(items)),
		restStatuses: make([][]switchboard.StatusUpdate, len(items)), wamids: map[int64][]string{}, updateWamids: map[int64][]string{},
		now: now, names: map[int64]string{}}
	seen, seenUpdate, reactors := map[string]bool{}, map[string]bool{}, map[string]bool{}
	addUpdate := func(u messageUpdate) {
		b.updates = append(b.updates, u)
		ch, wamid := u.ch.ID, u.wamid()
		if key := storedKey(ch, wamid); !seenUpdate[key] {
			seenUpdate[key] = true
			if b.updateWamids[ch] == nil {
				b.updateChans = append(b.updateChans, ch)
			}
			b.updateWamids[ch] = append(b.updateWamids[ch], wamid)
		}
	}
	for i, it := range items {
		for j := range it.Batch.Messages {
			m := &it.Batch.Messages[j]
			if updates && m.Reaction != nil && m.Reaction.TargetExternalID != "" && m.WaID != "" && m.NumberChange == nil {
				addUpdate(messageUpdate{item: i, ch: it.Channel, reaction: m})
				reactors[m.WaID] = true
				continue
			}
			if m.Message == nil || m.Reaction != nil || m.NumberChange != nil || m.RevokedID != "" || m.WaID == "" ||
				m.Message.ExternalID == "" || m.Message.Type == switchboard.TypeActivity {
				b.rest[i] = append(b.rest[i], *m)
				continue
			}
			b.candidates = append(b.candidates, commonMessage{item: i, ch: it.Channel, in: m})
			if !seen[m.WaID] {
				seen[m.WaID] = true
				b.waIDs = append(b.waIDs, m.WaID)
			}
			if b.wamids[it.Channel.ID] == nil {
				b.channels = append(b.channels, it.Channel.ID)
			}
			b.wamids[it.Channel.ID] = append(b.wamids[it.Channel.ID], m.Message.ExternalID)
		}
		for j := range it.Batch.Statuses {
			st := &it.Batch.Statuses[j]
			if _, known := statusColumn[st.Status]; !updates || !known || st.ExternalID == "" {
				b.restStatuses[i] = append(b.restStatuses[i], *st)
				continue
			}
			addUpdate(messageUpdate{item: i, ch: it.Channel, status: st})
		}
	}
	sort.Strings(b.waIDs)
	b.contactWaIDs = b.waIDs
	if len(reactors) > 0 {
		b.contactWaIDs = append([]string(nil), b.waIDs...)
		for w := range reactors {
			if !seen[w] {
				b.contactWaIDs = append(b.contactWaIDs, w)
			}
		}
		sort.Strings(b.contactWaIDs)
	}
	sort.Slice(b.channels, func(i, j int) bool { return b.channels[i] < b.channels[j] })
	sort.Slice(b.updateChans, func(i, j int) bool { return b.updateChans[i] < b.updateChans[j] })
	for _, w := range b.updateWamids {
		sort.Strings(w) // one lock order for every group
	}
	return b
}

func storedKey(channelID int64, wamid string) string {
	return strconv.FormatInt(channelID, 10) + "|" + wamid
}

// read loads, through GORM, the contacts (locked in one read in id order: every path locks a contact
// before writing its messages, so the duplicate check cannot be raced), the wamids already stored,
// and each contact's open conversation on each channel (locked; there is at most one, and it is the
// latest).
func (b *commonBatch) read(tx *gorm.DB) error {
	var contacts []contactRow
	if err := tx.Clauses(forUpdate()).Where("wa_id IN ?", b.waIDs).Order("id").Find(&contacts).Error; err != nil {
		return err
	}
	b.contacts = make(map[string]*contactRow, len(contacts))
	ids := make([]int64, len(contacts))
	for i := range contacts {
		b.contacts[*contacts[i].WaID] = &contacts[i]
		ids[i] = contacts[i].ID
	}
	b.stored, b.open = map[string]bool{}, map[convKey]*conversationRow{}
	if len(ids) == 0 {
		return nil
	}
	for _, channelID := range b.channels {
		var found []string
		if err := tx.Model(&messageRow{}).Where("channel_id = ? AND external_id IN ?", channelID, b.wamids[channelID]).Pluck("external_id", &found).Error; err != nil {
			return err
		}
		for _, w := range found {
			b.stored[storedKey(channelID, w)] = true
		}
		var convs []conversationRow
		if err := tx.Clauses(forUpdate()).Where("channel_id = ? AND contact_id IN ? AND status <> ?", channelID, ids, switchboard.StatusResolved).
			Order("id").Find(&convs).Error; err != nil {
			return err
		}
		for i := range convs {
			b.open[convKey{channelID, convs[i].ContactID}] = &convs[i]
		}
	}
	return nil
}

// plan decides, from what was read, which candidates the common path stores (a known contact with an
// open conversation, a wamid not stored yet) and builds their rows; the others join the rest.
func (b *commonBatch) plan() {
	for _, c := range b.candidates {
		contact := b.contacts[c.in.WaID]
		var conv *conversationRow
		if contact != nil {
			conv = b.open[convKey{c.ch.ID, contact.ID}]
		}
		if conv == nil {
			// A new contact or conversation, a reopen or a survey answer: the per-item path.
			b.rest[c.item] = append(b.rest[c.item], *c.in)
			continue
		}
		key := storedKey(c.ch.ID, c.in.Message.ExternalID)
		if b.stored[key] {
			b.results[c.item].Duplicates++
			continue
		}
		b.stored[key] = true
		if c.in.ProfileName != "" && c.in.ProfileName != contact.Name {
			contact.Name, b.names[contact.ID] = c.in.ProfileName, c.in.ProfileName
		}
		at := b.now
		if t := c.in.Message.Timestamp; t != nil && !t.IsZero() {
			at = utc(*t)
		}
		msg := *c.in.Message
		msg.ConversationID, msg.ChannelID = conv.ID, c.ch.ID
		msg.Direction, msg.Sender, msg.Status = switchboard.Inbound, switchboard.SenderCustomer, switchboard.MsgReceived
		msg.CreatedAt, msg.Timestamp = b.now, &at
		row := messageToRow(&msg)
		row.ID = 0
		b.rows = append(b.rows, row)
		b.out = append(b.out, &commonStored{item: c.item, ch: c.ch, contact: contact, conv: conv, msg: msg})
	}
}

// follow builds, once the messages have their ids, each conversation as its messages leave it (in
// order), the jobs and the events.
func (b *commonBatch) follow() {
	changed := map[int64]*conversationChange{}
	for i, sm := range b.out {
		sm.msg.ID = b.rows[i].ID
		conv, at := sm.conv, *sm.msg.Timestamp
		lastInbound := at
		if conv.LastInboundAt != nil && conv.LastInboundAt.After(at) {
			lastInbound = *conv.LastInboundAt // an older message delivered late does not shorten the window
		}
		conv.LastInboundAt, conv.UnreadCount, conv.UpdatedAt = &lastInbound, conv.UnreadCount+1, b.now
		u := changed[conv.ID]
		if u == nil {
			u = &conversationChange{id: conv.ID}
			changed[conv.ID] = u
			b.changes = append(b.changes, u)
		}
		u.lastInbound, u.unread = lastInbound, conv.UnreadCount
		if conv.LastMessageAt == nil || !at.Before(*conv.LastMessageAt) {
			conv.LastMessageAt, conv.LastMessagePreview = &at, preview(&sm.msg)
			u.lastMessageAt, u.preview = &at, &conv.LastMessagePreview
		}
		view := conv.toDomain()
		view.Contact = sm.contact.toDomain()
		b.jobs = append(b.jobs, messageJobs(b.items[sm.item].Batch.NeedsWork, switchboard.InboundWork{Channel: sm.ch, Conversation: view,
			Message: &sm.msg, Job: switchboard.InboundJob{ConversationID: conv.ID, MessageID: sm.msg.ID}, AwaySentFor: conv.AwaySentFor})...)
		msg := sm.msg
		b.events = append(b.events, pendingEvent{switchboard.EventConversationUpdated, sm.ch.ID, conv.ID, view},
			pendingEvent{switchboard.EventMessageCreated, sm.ch.ID, conv.ID, &msg})
		b.owners = append(b.owners, sm.item, sm.item)
		b.results[sm.item].Messages++
	}
}

// recorded hands the recorded events to their items' results.
func (b *commonBatch) recorded(evs []switchboard.Event) {
	for i, ev := range evs {
		b.results[b.owners[i]].Events = append(b.results[b.owners[i]].Events, ev)
	}
}

// ingestCommon stores the items' common-case messages through GORM (SQLite; PostgreSQL pipelines the
// same plan, see commonPipelined) and returns, per item, the messages left for the per-item path.
func (s *Store) ingestCommon(ctx context.Context, tx *gorm.DB, items []switchboard.ChannelInbound, results []*switchboard.IngestResult) ([][]switchboard.InboundMessage, error) {
	b := newCommonBatch(items, results, s.now(), false)
	if len(b.candidates) == 0 {
		return b.rest, nil
	}
	if err := b.read(tx); err != nil {
		return nil, err
	}
	b.plan()
	if len(b.rows) == 0 {
		return b.rest, nil
	}
	for id, name := range b.names {
		if err := tx.Model(&contactRow{}).Where("id = ?", id).Updates(map[string]any{"name": name, "updated_at": b.now}).Error; err != nil {
			return nil, err
		}
	}
	ins := tx.Create(&b.rows)
	if ins.Error != nil {
		return nil, ins.Error
	}
	if ins.RowsAffected != int64(len(b.rows)) {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Messages were stored concurrently; try again.")
	}
	b.follow()
	if err := updateConversations(tx, b.changes, b.now); err != nil {
		return nil, err
	}
	if err := s.enqueueJobs(ctx, tx, b.jobs); err != nil {
		return nil, err
	}
	evs, err := s.recordEvents(ctx, tx, b.events...)
	if err != nil {
		return nil, err
	}
	b.recorded(evs)
	return b.rest, nil
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

// updateConversations writes the changes with one statement, an update joined to a VALUES list
// (SQLite's common path; PostgreSQL's is pgUpdateConversations, pipelined).
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
		b.WriteString("(?, ?, ?, ?, ?)")
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
