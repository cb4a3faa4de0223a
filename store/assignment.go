package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"switchboard"
)

// Every claim locks the conversation row first (as every writer of a conversation does), then, for a
// human, their channel_members row, and only then counts their open conversations on the channel:
// claims for one agent are serialised by that lock (PostgreSQL) or by BEGIN IMMEDIATE (SQLite), so the
// count includes every claim committed before. No agent ends above capacity, and the expected owner
// is checked under the conversation's lock, so no conversation is assigned twice. A round-robin claim
// then moves the channel's rotation pointer with a conditional update in the same transaction (the
// channel row's lock orders such claims), so the rotation advances exactly once per assignment,
// whichever process decided it.

// openHuman selects the conversations that count towards an agent's load. Its values are literals so
// PostgreSQL matches the partial index conversations_load_idx whatever the plan.
const openHuman = `assignee_kind = 'human' AND status <> 'resolved'`

// assignedEvent is the data of a conversation.assigned event: the conversation as agents see it,
// and why it was assigned.
type assignedEvent struct {
	*switchboard.Conversation
	Reason   string                `json:"assignment_reason"`
	RuleID   int64                 `json:"rule_id,omitempty"`
	RuleName string                `json:"rule_name,omitempty"`
	Previous *switchboard.Assignee `json:"previous_assignee"`
	ByID     int64                 `json:"assigned_by,omitempty"`
}

func (e assignedEvent) with(c *switchboard.Conversation) any {
	e.Conversation = c
	return e
}

// AssignConversation gives a conversation to `to` (a human agent or an AI agent) for the router,
// provided it is still held by `from` (nil: unassigned) and not resolved. For a human it checks, at
// commit time and under a lock, that they are an enabled member of the channel with fewer open
// conversations there than their capacity, and, when seenOpen >= 0 (the load strategy), that they
// hold no more than the seenOpen the decision counted. When rrFrom >= 0 (the round-robin strategy)
// the channel's rotation must still point at rrFrom, the agent it pointed at when the router decided
// (0: nobody yet), and moves to `to` in the same transaction, so the rotation advances exactly when
// an agent is given a conversation, whichever process decided; switchboard.RotationUnchecked moves it
// whatever it points at, and -1 leaves it alone. Any of
// these failing is ECONFLICT: the router decides again on fresh data. The conversation leaves its
// queue; a team rule records its team. The activity line (who and why: reason and rule) and the
// events are written in the same transaction; the events are returned for publishing.
func (s *Store) AssignConversation(ctx context.Context, conversationID int64, from *switchboard.Assignee, to switchboard.Assignee, reason string, rule *switchboard.RoutingRule, seenOpen int, rrFrom int64) ([]switchboard.Event, error) {
	if (to.Kind != switchboard.AssigneeHuman && to.Kind != switchboard.AssigneeAI) || to.ID <= 0 {
		return nil, switchboard.Errorf(switchboard.EINVALID, "An assignee is a human or an AI agent with an id.")
	}
	var events []switchboard.Event
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		events = nil
		conv, err := lockConversation(tx, conversationID)
		if err != nil {
			return err
		}
		if conv.Status == switchboard.StatusResolved {
			return switchboard.Errorf(switchboard.ECONFLICT, "The conversation is resolved.")
		}
		if !heldBy(conv, from) {
			return switchboard.Errorf(switchboard.ECONFLICT, "The conversation was assigned meanwhile.")
		}
		if err := s.assignTx(ctx, tx, conv, &to, seenOpen); err != nil {
			return err
		}
		if (rrFrom >= 0 || rrFrom == switchboard.RotationUnchecked) && to.Kind == switchboard.AssigneeHuman {
			if err := advanceRotation(tx, conv.ChannelID, rrFrom, to.ID); err != nil {
				return err
			}
		}
		if rule != nil {
			// The conversation belongs to the team a rule sent it to (and to none after another rule).
			var team *int64
			if rule.Target.Kind == switchboard.TargetTeam {
				team = &rule.Target.ID
			}
			if err := tx.Model(&conversationRow{}).Where("id = ?", conv.ID).Update("team_id", team).Error; err != nil {
				return err
			}
		}
		text := "Assigned to " + describe(to) + why(reason, rule) + "."
		if reason == "reopen" {
			text = "Reopened: it stays with " + describe(to) + "."
		}
		data := assignedEvent{Reason: reason, Previous: s.named(tx, from)}
		if rule != nil {
			data.RuleID, data.RuleName = rule.ID, rule.Name
		}
		events, err = s.logChange(ctx, tx, conv.ID, to.Name, text, switchboard.EventConversationAssigned, data.with)
		return err
	})
	return events, err
}

