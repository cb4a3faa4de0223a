package switchboard

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a signed-in person may do. Admins configure everything; agents work the conversations
// of the channels they belong to.
type Role string

// The roles.
const (
	RoleAdmin Role = "admin"
	RoleAgent Role = "agent"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleAgent }

// Availability is what an agent says about themselves: available to take conversations, or away.
// Being online additionally needs a live connection (see presence in the routing package).
type Availability string

// The availabilities.
const (
	Available Availability = "available"
	Away      Availability = "away"
)

// Valid reports whether a is a known availability.
func (a Availability) Valid() bool { return a == Available || a == Away }

// MinPasswordLength is the shortest password accepted for a human agent.
const MinPasswordLength = 10

// Agent is a person who signs in: an admin or a support agent. AI agents are a separate type (AIAgent);
// both can be the assignee of a conversation (see Assignee).
type Agent struct {
	ID           int64        `json:"id"`
	Name         string       `json:"name"`
	Email        string       `json:"email"`
	Role         Role         `json:"role"`
	Availability Availability `json:"availability"`
	Disabled     bool         `json:"disabled"`
	// PasswordHash is the argon2id hash in PHC string format; never serialised.
	PasswordHash   string     `json:"-"`
	LastAssignedAt *time.Time `json:"last_assigned_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// NormalizeEmail lower-cases and trims an email address so that sign-in is case-insensitive.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Validate checks the agent's fields. The password is checked separately (ValidatePassword) because
// only its hash is stored.
func (a *Agent) Validate() error {
	var p Problems
	p.Check(strings.TrimSpace(a.Name) != "", "name", "Name is required.")
	p.Check(utf8.RuneCountInString(a.Name) <= 100, "name", "Name must be at most 100 characters.")
	p.Check(ValidEmail(a.Email), "email", "Enter a valid email address.")
	p.Check(a.Role.Valid(), "role", `Role must be "admin" or "agent".`)
	p.Check(a.Availability == "" || a.Availability.Valid(), "availability", `Availability must be "available" or "away".`)
	return p.Err()
}

// ValidEmail reports whether s is a plain email address (no display name).
func ValidEmail(s string) bool {
	if s == "" || len(s) > 254 {
		return false
	}
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && strings.Contains(s, "@")
}

// ValidatePassword checks a new password against the policy and returns an EINVALID error on the
// given field name.
func ValidatePassword(field, password string) error {
	var p Problems
	n := utf8.RuneCountInString(password)
	p.Check(n >= MinPasswordLength, field, "Password must be at least 10 characters.")
	p.Check(n <= 200, field, "Password must be at most 200 characters.")
	return p.Err()
}

// Team is a named group of agents; a routing rule can target a team.
type Team struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	AgentIDs  []int64   `json:"agent_ids"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks the team's fields.
func (t *Team) Validate() error {
	var p Problems
	p.Check(strings.TrimSpace(t.Name) != "", "name", "Name is required.")
	p.Check(utf8.RuneCountInString(t.Name) <= 100, "name", "Name must be at most 100 characters.")
	seen := map[int64]bool{}
	for _, id := range t.AgentIDs {
		p.Check(id > 0, "agent_ids", "Agent ids must be positive.")
		p.Check(!seen[id], "agent_ids", "An agent is listed twice.")
		seen[id] = true
	}
	return p.Err()
}

// ChannelMember makes a human agent part of a channel: they see its conversations and can be assigned
// them, up to Capacity open conversations at once.
type ChannelMember struct {
	ChannelID int64     `json:"channel_id"`
	AgentID   int64     `json:"agent_id"`
	Capacity  int       `json:"capacity"`
	CreatedAt time.Time `json:"created_at"`
}

// MaxCapacity bounds a member's capacity to a sane number.
const MaxCapacity = 1000

// Validate checks the membership's fields.
func (m *ChannelMember) Validate() error {
	var p Problems
	p.Check(m.ChannelID > 0, "channel_id", "Channel is required.")
	p.Check(m.AgentID > 0, "agent_id", "Agent is required.")
	p.Check(m.Capacity >= 0 && m.Capacity <= MaxCapacity, "capacity", "Capacity must be between 0 and 1000.")
	return p.Err()
}

// Session is a signed-in browser. Its ID is the SHA-256 of the opaque cookie value, so a database leak
// does not hand out live sessions. CSRFToken must accompany every cookie-authenticated write.
type Session struct {
	ID         string    `json:"-"`
	AgentID    int64     `json:"agent_id"`
	CSRFToken  string    `json:"-"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// Validate checks the session's fields.
func (s *Session) Validate() error {
	var p Problems
	p.Check(len(s.ID) == 64, "id", "Session id must be a hex SHA-256.")
	p.Check(s.AgentID > 0, "agent_id", "Agent is required.")
	p.Check(s.CSRFToken != "", "csrf_token", "CSRF token is required.")
	p.Check(s.ExpiresAt.After(s.CreatedAt), "expires_at", "Expiry must be after creation.")
	return p.Err()
}

// APIToken lets an integration call the API with "Authorization: Bearer <token>" on behalf of an agent.
// Only the SHA-256 of the token is stored; Prefix (the first characters) helps people recognise it.
type APIToken struct {
	ID         int64      `json:"id"`
	AgentID    int64      `json:"agent_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Hash       string     `json:"-"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Validate checks the token's fields.
func (t *APIToken) Validate() error {
	var p Problems
	p.Check(t.AgentID > 0, "agent_id", "Agent is required.")
	p.Check(strings.TrimSpace(t.Name) != "", "name", "Name is required.")
	p.Check(utf8.RuneCountInString(t.Name) <= 100, "name", "Name must be at most 100 characters.")
	p.Check(len(t.Hash) == 64, "hash", "Token hash must be a hex SHA-256.")
	p.Check(t.ExpiresAt == nil || t.ExpiresAt.After(t.CreatedAt), "expires_at", "Expiry must be in the future.")
	return p.Err()
}
