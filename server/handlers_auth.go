package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"switchboard"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type meResponse struct {
	Agent     *switchboard.Agent `json:"agent"`
	CSRFToken string             `json:"csrf_token,omitempty"`
}

// handleLogin signs an agent in: 200 with the session cookie, the agent and the CSRF token.
func (s *Server) handleLogin(c echo.Context) error {
	var req loginRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	var p switchboard.Problems
	p.Check(strings.TrimSpace(req.Email) != "", "email", "Email is required.")
	p.Check(req.Password != "", "password", "Password is required.")
	if err := p.Err(); err != nil {
		return err
	}
	email := switchboard.NormalizeEmail(req.Email)
	if s.loginByIP.blocked(c.RealIP()) || s.loginByEmail.blocked(email) {
		c.Response().Header().Set("Retry-After", "30")
		return switchboard.Errorf(switchboard.ERATELIMITED, "Too many sign-in attempts. Wait a minute and try again.")
	}
	agent, sess, cookie, err := s.login(c.Request().Context(), email, req.Password, c.Request().UserAgent(), c.RealIP())
	if err != nil {
		if switchboard.IsCode(err, switchboard.EUNAUTHORIZED) {
			s.loginByIP.spend(c.RealIP())
			s.loginByEmail.spend(email)
			s.log.Info("sign-in failed", "email", email, "ip", c.RealIP(), "request_id", requestID(c))
		}
		return err
	}
	s.setSessionCookie(c, cookie, int(s.cfg.SessionTTL.Seconds()))
	return c.JSON(http.StatusOK, meResponse{Agent: agent, CSRFToken: sess.CSRFToken})
}

// handleLogout ends the current session.
func (s *Server) handleLogout(c echo.Context) error {
	if p := currentPrincipal(c); p.Session != nil {
		if err := s.store.DeleteSession(c.Request().Context(), p.Session.ID); err != nil {
			return err
		}
	}
	s.setSessionCookie(c, "", -1)
	return c.NoContent(http.StatusNoContent)
}

// handleMe returns the signed-in agent, and for browser sessions the CSRF token (so a reloaded page
// can write again).
func (s *Server) handleMe(c echo.Context) error {
	p := currentPrincipal(c)
	res := meResponse{Agent: p.Agent}
	if p.Session != nil {
		res.CSRFToken = p.Session.CSRFToken
	}
	return c.JSON(http.StatusOK, res)
}

type updateMeRequest struct {
	Name            *string                   `json:"name"`
	Availability    *switchboard.Availability `json:"availability"`
	CurrentPassword string                    `json:"current_password"`
	NewPassword     *string                   `json:"new_password"`
}

// handleUpdateMe lets agents change their name, availability and password (with the current one).
func (s *Server) handleUpdateMe(c echo.Context) error {
	var req updateMeRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	me := currentAgent(c)
	u := AgentUpdateRequest{Name: req.Name, Availability: req.Availability}
	if req.NewPassword != nil {
		ok, err := CheckPassword(me.PasswordHash, req.CurrentPassword)
		if err != nil {
			return err
		}
		if !ok {
			return &switchboard.Error{Code: switchboard.EINVALID, Message: "The current password is wrong.",
				Fields: map[string]string{"current_password": "This is not your current password."}}
		}
		u.Password = req.NewPassword
	}
	agent, err := s.updateAgent(c, me.ID, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, meResponse{Agent: agent})
}
