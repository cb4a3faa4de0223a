package switchboard

import (
	"encoding/json"
	"time"
)

// Event types published after a commit and delivered to the agents allowed to see them.
const (
	EventMessageCreated       = "message.created"
	EventMessageUpdated       = "message.updated"
	EventConversationCreated  = "conversation.created"
	EventConversationUpdated  = "conversation.updated"
	EventConversationAssigned = "conversation.assigned"
	EventConversationResolved = "conversation.resolved"
	EventPresenceUpdated      = "presence.updated"
	EventTyping               = "typing"
	EventChannelUpdated       = "channel.updated"
)

// Event is a change worth telling agents about. Seq is global and increases monotonically so a
// reconnecting client can ask for what it missed. ChannelID scopes who may see it (0: admins only,
// or everyone for presence).
type Event struct {
	Seq            int64           `json:"seq"`
	Type           string          `json:"type"`
	ChannelID      int64           `json:"channel_id,omitempty"`
	ConversationID int64           `json:"conversation_id,omitempty"`
	Data           json.RawMessage `json:"data"`
	CreatedAt      time.Time       `json:"created_at"`
}

// Validate checks the event's fields.
func (e *Event) Validate() error {
	var p Problems
	p.Check(e.Type != "", "type", "Type is required.")
	p.Check(len(e.Data) == 0 || json.Valid(e.Data), "data", "Data must be JSON.")
	return p.Err()
}
