package switchboard

import (
	"encoding/json"
	"strconv"
	"time"
)

// InboundBatch is what one webhook delivery carries for one channel, in the domain's terms: customer
// messages, delivery statuses of our messages, and other channel events. It is stored in one
// transaction.
type InboundBatch struct {
	Messages  []InboundMessage
	Statuses  []StatusUpdate
	Events    []ChannelEvent
	Templates []TemplateStatusChange
	// NeedsWork, when set, is asked inside the ingestion transaction whether a stored customer message
	// needs its inbound job (automations, routing, the AI agent); nil enqueues one for every message.
	NeedsWork func(InboundWork) bool
}

// ChannelInbound is one webhook's batch for one of the channels it concerns: the unit that
// ingestion stores, alone or grouped with others in one transaction.
type ChannelInbound struct {
	Channel *Channel
	Batch   *InboundBatch
}

// InboundWork is what the ingestion knows about a customer message it has just stored, as it decides
// whether the inbound job would do anything for it. Most messages of a busy inbox belong to open
// conversations a person already owns, where nothing is to be sent, routed or answered: skipping their
// jobs is most of the cost of a message.
type InboundWork struct {
	Channel *Channel
	// Conversation is the conversation with this message counted (its assignee, status, window).
	Conversation *Conversation
	Message      *Message
	Job          InboundJob
	// AwaySentFor is the closed period the conversation's away message was last sent for, if any.
	AwaySentFor *time.Time
}

// InboundMessage is one customer message with the contact it came from. Exactly one of Message,
// Reaction, NumberChange or RevokedID describes what happened.
type InboundMessage struct {
	WaID        string
	BSUID       string
	ProfileName string
	// Message is stored as a new message (Type, Text, ExternalID, Timestamp, Media, ReplyTo, Payload).
	Message *Message
	// Reaction changes the reactions of an earlier message instead of adding one.
	Reaction *ReactionChange
	// NumberChange moves the contact to a new WhatsApp id.
	NumberChange *NumberChange
	// RevokedID is the wamid of a message the customer deleted.
	RevokedID  string
	ExternalID string
	Timestamp  time.Time
}

// ReactionChange is a customer's reaction to a message, or its removal.
type ReactionChange struct {
	TargetExternalID string
	Emoji            string
	Removed          bool
}

// NumberChange is a customer moving to a new phone number.
type NumberChange struct {
	OldWaID string
	NewWaID string
	Text    string
}

// StatusUpdate is Meta's news about a message we sent: sent, delivered, read, played or failed.
type StatusUpdate struct {
	ExternalID string
	Status     string
	At         time.Time
	Error      *MessageError
	Payload    json.RawMessage
}

// ChannelEvent is anything else Meta reports about a channel (template status, quality rating,
// account updates), kept for admins.
type ChannelEvent struct {
	Field   string
	Payload json.RawMessage
}

// InboundJobKind is the kind of job that processes a stored customer message (automations,
// assignment, the AI agent).
const InboundJobKind = "inbound"

// InboundJob is the payload of an inbound job.
type InboundJob struct {
	ConversationID int64 `json:"conversation_id"`
	MessageID      int64 `json:"message_id"`
	// NewConversation is set when the message started a conversation; Reopened when it reopened one.
	NewConversation bool `json:"new_conversation"`
	Reopened        bool `json:"reopened"`
}

// ConversationJobKey orders the jobs of one conversation.
func ConversationJobKey(id int64) string { return "conversation:" + strconv.FormatInt(id, 10) }

// IngestResult tells what a stored batch changed.
type IngestResult struct {
	// Messages counts new messages; Duplicates those already stored (Meta's retries).
	Messages   int
	Duplicates int
	Statuses   int
	Parked     int
	// Events are the changes to publish to agents, already written to the event log.
	Events []Event
}

// MediaJobKind is the kind of job that downloads an inbound attachment from Meta.
const MediaJobKind = "media.fetch"

// MediaJob is the payload of a media job. ChannelID and Media are the message's as it was stored, so
// that the job need not read it (a job queued by an earlier version has only the message id).
type MediaJob struct {
	MessageID int64  `json:"message_id"`
	ChannelID int64  `json:"channel_id,omitempty"`
	Media     *Media `json:"media,omitempty"`
}

// SendJobKind is the kind of job that sends one outbound message through the Graph API.
const SendJobKind = "send"

// SendMaxAttempts is how often a send is tried before the message fails: with the Graph API's
// transient errors retried at most 15 s apart, about four minutes of outage lose nothing, and the
// queue resumes within 15 s of the API's return.
const SendMaxAttempts = 20

// SendJob is the payload of a send job.
type SendJob struct {
	MessageID int64 `json:"message_id"`
}

// TemplateStatusChange is Meta's news that a template was approved, rejected, paused, disabled...
type TemplateStatusChange struct {
	ExternalID string
	Name       string
	Language   string
	Status     string
	Reason     string
}

// DeadLetter is a correctly signed webhook that could not be understood, kept for admins to inspect
// and replay.
type DeadLetter struct {
	ID         int64     `json:"id"`
	ChannelID  *int64    `json:"channel_id"`
	Body       string    `json:"body"`
	Error      string    `json:"error"`
	ReceivedAt time.Time `json:"received_at"`
}
