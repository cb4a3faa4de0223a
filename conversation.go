package switchboard

import "time"

// Conversation statuses.
const (
	StatusOpen     = "open"
	StatusPending  = "pending"
	StatusResolved = "resolved"
)

// Assignee kinds: a conversation is owned by a person or by an AI agent.
const (
	AssigneeHuman = "human"
	AssigneeAI    = "ai"
)

// WindowDuration is WhatsApp's customer-service window: free-form messages may be sent for 24 hours
// after the customer's last message.
const WindowDuration = 24 * time.Hour

// Assignee is who owns a conversation.
type Assignee struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Conversation is one thread between a contact and a channel. At most one conversation per (contact,
// channel) is open or pending at a time; a resolved one is reopened by a new customer message within
// the channel's reopen window, otherwise a new conversation starts.
type Conversation struct {
	ID        int64     `json:"id"`
	ChannelID int64     `json:"channel_id"`
	ContactID int64     `json:"contact_id"`
	Contact   *Contact  `json:"contact,omitempty"`
	Status    string    `json:"status"`
	Assignee  *Assignee `json:"assignee"`
	TeamID    *int64    `json:"team_id"`
	// AIHandedOff is set when the AI agent handed the conversation to people; the AI does not answer it
	// again unless it is explicitly assigned back.
	AIHandedOff     bool       `json:"ai_handed_off"`
	LastInboundAt   *time.Time `json:"last_inbound_at"`
	WindowExpiresAt *time.Time `json:"window_expires_at"`
	LastMessageAt   *time.Time `json:"last_message_at"`
	LastMessage     string     `json:"last_message_preview"`
	UnreadCount     int        `json:"unread_count"`
	// WaitingSince is when the conversation started waiting in its queue for an eligible assignee.
	WaitingSince *time.Time `json:"waiting_since"`
	AssignedAt   *time.Time `json:"assigned_at"`
	ResolvedAt   *time.Time `json:"resolved_at"`
	Resolutions  int        `json:"resolutions"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// ValidStatus reports whether s is a conversation status.
func ValidStatus(s string) bool { return s == StatusOpen || s == StatusPending || s == StatusResolved }

// WindowOpen reports whether a free-form message may be sent at now.
func (c *Conversation) WindowOpen(now time.Time) bool {
	return c.LastInboundAt != nil && now.Before(c.LastInboundAt.Add(WindowDuration))
}

// SetWindow derives WindowExpiresAt from LastInboundAt.
func (c *Conversation) SetWindow() {
	if c.LastInboundAt == nil {
		c.WindowExpiresAt = nil
		return
	}
	t := c.LastInboundAt.Add(WindowDuration)
	c.WindowExpiresAt = &t
}

// Validate checks the conversation's fields.
func (c *Conversation) Validate() error {
	var p Problems
	p.Check(c.ChannelID > 0, "channel_id", "Channel is required.")
	p.Check(c.ContactID > 0, "contact_id", "Contact is required.")
	p.Check(ValidStatus(c.Status), "status", `Status must be "open", "pending" or "resolved".`)
	if c.Assignee != nil {
		p.Check(c.Assignee.Kind == AssigneeHuman || c.Assignee.Kind == AssigneeAI, "assignee.kind", `Kind must be "human" or "ai".`)
		p.Check(c.Assignee.ID > 0, "assignee.id", "Assignee id is required.")
	}
	return p.Err()
}
