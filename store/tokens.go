package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

type apiTokenRow struct {
	ID         int64
	AgentID    int64
	Name       string
	Prefix     string
	Hash       string
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	CreatedAt  time.Time
}

func (apiTokenRow) TableName() string { return "api_tokens" }

func (r *apiTokenRow) toDomain() *switchboard.APIToken {
	return &switchboard.APIToken{ID: r.ID, AgentID: r.AgentID, Name: r.Name, Prefix: r.Prefix, Hash: r.Hash,
		LastUsedAt: utcPtr(r.LastUsedAt), ExpiresAt: utcPtr(r.ExpiresAt), CreatedAt: r.CreatedAt.UTC()}
}

// CreateAPIToken stores a token (its hash only).
func (s *Store) CreateAPIToken(ctx context.Context, t *switchboard.APIToken) error {
	t.CreatedAt = s.now()
	if err := t.Validate(); err != nil {
		return err
	}
	row := apiTokenRow{AgentID: t.AgentID, Name: t.Name, Prefix: t.Prefix, Hash: t.Hash, ExpiresAt: utcPtr(t.ExpiresAt), CreatedAt: t.CreatedAt}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return translate(err)
	}
	*t = *row.toDomain()
	return nil
}

// TokenAgent returns the agent a live token belongs to, recording its use at most once a minute.
func (s *Store) TokenAgent(ctx context.Context, hash string) (*switchboard.APIToken, *switchboard.Agent, error) {
	var row apiTokenRow
	err := s.conn(ctx).Where("hash = ?", hash).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, switchboard.Errorf(switchboard.EUNAUTHORIZED, "The API token is not valid.")
	}
	if err != nil {
		return nil, nil, translate(err)
	}
	now := s.now()
	if row.ExpiresAt != nil && !now.Before(*row.ExpiresAt) {
		return nil, nil, switchboard.Errorf(switchboard.EUNAUTHORIZED, "The API token has expired.")
	}
	a, err := s.Agent(ctx, row.AgentID)
	if err != nil {
		return nil, nil, err
	}
	if a.Disabled {
		return nil, nil, switchboard.Errorf(switchboard.EUNAUTHORIZED, "This account is disabled.")
	}
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) > time.Minute {
		if err := s.conn(ctx).Model(&apiTokenRow{}).Where("id = ?", row.ID).Update("last_used_at", now).Error; err != nil {
			return nil, nil, translate(err)
		}
		row.LastUsedAt = &now
	}
	return row.toDomain(), a, nil
}

// ListAPITokens returns the tokens of every agent (admins) or of one agent (agentID > 0).
func (s *Store) ListAPITokens(ctx context.Context, agentID int64) ([]*switchboard.APIToken, error) {
	q := s.conn(ctx).Order("id")
	if agentID > 0 {
		q = q.Where("agent_id = ?", agentID)
	}
	var rows []apiTokenRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]*switchboard.APIToken, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// DeleteAPIToken revokes a token.
func (s *Store) DeleteAPIToken(ctx context.Context, id int64) error {
	res := s.conn(ctx).Delete(&apiTokenRow{}, id)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("API token")
	}
	return nil
}
