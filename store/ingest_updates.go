package store

import (
	"time"

	"switchboard"
)

// On PostgreSQL the statuses of a group (Meta's sent, delivered, read... for the business's
// messages) and the customers' reactions ride in the common path's transaction: the messages they
// change are locked in its first round trip (after the contacts and conversations, the order every
// path locks in), changed in memory in the order they came, and written with one update in the
// second. A status or reaction whose message the read does not find — not stored yet (the status
// is parked), or stored by this very group — and a reaction from a contact not known yet take the
// per-item path, after the common path has committed.

// messageUpdate is a status or a reaction of a group.
type messageUpdate struct {
	item     int
	ch       *switchboard.Channel
	status   *switchboard.StatusUpdate
	reaction *switchboard.InboundMessage
}

func (u *messageUpdate) wamid() string {
	if u.status != nil {
		return u.status.ExternalID
	}
	return u.reaction.Reaction.TargetExternalID
}

const (
	// pgLockMessages locks the channel's messages with these wamids, each found by itself on the
	// unique (channel_id, external_id) index (see pgStoredWamids), in the order of the sorted array.
	pgLockMessages = `SELECT m.* FROM unnest($2::text[]) AS w(wamid)
CROSS JOIN LATERAL (SELECT ` + pgMessageColumns + ` FROM messages WHERE channel_id = $1 AND external_id = w.wamid LIMIT 1 FOR UPDATE) m`
	// pgUpdateMessages writes what statuses and reactions change, whole: the rows are locked.
	pgUpdateMessages = `UPDATE messages SET status = v.status, status_rank = v.status_rank, sent_at = v.sent_at, delivered_at = v.delivered_at,
  read_at = v.read_at, played_at = v.played_at, failed_at = v.failed_at, error_code = v.error_code, error_title = v.error_title,
  error_details = v.error_details, reactions = v.reactions
FROM unnest($1::bigint[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[],
  $8::timestamptz[], $9::int[], $10::text[], $11::text[], $12::text[])
  AS v(id, status, status_rank, sent_at, delivered_at, read_at, played_at, failed_at, error_code, error_title, error_details, reactions)
WHERE messages.id = v.id`
)

// planUpdates applies the group's statuses and reactions to the messages read (locked), in the order
// they came, with a message.updated event for each change; what it cannot apply joins the rest.
func (b *commonBatch) planUpdates() {
	dirty := map[int64]bool{}
	for i := range b.updates {
		u := &b.updates[i]
		row := b.locked[storedKey(u.ch.ID, u.wamid())]
		var contact *contactRow
		if u.reaction != nil {
			contact = b.contacts[u.reaction.WaID]
		}
		if row == nil || u.reaction != nil && contact == nil {
			if u.status != nil {
				b.restStatuses[u.item] = append(b.restStatuses[u.item], *u.status)
			} else {
				b.rest[u.item] = append(b.rest[u.item], *u.reaction)
			}
			continue
		}
		if u.status != nil {
			if len(statusChange(row, u.status, b.now)) == 0 {
				continue
			}
			b.results[u.item].Statuses++
		} else {
			if name := u.reaction.ProfileName; name != "" && name != contact.Name {
				contact.Name, b.names[contact.ID] = name, name
			}
			row.Reactions = withCustomerReaction(row.Reactions, u.reaction.Reaction, u.reaction.Timestamp, b.now)
		}
		if !dirty[row.ID] {
			dirty[row.ID] = true
			b.dirty = append(b.dirty, row)
		}
		b.events = append(b.events, pendingEvent{switchboard.EventMessageUpdated, row.ChannelID, row.ConversationID, row.toDomain()})
		b.owners = append(b.owners, u.item)
	}
}

// updatedMessageColumns turns the changed messages into pgUpdateMessages' arguments.
func updatedMessageColumns(rows []*messageRow) []any {
	n := len(rows)
	ids, statuses, ranks := make([]int64, n), make([]string, n), make([]int32, n)
	sent, delivered, read, played, failed := make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	codes, titles, details, reactions := make([]*int32, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range rows {
		ids[i], statuses[i], ranks[i] = r.ID, r.Status, int32(r.StatusRank)
		sent[i], delivered[i], read[i], played[i], failed[i] = r.SentAt, r.DeliveredAt, r.ReadAt, r.PlayedAt, r.FailedAt
		titles[i], details[i], reactions[i] = r.ErrorTitle, r.ErrorDetails, r.Reactions
		if r.ErrorCode != nil {
			code := int32(*r.ErrorCode)
			codes[i] = &code
		}
	}
	return []any{ids, statuses, ranks, sent, delivered, read, played, failed, codes, titles, details, reactions}
}
