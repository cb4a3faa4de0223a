package server

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"switchboard"
)

// AIAgentStore is the storage the AI agent handlers need.
type AIAgentStore interface {
	CreateAIAgent(ctx context.Context, a *switchboard.AIAgent) error
	AIAgent(ctx context.Context, id int64) (*switchboard.AIAgent, error)
	ListAIAgents(ctx context.Context) ([]*switchboard.AIAgent, error)
	UpdateAIAgent(ctx context.Context, id int64, change func(a *switchboard.AIAgent) error) (*switchboard.AIAgent, error)
	DeleteAIAgent(ctx context.Context, id int64) error
}

// Defaults of a new AI agent for the fields a request leaves out.
const (
	defaultAITemperature = 0.3
	defaultAITimeout     = 30
)

// aiAgentRequest is the body of POST and PATCH; absent fields are left alone (PATCH) or take their
// defaults (POST). api_key is write-only: "" removes the agent's own key, so the server's
// SWITCHBOARD_OPENAI_API_KEY is used; so does an empty base_url with SWITCHBOARD_OPENAI_BASE_URL.
type aiAgentRequest struct {
	Name             *string   `json:"name"`
	Model            *string   `json:"model"`
	Instructions     *string   `json:"instructions"`
	Knowledge        *string   `json:"knowledge"`
	Temperature      *float64  `json:"temperature"`
	TurnLimit        *int      `json:"turn_limit"`
	BaseURL          *string   `json:"base_url"`
	APIKey           *string   `json:"api_key"`
	Enabled          *bool     `json:"enabled"`
	HandoffMessage   *string   `json:"handoff_message"`
	HandoffPhrases   *[]string `json:"handoff_phrases"`
	UnreadableAction *string   `json:"unreadable_action"`
	UnreadableReply  *string   `json:"unreadable_reply"`
	TimeoutSeconds   *int      `json:"timeout_seconds"`
}

func (r *aiAgentRequest) apply(a *switchboard.AIAgent) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&a.Name, r.Name)
	set(&a.Model, r.Model)
	set(&a.Instructions, r.Instructions)
	set(&a.Knowledge, r.Knowledge)
	set(&a.BaseURL, r.BaseURL)
	set(&a.APIKey, r.APIKey)
	set(&a.HandoffMessage, r.HandoffMessage)
	set(&a.UnreadableAction, r.UnreadableAction)
	set(&a.UnreadableReply, r.UnreadableReply)
	if r.Temperature != nil {
		a.Temperature = *r.Temperature
	}
	if r.TurnLimit != nil {
		a.TurnLimit = *r.TurnLimit
	}
	if r.Enabled != nil {
		a.Enabled = *r.Enabled
	}
	if r.HandoffPhrases != nil {
		a.HandoffPhrases = append([]string{}, *r.HandoffPhrases...)
	}
	if r.TimeoutSeconds != nil {
		a.TimeoutSeconds = *r.TimeoutSeconds
	}
}

// aiAgentView is an AI agent as the API shows it: never the key; has_api_key tells whether the
// agent has its own, and the effective fields tell what the runtime will use.
type aiAgentView struct {
	*switchboard.AIAgent
	EffectiveBaseURL string `json:"effective_base_url"`
	UsesServerAPIKey bool   `json:"uses_server_api_key"`
}

func (s *Server) aiAgentView(a *switchboard.AIAgent) aiAgentView {
	cp := *a
	cp.APIKey = ""
	serverBase, serverKey := "https://api.openai.com/v1", ""
	if s.cfg != nil {
		serverKey = s.cfg.OpenAIAPIKey
		if s.cfg.OpenAIBaseURL != "" {
			serverBase = s.cfg.OpenAIBaseURL
		}
	}
	base, key := cp.Endpoint(serverBase, serverKey)
	return aiAgentView{AIAgent: &cp, EffectiveBaseURL: base, UsesServerAPIKey: !cp.HasAPIKey && key != ""}
}

func (s *Server) handleCreateAIAgent(c echo.Context) error {
	st := s.store
	var req aiAgentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	a := &switchboard.AIAgent{Temperature: defaultAITemperature, Enabled: true, UnreadableAction: switchboard.UnreadableHandoff,
		TimeoutSeconds: defaultAITimeout}
	req.apply(a)
	if err := st.CreateAIAgent(c.Request().Context(), a); err != nil {
		return err
	}
	s.log.Info("ai agent created", "ai_agent_id", a.ID, "model", a.Model, "base_url", logURL(a.BaseURL), "by", currentAgent(c).ID)
	return c.JSON(http.StatusCreated, s.aiAgentView(a))
}

func (s *Server) handleListAIAgents(c echo.Context) error {
	st := s.store
	all, err := st.ListAIAgents(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]aiAgentView, len(all))
	for i, a := range all {
		out[i] = s.aiAgentView(a)
	}
	return c.JSON(http.StatusOK, list(out))
}

func (s *Server) handleGetAIAgent(c echo.Context) error {
	st := s.store
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a, err := st.AIAgent(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.aiAgentView(a))
}

func (s *Server) handleUpdateAIAgent(c echo.Context) error {
	st := s.store
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req aiAgentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	a, err := st.UpdateAIAgent(c.Request().Context(), id, func(a *switchboard.AIAgent) error {
		req.apply(a)
		return nil
	})
	if err != nil {
		return err
	}
	s.log.Info("ai agent updated", "ai_agent_id", a.ID, "model", a.Model, "base_url", logURL(a.BaseURL),
		"api_key_changed", req.APIKey != nil, "by", currentAgent(c).ID)
	return c.JSON(http.StatusOK, s.aiAgentView(a))
}

func (s *Server) handleDeleteAIAgent(c echo.Context) error {
	st := s.store
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := st.DeleteAIAgent(c.Request().Context(), id); err != nil {
		return err
	}
	s.log.Info("ai agent deleted", "ai_agent_id", id, "by", currentAgent(c).ID)
	return c.NoContent(http.StatusNoContent)
}

// logURL drops credentials and the query from a URL before it is logged.
func logURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}
