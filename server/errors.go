package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard"
)

// statusOf maps each domain error code to its HTTP status. It is the only place that does so.
var statusOf = map[string]int{
	switchboard.EINVALID:      http.StatusUnprocessableEntity,
	switchboard.ENOTFOUND:     http.StatusNotFound,
	switchboard.ECONFLICT:     http.StatusConflict,
	switchboard.EUNAUTHORIZED: http.StatusUnauthorized,
	switchboard.EFORBIDDEN:    http.StatusForbidden,
	switchboard.EUNAVAILABLE:  http.StatusServiceUnavailable,
	switchboard.ERATELIMITED:  http.StatusTooManyRequests,
	switchboard.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	switchboard.EWINDOWCLOSED: http.StatusUnprocessableEntity,
	switchboard.EOPTEDOUT:     http.StatusUnprocessableEntity,
	switchboard.EINTERNAL:     http.StatusInternalServerError,
}

// codeOfStatus turns Echo's own errors (unknown route, wrong method, body too large) into domain codes.
var codeOfStatus = map[int]string{
	http.StatusBadRequest:            switchboard.EINVALID,
	http.StatusNotFound:              switchboard.ENOTFOUND,
	http.StatusMethodNotAllowed:      switchboard.ENOTFOUND,
	http.StatusUnauthorized:          switchboard.EUNAUTHORIZED,
	http.StatusForbidden:             switchboard.EFORBIDDEN,
	http.StatusRequestEntityTooLarge: switchboard.ETOOLARGE,
	http.StatusTooManyRequests:       switchboard.ERATELIMITED,
	http.StatusServiceUnavailable:    switchboard.EUNAVAILABLE,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// errorHandler is Echo's HTTPErrorHandler: every error leaves the server in the one shape
// {"error": {"code", "message", "fields"}}; internal errors are logged once with the request id and
// never described to the client.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	var body errorDetail
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &he):
		status = he.Code
		body.Code = codeOfStatus[he.Code]
		if body.Code == "" {
			body.Code = switchboard.EINTERNAL
		}
		body.Message = http.StatusText(he.Code) + "."
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			body.Message = m
		}
		if he.Code == http.StatusRequestEntityTooLarge {
			body.Message = "The request body is too large."
		}
	default:
		body.Code = switchboard.ErrorCode(err)
		body.Message = switchboard.ErrorMessage(err)
		body.Fields = switchboard.ErrorFields(err)
		if st, ok := statusOf[body.Code]; ok {
			status = st
		}
		// An invalid request without field problems is a malformed one: 400, not 422.
		if body.Code == switchboard.EINVALID && len(body.Fields) == 0 {
			status = http.StatusBadRequest
		}
	}
	if status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed", "err", err, "request_id", requestID(c),
			"method", c.Request().Method, "path", c.Path())
		if body.Code == switchboard.EINTERNAL {
			body.Message = "An internal error occurred; it has been logged with request id " + requestID(c) + "."
		}
	}
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, errorBody{Error: body})
	}
	if err != nil {
		s.log.Warn("write error response", "err", err)
	}
}

// invalid returns a 400 for a body that cannot be decoded.
func invalid(message string) error { return switchboard.Errorf(switchboard.EINVALID, "%s", message) }
