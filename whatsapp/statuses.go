package whatsapp

import (
	"encoding/json"
	"time"
)

// Status values documented for the Cloud API. Meta may add others; Status.Status keeps any value raw.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusPlayed    = "played"
	StatusFailed    = "failed"
)

// Ranks returned by StatusRank and Status.Rank.
const (
	RankUnknown   = 0
	RankSent      = 1
	RankDelivered = 2
	RankRead      = 3
	RankPlayed    = 4
	RankFailed    = 5
)

// Status is one statuses[] item: news about a message we sent.
type Status struct {
	// ID is the wamid of our message, as returned by Send.
	ID string
	// Status is the value as sent (sent, delivered, read, played, failed, or anything new).
	Status    string
	Timestamp time.Time
	// RecipientID is the user's wa_id (or a group id).
	RecipientID string
	// RecipientType is "group" for group messages, else usually empty.
	RecipientType string
	// RecipientParticipantID is the group member a group status is about.
	RecipientParticipantID string
	// RecipientUserID is the recipient's BSUID when Meta sends one.
	RecipientUserID string
	// RecipientIdentityKeyHash is present when the identity-change check is enabled.
	RecipientIdentityKeyHash string
	// BizOpaqueCallbackData echoes what we set on the send.
	BizOpaqueCallbackData string
	// Conversation is the billing conversation; webhooks of v24.0 and later usually omit it.
	Conversation *StatusConversation
	// Pricing comes with sent and with one of delivered/read.
	Pricing *Pricing
	// Errors explain a failed status (e.g. 131047, 131026).
	Errors []Error
	// Raw is the original statuses[] item.
	Raw json.RawMessage
}

// StatusConversation is statuses[].conversation.
type StatusConversation struct {
	ID string
	// ExpiresAt is expiration_timestamp, only on "sent".
	ExpiresAt  time.Time
	OriginType string
}

// Pricing is statuses[].pricing.
type Pricing struct {
	// Billable is deprecated by Meta but still sent.
	Billable bool
	// PricingModel is "PMP" (per message) or "CBP" (before July 2025).
	PricingModel string
	// Type is regular, free_customer_service or free_entry_point.
	Type     string
	Category string
}

// StatusRank orders delivery states so callers can apply statuses monotonically, whatever order Meta
// delivers them in (it does not guarantee one, and duplicates are normal):
//
//	sent=1 < delivered=2 < read=3 < played=4 < failed=5, anything else 0.
//
// The rule: apply a status only when its rank is greater than the stored one. A late sent or delivered
// then never moves a message backwards, and failed, ranking highest, is final: nothing after it applies.
// Record failed separately as well (with its Errors), because it is an outcome rather than a step.
// Unknown values rank 0, never change the state, and should be stored raw. "read" implies delivered:
// Meta skips delivered when the user has the chat open.
func StatusRank(status string) int {
	switch status {
	case StatusSent:
		return RankSent
	case StatusDelivered:
		return RankDelivered
	case StatusRead:
		return RankRead
	case StatusPlayed:
		return RankPlayed
	case StatusFailed:
		return RankFailed
	}
	return RankUnknown
}

// Rank is StatusRank of s.Status; see StatusRank for the rule it supports.
func (s Status) Rank() int { return StatusRank(s.Status) }

// Failed reports whether the status is a failure.
func (s Status) Failed() bool { return s.Status == StatusFailed }

type statusWire struct {
	ID                       flexString      `json:"id"`
	Status                   flexString      `json:"status"`
	Timestamp                flexTime        `json:"timestamp"`
	RecipientID              flexString      `json:"recipient_id"`
	RecipientType            flexString      `json:"recipient_type"`
	RecipientParticipantID   flexString      `json:"recipient_participant_id"`
	RecipientUserID          flexString      `json:"recipient_user_id"`
	RecipientIdentityKeyHash flexString      `json:"recipient_identity_key_hash"`
	BizOpaqueCallbackData    flexString      `json:"biz_opaque_callback_data"`
	Conversation             json.RawMessage `json:"conversation"`
	Pricing                  json.RawMessage `json:"pricing"`
	Errors                   json.RawMessage `json:"errors"`
}

type conversationWire struct {
	ID                  flexString `json:"id"`
	ExpirationTimestamp flexTime   `json:"expiration_timestamp"`
	Origin              struct {
		Type flexString `json:"type"`
	} `json:"origin"`
}

type pricingWire struct {
	Billable     flexBool   `json:"billable"`
	PricingModel flexString `json:"pricing_model"`
	Type         flexString `json:"type"`
	Category     flexString `json:"category"`
}

