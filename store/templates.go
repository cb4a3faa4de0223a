package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

type templateRow struct {
	ID              int64
	ChannelID       int64
	ExternalID      string
	Name            string
	Language        string
	Category        string
	Status          string
	ParameterFormat string
	Components      string
	RejectedReason  string
	SyncedAt        time.Time
	UpdatedAt       time.Time
}

func (templateRow) TableName() string { return "templates" }

func (r *templateRow) toDomain() *switchboard.Template {
	return &switchboard.Template{ID: r.ID, ChannelID: r.ChannelID, ExternalID: r.ExternalID, Name: r.Name, Language: r.Language,
		Category: r.Category, Status: r.Status, ParameterFormat: r.ParameterFormat, Components: []byte(r.Components),
		RejectedReason: r.RejectedReason, SyncedAt: r.SyncedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// ReplaceTemplates makes the channel's cached templates exactly the given list (a full sync from
// Meta): new ones are added, known ones updated, vanished ones removed.
func (s *Store) ReplaceTemplates(ctx context.Context, channelID int64, templates []switchboard.Template) error {
	for i := range templates {
		templates[i].ChannelID = channelID
		if err := templates[i].Validate(); err != nil {
			return err
		}
	}
	return s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		now := s.now()
		var existing []templateRow
		if err := tx.Where("channel_id = ?", channelID).Find(&existing).Error; err != nil {
			return err
		}
		byKey := map[string]*templateRow{}
		for i := range existing {
			byKey[existing[i].Name+"|"+existing[i].Language] = &existing[i]
		}
		seen := map[string]bool{}
		for _, t := range templates {
			key := t.Name + "|" + t.Language
			seen[key] = true
			comps := string(t.Components)
			if comps == "" {
				comps = "[]"
			}
			row := templateRow{ChannelID: channelID, ExternalID: t.ExternalID, Name: t.Name, Language: t.Language, Category: t.Category,
				Status: t.Status, ParameterFormat: t.ParameterFormat, Components: comps, RejectedReason: t.RejectedReason, SyncedAt: now, UpdatedAt: now}
			if old, ok := byKey[key]; ok {
				row.ID = old.ID
				if err := tx.Select("*").Updates(&row).Error; err != nil {
					return err
				}
				continue
			}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
		}
		for key, old := range byKey {
			if !seen[key] {
				if err := tx.Delete(&templateRow{}, old.ID).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// ListTemplates returns a channel's cached templates by name and language.
func (s *Store) ListTemplates(ctx context.Context, channelID int64) ([]*switchboard.Template, error) {
	var rows []templateRow
	if err := s.conn(ctx).Where("channel_id = ?", channelID).Order("name, language").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]*switchboard.Template, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// Template returns one cached template of a channel by name and language.
func (s *Store) Template(ctx context.Context, channelID int64, name, language string) (*switchboard.Template, error) {
	var row templateRow
	err := s.conn(ctx).Where("channel_id = ? AND name = ? AND language = ?", channelID, name, language).Take(&row).Error
	if err != nil {
		return nil, translateNotFound(err, "Template")
	}
	return row.toDomain(), nil
}

// applyTemplateChange records a template status webhook on the cached template, if known.
func (s *Store) applyTemplateChange(ctx context.Context, tx *gorm.DB, channelID int64, c *switchboard.TemplateStatusChange) error {
	q := tx.Model(&templateRow{}).Where("channel_id = ?", channelID)
	if c.ExternalID != "" {
		q = q.Where("external_id = ?", c.ExternalID)
	} else {
		q = q.Where("name = ? AND language = ?", c.Name, c.Language)
	}
	status := strings.ToUpper(c.Status)
	switch status {
	case "FLAGGED":
		return nil // a warning; the template stays usable until paused
	case "REINSTATED", "UNARCHIVED":
		status = "APPROVED"
	}
	return q.Updates(map[string]any{"status": status, "rejected_reason": c.Reason, "updated_at": s.now()}).Error
}
