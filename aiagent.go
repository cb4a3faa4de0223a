package switchboard

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// What an AI agent does with a message it cannot read (an image, a voice note...).
const (
	UnreadableHandoff = "handoff"
	UnreadableReply   = "reply"
)

// DefaultHandoffPhrases are the customer phrases, in several languages, that hand a conversation from
// the AI agent to a person.
var DefaultHandoffPhrases = []string{
	"agent", "human", "person", "real person", "representative", "operator", "talk to someone",
	"humain", "conseiller", "un agent", "persona", "humano", "asesor", "mensch", "mitarbeiter",
	"operatore", "atendente",
}

// AIAgent answers customers through an OpenAI-compatible chat API until it hands the conversation to
// people. APIKey is encrypted at rest and never returned.
type AIAgent struct {
	ID               int64     `json:"id"`
	Name             string    `json:"name"`
	Model            string    `json:"model"`
	Instructions     string    `json:"instructions"`
	Knowledge        string    `json:"knowledge"`
	Temperature      float64   `json:"temperature"`
	TurnLimit        int       `json:"turn_limit"`
	BaseURL          string    `json:"base_url"`
	APIKey           string    `json:"-"`
	HasAPIKey        bool      `json:"has_api_key"`
	Enabled          bool      `json:"enabled"`
	HandoffMessage   string    `json:"handoff_message"`
	HandoffPhrases   []string  `json:"handoff_phrases"`
	UnreadableAction string    `json:"unreadable_action"`
	UnreadableReply  string    `json:"unreadable_reply"`
	TimeoutSeconds   int       `json:"timeout_seconds"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Validate checks the AI agent's fields.
func (a *AIAgent) Validate() error {
	var p Problems
	p.Check(strings.TrimSpace(a.Name) != "", "name", "Name is required.")
	p.Check(utf8.RuneCountInString(a.Name) <= 100, "name", "Name must be at most 100 characters.")
	p.Check(strings.TrimSpace(a.Model) != "", "model", "Model is required, e.g. gpt-4o-mini or llama3.1.")
	p.Check(utf8.RuneCountInString(a.Instructions) <= 20000, "instructions", "Instructions must be at most 20,000 characters.")
	p.Check(utf8.RuneCountInString(a.Knowledge) <= 200000, "knowledge", "Knowledge must be at most 200,000 characters.")
	p.Check(a.Temperature >= 0 && a.Temperature <= 2, "temperature", "Temperature must be between 0 and 2.")
	p.Check(a.TurnLimit >= 0 && a.TurnLimit <= 100, "turn_limit", "Turn limit must be between 0 (none) and 100.")
	p.Check(a.TimeoutSeconds >= 0 && a.TimeoutSeconds <= 300, "timeout_seconds", "Timeout must be between 0 and 300 seconds.")
	if a.BaseURL != "" {
		u, err := url.Parse(a.BaseURL)
		p.Check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", "base_url", "Base URL must be an http(s) URL, e.g. https://api.openai.com/v1.")
	}
	p.Check(utf8.RuneCountInString(a.HandoffMessage) <= MaxTextLength, "handoff_message", "Handoff message must be at most 4096 characters.")
	for _, ph := range a.HandoffPhrases {
		p.Check(strings.TrimSpace(ph) != "", "handoff_phrases", "Phrases cannot be blank.")
	}
	switch a.UnreadableAction {
	case "", UnreadableHandoff:
	case UnreadableReply:
		p.Check(strings.TrimSpace(a.UnreadableReply) != "", "unreadable_reply", "Give the text to answer with.")
	default:
		p.Add("unreadable_action", `Use "handoff" or "reply".`)
	}
	return p.Err()
}

// Endpoint returns the chat API base URL and key this agent calls, given the server's defaults. An
// empty base URL or key takes the server's, but the server's key only goes to the server's own base
// URL: an agent pointed at another host (a local Ollama, say) with no key of its own sends none, rather
// than handing the server's OpenAI key to that host.
func (a *AIAgent) Endpoint(serverBaseURL, serverAPIKey string) (baseURL, apiKey string) {
	baseURL, apiKey = a.BaseURL, a.APIKey
	if baseURL == "" {
		baseURL = serverBaseURL
	}
	if apiKey == "" && !a.HasAPIKey && sameEndpoint(baseURL, serverBaseURL) {
		apiKey = serverAPIKey
	}
	return baseURL, apiKey
}

// sameEndpoint compares two base URLs, ignoring the case of scheme and host and a trailing slash.
func sameEndpoint(a, b string) bool {
	norm := func(s string) string {
		u, err := url.Parse(strings.TrimRight(strings.TrimSpace(s), "/"))
		if err != nil {
			return s
		}
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		return u.String()
	}
	return norm(a) == norm(b)
}
