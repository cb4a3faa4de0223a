package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"switchboard"
	"switchboard/store"
)

// JobAdminStore is the storage the job handlers need.
type JobAdminStore interface {
	ListJobs(ctx context.Context, f store.JobFilter) ([]*switchboard.Job, error)
	RetryJob(ctx context.Context, id int64) error
}

// handleListJobs lists background jobs, e.g. ?state=dead to see what failed for good.
func (s *Server) handleListJobs(c echo.Context) error {
	f := store.JobFilter{State: c.QueryParam("state"), Kind: c.QueryParam("kind")}
	switch f.State {
	case "", switchboard.JobQueued, switchboard.JobRunning, switchboard.JobDead:
	default:
		return switchboard.FieldError("state", "Use queued, running or dead.")
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return switchboard.FieldError("limit", "Use a number from 1 to 500.")
		}
		f.Limit = n
	}
	jobs, err := s.store.ListJobs(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(jobs))
}

// handleRetryJob puts a dead job back in the queue.
func (s *Server) handleRetryJob(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.RetryJob(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusAccepted)
}

// handleListDeadLetters lists signed webhooks that could not be parsed, newest first.
func (s *Server) handleListDeadLetters(c echo.Context) error {
	limit, err := queryInt(c, "limit", 1, 500)
	if err != nil {
		return err
	}
	letters, err := s.store.ListDeadLetters(c.Request().Context(), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(letters))
}

// handleReplayDeadLetter parses a kept webhook again and stores it (after an upgrade taught the parser
// its shape).
func (s *Server) handleReplayDeadLetter(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	res, err := s.inbound.ReplayDeadLetter(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"messages": res.Messages, "statuses": res.Statuses})
}
