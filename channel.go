package switchboard

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ChannelTypeWhatsApp is the only channel type today: a WhatsApp Business number on Meta's Cloud API.
const ChannelTypeWhatsApp = "whatsapp"

// Channel status values. A channel whose token Meta rejected (error 190) is flagged so admins see it.
const (
	ChannelActive       = "active"
	ChannelTokenInvalid = "token_invalid"
)

// Assignment modes for a channel's human agents.
const (
	AssignByLoad       = "load"
	AssignByRoundRobin = "round_robin"
)

// Channel is a connected WhatsApp Business phone number. APIKey and AppSecret are plaintext in memory
// only: the store encrypts them at rest and the API never returns them.
type Channel struct {
	ID                int64           `json:"id"`
	Type              string          `json:"type"`
	Name              string          `json:"name"`
	PhoneNumber       string          `json:"phone_number"`
	PhoneNumberID     string          `json:"phone_number_id"`
	BusinessAccountID string          `json:"business_account_id"`
	APIKey            string          `json:"-"`
	AppSecret         string          `json:"-"`
	VerifyToken       string          `json:"verify_token"`
	Status            string          `json:"status"`
	StatusReason      string          `json:"status_reason,omitempty"`
	Sandbox           bool            `json:"sandbox"`
	AssignmentMode    string          `json:"assignment_mode"`
	AIAgentID         *int64          `json:"ai_agent_id"`
	DefaultCapacity   int             `json:"default_capacity"`
	Settings          ChannelSettings `json:"settings"`
	CreatedAt         time.Time       `json:"created_at"`
	UpdatedAt         time.Time       `json:"updated_at"`
	DeletedAt         *time.Time      `json:"deleted_at,omitempty"`
}

var (
	e164Re    = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	numericRe = regexp.MustCompile(`^[0-9]{1,30}$`)
)

// ValidE164 reports whether s is a phone number in E.164 form, e.g. +14155550123.
func ValidE164(s string) bool { return e164Re.MatchString(s) }

// ValidNumericID reports whether s is a Meta object id (digits only).
func ValidNumericID(s string) bool { return numericRe.MatchString(s) }

// DefaultChannelCapacity is a member's capacity when neither the member nor the channel sets one.
const DefaultChannelCapacity = 10

// Validate checks the channel's fields, including its settings.
func (c *Channel) Validate() error {
	var p Problems
	p.Check(c.Type == ChannelTypeWhatsApp, "type", `Type must be "whatsapp".`)
	p.Check(strings.TrimSpace(c.Name) != "", "name", "Name is required.")
	p.Check(utf8.RuneCountInString(c.Name) <= 100, "name", "Name must be at most 100 characters.")
	p.Check(ValidE164(c.PhoneNumber), "phone_number", "Enter the number in international form, e.g. +14155550123.")
	p.Check(ValidNumericID(c.PhoneNumberID), "phone_number_id", "Phone number ID is the numeric ID from Meta's WhatsApp Manager.")
	p.Check(ValidNumericID(c.BusinessAccountID), "business_account_id", "Business account ID is the numeric WABA ID from Meta.")
	p.Check(strings.TrimSpace(c.APIKey) != "", "api_key", "API key (the permanent access token) is required.")
	p.Check(len(c.APIKey) <= 1024, "api_key", "API key is too long.")
	p.Check(strings.TrimSpace(c.AppSecret) != "", "app_secret", "App secret is required to verify Meta's webhooks.")
	p.Check(len(c.AppSecret) <= 256, "app_secret", "App secret is too long.")
	p.Check(len(c.VerifyToken) >= 16, "verify_token", "Verify token must be at least 16 characters.")
	p.Check(c.AssignmentMode == AssignByLoad || c.AssignmentMode == AssignByRoundRobin, "assignment_mode", `Mode must be "load" or "round_robin".`)
	p.Check(c.DefaultCapacity >= 0 && c.DefaultCapacity <= MaxCapacity, "default_capacity", "Capacity must be between 0 and 1000.")
	p.Merge("settings", c.Settings.Validate())
	return p.Err()
}

// ChannelSettings are the automations of a channel (DESIGN §4). Absent parts keep their defaults.
type ChannelSettings struct {
	Greeting          GreetingSettings `json:"greeting"`
	CSAT              CSATSettings     `json:"csat"`
	BusinessHours     BusinessHours    `json:"business_hours"`
	Keywords          []KeywordRule    `json:"keywords"`
	ReopenWindowHours int              `json:"reopen_window_hours"`
}

// DefaultReopenWindowHours is how long after resolution a customer message reopens the conversation
// instead of starting a new one.
const DefaultReopenWindowHours = 24

// DefaultChannelSettings returns the settings of a new channel: every automation off, the default
// opt-out/opt-in/help keywords ready to enable.
func DefaultChannelSettings() ChannelSettings {
	return ChannelSettings{
		Greeting: GreetingSettings{Text: "Hi! Thanks for contacting us. An agent will be with you shortly."},
		CSAT:     CSATSettings{ExpiryHours: DefaultCSATExpiryHours},
		BusinessHours: BusinessHours{
			Timezone:    "UTC",
			AwayMessage: "Thanks for your message. We're closed right now and will reply when we're back.",
			Weekly:      map[string][]Interval{},
		},
		Keywords: []KeywordRule{
			{Category: KeywordOptOut, Keywords: []string{"STOP", "UNSUBSCRIBE"}, Response: "You have been unsubscribed. Reply START to subscribe again."},
			{Category: KeywordOptIn, Keywords: []string{"START", "SUBSCRIBE"}, Response: "You are subscribed again. Reply STOP to unsubscribe."},
			{Category: KeywordHelp, Keywords: []string{"HELP"}, Response: "Write your question here and our team will answer. Reply STOP to unsubscribe."},
		},
		ReopenWindowHours: DefaultReopenWindowHours,
	}
}

