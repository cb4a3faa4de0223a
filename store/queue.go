package store

// The queue: conversations that wait for an eligible person, oldest first, until the router drains it.

import (
	"context"

	"gorm.io/gorm"

	"switchboard"
)

// waitingRow is a conversation with the agent it waits for.
type waitingRow struct {
	Conversation conversationRow `gorm:"embedded"`
	QueueAgentID *int64
}

// UnassignedWaiting returns up to limit conversations of the channel that wait for an assignee,
// oldest first (by when they started waiting), after the conversation `after` (nil: from the start),
// with the target each waits for: an agent, a team, or the zero target for anyone.
func (s *Store) UnassignedWaiting(ctx context.Context, channelID int64, after *switchboard.Conversation, limit int) ([]*switchboard.Conversation, []switchboard.RuleTarget, error) {
	q := `SELECT * FROM conversations WHERE channel_id = ? AND waiting_since IS NOT NULL AND assignee_kind = '' AND status <> 'resolved'`
	args := []any{channelID}
	if after != nil && after.WaitingSince != nil {
		q += ` AND (waiting_since > ? OR (waiting_since = ? AND id > ?))`
		args = append(args, utc(*after.WaitingSince), utc(*after.WaitingSince), after.ID)
	}
	var rows []waitingRow
	if err := s.conn(ctx).Raw(q+` ORDER BY waiting_since, id LIMIT ?`, append(args, limit)...).Scan(&rows).Error; err != nil {
		return nil, nil, translate(err)
	}
	convs := make([]*switchboard.Conversation, len(rows))
	targets := make([]switchboard.RuleTarget, len(rows))
	for i := range rows {
		convs[i] = rows[i].Conversation.toDomain()
		switch {
		case rows[i].QueueAgentID != nil:
			targets[i] = switchboard.RuleTarget{Kind: switchboard.TargetAgent, ID: *rows[i].QueueAgentID}
		case rows[i].Conversation.TeamID != nil:
			targets[i] = switchboard.RuleTarget{Kind: switchboard.TargetTeam, ID: *rows[i].Conversation.TeamID}
		}
	}
	return convs, targets, nil
}

// WaitInQueue records that nobody eligible could take the conversation: it waits, from its customer's
// last message (or now, if later) unless it already waited, in the queue of the rule's target (an agent or a team; the channel's without a
// rule), and loses `from`, its previous owner (nil: it had none), who could not keep it. ECONFLICT
// when its owner is no longer `from`. An activity line is written when this changes anything.
func (s *Store) WaitInQueue(ctx context.Context, conversationID int64, from *switchboard.Assignee, rule *switchboard.RoutingRule) ([]switchboard.Event, error) {
	var events []switchboard.Event
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		events = nil
		conv, err := lockConversation(tx, conversationID)
		if err != nil {
			return err
		}
		if conv.Status == switchboard.StatusResolved || !heldBy(conv, from) {
			return switchboard.Errorf(switchboard.ECONFLICT, "The conversation changed meanwhile.")
		}
		var w waitingRow
		if err := tx.Table("conversations").Select("queue_agent_id").Where("id = ?", conv.ID).Take(&w).Error; err != nil {
			return err
		}
		var agentID, teamID *int64
		target := "an available agent"
		if rule != nil && rule.Target.Kind == switchboard.TargetAgent {
			agentID, target = &rule.Target.ID, s.agentName(tx, rule.Target.ID)
		}
		if rule != nil && rule.Target.Kind == switchboard.TargetTeam {
			var team teamRow
			tx.Select("id", "name").Where("id = ?", rule.Target.ID).Take(&team)
			teamID, target = &rule.Target.ID, "the team "+team.Name
		}
		if from == nil && conv.WaitingSince != nil && sameID(agentID, w.QueueAgentID) && sameID(teamID, conv.TeamID) {
			return nil // already waiting there
		}
		// A conversation waits from its customer's last message (the queue serves whoever has waited
		// longest, not whichever routing ran first in a burst), or from when it already waited.
		now := s.now()
		since := now
		if conv.LastInboundAt != nil && conv.LastInboundAt.Before(now) {
			since = utc(*conv.LastInboundAt)
		}
		if conv.WaitingSince != nil {
			since = *conv.WaitingSince
		}
		if err := tx.Model(&conversationRow{}).Where("id = ?", conv.ID).Updates(map[string]any{"assignee_kind": "", "assignee_id": nil,
			"waiting_since": since, "queue_agent_id": agentID, "team_id": teamID, "updated_at": now}).Error; err != nil {
			return err
		}
		text := "Waiting for " + target
		if rule != nil {
			text += " (rule “" + rule.Name + "”)"
		}
		if from != nil {
			text = "Reopened while " + describe(*s.named(tx, from)) + " is not available. " + text
		}
		events, err = s.logChange(ctx, tx, conv.ID, "", text+".", switchboard.EventConversationUpdated, nil)
		return err
	})
	return events, err
}
