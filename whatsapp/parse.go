package whatsapp

import (
	"encoding/json"
	"fmt"
	"time"
)

// Webhook field names (changes[].field) that the parser gives typed views of. Every other field is kept
// in Change.Raw.
const (
	FieldMessages                 = "messages"
	FieldTemplateStatusUpdate     = "message_template_status_update"
	FieldPhoneNumberQualityUpdate = "phone_number_quality_update"
	FieldAccountUpdate            = "account_update"
)

// Change is one entry[].changes[] item with the entry it came from.
type Change struct {
	// WABAID is entry[].id, the WhatsApp Business Account id (not the phone number id).
	WABAID string
	// Time is entry[].time when Meta sends it (only some fields do), else zero.
	Time time.Time
	// Field is changes[].field, e.g. "messages" or "account_update", kept as sent.
	Field string
	// PhoneNumberID is value.metadata.phone_number_id: the channel routing key.
	PhoneNumberID string
	// DisplayPhoneNumber is value.metadata.display_phone_number (or value.display_phone_number).
	DisplayPhoneNumber string
	Contacts           []Contact
	Messages           []Message
	Statuses           []Status
	// Errors are out-of-band errors of the value (value.errors), not tied to one message.
	Errors []Error
	// TemplateUpdate is set for message_template_status_update changes.
	TemplateUpdate *TemplateStatusUpdate
	// QualityUpdate is set for phone_number_quality_update changes.
	QualityUpdate *PhoneNumberQualityUpdate
	// Raw is the change's value as sent, for fields without a typed view (account_update, ...).
	Raw json.RawMessage
}

// Contact is a value.contacts[] item: the WhatsApp user who sent the messages of the change.
type Contact struct {
	// WaID is the user's WhatsApp id (phone digits). Users with a username may arrive without it.
	WaID string
	// Name is the profile name the user set in WhatsApp.
	Name string
	// UserID is the business-scoped user id (BSUID, e.g. "US.1349...").
	UserID string
	// ParentUserID is the parent BSUID shared by linked business portfolios, when enabled.
	ParentUserID string
	// Username is the user's WhatsApp username, when they adopted one.
	Username string
	// IdentityKeyHash is present when the identity-change check is enabled.
	IdentityKeyHash string
}

// Error is an error Meta reports inside a webhook: on a message (e.g. 131052, 131051), on a failed
// status, or out of band. Classify sorts it like a send error of the same code.
type Error struct {
	Code    int    `json:"code"`
	Title   string `json:"title"`
	Message string `json:"message,omitempty"`
	// Details is error_data.details, the human explanation.
	Details string `json:"details,omitempty"`
	Href    string `json:"href,omitempty"`
}

// Error renders the code, title and details.
func (e Error) Error() string {
	s := fmt.Sprintf("whatsapp: error %d: %s", e.Code, firstNonEmpty(e.Title, e.Message))
	if e.Details != "" {
		s += ": " + e.Details
	}
	return s
}

// ContactFor returns the contact of the change that sent m, matched by wa_id or, for users without a
// phone number, by BSUID.
func (c *Change) ContactFor(m Message) (Contact, bool) {
	for _, ct := range c.Contacts {
		if (m.From != "" && ct.WaID == m.From) || (m.FromUserID != "" && ct.UserID == m.FromUserID) {
			return ct, true
		}
	}
	return Contact{}, false
}

type metadataWire struct {
	DisplayPhoneNumber flexString `json:"display_phone_number"`
	PhoneNumberID      flexString `json:"phone_number_id"`
}

type contactWire struct {
	Profile struct {
		Name     flexString `json:"name"`
		Username flexString `json:"username"`
	} `json:"profile"`
	WaID            flexString `json:"wa_id"`
	UserID          flexString `json:"user_id"`
	ParentUserID    flexString `json:"parent_user_id"`
	IdentityKeyHash flexString `json:"identity_key_hash"`
}

type errorWire struct {
	Code      flexInt    `json:"code"`
	Title     flexString `json:"title"`
	Message   flexString `json:"message"`
	ErrorData struct {
		Details flexString `json:"details"`
	} `json:"error_data"`
	Href flexString `json:"href"`
}

// valueWire is the value of a "messages" change; other fields' values decode into it harmlessly.
type valueWire struct {
	Metadata           metadataWire      `json:"metadata"`
	DisplayPhoneNumber flexString        `json:"display_phone_number"`
	Contacts           json.RawMessage   `json:"contacts"`
	Messages           []json.RawMessage `json:"messages"`
	Statuses           []json.RawMessage `json:"statuses"`
	Errors             json.RawMessage   `json:"errors"`
}

func parseChange(value json.RawMessage, field string) Change {
	c := Change{Field: field, Raw: value}
	var v valueWire
	decodeTolerant(value, &v)
	c.PhoneNumberID = string(v.Metadata.PhoneNumberID)
	c.DisplayPhoneNumber = firstNonEmpty(string(v.Metadata.DisplayPhoneNumber), string(v.DisplayPhoneNumber))
	for _, w := range decodeList[contactWire](v.Contacts) {
		c.Contacts = append(c.Contacts, Contact{
			WaID: string(w.WaID), Name: string(w.Profile.Name), UserID: string(w.UserID),
			ParentUserID: string(w.ParentUserID), Username: string(w.Profile.Username),
			IdentityKeyHash: string(w.IdentityKeyHash),
		})
	}
	for _, raw := range v.Messages {
		if isObject(raw) {
			c.Messages = append(c.Messages, parseMessage(raw))
		}
	}
	for _, raw := range v.Statuses {
		if isObject(raw) {
			c.Statuses = append(c.Statuses, parseStatus(raw))
		}
	}
	c.Errors = parseErrors(v.Errors)
	switch field {
	case FieldTemplateStatusUpdate:
		c.TemplateUpdate = parseTemplateUpdate(value)
	case FieldPhoneNumberQualityUpdate:
		c.QualityUpdate = parseQualityUpdate(value)
	}
	return c
}

func parseErrors(raw json.RawMessage) []Error {
	var out []Error
	for _, w := range decodeList[errorWire](raw) {
		out = append(out, Error{
			Code: int(w.Code), Title: string(w.Title), Message: string(w.Message),
			Details: string(w.ErrorData.Details), Href: string(w.Href),
		})
	}
	return out
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
