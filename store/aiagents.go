package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

type aiAgentRow struct {
	ID               int64
	Name             string
	Model            string
	Instructions     string
	Knowledge        string
	Temperature      float64
	TurnLimit        int
	BaseURL          string `gorm:"column:base_url"`
	APIKeyEnc        string `gorm:"column:api_key_enc"`
	Enabled          bool
	HandoffMessage   string
	HandoffPhrases   string
	UnreadableAction string
	UnreadableReply  string
	TimeoutSeconds   int
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (aiAgentRow) TableName() string { return "ai_agents" }

// aiAgentToDomain converts a row; with decrypt, the API key is opened (the runtime needs it), otherwise
// only HasAPIKey is set, so listing keeps working even if one secret cannot be decrypted.
func (s *Store) aiAgentToDomain(r *aiAgentRow, decrypt bool) (*switchboard.AIAgent, error) {
	a := &switchboard.AIAgent{ID: r.ID, Name: r.Name, Model: r.Model, Instructions: r.Instructions, Knowledge: r.Knowledge,
		Temperature: r.Temperature, TurnLimit: r.TurnLimit, BaseURL: r.BaseURL, HasAPIKey: r.APIKeyEnc != "", Enabled: r.Enabled,
		HandoffMessage: r.HandoffMessage, HandoffPhrases: []string{}, UnreadableAction: r.UnreadableAction,
		UnreadableReply: r.UnreadableReply, TimeoutSeconds: r.TimeoutSeconds, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.HandoffPhrases), &a.HandoffPhrases); err != nil {
		return nil, err
	}
	if decrypt {
		key, err := s.open(r.APIKeyEnc)
		if err != nil {
			return nil, err
		}
		a.APIKey = key
	}
	return a, nil
}

// normalizeAIAgent trims the agent's text fields, drops blank and repeated handoff phrases and fills
// the defaults of optional fields, before validation.
func normalizeAIAgent(a *switchboard.AIAgent) {
	a.Name = strings.TrimSpace(a.Name)
	a.Model = strings.TrimSpace(a.Model)
	a.BaseURL = strings.TrimRight(strings.TrimSpace(a.BaseURL), "/")
	a.APIKey = strings.TrimSpace(a.APIKey)
	a.HandoffMessage = strings.TrimSpace(a.HandoffMessage)
	a.UnreadableReply = strings.TrimSpace(a.UnreadableReply)
	if a.UnreadableAction == "" {
		a.UnreadableAction = switchboard.UnreadableHandoff
	}
	if a.HandoffPhrases == nil {
		a.HandoffPhrases = append([]string{}, switchboard.DefaultHandoffPhrases...)
	}
	seen := map[string]bool{}
	phrases := make([]string, 0, len(a.HandoffPhrases))
	for _, p := range a.HandoffPhrases {
		p = strings.TrimSpace(p)
		if p == "" || seen[strings.ToLower(p)] {
			continue
		}
		seen[strings.ToLower(p)] = true
		phrases = append(phrases, p)
	}
	a.HandoffPhrases = phrases
}

func (s *Store) aiAgentToRow(a *switchboard.AIAgent) (*aiAgentRow, error) {
	key, err := s.seal(a.APIKey)
	if err != nil {
		return nil, err
	}
	phrases, err := json.Marshal(a.HandoffPhrases)
	if err != nil {
		return nil, err
	}
	return &aiAgentRow{ID: a.ID, Name: a.Name, Model: a.Model, Instructions: a.Instructions, Knowledge: a.Knowledge,
		Temperature: a.Temperature, TurnLimit: a.TurnLimit, BaseURL: a.BaseURL, APIKeyEnc: key, Enabled: a.Enabled,
		HandoffMessage: a.HandoffMessage, HandoffPhrases: string(phrases), UnreadableAction: a.UnreadableAction,
		UnreadableReply: a.UnreadableReply, TimeoutSeconds: a.TimeoutSeconds, CreatedAt: utc(a.CreatedAt), UpdatedAt: utc(a.UpdatedAt)}, nil
}

func aiAgentConflict(err error) error {
	if switchboard.IsCode(err, switchboard.ECONFLICT) {
		return &switchboard.Error{Code: switchboard.ECONFLICT, Message: "An AI agent with this name already exists.",
			Fields: map[string]string{"name": "This name is already used."}}
	}
	return err
}