// parseStatus decodes one statuses[] item; conversation, pricing and errors decode independently.
func parseStatus(raw json.RawMessage) Status {
	var w statusWire
	decodeTolerant(raw, &w)
	s := Status{
		ID: string(w.ID), Status: string(w.Status), Timestamp: w.Timestamp.Time(),
		RecipientID: string(w.RecipientID), RecipientType: string(w.RecipientType),
		RecipientParticipantID: string(w.RecipientParticipantID), RecipientUserID: string(w.RecipientUserID),
		RecipientIdentityKeyHash: string(w.RecipientIdentityKeyHash),
		BizOpaqueCallbackData:    string(w.BizOpaqueCallbackData), Raw: raw,
	}
	var conv conversationWire
	if decodeTolerant(w.Conversation, &conv) {
		s.Conversation = &StatusConversation{
			ID: string(conv.ID), ExpiresAt: conv.ExpirationTimestamp.Time(), OriginType: string(conv.Origin.Type),
		}
	}
	var p pricingWire
	if decodeTolerant(w.Pricing, &p) {
		s.Pricing = &Pricing{
			Billable: bool(p.Billable), PricingModel: string(p.PricingModel),
			Type: string(p.Type), Category: string(p.Category),
		}
	}
	s.Errors = parseErrors(w.Errors)
	return s
}

// TemplateStatusUpdate is the value of a message_template_status_update change: a template was
// approved, rejected, paused, disabled, archived, and so on. Refresh the template cache on it.
type TemplateStatusUpdate struct {
	// Event is the new state or event (APPROVED, REJECTED, PAUSED, DISABLED, FLAGGED, REINSTATED, ...).
	Event string
	// TemplateID is message_template_id, an integer in Meta's JSON, kept as its decimal text.
	TemplateID string
	Name       string
	Language   string
	// Reason is Meta's reason ("NONE" on approval).
	Reason   string
	Category string
	// DisableDate is disable_info.disable_date, when the template is (to be) disabled.
	DisableDate string
	// InfoTitle and InfoDescription are other_info, sent when a template is locked or unlocked.
	InfoTitle       string
	InfoDescription string
	// RejectionReason and RejectionRecommendation are rejection_info, for INVALID_FORMAT rejections.
	RejectionReason         string
	RejectionRecommendation string
}

type templateUpdateWire struct {
	Event       flexString `json:"event"`
	ID          flexString `json:"message_template_id"`
	Name        flexString `json:"message_template_name"`
	Language    flexString `json:"message_template_language"`
	Reason      flexString `json:"reason"`
	Category    flexString `json:"message_template_category"`
	DisableInfo struct {
		DisableDate flexString `json:"disable_date"`
	} `json:"disable_info"`
	OtherInfo struct {
		Title       flexString `json:"title"`
		Description flexString `json:"description"`
	} `json:"other_info"`
	RejectionInfo struct {
		Reason         flexString `json:"reason"`
		Recommendation flexString `json:"recommendation"`
	} `json:"rejection_info"`
}

func parseTemplateUpdate(value json.RawMessage) *TemplateStatusUpdate {
	var w templateUpdateWire
	decodeTolerant(value, &w)
	return &TemplateStatusUpdate{
		Event: string(w.Event), TemplateID: string(w.ID), Name: string(w.Name), Language: string(w.Language),
		Reason: string(w.Reason), Category: string(w.Category), DisableDate: string(w.DisableInfo.DisableDate),
		InfoTitle: string(w.OtherInfo.Title), InfoDescription: string(w.OtherInfo.Description),
		RejectionReason:         string(w.RejectionInfo.Reason),
		RejectionRecommendation: string(w.RejectionInfo.Recommendation),
	}
}

// PhoneNumberQualityUpdate is the value of a phone_number_quality_update change: the number's quality
// or messaging limit moved. Meta is replacing current_limit by max_daily_conversations_per_business;
// both are read.
type PhoneNumberQualityUpdate struct {
	DisplayPhoneNumber string
	// Event is e.g. FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE.
	Event string
	// CurrentLimit is current_limit (deprecated; e.g. TIER_10K).
	CurrentLimit string
	// MaxDailyConversations is max_daily_conversations_per_business (e.g. TIER_2K or a number).
	MaxDailyConversations string
	OldLimit              string
}

func parseQualityUpdate(value json.RawMessage) *PhoneNumberQualityUpdate {
	var w struct {
		DisplayPhoneNumber flexString `json:"display_phone_number"`
		Event              flexString `json:"event"`
		CurrentLimit       flexString `json:"current_limit"`
		MaxDaily           flexString `json:"max_daily_conversations_per_business"`
		OldLimit           flexString `json:"old_limit"`
	}
	decodeTolerant(value, &w)
	return &PhoneNumberQualityUpdate{
		DisplayPhoneNumber: string(w.DisplayPhoneNumber), Event: string(w.Event),
		CurrentLimit: string(w.CurrentLimit), MaxDailyConversations: string(w.MaxDaily), OldLimit: string(w.OldLimit),
	}
}
