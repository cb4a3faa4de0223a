package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"switchboard"
	"switchboard/store"
)

// AgentStore is the storage the agent handlers need.
type AgentStore interface {
	CreateAgent(ctx context.Context, a *switchboard.Agent) error
	Agent(ctx context.Context, id int64) (*switchboard.Agent, error)
	ListAgents(ctx context.Context) ([]*switchboard.Agent, error)
	UpdateAgent(ctx context.Context, id int64, u store.AgentUpdate) (*switchboard.Agent, error)
	DeleteAgent(ctx context.Context, id int64) error
}

type listResponse[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

func list[T any](items []T) listResponse[T] {
	if items == nil {
		items = []T{}
	}
	return listResponse[T]{Data: items}
}

// pathID reads a positive integer path parameter.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, switchboard.Errorf(switchboard.ENOTFOUND, "Not found.")
	}
	return id, nil
}

type createAgentRequest struct {
	Name     string           `json:"name"`
	Email    string           `json:"email"`
	Password string           `json:"password"`
	Role     switchboard.Role `json:"role"`
}

func (s *Server) handleCreateAgent(c echo.Context) error {
	var req createAgentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	a := &switchboard.Agent{Name: req.Name, Email: switchboard.NormalizeEmail(req.Email), Role: req.Role, Availability: switchboard.Available}
	var p switchboard.Problems
	p.Merge("", a.Validate())
	p.Merge("", switchboard.ValidatePassword("password", req.Password))
	if err := p.Err(); err != nil {
		return err
	}
	hash, err := HashPassword(req.Password)
	if err != nil {
		return err
	}
	a.PasswordHash = hash
	if err := s.store.CreateAgent(c.Request().Context(), a); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

// agentView is an agent as the API shows it: with whether they are connected now (a live connection on
// any replica, whatever their availability; shown as online when also available); presence.updated
// events keep a screen current after that.
type agentView struct {
	*switchboard.Agent
	Connected bool `json:"connected"`
}

func (s *Server) agentView(a *switchboard.Agent) agentView {
	return agentView{Agent: a, Connected: s.presence != nil && s.presence.Online(a.ID)}
}

func (s *Server) handleListAgents(c echo.Context) error {
	agents, err := s.store.ListAgents(c.Request().Context())
	if err != nil {
		return err
	}
	views := make([]agentView, len(agents))
	for i, a := range agents {
		views[i] = s.agentView(a)
	}
	return c.JSON(http.StatusOK, list(views))
}

func (s *Server) handleGetAgent(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a, err := s.store.Agent(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.agentView(a))
}

// AgentUpdateRequest is the body of PATCH /agents/:id; absent fields are unchanged.
type AgentUpdateRequest struct {
	Name         *string                   `json:"name"`
	Email        *string                   `json:"email"`
	Role         *switchboard.Role         `json:"role"`
	Availability *switchboard.Availability `json:"availability"`
	Disabled     *bool                     `json:"disabled"`
	Password     *string                   `json:"password"`
}

func (s *Server) handleUpdateAgent(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req AgentUpdateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if id == currentAgent(c).ID && req.Disabled != nil && *req.Disabled {
		return switchboard.Errorf(switchboard.ECONFLICT, "You cannot disable your own account.")
	}
	a, err := s.updateAgent(c, id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// updateAgent hashes a new password, if any, and applies the update. A change of availability goes
// through the workspace, as the websocket's presence frame does: colleagues see it, and an agent who
// becomes available takes waiting conversations at once.
func (s *Server) updateAgent(c echo.Context, id int64, req AgentUpdateRequest) (*switchboard.Agent, error) {
	availability := req.Availability
	if availability != nil && s.workspace != nil {
		if !availability.Valid() {
			return nil, switchboard.FieldError("availability", `Use "available" or "away".`)
		}
		req.Availability = nil // applied below, once the rest is stored
	}
	a, err := s.storeAgentUpdate(c, id, req)
	if err != nil || availability == nil || s.workspace == nil || a.Availability == *availability {
		return a, err
	}
	if err := s.workspace.SetAvailability(c.Request().Context(), id, *availability); err != nil {
		return nil, err
	}
	a.Availability = *availability
	return a, nil
}

// storeAgentUpdate hashes a new password, if any, and stores the update.
func (s *Server) storeAgentUpdate(c echo.Context, id int64, req AgentUpdateRequest) (*switchboard.Agent, error) {
	u := store.AgentUpdate{Name: req.Name, Email: req.Email, Role: req.Role, Availability: req.Availability, Disabled: req.Disabled}
	if req.Password != nil {
		field := "password"
		if c.Path() == "/api/v1/me" {
			field = "new_password"
		}
		if err := switchboard.ValidatePassword(field, *req.Password); err != nil {
			return nil, err
		}
		hash, err := HashPassword(*req.Password)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = &hash
	}
	return s.store.UpdateAgent(c.Request().Context(), id, u)
}

func (s *Server) handleDeleteAgent(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if id == currentAgent(c).ID {
		return switchboard.Errorf(switchboard.ECONFLICT, "You cannot delete your own account.")
	}
	if err := s.store.DeleteAgent(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