// AssignManually is an admin assigning or transferring a conversation to a human agent, or an agent
// taking an unassigned conversation of their channel (by is who acts). The agent must be a member of
// the conversation's channel (EINVALID on agent_id otherwise) with room under their capacity
// (ECONFLICT otherwise); an agent who is not an admin may only assign an unassigned conversation to
// themselves (EFORBIDDEN, or ECONFLICT when someone took it first). Assigning it to its current
// assignee changes nothing. It returns the conversation afterwards and the events to publish.
func (s *Store) AssignManually(ctx context.Context, conversationID, agentID int64, by *switchboard.Agent) (*switchboard.Conversation, []switchboard.Event, error) {
	var events []switchboard.Event
	var out *switchboard.Conversation
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		events = nil
		conv, err := lockConversation(tx, conversationID)
		if err != nil {
			return err
		}
		if by.Role != switchboard.RoleAdmin && agentID != by.ID {
			return switchboard.Errorf(switchboard.EFORBIDDEN, "Only admins assign conversations to others.")
		}
		var agent agentRow
		if err := tx.Where("id = ? AND disabled = ? AND id IN (SELECT agent_id FROM channel_members WHERE channel_id = ?)",
			agentID, false, conv.ChannelID).Take(&agent).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return switchboard.FieldError("agent_id", "Choose an active member of this conversation's channel.")
		} else if err != nil {
			return err
		}
		from := assigneeOf(conv)
		switch {
		case from != nil && from.Kind == switchboard.AssigneeHuman && from.ID == agentID:
			out, err = s.conversationTx(tx, conv.ID, agent.Name)
			return err
		case by.Role != switchboard.RoleAdmin && from != nil:
			return switchboard.Errorf(switchboard.ECONFLICT, "Someone else already has this conversation.")
		}
		to := switchboard.Assignee{Kind: switchboard.AssigneeHuman, ID: agentID, Name: agent.Name}
		if err := s.assignTx(ctx, tx, conv, &to, -1); err != nil {
			return err
		}
		text := by.Name + " assigned the conversation to " + describe(to) + "."
		switch {
		case by.ID == agentID && from == nil:
			text = describe(to) + " took the conversation."
		case from != nil:
			from = s.named(tx, from)
			text = by.Name + " transferred the conversation from " + describe(*from) + " to " + describe(to) + "."
		}
		data := assignedEvent{Reason: "manual", Previous: s.named(tx, from), ByID: by.ID}
		events, err = s.logChange(ctx, tx, conv.ID, to.Name, text, switchboard.EventConversationAssigned, data.with)
		if err != nil {
			return err
		}
		out, err = s.conversationTx(tx, conv.ID, agent.Name)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return out, events, nil
}

// assignTx sets the conversation's new owner and, for a human, checks membership and capacity under
// the membership's lock and records when they were last assigned. to.Name is filled in.
func (s *Store) assignTx(ctx context.Context, tx *gorm.DB, conv *conversationRow, to *switchboard.Assignee, seenOpen int) error {
	now := s.now()
	updates := map[string]any{"assignee_kind": to.Kind, "assignee_id": to.ID, "assigned_at": now, "waiting_since": nil,
		"queue_agent_id": nil, "updated_at": now}
	if to.Kind == switchboard.AssigneeAI {
		updates["ai_handed_off"] = false // assigned (back) to an AI agent: it answers again
	}
	if err := tx.Model(&conversationRow{}).Where("id = ?", conv.ID).Updates(updates).Error; err != nil {
		return err
	}
	if to.Kind != switchboard.AssigneeHuman {
		return nil
	}
	// The membership's lock serialises claims for this agent on this channel (the agent's row is
	// locked too: it is updated below); open_count, kept by a trigger, already includes this
	// conversation.
	var m []struct {
		Capacity  int
		OpenCount int
		Name      string
		Disabled  bool
	}
	lock := ""
	if s.dialect == "postgres" {
		lock = " FOR UPDATE"
	}
	if err := tx.Raw(`SELECT m.capacity, m.open_count, a.name, a.disabled FROM channel_members m JOIN agents a ON a.id = m.agent_id
WHERE m.channel_id = ? AND m.agent_id = ?`+lock, conv.ChannelID, to.ID).Scan(&m).Error; err != nil {
		return err
	}
	if len(m) == 0 {
		return switchboard.Errorf(switchboard.ECONFLICT, "The agent is not a member of this channel.")
	}
	if m[0].Disabled {
		return switchboard.Errorf(switchboard.ECONFLICT, "%s is disabled.", m[0].Name)
	}
	to.Name = m[0].Name
	// Capacity is checked against a real count (this conversation included), not the counter.
	var open int64
	if err := tx.Raw(`SELECT COUNT(*) FROM conversations WHERE channel_id = ? AND assignee_id = ? AND `+openHuman,
		conv.ChannelID, to.ID).Scan(&open).Error; err != nil {
		return err
	}
	if open > int64(m[0].Capacity) {
		return switchboard.Errorf(switchboard.ECONFLICT, "%s already has %d open conversations on this channel (capacity %d).", to.Name, open-1, m[0].Capacity)
	}
	// The load strategy chose this agent for holding seenOpen; if they were given more since, the
	// choice is stale.
	if seenOpen >= 0 && m[0].OpenCount-1 > seenOpen {
		return switchboard.Errorf(switchboard.ECONFLICT, "%s was given another conversation meanwhile.", to.Name)
	}
	return tx.Model(&agentRow{}).Where("id = ?", to.ID).Update("last_assigned_at", now).Error
}

