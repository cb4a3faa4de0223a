package switchboard

import (
	"encoding/json"
	"strings"
	"time"
)

// Template categories as Meta names them.
const (
	CategoryMarketing      = "MARKETING"
	CategoryUtility        = "UTILITY"
	CategoryAuthentication = "AUTHENTICATION"
)

// Template is an approved WhatsApp message template of a channel's business account, cached locally.
// Components keep Meta's JSON so every header, body and button format survives a round trip.
type Template struct {
	ID              int64           `json:"id"`
	ChannelID       int64           `json:"channel_id"`
	ExternalID      string          `json:"external_id"`
	Name            string          `json:"name"`
	Language        string          `json:"language"`
	Category        string          `json:"category"`
	Status          string          `json:"status"`
	ParameterFormat string          `json:"parameter_format"`
	Components      json.RawMessage `json:"components"`
	RejectedReason  string          `json:"rejected_reason,omitempty"`
	SyncedAt        time.Time       `json:"synced_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
}

// Usable reports whether the template may be sent.
func (t *Template) Usable() bool { return strings.EqualFold(t.Status, "APPROVED") }

// Validate checks the template's fields.
func (t *Template) Validate() error {
	var p Problems
	p.Check(t.ChannelID > 0, "channel_id", "Channel is required.")
	p.Check(strings.TrimSpace(t.Name) != "", "name", "Name is required.")
	p.Check(strings.TrimSpace(t.Language) != "", "language", "Language is required.")
	p.Check(len(t.Components) == 0 || json.Valid(t.Components), "components", "Components must be JSON.")
	return p.Err()
}
