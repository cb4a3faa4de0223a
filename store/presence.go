package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

// Presence lives in each server process's memory (the websocket hub's connections); agent_presence
// is the heartbeat through which replicas sharing the database learn who is connected elsewhere.
// When an agent leaves for good, ReleaseAgent hands their conversations back to the queue.

type presenceRow struct {
	AgentID  int64  `gorm:"primaryKey;autoIncrement:false"`
	Instance string `gorm:"primaryKey"`
	LastSeen time.Time
}

func (presenceRow) TableName() string { return "agent_presence" }

// TouchPresence records that exactly agentIDs are connected to the instance (a server process) now:
// their rows are refreshed and the instance's other rows removed.
func (s *Store) TouchPresence(ctx context.Context, instance string, agentIDs []int64) error {
	return s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		q := tx.Where("instance = ?", instance)
		if len(agentIDs) > 0 {
			q = q.Where("agent_id NOT IN ?", agentIDs)
		}
		if err := q.Delete(&presenceRow{}).Error; err != nil {
			return err
		}
		if len(agentIDs) == 0 {
			return nil
		}
		// Only agents that still exist are written (one deleted meanwhile would break the foreign key).
		return tx.Exec(`INSERT INTO agent_presence (agent_id, instance, last_seen) SELECT id, ?, ? FROM agents WHERE id IN ?
ON CONFLICT (agent_id, instance) DO UPDATE SET last_seen = excluded.last_seen`, instance, s.now(), agentIDs).Error
	})
}

// OnlineAgents returns the agents any instance reported within the last `within`, in id order.
func (s *Store) OnlineAgents(ctx context.Context, within time.Duration) ([]int64, error) {
	var ids []int64
	err := s.conn(ctx).Model(&presenceRow{}).Distinct("agent_id").Where("last_seen >= ?", s.now().Add(-within)).
		Order("agent_id").Pluck("agent_id", &ids).Error
	return ids, translate(err)
}

// ClearPresence forgets an instance's agents (it is shutting down).
func (s *Store) ClearPresence(ctx context.Context, instance string) error {
	return translate(s.conn(ctx).Where("instance = ?", instance).Delete(&presenceRow{}).Error)
}

// ReleaseAgent puts the open conversations an agent holds on a channel back in the queue (a team's
// conversations in their team's queue): the agent left the channel, or went away and asked for their
// conversations to be reassigned. The router's drain then gives them to others.
func (s *Store) ReleaseAgent(ctx context.Context, channelID, agentID int64) ([]switchboard.Event, error) {
	var events []switchboard.Event
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		events = nil
		var convs []conversationRow
		if err := tx.Clauses(forUpdate()).Where("channel_id = ? AND assignee_id = ? AND "+openHuman, channelID, agentID).
			Order("id").Find(&convs).Error; err != nil {
			return err
		}
		name, now := s.agentName(tx, agentID), s.now()
		for _, c := range convs {
			if err := tx.Model(&conversationRow{}).Where("id = ?", c.ID).Updates(map[string]any{"assignee_kind": "", "assignee_id": nil,
				"waiting_since": now, "queue_agent_id": nil, "updated_at": now}).Error; err != nil {
				return err
			}
			evs, err := s.logChange(ctx, tx, c.ID, "", name+" is no longer available: waiting for another agent.", switchboard.EventConversationUpdated, nil)
			if err != nil {
				return err
			}
			events = append(events, evs...)
		}
		return nil
	})
	return events, err
}
