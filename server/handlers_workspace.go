package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// handleResolveConversation resolves a conversation (a CSAT survey follows when the channel asks for
// one).
func (s *Server) handleResolveConversation(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	conv, err := s.workspace.Resolve(c.Request().Context(), currentAgent(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv)
}

// handleReopenConversation opens a resolved conversation again.
func (s *Server) handleReopenConversation(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	conv, err := s.workspace.Reopen(c.Request().Context(), currentAgent(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv)
}

// handleReadConversation clears the unread count and marks the customer's message read at WhatsApp.
func (s *Server) handleReadConversation(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.workspace.MarkRead(c.Request().Context(), currentAgent(c).ID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
