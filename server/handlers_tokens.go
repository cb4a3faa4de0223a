package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard"
)

// TokenStore is the storage the API-token handlers need.
type TokenStore interface {
	CreateAPIToken(ctx context.Context, t *switchboard.APIToken) error
	ListAPITokens(ctx context.Context, agentID int64) ([]*switchboard.APIToken, error)
	DeleteAPIToken(ctx context.Context, id int64) error
}

type createTokenRequest struct {
	Name      string `json:"name"`
	AgentID   int64  `json:"agent_id"`
	ExpiresIn string `json:"expires_in"` // e.g. "720h"; empty: never
}

type createTokenResponse struct {
	Token    string                `json:"token"`
	APIToken *switchboard.APIToken `json:"api_token"`
}

// handleCreateToken creates an API token acting as an agent (the caller by default). The token is
// shown once; only its hash is stored.
func (s *Server) handleCreateToken(c echo.Context) error {
	var req createTokenRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.AgentID == 0 {
		req.AgentID = currentAgent(c).ID
	}
	raw := tokenPrefix + randomToken(32)
	t := &switchboard.APIToken{AgentID: req.AgentID, Name: req.Name, Prefix: raw[:len(tokenPrefix)+6], Hash: sha256Hex(raw)}
	if req.ExpiresIn != "" {
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil || d <= 0 {
			return switchboard.FieldError("expires_in", "Use a duration such as 720h.")
		}
		at := s.clock.Now().Add(d)
		t.ExpiresAt = &at
	}
	if err := s.store.CreateAPIToken(c.Request().Context(), t); err != nil {
		if switchboard.IsCode(err, switchboard.EINVALID) && switchboard.ErrorFields(err) == nil {
			return switchboard.FieldError("agent_id", "No such agent.")
		}
		return err
	}
	return c.JSON(http.StatusCreated, createTokenResponse{Token: raw, APIToken: t})
}

func (s *Server) handleListTokens(c echo.Context) error {
	tokens, err := s.store.ListAPITokens(c.Request().Context(), 0)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(tokens))
}

func (s *Server) handleDeleteToken(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteAPIToken(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
