package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard"
)

type channelMemberRow struct {
	ChannelID int64
	AgentID   int64
	Capacity  int
	CreatedAt time.Time
}

func (channelMemberRow) TableName() string { return "channel_members" }

// ChannelMemberInfo is a membership with the agent it concerns.
type ChannelMemberInfo struct {
	switchboard.ChannelMember
	Agent *switchboard.Agent `json:"agent"`
}

// PutChannelMember adds a human agent to a channel, or changes their capacity if already a member.
func (s *Store) PutChannelMember(ctx context.Context, m *switchboard.ChannelMember) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&channelRow{}).Where("id = ? AND deleted_at IS NULL", m.ChannelID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return notFound("Channel")
		}
		var agent agentRow
		if err := tx.First(&agent, m.AgentID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return switchboard.FieldError("agent_id", "No such agent.")
		} else if err != nil {
			return err
		}
		m.CreatedAt = s.now()
		row := channelMemberRow{ChannelID: m.ChannelID, AgentID: m.AgentID, Capacity: m.Capacity, CreatedAt: m.CreatedAt}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "channel_id"}, {Name: "agent_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"capacity"}),
		}).Create(&row).Error
	})
}

// RemoveChannelMember takes an agent out of a channel.
func (s *Store) RemoveChannelMember(ctx context.Context, channelID, agentID int64) error {
	res := s.conn(ctx).Where("channel_id = ? AND agent_id = ?", channelID, agentID).Delete(&channelMemberRow{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("Channel member")
	}
	return nil
}

// ListChannelMembers returns a channel's members with their agents, by agent name.
func (s *Store) ListChannelMembers(ctx context.Context, channelID int64) ([]*ChannelMemberInfo, error) {
	var rows []channelMemberRow
	if err := s.conn(ctx).Where("channel_id = ?", channelID).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.AgentID
	}
	var agents []agentRow
	if len(ids) > 0 {
		if err := s.conn(ctx).Where("id IN ?", ids).Order("lower(name), id").Find(&agents).Error; err != nil {
			return nil, translate(err)
		}
	}
	byAgent := map[int64]channelMemberRow{}
	for _, r := range rows {
		byAgent[r.AgentID] = r
	}
	out := make([]*ChannelMemberInfo, 0, len(agents))
	for i := range agents {
		r := byAgent[agents[i].ID]
		out = append(out, &ChannelMemberInfo{
			ChannelMember: switchboard.ChannelMember{ChannelID: r.ChannelID, AgentID: r.AgentID, Capacity: r.Capacity, CreatedAt: r.CreatedAt.UTC()},
			Agent:         agents[i].toDomain(),
		})
	}
	return out, nil
}

// IsChannelMember reports whether the agent belongs to the channel.
func (s *Store) IsChannelMember(ctx context.Context, channelID, agentID int64) (bool, error) {
	var n int64
	err := s.conn(ctx).Model(&channelMemberRow{}).Where("channel_id = ? AND agent_id = ?", channelID, agentID).Count(&n).Error
	return n > 0, translate(err)
}

// AgentChannelIDs returns the ids of the channels an agent belongs to.
func (s *Store) AgentChannelIDs(ctx context.Context, agentID int64) ([]int64, error) {
	var ids []int64
	err := s.conn(ctx).Model(&channelMemberRow{}).Where("agent_id = ?", agentID).Order("channel_id").Pluck("channel_id", &ids).Error
	return ids, translate(err)
}
