package server

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard"
)

// TeamStore is the storage the team handlers need.
type TeamStore interface {
	CreateTeam(ctx context.Context, t *switchboard.Team) error
	UpdateTeam(ctx context.Context, t *switchboard.Team) error
	Team(ctx context.Context, id int64) (*switchboard.Team, error)
	ListTeams(ctx context.Context) ([]*switchboard.Team, error)
	DeleteTeam(ctx context.Context, id int64) error
}

type teamRequest struct {
	Name     *string  `json:"name"`
	AgentIDs *[]int64 `json:"agent_ids"`
}

func (s *Server) handleCreateTeam(c echo.Context) error {
	var req teamRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	t := &switchboard.Team{AgentIDs: []int64{}}
	if req.Name != nil {
		t.Name = *req.Name
	}
	if req.AgentIDs != nil {
		t.AgentIDs = *req.AgentIDs
	}
	if err := s.store.CreateTeam(c.Request().Context(), t); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

func (s *Server) handleListTeams(c echo.Context) error {
	teams, err := s.store.ListTeams(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(teams))
}

func (s *Server) handleGetTeam(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	t, err := s.store.Team(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) handleUpdateTeam(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req teamRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := s.store.Team(ctx, id)
	if err != nil {
		return err
	}
	if req.Name != nil {
		t.Name = *req.Name
	}
	if req.AgentIDs != nil {
		t.AgentIDs = *req.AgentIDs
	}
	if err := s.store.UpdateTeam(ctx, t); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) handleDeleteTeam(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteTeam(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
