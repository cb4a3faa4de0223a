package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

type agentRow struct {
	ID             int64
	Name           string
	Email          string
	Role           string
	Availability   string
	Disabled       bool
	PasswordHash   string
	LastAssignedAt *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (agentRow) TableName() string { return "agents" }

func (r *agentRow) toDomain() *switchboard.Agent {
	return &switchboard.Agent{
		ID: r.ID, Name: r.Name, Email: r.Email, Role: switchboard.Role(r.Role),
		Availability: switchboard.Availability(r.Availability), Disabled: r.Disabled,
		PasswordHash: r.PasswordHash, LastAssignedAt: utcPtr(r.LastAssignedAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// CreateAgent stores a new agent; a.PasswordHash must already be set. The email must be unused
// (ECONFLICT otherwise).
func (s *Store) CreateAgent(ctx context.Context, a *switchboard.Agent) error {
	a.Email = switchboard.NormalizeEmail(a.Email)
	if a.Availability == "" {
		a.Availability = switchboard.Available
	}
	if err := a.Validate(); err != nil {
		return err
	}
	if a.PasswordHash == "" {
		return switchboard.Errorf(switchboard.EINVALID, "A password is required.")
	}
	now := s.now()
	row := agentRow{Name: strings.TrimSpace(a.Name), Email: a.Email, Role: string(a.Role), Availability: string(a.Availability),
		Disabled: a.Disabled, PasswordHash: a.PasswordHash, CreatedAt: now, UpdatedAt: now}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		err = translate(err)
		if switchboard.IsCode(err, switchboard.ECONFLICT) {
			return &switchboard.Error{Code: switchboard.ECONFLICT, Message: "An agent with this email already exists.",
				Fields: map[string]string{"email": "This email is already used."}}
		}
		return err
	}
	*a = *row.toDomain()
	return nil
}

// Agent returns one agent by id.
func (s *Store) Agent(ctx context.Context, id int64) (*switchboard.Agent, error) {
	var row agentRow
	if err := s.conn(ctx).First(&row, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, notFound("Agent")
		}
		return nil, translate(err)
	}
	return row.toDomain(), nil
}

// AgentByEmail returns the agent with this email (case-insensitive).
func (s *Store) AgentByEmail(ctx context.Context, email string) (*switchboard.Agent, error) {
	var row agentRow
	err := s.conn(ctx).Where("email = ?", switchboard.NormalizeEmail(email)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound("Agent")
	}
	if err != nil {
		return nil, translate(err)
	}
	return row.toDomain(), nil
}

// ListAgents returns every agent, by name.
func (s *Store) ListAgents(ctx context.Context) ([]*switchboard.Agent, error) {
	var rows []agentRow
	if err := s.conn(ctx).Order("lower(name), id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]*switchboard.Agent, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// CountAgents returns how many agents exist (start-up uses it to decide whether to create the first
// admin).
func (s *Store) CountAgents(ctx context.Context) (int64, error) {
	var n int64
	err := s.conn(ctx).Model(&agentRow{}).Count(&n).Error
	return n, translate(err)
}

// AgentUpdate lists the fields to change; nil fields keep their value.
type AgentUpdate struct {
	Name         *string
	Email        *string
	Role         *switchboard.Role
	Availability *switchboard.Availability
	Disabled     *bool
	PasswordHash *string
}

// UpdateAgent changes an agent. It refuses to demote or disable the last active admin, and signs the
// agent out everywhere when their password changes or they are disabled.
func (s *Store) UpdateAgent(ctx context.Context, id int64, u AgentUpdate) (*switchboard.Agent, error) {
	var out *switchboard.Agent
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		var row agentRow
		if err := tx.First(&row, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return notFound("Agent")
			}
			return err
		}
		a := row.toDomain()
		wasActiveAdmin := a.Role == switchboard.RoleAdmin && !a.Disabled
		if u.Name != nil {
			a.Name = strings.TrimSpace(*u.Name)
		}
		if u.Email != nil {
			a.Email = switchboard.NormalizeEmail(*u.Email)
		}
		if u.Role != nil {
			a.Role = *u.Role
		}
		if u.Availability != nil {
			a.Availability = *u.Availability
		}
		if u.Disabled != nil {
			a.Disabled = *u.Disabled
		}
		if err := a.Validate(); err != nil {
			return err
		}
		if wasActiveAdmin && (a.Role != switchboard.RoleAdmin || a.Disabled) {
			if err := s.ensureAnotherAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		updates := map[string]any{"name": a.Name, "email": a.Email, "role": string(a.Role),
			"availability": string(a.Availability), "disabled": a.Disabled, "updated_at": s.now()}
		if u.PasswordHash != nil {
			updates["password_hash"] = *u.PasswordHash
		}
		if err := tx.Model(&agentRow{}).Where("id = ?", id).Updates(updates).Error; err != nil {
			if switchboard.IsCode(translate(err), switchboard.ECONFLICT) {
				return &switchboard.Error{Code: switchboard.ECONFLICT, Message: "An agent with this email already exists.",
					Fields: map[string]string{"email": "This email is already used."}}
			}
			return err
		}
		if u.PasswordHash != nil || a.Disabled {
			if err := tx.Where("agent_id = ?", id).Delete(&sessionRow{}).Error; err != nil {
				return err
			}
		}
		if err := tx.First(&row, id).Error; err != nil {
			return err
		}
		out = row.toDomain()
		return nil
	})
	return out, err
}

// ensureAnotherAdmin fails with ECONFLICT unless an active admin other than id exists. The admin rows
// are locked on PostgreSQL so two concurrent demotions cannot both pass.
func (s *Store) ensureAnotherAdmin(ctx context.Context, tx *gorm.DB, id int64) error {
	q := tx.Model(&agentRow{}).Select("id").Where("role = ? AND disabled = ? AND id <> ?", string(switchboard.RoleAdmin), false, id)
	if s.dialect == "postgres" {
		q = q.Clauses(forUpdate())
	}
	var ids []int64
	if err := q.Find(&ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return switchboard.Errorf(switchboard.ECONFLICT, "Switchboard needs at least one active admin.")
	}
	return nil
}

// DeleteAgent removes an agent who never handled anything; once an agent has history, disable them
// instead (UpdateAgent). The last active admin cannot be deleted.
func (s *Store) DeleteAgent(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		var row agentRow
		if err := tx.First(&row, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return notFound("Agent")
			}
			return err
		}
		if row.Role == string(switchboard.RoleAdmin) && !row.Disabled {
			if err := s.ensureAnotherAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		res := tx.Delete(&agentRow{}, id)
		if err := translate(res.Error); switchboard.IsCode(err, switchboard.EINVALID) {
			return switchboard.Errorf(switchboard.ECONFLICT, "This agent has history; disable them instead.")
		} else if err != nil {
			return err
		}
		return nil
	})
}

