package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard"
	"switchboard/store"
)

// ReportStore is the storage the report handlers need.
type ReportStore interface {
	CSATReport(ctx context.Context, f store.ReportFilter) (*store.CSATReport, error)
	OverviewReport(ctx context.Context, f store.ReportFilter) (*store.OverviewReport, error)
}

// Report periods: the last 30 days by default, at most a year and a day.
const (
	defaultReportDays = 30
	maxReportSpan     = 367 * 24 * time.Hour
)

// handleCSATReport serves GET /api/v1/reports/csat?from=&to=&tz=&channel_id=&agent_id=: the average
// rating, its distribution and the response rate of the surveys sent in the period, by agent, by
// channel and by day. Admins see every channel; agents the channels they belong to.
func (s *Server) handleCSATReport(c echo.Context) error {
	f, err := s.reportFilter(c, true)
	if err != nil {
		return err
	}
	rep, err := s.store.CSATReport(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// handleOverviewReport serves GET /api/v1/reports/overview?from=&to=&channel_id=: conversations
// created and resolved and messages in and out during the period, the median first response time,
// and the open, pending and unassigned conversations now. Agents see their channels only.
func (s *Server) handleOverviewReport(c echo.Context) error {
	f, err := s.reportFilter(c, false)
	if err != nil {
		return err
	}
	rep, err := s.store.OverviewReport(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// reportFilter reads the period and filters of a report request. from and to are RFC 3339 times or
// dates (YYYY-MM-DD in tz, to included); tz is an IANA zone (UTC by default) that also sets the days
// of the breakdown. Every problem is reported at once.
func (s *Server) reportFilter(c echo.Context, withAgent bool) (store.ReportFilter, error) {
	var p switchboard.Problems
	var f store.ReportFilter
	f.Location = time.UTC
	if tz := c.QueryParam("tz"); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			p.Add("tz", "Use an IANA time zone such as Europe/Paris.")
		} else {
			f.Location = loc
		}
	}
	now := s.clock.Now().In(f.Location)
	f.To = time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, f.Location)
	if v := c.QueryParam("to"); v != "" {
		t, ok := parseReportTime(v, f.Location, 1)
		p.Check(ok, "to", "Use a date (2026-11-30) or an RFC 3339 time.")
		f.To = t
	}
	f.From = f.To.AddDate(0, 0, -defaultReportDays)
	if v := c.QueryParam("from"); v != "" {
		t, ok := parseReportTime(v, f.Location, 0)
		p.Check(ok, "from", "Use a date (2026-11-01) or an RFC 3339 time.")
		f.From = t
	}
	if len(p) == 0 {
		p.Check(f.From.Before(f.To), "from", "The period must start before it ends.")
		p.Check(f.To.Sub(f.From) <= maxReportSpan, "to", "A report covers at most a year.")
	}
	f.ChannelID = reportQueryID(&p, c, "channel_id")
	if withAgent {
		f.AgentID = reportQueryID(&p, c, "agent_id")
	} else if c.QueryParam("agent_id") != "" {
		p.Add("agent_id", "The overview is not broken down by agent.")
	}
	if err := p.Err(); err != nil {
		return f, err
	}
	if me := currentAgent(c); me.Role != switchboard.RoleAdmin {
		f.ViewerID = me.ID
	}
	return f, nil
}

// parseReportTime reads an RFC 3339 time, or a date in loc plus addDays (1 makes "to" include the day).
func parseReportTime(v string, loc *time.Location, addDays int) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	d, err := time.ParseInLocation(time.DateOnly, v, loc)
	if err != nil {
		return time.Time{}, false
	}
	return d.AddDate(0, 0, addDays), true
}

// reportQueryID reads an optional positive id from the query string.
func reportQueryID(p *switchboard.Problems, c echo.Context, name string) int64 {
	v := c.QueryParam(name)
	if v == "" {
		return 0
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		p.Add(name, "Use an id.")
		return 0
	}
	return id
}
