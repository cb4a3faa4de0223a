package switchboard

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Message directions.
const (
	Inbound  = "inbound"
	Outbound = "outbound"
)

// Message senders.
const (
	SenderCustomer = "customer"
	SenderAgent    = "agent"
	SenderAI       = "ai"
	SenderSystem   = "system"
)

// Message types beyond WhatsApp's own (text, image, audio, video, document, sticker, location, contacts,
// interactive, button, order, system, unsupported, template): a private note and an activity line.
const (
	TypeText     = "text"
	TypeTemplate = "template"
	TypeNote     = "note"
	TypeActivity = "activity"
)

// Message statuses. Outbound messages move queued → sent → delivered → read (→ played), never
// backwards; failed is final. Inbound messages are received.
const (
	MsgReceived  = "received"
	MsgQueued    = "queued"
	MsgSent      = "sent"
	MsgDelivered = "delivered"
	MsgRead      = "read"
	MsgPlayed    = "played"
	MsgFailed    = "failed"
)

// statusRank orders the delivery statuses; a status webhook applies only when it ranks higher.
var statusRank = map[string]int{MsgQueued: 0, MsgSent: 1, MsgDelivered: 2, MsgRead: 3, MsgPlayed: 4}

// StatusRank returns the rank of an outbound status, or -1 for failed and unknown values.
func StatusRank(s string) int {
	if r, ok := statusRank[s]; ok {
		return r
	}
	return -1
}

// MessageError is Meta's reason for a failed message.
type MessageError struct {
	Code    int    `json:"code"`
	Title   string `json:"title"`
	Details string `json:"details,omitempty"`
}

// Media describes an attachment. Bytes are fetched from Meta by a job and kept in the data directory
// by SHA-256; MediaStatus tells the agent's screen whether they can be shown.
type Media struct {
	ExternalID string `json:"external_id,omitempty"`
	MimeType   string `json:"mime_type"`
	SHA256     string `json:"sha256,omitempty"`
	Filename   string `json:"filename,omitempty"`
	Size       int64  `json:"size,omitempty"`
	Voice      bool   `json:"voice,omitempty"`
	Status     string `json:"status"` // pending, ready, unavailable
	URL        string `json:"url,omitempty"`
}

// Media statuses.
const (
	MediaPending     = "pending"
	MediaReady       = "ready"
	MediaUnavailable = "unavailable"
)

// Reaction is an emoji a customer or agent put on a message.
type Reaction struct {
	Emoji  string    `json:"emoji"`
	Sender string    `json:"sender"`
	At     time.Time `json:"at"`
}

// Message is one item of a conversation: a customer's message, a reply, a private note or an
// activity line (assignment, handoff, CSAT...). ExternalID is the wamid, unique per channel.
type Message struct {
	ID             int64           `json:"id"`
	ConversationID int64           `json:"conversation_id"`
	ChannelID      int64           `json:"channel_id"`
	Direction      string          `json:"direction"`
	Sender         string          `json:"sender"`
	SenderID       *int64          `json:"sender_id,omitempty"`
	SenderName     string          `json:"sender_name,omitempty"`
	Type           string          `json:"type"`
	Text           string          `json:"text"`
	Private        bool            `json:"private"`
	ExternalID     string          `json:"external_id,omitempty"`
	Status         string          `json:"status"`
	Error          *MessageError   `json:"error"`
	Media          *Media          `json:"media,omitempty"`
	Reactions      []Reaction      `json:"reactions"`
	ReplyTo        string          `json:"reply_to,omitempty"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	ClientID       string          `json:"client_id,omitempty"`
	Timestamp      *time.Time      `json:"timestamp,omitempty"`
	SentAt         *time.Time      `json:"sent_at,omitempty"`
	DeliveredAt    *time.Time      `json:"delivered_at,omitempty"`
	ReadAt         *time.Time      `json:"read_at,omitempty"`
	FailedAt       *time.Time      `json:"failed_at,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
}

// Validate checks the message's fields.
func (m *Message) Validate() error {
	var p Problems
	p.Check(m.ConversationID > 0, "conversation_id", "Conversation is required.")
	p.Check(m.Direction == Inbound || m.Direction == Outbound, "direction", `Direction must be "inbound" or "outbound".`)
	switch m.Sender {
	case SenderCustomer, SenderAgent, SenderAI, SenderSystem:
	default:
		p.Add("sender", "Unknown sender.")
	}
	p.Check(m.Type != "", "type", "Type is required.")
	p.Check(m.Direction != Inbound || m.Sender == SenderCustomer, "sender", "Inbound messages come from the customer.")
	p.Check(!m.Private || m.Type == TypeNote, "private", "Only notes are private.")
	if m.Type == TypeText || m.Type == TypeNote {
		p.Check(strings.TrimSpace(m.Text) != "", "text", "Text is required.")
	}
	p.Check(utf8.RuneCountInString(m.Text) <= MaxTextLength, "text", "Text must be at most 4096 characters.")
	p.Check(!strings.ContainsRune(m.Text, 0), "text", "Text must not contain NUL characters.")
	p.Check(len(m.ClientID) <= 100, "client_id", "Client id must be at most 100 characters.")
	return p.Err()
}
