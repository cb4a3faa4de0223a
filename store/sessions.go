package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

type sessionRow struct {
	ID         string
	AgentID    int64
	CSRFToken  string
	UserAgent  string
	IP         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

func (sessionRow) TableName() string { return "sessions" }

func (r *sessionRow) toDomain() *switchboard.Session {
	return &switchboard.Session{ID: r.ID, AgentID: r.AgentID, CSRFToken: r.CSRFToken, UserAgent: r.UserAgent, IP: r.IP,
		CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
}

// CreateSession stores a new signed-in session.
func (s *Store) CreateSession(ctx context.Context, sess *switchboard.Session) error {
	if err := sess.Validate(); err != nil {
		return err
	}
	row := sessionRow{ID: sess.ID, AgentID: sess.AgentID, CSRFToken: sess.CSRFToken, UserAgent: truncate(sess.UserAgent, 300),
		IP: truncate(sess.IP, 64), CreatedAt: utc(sess.CreatedAt), LastSeenAt: utc(sess.LastSeenAt), ExpiresAt: utc(sess.ExpiresAt)}
	return translate(s.conn(ctx).Create(&row).Error)
}

// SessionAgent returns a live session and its agent. Expired sessions and disabled agents are
// EUNAUTHORIZED.
func (s *Store) SessionAgent(ctx context.Context, id string) (*switchboard.Session, *switchboard.Agent, error) {
	var row sessionRow
	err := s.conn(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, switchboard.Errorf(switchboard.EUNAUTHORIZED, "Your session has ended; sign in again.")
	}
	if err != nil {
		return nil, nil, translate(err)
	}
	if !s.now().Before(row.ExpiresAt) {
		return nil, nil, switchboard.Errorf(switchboard.EUNAUTHORIZED, "Your session has ended; sign in again.")
	}
	a, err := s.Agent(ctx, row.AgentID)
	if err != nil {
		return nil, nil, err
	}
	if a.Disabled {
		return nil, nil, switchboard.Errorf(switchboard.EUNAUTHORIZED, "This account is disabled.")
	}
	return row.toDomain(), a, nil
}

// TouchSession records activity and slides the expiry forward.
func (s *Store) TouchSession(ctx context.Context, id string, expiresAt time.Time) error {
	return translate(s.conn(ctx).Model(&sessionRow{}).Where("id = ?", id).
		Updates(map[string]any{"last_seen_at": s.now(), "expires_at": utc(expiresAt)}).Error)
}

// DeleteSession signs one session out.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return translate(s.conn(ctx).Where("id = ?", id).Delete(&sessionRow{}).Error)
}

// DeleteExpiredSessions removes sessions that ended before now and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res := s.conn(ctx).Where("expires_at <= ?", s.now()).Delete(&sessionRow{})
	return res.RowsAffected, translate(res.Error)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