// logChange writes an activity line and logs message.created, then the conversation event typ with
// the conversation as agents see it, wrapped by wrap when given.
func (s *Store) logChange(ctx context.Context, tx *gorm.DB, id int64, assigneeName, text, typ string, wrap func(*switchboard.Conversation) any) ([]switchboard.Event, error) {
	view, err := s.conversationTx(tx, id, assigneeName)
	if err != nil {
		return nil, err
	}
	msg, err := s.activityTx(ctx, tx, view.ChannelID, view.ID, text)
	if err != nil {
		return nil, err
	}
	var data any = view
	if wrap != nil {
		data = wrap(view)
	}
	ev, err := s.recordEvent(ctx, tx, typ, view.ChannelID, view.ID, data)
	if err != nil {
		return nil, err
	}
	return []switchboard.Event{msg, ev}, nil
}

// activityTx writes an activity line (sender system, never sent to the customer) and logs its
// message.created event.
func (s *Store) activityTx(ctx context.Context, tx *gorm.DB, channelID, conversationID int64, text string) (switchboard.Event, error) {
	_, ev, err := s.logActivityTx(ctx, tx, &conversationRow{ID: conversationID, ChannelID: channelID}, text, "")
	if err != nil {
		return switchboard.Event{}, err
	}
	return *ev, nil
}

// conversationTx reads a conversation with its contact inside the transaction (so it shows the
// transaction's own changes); assigneeName names a human or AI assignee.
func (s *Store) conversationTx(tx *gorm.DB, id int64, assigneeName string) (*switchboard.Conversation, error) {
	var row conversationRow
	if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, translateNotFound(err, "Conversation")
	}
	c := row.toDomain()
	var contact contactRow
	if err := tx.Where("id = ?", row.ContactID).Take(&contact).Error; err != nil {
		return nil, err
	}
	c.Contact = contact.toDomain()
	if c.Assignee != nil {
		if assigneeName == "" {
			names, err := assigneeNames(tx, []*switchboard.Conversation{c})
			if err != nil {
				return nil, err
			}
			assigneeName = names[*c.Assignee]
		}
		c.Assignee.Name = assigneeName
	}
	return c, nil
}

func lockConversation(tx *gorm.DB, id int64) (*conversationRow, error) {
	var conv conversationRow
	if err := tx.Clauses(forUpdate()).Where("id = ?", id).Take(&conv).Error; err != nil {
		return nil, translateNotFound(err, "Conversation")
	}
	return &conv, nil
}

// named returns the assignee with a human's name filled in (nil stays nil).
func (s *Store) named(tx *gorm.DB, a *switchboard.Assignee) *switchboard.Assignee {
	if a == nil || a.Name != "" || a.Kind != switchboard.AssigneeHuman {
		return a
	}
	cp := *a
	cp.Name = s.agentName(tx, a.ID)
	return &cp
}

func (s *Store) agentName(tx *gorm.DB, id int64) string {
	var a agentRow
	if tx.Select("id", "name").Where("id = ?", id).Take(&a).Error != nil {
		return "agent " + strconv.FormatInt(id, 10)
	}
	return a.Name
}

func assigneeOf(c *conversationRow) *switchboard.Assignee {
	if c.AssigneeKind == "" || c.AssigneeID == nil {
		return nil
	}
	return &switchboard.Assignee{Kind: c.AssigneeKind, ID: *c.AssigneeID}
}

// heldBy reports whether the conversation's owner is `from` (nil: nobody).
func heldBy(c *conversationRow, from *switchboard.Assignee) bool {
	cur := assigneeOf(c)
	return (cur == nil && from == nil) || (cur != nil && from != nil && cur.Kind == from.Kind && cur.ID == from.ID)
}

// describe names an assignee in an activity line.
func describe(a switchboard.Assignee) string {
	if a.Kind == switchboard.AssigneeAI {
		return strings.TrimSpace("the AI agent " + a.Name)
	}
	return a.Name
}

// reasons phrase the router's assignment reasons for the activity line.
var reasons = map[string]string{"ai": ", the channel's AI agent", "load": ", who had the fewest open conversations",
	"round_robin": ", next in the round-robin", "handoff": " after the AI agent handed the conversation to people",
	"queue": " from the queue", "manual": ""}

