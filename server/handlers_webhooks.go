package server

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard"
	"switchboard/whatsapp"
)

// maxWebhookBody is above Meta's 3 MB payload limit.
const maxWebhookBody = 4 << 20

// handleWebhookVerify answers Meta's verification handshake: the challenge when the mode is
// "subscribe" and the verify token is the channel's, 403 otherwise.
func (s *Server) handleWebhookVerify(c echo.Context) error {
	id, err := pathID(c, "channel_id")
	if err != nil {
		return err
	}
	ch, err := s.store.Channel(c.Request().Context(), id)
	if err != nil {
		return err
	}
	challenge, ok := whatsapp.VerifyHandshake(c.QueryParams(), ch.VerifyToken)
	if !ok {
		s.metrics.webhooks.WithLabelValues("handshake_refused").Inc()
		s.log.Warn("webhook handshake refused", "channel_id", ch.ID, "mode", c.QueryParam("hub.mode"))
		return switchboard.Errorf(switchboard.EFORBIDDEN, "The verify token does not match this channel.")
	}
	s.metrics.webhooks.WithLabelValues("handshake").Inc()
	return c.String(http.StatusOK, challenge)
}

// handleWebhook receives Meta's signed events. The raw body is read once and checked before anything
// is parsed; 200 is sent only once everything in it is committed, so Meta retries whatever was not.
func (s *Server) handleWebhook(c echo.Context) error {
	id, err := pathID(c, "channel_id")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.metrics.webhooks.WithLabelValues("too_large").Inc()
			return switchboard.Errorf(switchboard.ETOOLARGE, "The webhook body exceeds 4 MB.")
		}
		return switchboard.WrapError(switchboard.EINVALID, "The webhook body could not be read.", err)
	}
	outcome, res, err := s.inbound.Receive(c.Request().Context(), id, body, c.Request().Header.Get(whatsapp.SignatureHeader))
	if err != nil {
		label := "error"
		switch switchboard.ErrorCode(err) {
		case switchboard.EUNAUTHORIZED:
			label = "bad_signature"
			s.log.Warn("webhook refused", "channel_id", id, "err", err, "request_id", requestID(c))
		case switchboard.ENOTFOUND:
			label = "unknown_channel"
		}
		s.metrics.webhooks.WithLabelValues(label).Inc()
		return err
	}
	s.metrics.webhooks.WithLabelValues(string(outcome)).Inc()
	if res != nil {
		s.metrics.inboundMessages.Add(float64(res.Messages))
		s.metrics.duplicateMessages.Add(float64(res.Duplicates))
	}
	return c.NoContent(http.StatusOK)
}
