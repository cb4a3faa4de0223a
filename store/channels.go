package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

type channelRow struct {
	ID                int64
	Type              string
	Name              string
	PhoneNumber       string
	PhoneNumberID     string
	BusinessAccountID string
	APIKeyEnc         string `gorm:"column:api_key_enc"`
	AppSecretEnc      string
	VerifyToken       string
	Status            string
	StatusReason      string
	Sandbox           bool
	AssignmentMode    string
	AIAgentID         *int64 `gorm:"column:ai_agent_id"`
	DefaultCapacity   int
	Settings          string
	RRLastAgentID     *int64 `gorm:"column:rr_last_agent_id"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
	DeletedAt         *time.Time
}

func (channelRow) TableName() string { return "channels" }

func (s *Store) channelToDomain(r *channelRow) (*switchboard.Channel, error) {
	apiKey, err := s.open(r.APIKeyEnc)
	if err != nil {
		return nil, err
	}
	secret, err := s.open(r.AppSecretEnc)
	if err != nil {
		return nil, err
	}
	settings := switchboard.DefaultChannelSettings()
	if err := json.Unmarshal([]byte(r.Settings), &settings); err != nil {
		return nil, err
	}
	settings.Normalize()
	return &switchboard.Channel{ID: r.ID, Type: r.Type, Name: r.Name, PhoneNumber: r.PhoneNumber, PhoneNumberID: r.PhoneNumberID,
		BusinessAccountID: r.BusinessAccountID, APIKey: apiKey, AppSecret: secret, VerifyToken: r.VerifyToken,
		Status: r.Status, StatusReason: r.StatusReason, Sandbox: r.Sandbox, AssignmentMode: r.AssignmentMode,
		AIAgentID: r.AIAgentID, DefaultCapacity: r.DefaultCapacity, Settings: settings,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), DeletedAt: utcPtr(r.DeletedAt)}, nil
}

func (s *Store) channelToRow(c *switchboard.Channel) (*channelRow, error) {
	apiKey, err := s.seal(c.APIKey)
	if err != nil {
		return nil, err
	}
	secret, err := s.seal(c.AppSecret)
	if err != nil {
		return nil, err
	}
	settings, err := json.Marshal(c.Settings)
	if err != nil {
		return nil, err
	}
	return &channelRow{ID: c.ID, Type: c.Type, Name: strings.TrimSpace(c.Name), PhoneNumber: c.PhoneNumber, PhoneNumberID: c.PhoneNumberID,
		BusinessAccountID: c.BusinessAccountID, APIKeyEnc: apiKey, AppSecretEnc: secret, VerifyToken: c.VerifyToken,
		Status: c.Status, StatusReason: c.StatusReason, Sandbox: c.Sandbox, AssignmentMode: c.AssignmentMode,
		AIAgentID: c.AIAgentID, DefaultCapacity: c.DefaultCapacity, Settings: string(settings),
		CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt), DeletedAt: utcPtr(c.DeletedAt)}, nil
}

func channelConflict() error {
	return &switchboard.Error{Code: switchboard.ECONFLICT, Message: "This phone number is already connected.",
		Fields: map[string]string{"phone_number_id": "Another channel already uses this phone number ID."}}
}

// CreateChannel stores a new channel; its secrets are encrypted at rest.
func (s *Store) CreateChannel(ctx context.Context, c *switchboard.Channel) error {
	now := s.now()
	c.CreatedAt, c.UpdatedAt = now, now
	if c.Status == "" {
		c.Status = switchboard.ChannelActive
	}
	if err := c.Validate(); err != nil {
		return err
	}
	row, err := s.channelToRow(c)
	if err != nil {
		return err
	}
	row.ID = 0
	if err := s.conn(ctx).Create(row).Error; err != nil {
		if err = translate(err); switchboard.IsCode(err, switchboard.ECONFLICT) {
			return channelConflict()
		}
		return err
	}
	c.ID = row.ID
	return nil
}

// Channel returns a live (not deleted) channel with its secrets decrypted, for internal use.
func (s *Store) Channel(ctx context.Context, id int64) (*switchboard.Channel, error) {
	var row channelRow
	err := s.conn(ctx).Where("id = ? AND deleted_at IS NULL", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound("Channel")
	}
	if err != nil {
		return nil, translate(err)
	}
	return s.channelToDomain(&row)
}

// ListChannels returns the live channels, all of them (agentID 0) or those the agent belongs to.
func (s *Store) ListChannels(ctx context.Context, agentID int64) ([]*switchboard.Channel, error) {
	q := s.conn(ctx).Where("deleted_at IS NULL").Order("lower(name), id")
	if agentID > 0 {
		q = q.Where("id IN (SELECT channel_id FROM channel_members WHERE agent_id = ?)", agentID)
	}
	var rows []channelRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]*switchboard.Channel, 0, len(rows))
	for i := range rows {
		c, err := s.channelToDomain(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// UpdateChannel applies change to a channel under a row lock, validates and stores the result.
func (s *Store) UpdateChannel(ctx context.Context, id int64, change func(c *switchboard.Channel) error) (*switchboard.Channel, error) {
	var out *switchboard.Channel
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		var row channelRow
		err := tx.Clauses(forUpdate()).Where("id = ? AND deleted_at IS NULL", id).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return notFound("Channel")
		}
		if err != nil {
			return err
		}
		c, err := s.channelToDomain(&row)
		if err != nil {
			return err
		}
		if err := change(c); err != nil {
			return err
		}
		c.ID, c.UpdatedAt = id, s.now()
		if err := c.Validate(); err != nil {
			return err
		}
		next, err := s.channelToRow(c)
		if err != nil {
			return err
		}
		if err := tx.Select("*").Omit("id", "created_at", "rr_last_agent_id").Updates(next).Error; err != nil {
			if err = translate(err); switchboard.IsCode(err, switchboard.ECONFLICT) {
				return channelConflict()
			}
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// DeleteChannel disconnects a channel: it disappears from lists and its webhooks are refused, while
// its conversations and messages are kept.
func (s *Store) DeleteChannel(ctx context.Context, id int64) error {
	now := s.now()
	res := s.conn(ctx).Model(&channelRow{}).Where("id = ? AND deleted_at IS NULL", id).
		Updates(map[string]any{"deleted_at": now, "updated_at": now})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("Channel")
	}
	return nil
}

// SetChannelStatus flags a channel (e.g. token_invalid when Meta rejects its token) or clears the flag.
func (s *Store) SetChannelStatus(ctx context.Context, id int64, status, reason string) error {
	return translate(s.conn(ctx).Model(&channelRow{}).Where("id = ?", id).
		Updates(map[string]any{"status": status, "status_reason": reason, "updated_at": s.now()}).Error)
}

// ChannelByPhoneNumberID returns the live channel connected to a Meta phone number id.
func (s *Store) ChannelByPhoneNumberID(ctx context.Context, phoneNumberID string) (*switchboard.Channel, error) {
	var row channelRow
	err := s.conn(ctx).Where("phone_number_id = ? AND deleted_at IS NULL", phoneNumberID).Take(&row).Error
	if err != nil {
		return nil, translateNotFound(err, "Channel")
	}
	return s.channelToDomain(&row)
}
