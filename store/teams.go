package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

type teamRow struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (teamRow) TableName() string { return "teams" }

type teamMemberRow struct {
	TeamID  int64
	AgentID int64
}

func (teamMemberRow) TableName() string { return "team_members" }

func teamConflict() error {
	return &switchboard.Error{Code: switchboard.ECONFLICT, Message: "A team with this name already exists.",
		Fields: map[string]string{"name": "This name is already used."}}
}

// CreateTeam stores a team and its members.
func (s *Store) CreateTeam(ctx context.Context, t *switchboard.Team) error {
	t.Name = strings.TrimSpace(t.Name)
	if err := t.Validate(); err != nil {
		return err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		now := s.now()
		row := teamRow{Name: t.Name, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			if switchboard.IsCode(translate(err), switchboard.ECONFLICT) {
				return teamConflict()
			}
			return err
		}
		if err := s.setTeamMembers(ctx, tx, row.ID, t.AgentIDs); err != nil {
			return err
		}
		t.ID, t.CreatedAt, t.UpdatedAt = row.ID, now, now
		return nil
	})
	return err
}

func (s *Store) setTeamMembers(ctx context.Context, tx *gorm.DB, teamID int64, agentIDs []int64) error {
	if err := tx.Where("team_id = ?", teamID).Delete(&teamMemberRow{}).Error; err != nil {
		return err
	}
	if len(agentIDs) == 0 {
		return nil
	}
	var n int64
	if err := tx.Model(&agentRow{}).Where("id IN ?", agentIDs).Count(&n).Error; err != nil {
		return err
	}
	if int(n) != len(agentIDs) {
		return &switchboard.Error{Code: switchboard.EINVALID, Message: "Some agents do not exist.",
			Fields: map[string]string{"agent_ids": "Some agents do not exist."}}
	}
	rows := make([]teamMemberRow, len(agentIDs))
	for i, id := range agentIDs {
		rows[i] = teamMemberRow{TeamID: teamID, AgentID: id}
	}
	return tx.Create(&rows).Error
}

// UpdateTeam renames a team and replaces its members.
func (s *Store) UpdateTeam(ctx context.Context, t *switchboard.Team) error {
	t.Name = strings.TrimSpace(t.Name)
	if err := t.Validate(); err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		now := s.now()
		res := tx.Model(&teamRow{}).Where("id = ?", t.ID).Updates(map[string]any{"name": t.Name, "updated_at": now})
		if res.Error != nil {
			if switchboard.IsCode(translate(res.Error), switchboard.ECONFLICT) {
				return teamConflict()
			}
			return res.Error
		}
		if res.RowsAffected == 0 {
			return notFound("Team")
		}
		t.UpdatedAt = now
		return s.setTeamMembers(ctx, tx, t.ID, t.AgentIDs)
	})
}

// Team returns one team with its members.
func (s *Store) Team(ctx context.Context, id int64) (*switchboard.Team, error) {
	var row teamRow
	if err := s.conn(ctx).First(&row, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, notFound("Team")
		}
		return nil, translate(err)
	}
	teams, err := s.withMembers(ctx, []teamRow{row})
	if err != nil {
		return nil, err
	}
	return teams[0], nil
}

// ListTeams returns every team with its members, by name.
func (s *Store) ListTeams(ctx context.Context) ([]*switchboard.Team, error) {
	var rows []teamRow
	if err := s.conn(ctx).Order("lower(name), id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	return s.withMembers(ctx, rows)
}

func (s *Store) withMembers(ctx context.Context, rows []teamRow) ([]*switchboard.Team, error) {
	out := make([]*switchboard.Team, len(rows))
	byID := map[int64]*switchboard.Team{}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = &switchboard.Team{ID: r.ID, Name: r.Name, AgentIDs: []int64{}, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
		byID[r.ID] = out[i]
		ids[i] = r.ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	var members []teamMemberRow
	if err := s.conn(ctx).Where("team_id IN ?", ids).Order("team_id, agent_id").Find(&members).Error; err != nil {
		return nil, translate(err)
	}
	for _, m := range members {
		byID[m.TeamID].AgentIDs = append(byID[m.TeamID].AgentIDs, m.AgentID)
	}
	return out, nil
}

// DeleteTeam removes a team (its members stay agents).
func (s *Store) DeleteTeam(ctx context.Context, id int64) error {
	res := s.conn(ctx).Delete(&teamRow{}, id)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("Team")
	}
	return nil
}
