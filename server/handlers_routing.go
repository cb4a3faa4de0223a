package server

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard"
)

// RoutingStore is the storage the assignment handlers need: a channel's routing rules, manual
// assignment, and the AI agents a channel or a rule may name.
type RoutingStore interface {
	ListRoutingRules(ctx context.Context, channelID int64) ([]*switchboard.RoutingRule, error)
	CreateRoutingRule(ctx context.Context, r *switchboard.RoutingRule) error
	UpdateRoutingRule(ctx context.Context, channelID, id int64, change func(r *switchboard.RoutingRule) error) (*switchboard.RoutingRule, error)
	DeleteRoutingRule(ctx context.Context, channelID, id int64) error
	ReorderRoutingRules(ctx context.Context, channelID int64, ids []int64) ([]*switchboard.RoutingRule, error)
	AssignManually(ctx context.Context, conversationID, agentID int64, by *switchboard.Agent) (*switchboard.Conversation, []switchboard.Event, error)
	AIAgent(ctx context.Context, id int64) (*switchboard.AIAgent, error)
}

type assignmentRequest struct {
	Mode *string `json:"mode"`
	// AIAgentID is raw so that an absent field (keep) differs from null (no AI agent).
	AIAgentID json.RawMessage `json:"ai_agent_id"`
}

type assignmentView struct {
	Mode      string `json:"mode"`
	AIAgentID *int64 `json:"ai_agent_id"`
}

// handlePutAssignment sets how the channel assigns conversations: {"mode": "load"|"round_robin",
// "ai_agent_id": n|null}. A field left out keeps its value.
func (s *Server) handlePutAssignment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req assignmentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	rs := s.store
	var p switchboard.Problems
	if req.Mode != nil {
		p.Check(*req.Mode == switchboard.AssignByLoad || *req.Mode == switchboard.AssignByRoundRobin, "mode", `Mode must be "load" or "round_robin".`)
	}
	var aiID *int64
	setAI := len(req.AIAgentID) > 0
	if setAI && string(req.AIAgentID) != "null" {
		var n int64
		if json.Unmarshal(req.AIAgentID, &n) != nil || n <= 0 {
			p.Add("ai_agent_id", "Use an AI agent's id, or null for none.")
		} else if _, err := rs.AIAgent(c.Request().Context(), n); switchboard.IsCode(err, switchboard.ENOTFOUND) {
			p.Add("ai_agent_id", "No such AI agent.")
		} else if err != nil {
			return err
		}
		aiID = &n
	}
	if err := p.Err(); err != nil {
		return err
	}
	ch, err := s.store.UpdateChannel(c.Request().Context(), id, func(ch *switchboard.Channel) error {
		if req.Mode != nil {
			ch.AssignmentMode = *req.Mode
		}
		if setAI {
			ch.AIAgentID = aiID
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, assignmentView{Mode: ch.AssignmentMode, AIAgentID: ch.AIAgentID})
}

func (s *Server) handleListRoutingRules(c echo.Context) error {
	ch, err := s.visibleChannel(c)
	if err != nil {
		return err
	}
	rs := s.store
	rules, err := rs.ListRoutingRules(c.Request().Context(), ch.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(rules))
}

// ruleRequest is a rule as a client writes it; absent fields keep their value on PATCH.
type ruleRequest struct {
	Name       *string                      `json:"name"`
	Enabled    *bool                        `json:"enabled"`
	Conditions *[]switchboard.RuleCondition `json:"conditions"`
	Target     *switchboard.RuleTarget      `json:"target"`
}

func (r *ruleRequest) apply(rule *switchboard.RoutingRule) {
	if r.Name != nil {
		rule.Name = *r.Name
	}
	if r.Enabled != nil {
		rule.Enabled = *r.Enabled
	}
	if r.Conditions != nil {
		rule.Conditions = *r.Conditions
	}
	if r.Target != nil {
		rule.Target = *r.Target
	}
}

// checkAITarget refuses a rule naming an AI agent that does not exist (the store checks agents and
// teams).
func checkAITarget(ctx context.Context, rs RoutingStore, r *switchboard.RoutingRule) error {
	if r.Target.Kind != switchboard.TargetAIAgent || r.Target.ID <= 0 {
		return nil
	}
	if _, err := rs.AIAgent(ctx, r.Target.ID); switchboard.IsCode(err, switchboard.ENOTFOUND) {
		return switchboard.FieldError("target.id", "No such AI agent.")
	} else if err != nil {
		return err
	}
	return nil
}

// handleCreateRoutingRule appends a rule: {"name", "enabled", "conditions", "target": {"kind", "id"}}.
func (s *Server) handleCreateRoutingRule(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req ruleRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	rs := s.store
	rule := &switchboard.RoutingRule{ChannelID: id, Enabled: true}
	req.apply(rule)
	if err := checkAITarget(c.Request().Context(), rs, rule); err != nil {
		return err
	}
	if err := rs.CreateRoutingRule(c.Request().Context(), rule); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, rule)
}

func (s *Server) handleUpdateRoutingRule(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ruleID, err := pathID(c, "rule_id")
	if err != nil {
		return err
	}
	var req ruleRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	rs := s.store
	ctx := c.Request().Context()
	rule, err := rs.UpdateRoutingRule(ctx, id, ruleID, func(r *switchboard.RoutingRule) error {
		req.apply(r)
		return checkAITarget(ctx, rs, r)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rule)
}

func (s *Server) handleDeleteRoutingRule(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ruleID, err := pathID(c, "rule_id")
	if err != nil {
		return err
	}
	rs := s.store
	if err := rs.DeleteRoutingRule(c.Request().Context(), id, ruleID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleReorderRoutingRules sets the evaluation order: {"ids": [every rule id, in order]}.
func (s *Server) handleReorderRoutingRules(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req struct {
		IDs []int64 `json:"ids"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	rs := s.store
	rules, err := rs.ReorderRoutingRules(c.Request().Context(), id, req.IDs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(rules))
}

// handleAssignConversation gives a conversation to a human agent: {"agent_id"}. Admins assign and
// transfer; an agent may take an unassigned conversation of their channel (agent_id omitted or their
// own). It answers with the conversation.
func (s *Server) handleAssignConversation(c echo.Context) error {
	conv, err := s.visibleConversation(c)
	if err != nil {
		return err
	}
	var req struct {
		AgentID int64 `json:"agent_id"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	me := currentAgent(c)
	if req.AgentID == 0 && me.Role != switchboard.RoleAdmin {
		req.AgentID = me.ID
	}
	if req.AgentID <= 0 {
		return switchboard.FieldError("agent_id", "Choose the agent to assign.")
	}
	out, err := s.workspace.Assign(c.Request().Context(), me, conv.ID, req.AgentID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