// why phrases an assignment reason (and the rule, for "rule") for the activity line.
func why(reason string, rule *switchboard.RoutingRule) string {
	if reason == "rule" && rule != nil {
		return " by the rule “" + rule.Name + "”"
	}
	if p, ok := reasons[reason]; ok {
		return p
	}
	return " (" + strings.ReplaceAll(reason, "_", " ") + ")"
}

// AssignmentPool returns what one assignment decision on a channel reads: its members with their
// agents, the open and pending conversations each holds on the channel (the trigger-kept counter),
// and the agent the round-robin rotation last served (0: none yet).
func (s *Store) AssignmentPool(ctx context.Context, channelID int64) (members []switchboard.ChannelMember, agents map[int64]*switchboard.Agent, open map[int64]int, rrLast int64, err error) {
	db := s.conn(ctx)
	rows, err := db.Raw(`SELECT m.agent_id, m.capacity, m.open_count, m.created_at, a.name, a.role, a.availability, a.disabled,
a.last_assigned_at FROM channel_members m JOIN agents a ON a.id = m.agent_id WHERE m.channel_id = ? ORDER BY m.agent_id`, channelID).Rows()
	if err != nil {
		return nil, nil, nil, 0, translate(err)
	}
	defer rows.Close()
	agents, open = map[int64]*switchboard.Agent{}, map[int64]int{}
	for rows.Next() {
		// Scanned by hand: a decision reads every member, and reflection would double the cost.
		var m switchboard.ChannelMember
		var a switchboard.Agent
		var n int
		var last sql.NullTime
		if err := rows.Scan(&m.AgentID, &m.Capacity, &n, &m.CreatedAt, &a.Name, &a.Role, &a.Availability, &a.Disabled, &last); err != nil {
			return nil, nil, nil, 0, translate(err)
		}
		m.ChannelID, m.CreatedAt, a.ID = channelID, m.CreatedAt.UTC(), m.AgentID
		if last.Valid {
			a.LastAssignedAt = utcPtr(&last.Time)
		}
		members = append(members, m)
		agents[a.ID], open[a.ID] = &a, n
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, 0, translate(err)
	}
	var ptr []sql.NullInt64
	if err := db.Model(&channelRow{}).Where("id = ?", channelID).Pluck("rr_last_agent_id", &ptr).Error; err != nil {
		return nil, nil, nil, 0, translate(err)
	}
	if len(ptr) == 1 {
		rrLast = ptr[0].Int64
	}
	return members, agents, open, rrLast, nil
}

// advanceRotation moves the channel's round-robin pointer from the agent the decision saw (0: none)
// to the agent it chose, inside the claim's transaction: ECONFLICT when another claim moved it first.
// The conditional update waits for a concurrent claim's row lock and re-reads the row it committed
// (PostgreSQL) or runs alone (SQLite's BEGIN IMMEDIATE).
func advanceRotation(tx *gorm.DB, channelID, from, to int64) error {
	if from == switchboard.RotationUnchecked {
		return tx.Exec(`UPDATE channels SET rr_last_agent_id = ? WHERE id = ?`, to, channelID).Error
	}
	res := tx.Exec(`UPDATE channels SET rr_last_agent_id = ? WHERE id = ? AND COALESCE(rr_last_agent_id, 0) = ?`, to, channelID, from)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return switchboard.Errorf(switchboard.ECONFLICT, "The round-robin rotation moved meanwhile.")
	}
	return nil
}

// HandOff takes a conversation from the AI agent that owns it: it becomes unassigned and is marked
// handed off, so the AI does not take it again unless it is assigned back. A conversation the AI
// does not own is left alone (no events). The router then runs the people step.
func (s *Store) HandOff(ctx context.Context, conversationID int64, reason string) ([]switchboard.Event, error) {
	var events []switchboard.Event
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		events = nil
		conv, err := lockConversation(tx, conversationID)
		if err != nil || conv.AssigneeKind != switchboard.AssigneeAI {
			return err
		}
		if err := tx.Model(&conversationRow{}).Where("id = ?", conv.ID).Updates(map[string]any{"assignee_kind": "", "assignee_id": nil,
			"ai_handed_off": true, "updated_at": s.now()}).Error; err != nil {
			return err
		}
		view, err := s.conversationTx(tx, conv.ID, "")
		if err != nil {
			return err
		}
		ev, err := s.recordEvent(ctx, tx, switchboard.EventConversationUpdated, conv.ChannelID, conv.ID, struct {
			*switchboard.Conversation
			HandoffReason string `json:"handoff_reason"`
		}{view, reason})
		events = append(events, ev)
		return err
	})
	return events, err
}

func sameID(a, b *int64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