// Normalize replaces absent lists and maps with empty ones, so clients always get arrays and objects.
func (s *ChannelSettings) Normalize() {
	if s.Keywords == nil {
		s.Keywords = []KeywordRule{}
	}
	if s.BusinessHours.Weekly == nil {
		s.BusinessHours.Weekly = map[string][]Interval{}
	}
	if s.BusinessHours.Overrides == nil {
		s.BusinessHours.Overrides = []DateOverride{}
	}
}

// Validate checks every part of the settings.
func (s *ChannelSettings) Validate() error {
	var p Problems
	p.Merge("greeting", s.Greeting.Validate())
	p.Merge("csat", s.CSAT.Validate())
	p.Merge("business_hours", s.BusinessHours.Validate())
	seen := map[string]string{}
	for i, k := range s.Keywords {
		field := "keywords." + strconv.Itoa(i)
		p.Merge(field, k.Validate())
		for _, w := range k.Keywords {
			key := strings.ToLower(strings.TrimSpace(w))
			if other, dup := seen[key]; dup {
				p.Add(field+".keywords", "Keyword \""+w+"\" is already used by "+other+".")
			}
			seen[key] = string(k.Category)
		}
	}
	p.Check(s.ReopenWindowHours >= 0 && s.ReopenWindowHours <= 24*90, "reopen_window_hours", "Reopen window must be between 0 and 2160 hours.")
	return p.Err()
}

// GreetingSettings configure the message sent when a new conversation starts.
type GreetingSettings struct {
	Enabled bool   `json:"enabled"`
	Text    string `json:"text"`
	// OnReopen also greets when a resolved conversation is reopened.
	OnReopen bool `json:"on_reopen"`
}

// MaxTextLength is WhatsApp's limit for a text message body.
const MaxTextLength = 4096

// Validate checks the greeting.
func (g *GreetingSettings) Validate() error {
	var p Problems
	p.Check(!g.Enabled || strings.TrimSpace(g.Text) != "", "text", "Greeting text is required when the greeting is on.")
	p.Check(utf8.RuneCountInString(g.Text) <= MaxTextLength, "text", "Greeting must be at most 4096 characters.")
	return p.Err()
}

// DefaultCSATExpiryHours is how long a CSAT survey waits for an answer.
const DefaultCSATExpiryHours = 24

// CSATSettings configure the satisfaction survey sent when a conversation is resolved.
type CSATSettings struct {
	Enabled     bool   `json:"enabled"`
	Question    string `json:"question,omitempty"`
	ExpiryHours int    `json:"expiry_hours"`
	// AskComment sends a follow-up asking for an optional comment after the rating.
	AskComment bool `json:"ask_comment"`
	// TemplateName, when set, sends the survey as this approved template when the window is closed.
	TemplateName     string `json:"template_name,omitempty"`
	TemplateLanguage string `json:"template_language,omitempty"`
}

// Validate checks the CSAT settings.
func (c *CSATSettings) Validate() error {
	var p Problems
	p.Check(c.ExpiryHours >= 0 && c.ExpiryHours <= 24*7, "expiry_hours", "Expiry must be between 0 and 168 hours.")
	p.Check(utf8.RuneCountInString(c.Question) <= 1024, "question", "Question must be at most 1024 characters.")
	p.Check(c.TemplateName == "" || c.TemplateLanguage != "", "template_language", "Template language is required with a template.")
	return p.Err()
}

// KeywordCategory is what a keyword reply does besides answering.
type KeywordCategory string

// The keyword categories.
const (
	KeywordOptIn  KeywordCategory = "opt_in"
	KeywordOptOut KeywordCategory = "opt_out"
	KeywordHelp   KeywordCategory = "help"
)

// KeywordRule answers a customer message that is exactly one of Keywords (case-insensitive, trimmed).
type KeywordRule struct {
	Category KeywordCategory `json:"category"`
	Enabled  *bool           `json:"enabled,omitempty"`
	Keywords []string        `json:"keywords"`
	Response string          `json:"response"`
}

// IsEnabled reports whether the rule is on; rules are on unless explicitly disabled.
func (k KeywordRule) IsEnabled() bool { return k.Enabled == nil || *k.Enabled }

// Matches reports whether text is one of the rule's keywords.
func (k KeywordRule) Matches(text string) bool {
	t := strings.TrimSpace(text)
	for _, w := range k.Keywords {
		if strings.EqualFold(t, strings.TrimSpace(w)) {
			return true
		}
	}
	return false
}

// Validate checks the keyword rule.
func (k *KeywordRule) Validate() error {
	var p Problems
	p.Check(k.Category == KeywordOptIn || k.Category == KeywordOptOut || k.Category == KeywordHelp, "category", `Category must be "opt_in", "opt_out" or "help".`)
	p.Check(len(k.Keywords) > 0, "keywords", "At least one keyword is required.")
	for _, w := range k.Keywords {
		p.Check(strings.TrimSpace(w) != "", "keywords", "Keywords cannot be blank.")
		p.Check(utf8.RuneCountInString(w) <= 50, "keywords", "Keywords must be at most 50 characters.")
	}
	p.Check(utf8.RuneCountInString(k.Response) <= MaxTextLength, "response", "Response must be at most 4096 characters.")
	return p.Err()
}
