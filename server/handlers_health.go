package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard"
)

// handleHealthz answers while the process is up.
func (s *Server) handleHealthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 when the database is reachable and fully migrated, 503 otherwise.
func (s *Server) handleReadyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		return c.JSON(http.StatusServiceUnavailable, errorBody{Error: errorDetail{
			Code: switchboard.EUNAVAILABLE, Message: switchboard.ErrorMessage(err)}})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