// CreateAIAgent stores a new AI agent; its API key is encrypted at rest. Nil handoff phrases get
// switchboard.DefaultHandoffPhrases (an empty list means: no phrase hands off). Names are unique,
// ignoring case (ECONFLICT).
func (s *Store) CreateAIAgent(ctx context.Context, a *switchboard.AIAgent) error {
	normalizeAIAgent(a)
	if err := a.Validate(); err != nil {
		return err
	}
	now := s.now()
	a.CreatedAt, a.UpdatedAt = now, now
	row, err := s.aiAgentToRow(a)
	if err != nil {
		return err
	}
	row.ID = 0
	if err := s.conn(ctx).Create(row).Error; err != nil {
		return aiAgentConflict(translate(err))
	}
	a.ID, a.HasAPIKey = row.ID, a.APIKey != ""
	return nil
}

// AIAgent returns one AI agent with its API key decrypted, for the runtime. The API never shows the key.
func (s *Store) AIAgent(ctx context.Context, id int64) (*switchboard.AIAgent, error) {
	var row aiAgentRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, translateNotFound(err, "AI agent")
	}
	return s.aiAgentToDomain(&row, true)
}

// ListAIAgents returns every AI agent by name, without their API keys (HasAPIKey tells whether one is set).
func (s *Store) ListAIAgents(ctx context.Context) ([]*switchboard.AIAgent, error) {
	var rows []aiAgentRow
	if err := s.conn(ctx).Order("lower(name), id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]*switchboard.AIAgent, len(rows))
	for i := range rows {
		a, err := s.aiAgentToDomain(&rows[i], false)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// UpdateAIAgent changes an AI agent under a row lock: change receives the current agent (API key
// decrypted) and edits it; the result is validated and stored.
func (s *Store) UpdateAIAgent(ctx context.Context, id int64, change func(a *switchboard.AIAgent) error) (*switchboard.AIAgent, error) {
	var out *switchboard.AIAgent
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		var row aiAgentRow
		if err := tx.Clauses(forUpdate()).Where("id = ?", id).Take(&row).Error; err != nil {
			return translateNotFound(err, "AI agent")
		}
		a, err := s.aiAgentToDomain(&row, true)
		if err != nil {
			return err
		}
		if err := change(a); err != nil {
			return err
		}
		a.ID, a.CreatedAt, a.UpdatedAt = id, row.CreatedAt, s.now()
		normalizeAIAgent(a)
		if err := a.Validate(); err != nil {
			return err
		}
		next, err := s.aiAgentToRow(a)
		if err != nil {
			return err
		}
		if err := tx.Save(next).Error; err != nil {
			return aiAgentConflict(translate(err))
		}
		a.HasAPIKey = a.APIKey != ""
		out = a
		return nil
	})
	return out, err
}

// DeleteAIAgent removes an AI agent. It refuses (ECONFLICT) while a live channel uses it for
// assignment; conversations it still owns are handed to people at the customer's next message, since
// the runtime hands off when its agent no longer exists.
func (s *Store) DeleteAIAgent(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		var row aiAgentRow
		if err := tx.Clauses(forUpdate()).Where("id = ?", id).Take(&row).Error; err != nil {
			return translateNotFound(err, "AI agent")
		}
		var names []string
		if err := tx.Model(&channelRow{}).Where("ai_agent_id = ? AND deleted_at IS NULL", id).Order("name").Pluck("name", &names).Error; err != nil {
			return err
		}
		if len(names) > 0 {
			return switchboard.Errorf(switchboard.ECONFLICT, "This AI agent answers on %s; remove it from the assignment settings first, or disable it.",
				strings.Join(names, ", "))
		}
		return tx.Delete(&aiAgentRow{}, id).Error
	})
}

// CountAIReplies counts the messages the AI sent in a conversation since a time (the conversation's
// assignment), for the AI agent's turn limit. A zero since counts them all.
func (s *Store) CountAIReplies(ctx context.Context, conversationID int64, since time.Time) (int, error) {
	q := s.conn(ctx).Model(&messageRow{}).Where("conversation_id = ? AND sender = ? AND direction = ?",
		conversationID, switchboard.SenderAI, switchboard.Outbound)
	if !since.IsZero() {
		q = q.Where("created_at >= ?", utc(since))
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, translate(err)
	}
	return int(n), nil
}