// SetAvailability records an agent's availability and the presence.updated event agents see.
func (s *Store) SetAvailability(ctx context.Context, agentID int64, a switchboard.Availability) (*switchboard.Agent, []switchboard.Event, error) {
	var out *switchboard.Agent
	var events []switchboard.Event
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		res := tx.Model(&agentRow{}).Where("id = ?", agentID).Updates(map[string]any{"availability": string(a), "updated_at": s.now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return notFound("Agent")
		}
		var row agentRow
		if err := tx.First(&row, agentID).Error; err != nil {
			return err
		}
		out = row.toDomain()
		ev, err := s.recordEvent(ctx, tx, switchboard.EventPresenceUpdated, 0, 0,
			map[string]any{"agent_id": agentID, "availability": string(a)})
		events = []switchboard.Event{ev}
		return err
	})
	return out, events, err
}

// presenceEvent is the data of a presence.updated event about an agent coming online or going
// offline: SetAvailability's fields and whether they are connected (a live connection on any
// replica, whatever their availability).
type presenceEvent struct {
	AgentID      int64  `json:"agent_id"`
	Availability string `json:"availability"`
	Connected    bool   `json:"connected"`
}

// RecordPresence records, in the presence server processes share (agent_presence), that the agent
// came online on instance (online: their first connection there) or went offline there (their last
// connection closed and its grace period passed). When no other instance reported them within
// `within`, that changes whether they are online at all: it logs the presence.updated event agents
// see ({"agent_id", "availability", "connected"}) and returns it. The agent's row is locked, so two
// processes' transitions of one agent are serialised: each sees the other's row, and an agent who
// moves between processes stays online without events. An agent deleted meanwhile is ignored.
func (s *Store) RecordPresence(ctx context.Context, instance string, agentID int64, online bool, within time.Duration) ([]switchboard.Event, error) {
	var events []switchboard.Event
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		events = nil
		lock := ""
		if s.dialect == "postgres" {
			lock = " FOR NO KEY UPDATE" // does not block the key-share locks of rows referring to the agent
		}
		var availability []string
		if err := tx.Raw(`SELECT availability FROM agents WHERE id = ?`+lock, agentID).Scan(&availability).Error; err != nil {
			return err
		}
		if len(availability) == 0 {
			return nil
		}
		now := s.now()
		if online {
			if err := tx.Exec(`INSERT INTO agent_presence (agent_id, instance, last_seen) VALUES (?, ?, ?)
ON CONFLICT (agent_id, instance) DO UPDATE SET last_seen = excluded.last_seen`, agentID, instance, now).Error; err != nil {
				return err
			}
		} else if err := tx.Where("agent_id = ? AND instance = ?", agentID, instance).Delete(&presenceRow{}).Error; err != nil {
			return err
		}
		var elsewhere int64
		if err := tx.Model(&presenceRow{}).Where("agent_id = ? AND instance <> ? AND last_seen >= ?", agentID, instance, now.Add(-within)).
			Count(&elsewhere).Error; err != nil {
			return err
		}
		if elsewhere > 0 {
			return nil
		}
		ev, err := s.recordEvent(ctx, tx, switchboard.EventPresenceUpdated, 0, 0,
			presenceEvent{AgentID: agentID, Availability: availability[0], Connected: online})
		events = []switchboard.Event{ev}
		return err
	})
	return events, err
}
