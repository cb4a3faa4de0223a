package graphtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"switchboard/whatsapp"
)

// SentMessage is one send the fake accepted.
type SentMessage struct {
	PhoneNumberID string
	// MessageID is the wamid the fake answered.
	MessageID string
	// To is the recipient as sent; WaID what the fake answered as wa_id.
	To   string
	WaID string
	Type string
	// Message is the body decoded; it is zero for types OutboundMessage does not model (location,
	// contacts).
	Message whatsapp.OutboundMessage
	// Body is the exact request body; Header the request headers.
	Body   json.RawMessage
	Header http.Header
	At     time.Time
}

// ReadReceipt is one mark-as-read request the fake accepted.
type ReadReceipt struct {
	PhoneNumberID string
	MessageID     string
	Typing        bool
	At            time.Time
}

// Sent returns every accepted send, oldest first.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// SentTo returns the accepted sends of one business number.
func (s *Server) SentTo(phoneNumberID string) []SentMessage {
	var out []SentMessage
	for _, m := range s.Sent() {
		if m.PhoneNumberID == phoneNumberID {
			out = append(out, m)
		}
	}
	return out
}

// ReadReceipts returns every accepted mark-as-read request, oldest first.
func (s *Server) ReadReceipts() []ReadReceipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reads)
}

// WaitForSent waits until at least n sends were accepted and returns them all, or returns ctx's error.
func (s *Server) WaitForSent(ctx context.Context, n int) ([]SentMessage, error) {
	for {
		s.mu.Lock()
		got, changed := len(s.sent), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Sent(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Sent(), ctx.Err()
		}
	}
}

// sendProbe reads the envelope of a POST /messages body.
type sendProbe struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Status           string `json:"status"`
	MessageID        string `json:"message_id"`
	TypingIndicator  *struct {
		Type string `json:"type"`
	} `json:"typing_indicator"`
	BizOpaqueCallbackData string `json:"biz_opaque_callback_data"`
}

// handleMessages serves POST /{version}/{phone-number-id}/messages: sends and read receipts.
func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request, phoneNumberID string) {
	n, ok := s.authorizeNumber(w, r, phoneNumberID)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var probe sendProbe
	if err != nil || json.Unmarshal(body, &probe) != nil {
		s.writeError(w, apiError(100, "(#100) Invalid JSON for postbody", "The request body is not a JSON object."))
		return
	}
	if probe.MessagingProduct != "whatsapp" {
		s.writeError(w, apiError(100, "(#100) The parameter messaging_product is required.", `messaging_product must be "whatsapp".`))
		return
	}
	if probe.Status != "" {
		s.markRead(w, n, probe)
		return
	}
	if code := s.takeFailure(); code != 0 {
		s.writeFailure(w, code)
		return
	}
	msg, ge := s.validateSend(n, probe, body)
	if ge != nil {
		s.writeError(w, ge)
		return
	}
	sent := SentMessage{
		PhoneNumberID: n.PhoneNumberID, MessageID: newMessageID(), To: probe.To, WaID: waID(probe.To),
		Type: probe.Type, Message: msg, Body: body, Header: r.Header.Clone(), At: s.opts.Clock(),
	}
	s.record(sent)
	s.scheduleStatuses(n, sent, probe.BizOpaqueCallbackData)
	answer := map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": sent.To, "wa_id": sent.WaID}},
		"messages":          []map[string]string{{"id": sent.MessageID}},
	}
	if sent.Type == "template" {
		answer["messages"] = []map[string]string{{"id": sent.MessageID, "message_status": "accepted"}}
	}
	writeJSON(w, answer)
}

func (s *Server) record(m SentMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) markRead(w http.ResponseWriter, n Number, probe sendProbe) {
	switch {
	case probe.Status != "read":
		s.writeError(w, apiError(100, "", `status must be "read".`))
	case probe.MessageID == "":
		s.writeError(w, apiError(100, "(#100) The parameter message_id is required.", "message_id is required."))
	case probe.TypingIndicator != nil && probe.TypingIndicator.Type != "text":
		s.writeError(w, apiError(100, "", `typing_indicator.type must be "text".`))
	default:
		s.mu.Lock()
		s.reads = append(s.reads, ReadReceipt{PhoneNumberID: n.PhoneNumberID, MessageID: probe.MessageID,
			Typing: probe.TypingIndicator != nil, At: s.opts.Clock()})
		s.mu.Unlock()
		writeJSON(w, map[string]bool{"success": true})
	}
}

// validateSend checks a send body as Meta does and decodes it.
func (s *Server) validateSend(n Number, probe sendProbe, body []byte) (whatsapp.OutboundMessage, *whatsapp.GraphError) {
	var msg whatsapp.OutboundMessage
	switch {
	case strings.TrimSpace(probe.To) == "":
		return msg, apiError(100, "(#100) The parameter to is required.", "to is required.")
	case probe.RecipientType != "" && probe.RecipientType != "individual":
		return msg, apiError(100, "", "recipient_type must be individual.")
	}
	switch probe.Type {
	case "location", "contacts":
		// Valid for Meta, not modelled by OutboundMessage: only the object's presence is checked.
		var parts map[string]json.RawMessage
		if json.Unmarshal(body, &parts) != nil || len(parts[probe.Type]) == 0 {
			return msg, apiError(100, "(#100) The parameter "+probe.Type+" is required.", probe.Type+" is required.")
		}
		return msg, nil
	case "text", "image", "audio", "video", "document", "sticker", "template", "interactive", "reaction":
	default:
		return msg, apiError(131051, "", "Message type "+probe.Type+" is not supported.")
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return msg, apiError(100, "", "The "+probe.Type+" object is malformed: "+err.Error())
	}
	if err := msg.Validate(); err != nil {
		details := problemDetails(err)
		var ve *whatsapp.ValidationError
		if errors.As(err, &ve) && strings.HasPrefix(ve.Field, "interactive") {
			return msg, apiError(131009, "", details)
		}
		return msg, apiError(100, "", details)
	}
	if msg.Template != nil {
		return msg, s.checkTemplate(n, msg.Template)
	}
	return msg, nil
}

// problemDetails renders joined validation errors as one line of Meta-style details.
func problemDetails(err error) string {
	return strings.ReplaceAll(strings.ReplaceAll(err.Error(), "whatsapp: invalid message: ", ""), "\n", "; ")
}

// authorizeNumber checks the token and the number as Meta does: a missing token is 190, an unknown
// number 100/33, another number's token 190.
func (s *Server) authorizeNumber(w http.ResponseWriter, r *http.Request, phoneNumberID string) (Number, bool) {
	tok := bearer(r)
	if tok == "" {
		s.writeError(w, invalidToken())
		return Number{}, false
	}
	n, ok := s.Number(phoneNumberID)
	if !ok {
		s.writeError(w, unsupported(r.Method, phoneNumberID))
		return Number{}, false
	}
	if !sameToken(tok, n.Token) {
		s.writeError(w, invalidToken())
		return Number{}, false
	}
	return n, true
}
