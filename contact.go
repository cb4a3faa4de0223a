package switchboard

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Contact is a customer on WhatsApp. WaID is their WhatsApp id (the phone number in digits) and may be
// empty for a contact known only by a business-scoped user id (BSUID), which Meta introduced in 2026.
type Contact struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	WaID       string     `json:"wa_id"`
	BSUID      string     `json:"bsuid,omitempty"`
	Phone      string     `json:"phone"`
	Tags       []string   `json:"tags"`
	OptedOut   bool       `json:"opted_out"`
	OptedOutAt *time.Time `json:"opted_out_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

var (
	waIDRe  = regexp.MustCompile(`^[0-9]{5,20}$`)
	bsuidRe = regexp.MustCompile(`^[A-Z]{2}\.[A-Za-z0-9]{4,128}$`)
	tagRe   = regexp.MustCompile(`^[\p{L}\p{N}_\-:. ]{1,50}$`)
)

// PhoneFromWaID turns a WhatsApp id into an E.164 phone number ("14155550123" → "+14155550123").
func PhoneFromWaID(waID string) string {
	if waID == "" {
		return ""
	}
	return "+" + strings.TrimPrefix(waID, "+")
}

// Validate checks the contact: it needs a WhatsApp id or a business-scoped id.
func (c *Contact) Validate() error {
	var p Problems
	p.Check(c.WaID != "" || c.BSUID != "", "wa_id", "A WhatsApp id or a business-scoped user id is required.")
	p.Check(c.WaID == "" || waIDRe.MatchString(c.WaID), "wa_id", "WhatsApp id must be the phone number in digits.")
	p.Check(c.BSUID == "" || bsuidRe.MatchString(c.BSUID), "bsuid", "Business-scoped user id must look like US.1234abcd.")
	p.Check(c.Phone == "" || ValidE164(c.Phone), "phone", "Phone must be in international form, e.g. +14155550123.")
	p.Check(utf8.RuneCountInString(c.Name) <= 256, "name", "Name must be at most 256 characters.")
	for _, t := range c.Tags {
		p.Check(tagRe.MatchString(t), "tags", "Tags are 1–50 letters, digits, spaces or _-:.")
	}
	return p.Err()
}
