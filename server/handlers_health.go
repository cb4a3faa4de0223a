package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard"
)

// handleHealthz answers while the process is up.
func (s *Server) handleHealthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// handleMetrics serves Prometheus' metrics, to anyone, or only with the configured metrics token
// ("Authorization: Bearer <SWITCHBOARD_METRICS_TOKEN>").
func (s *Server) handleMetrics() echo.HandlerFunc {
	metrics := echo.WrapHandler(s.metrics.Handler())
	if s.cfg == nil || s.cfg.MetricsToken == "" {
		return metrics
	}
	want := sha256.Sum256([]byte("Bearer " + s.cfg.MetricsToken))
	return func(c echo.Context) error {
		got := sha256.Sum256([]byte(c.Request().Header.Get(echo.HeaderAuthorization)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return switchboard.Errorf(switchboard.EUNAUTHORIZED, "The metrics need Authorization: Bearer <SWITCHBOARD_METRICS_TOKEN>.")
		}
		return metrics(c)
	}
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
