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
	// Seq orders every send request the fake answered, accepted or rejected (see Rejected), from 1.
	Seq int
}

// RejectedSend is one send request the fake answered with an error: an injected failure (FailNext,
// FailFor), a token or number it does not accept, or a body Meta would refuse. Read receipts are not
// sends and are not recorded.
type RejectedSend struct {
	// Seq orders the request among every send request answered, accepted or rejected, from 1.
	Seq           int
	PhoneNumberID string
	To            string
	Type          string
	// Message is the body decoded as far as it decodes; Body the exact request body, Header the
	// request headers.
	Message whatsapp.OutboundMessage
	Body    json.RawMessage
	Header  http.Header
	// Code is the Graph error code answered, or the HTTP status of a plain failure (FailNext(n, 503)).
	Code       int
	HTTPStatus int
	// Error is the error answered, with its fbtrace_id; nil for a plain HTTP failure.
	Error *whatsapp.GraphError
	At    time.Time
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

// Rejected returns every send request the fake refused, oldest first: with Sent (compare Seq) it
// tells how many attempts a message took before it was accepted.
func (s *Server) Rejected() []RejectedSend {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejected)
}

// ReadReceipts returns every accepted mark-as-read request, oldest first.
func (s *Server) ReadReceipts() []ReadReceipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reads)
}

// WaitForSent waits until at least n sends were accepted and returns them all (the kept ones, with
// Options.Keep), or returns ctx's error.
func (s *Server) WaitForSent(ctx context.Context, n int) ([]SentMessage, error) {
	for {
		s.mu.Lock()
		got, changed := s.accepted, s.changed
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

// handleMessages serves POST /{version}/{phone-number-id}/messages: sends and read receipts. Every
// send is recorded, as accepted (Sent) or rejected (Rejected).
func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request, phoneNumberID string) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var probe sendProbe
	decoded := readErr == nil && json.Unmarshal(body, &probe) == nil
	rejected := RejectedSend{PhoneNumberID: phoneNumberID, To: probe.To, Type: probe.Type, Body: body, Header: r.Header.Clone()}
	reject := func(ge *whatsapp.GraphError) {
		answered := s.writeError(w, ge)
		if probe.Status == "" {
			rejected.Code, rejected.HTTPStatus, rejected.Error = answered.Code, answered.HTTPStatus, answered
			s.recordRejected(rejected)
		}
	}
	n, ge := s.checkNumber(r, phoneNumberID)
	switch {
	case ge != nil:
		reject(ge)
		return
	case !decoded:
		reject(apiError(100, "(#100) Invalid JSON for postbody", "The request body is not a JSON object."))
		return
	case probe.MessagingProduct != "whatsapp":
		reject(apiError(100, "(#100) The parameter messaging_product is required.", `messaging_product must be "whatsapp".`))
		return
	case probe.Status != "":
		s.markRead(w, n, probe)
		return
	}
	if code := s.takeFailure(); code != 0 {
		if plainFailure(code) {
			http.Error(w, strings.ToUpper(http.StatusText(code)), code)
			rejected.Code, rejected.HTTPStatus = code, code
			s.recordRejected(rejected)
			return
		}
		reject(whatsapp.ErrorForCode(code))
		return
	}
	msg, ge := s.validateSend(n, probe, body)
	if ge != nil {
		rejected.Message = msg
		reject(ge)
		return
	}
	sent := SentMessage{
		PhoneNumberID: n.PhoneNumberID, MessageID: newMessageID(), To: probe.To, WaID: waID(probe.To),
		Type: probe.Type, Message: msg, Body: body, Header: r.Header.Clone(), At: s.opts.Clock(),
	}
	sent = s.record(sent)
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

// record stores an accepted send, numbering it among all send requests, and wakes WaitForSent.
func (s *Server) record(m SentMessage) SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	m.Seq = s.seq
	s.accepted++
	s.sent = keepLatest(append(s.sent, m), s.opts.Keep)
	close(s.changed)
	s.changed = make(chan struct{})
	return m
}

// recordRejected stores a refused send, numbering it among all send requests.
func (s *Server) recordRejected(m RejectedSend) {
	if m.Message.To == "" && m.Type != "" && json.Valid(m.Body) {
		json.Unmarshal(m.Body, &m.Message) // best effort: the body may be what was wrong
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	m.Seq, m.At = s.seq, s.opts.Clock()
	s.rejected = keepLatest(append(s.rejected, m), s.opts.Keep)
}

// keepLatest drops the oldest entries beyond keep (0: none), a quarter of keep at a time so that
// trimming costs little per entry.
func keepLatest[T any](list []T, keep int) []T {
	if keep <= 0 || len(list) <= keep+keep/4 {
		return list
	}
	return append([]T(nil), list[len(list)-keep:]...)
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
		s.reads = keepLatest(append(s.reads, ReadReceipt{PhoneNumberID: n.PhoneNumberID, MessageID: probe.MessageID,
			Typing: probe.TypingIndicator != nil, At: s.opts.Clock()}), s.opts.Keep)
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

// authorizeNumber checks the token and the number (see checkNumber), answering the error itself.
func (s *Server) authorizeNumber(w http.ResponseWriter, r *http.Request, phoneNumberID string) (Number, bool) {
	n, ge := s.checkNumber(r, phoneNumberID)
	if ge != nil {
		s.writeError(w, ge)
		return Number{}, false
	}
	return n, true
}

// checkNumber checks the token and the number as Meta does: a missing token is 190, an unknown
// number 100/33, another number's token 190.
func (s *Server) checkNumber(r *http.Request, phoneNumberID string) (Number, *whatsapp.GraphError) {
	tok := bearer(r)
	if tok == "" {
		return Number{}, invalidToken()
	}
	n, ok := s.Number(phoneNumberID)
	if !ok {
		return Number{}, unsupported(r.Method, phoneNumberID)
	}
	if !sameToken(tok, n.Token) {
		return Number{}, invalidToken()
	}
	return n, nil
}
