package graphtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard/whatsapp"
)

// statusItem is one statuses[] entry as Meta posts it.
type statusItem struct {
	ID                    string          `json:"id"`
	Status                string          `json:"status"`
	Timestamp             string          `json:"timestamp"`
	RecipientID           string          `json:"recipient_id"`
	BizOpaqueCallbackData string          `json:"biz_opaque_callback_data,omitempty"`
	Conversation          map[string]any  `json:"conversation,omitempty"`
	Pricing               map[string]any  `json:"pricing,omitempty"`
	Errors                json.RawMessage `json:"errors,omitempty"`
}

// scheduleStatuses posts the status webhooks that follow an accepted send, one after the other, in
// the background: the async failure for the recipient if one is set, else the status flow.
func (s *Server) scheduleStatuses(n Number, m SentMessage, callbackData string) {
	s.mu.Lock()
	flow := append([]string(nil), s.faults.flow...)
	failCode, fails := s.faults.asyncFailures[m.WaID]
	if fails {
		flow = []string{whatsapp.StatusFailed}
	} else if m.Type == "reaction" && len(flow) > 0 {
		flow = []string{whatsapp.StatusSent}
	}
	if s.closed || len(flow) == 0 || n.WebhookURL == "" {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1) // under mu, so it cannot race with Close's Wait
	s.mu.Unlock()
	category, pricingType := "service", "free_customer_service"
	if m.Type == "template" {
		category, pricingType = "utility", "regular"
	}
	conversationID := strings.ToLower(rand.Text())
	go func() {
		defer s.wg.Done()
		pricedAfterSent := false
		for _, status := range flow {
			if !s.sleep(s.opts.StatusDelay) {
				return
			}
			now := s.opts.Clock()
			item := statusItem{ID: m.MessageID, Status: status, Timestamp: strconv.FormatInt(now.Unix(), 10),
				RecipientID: m.WaID, BizOpaqueCallbackData: callbackData}
			switch status {
			case whatsapp.StatusFailed:
				item.Errors = failureErrors(failCode)
			case whatsapp.StatusSent, whatsapp.StatusDelivered, whatsapp.StatusRead:
				// Pricing comes with sent and with the first of delivered/read, never both.
				if status == whatsapp.StatusSent || !pricedAfterSent {
					item.Pricing = map[string]any{"billable": pricingType == "regular", "pricing_model": "PMP",
						"type": pricingType, "category": category}
					pricedAfterSent = status != whatsapp.StatusSent
				}
				if !s.opts.OmitConversation {
					item.Conversation = map[string]any{"id": conversationID, "origin": map[string]string{"type": category}}
					if status == whatsapp.StatusSent {
						item.Conversation["expiration_timestamp"] = strconv.FormatInt(now.Add(24*time.Hour).Unix(), 10)
					}
				}
			}
			s.post(n, envelope(n, "statuses", []statusItem{item}, nil))
		}
	}()
}

// failureErrors is the errors[] of a failed status.
func failureErrors(code int) json.RawMessage {
	ge := whatsapp.ErrorForCode(code)
	b, _ := json.Marshal([]map[string]any{{
		"code": code, "title": ge.Title, "message": ge.Title,
		"error_data": map[string]string{"details": ge.Details},
		"href":       "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
	}})
	return b
}

// envelope wraps items (statuses or messages) of one number in Meta's webhook envelope.
func envelope(n Number, key string, items any, contacts any) []byte {
	value := map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          map[string]string{"display_phone_number": n.DisplayPhoneNumber, "phone_number_id": n.PhoneNumberID},
		key:                 items,
	}
	if contacts != nil {
		value["contacts"] = contacts
	}
	b, _ := json.Marshal(map[string]any{
		"object": whatsapp.ObjectWhatsApp,
		"entry":  []any{map[string]any{"id": n.WABAID, "changes": []any{map[string]any{"value": value, "field": "messages"}}}},
	})
	return b
}

// sleep waits d unless the server is closed; it reports whether to go on.
func (s *Server) sleep(d time.Duration) bool {
	if d <= 0 {
		return s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// post delivers a webhook with Meta-like retries: up to WebhookAttempts tries, the wait doubling.
func (s *Server) post(n Number, body []byte) {
	wait := s.opts.WebhookRetryDelay
	for attempt := 1; attempt <= s.opts.WebhookAttempts; attempt++ {
		resp, err := s.send(s.ctx, n, body)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
				return
			}
			err = fmt.Errorf("webhook answered %s", resp.Status)
		}
		s.log.Warn("webhook delivery failed", "phone_number_id", n.PhoneNumberID, "attempt", attempt, "error", err)
		if attempt == s.opts.WebhookAttempts || !s.sleep(wait) {
			return
		}
		wait *= 2
	}
}

// Deliver signs body with the number's app secret and POSTs it to the number's webhook URL, as Meta
// does: Content-Type application/json and X-Hub-Signature-256. It does not retry; the caller closes
// the response body. Use it with Inbound to play the customer.
func (s *Server) Deliver(ctx context.Context, phoneNumberID string, body []byte) (*http.Response, error) {
	n, ok := s.Number(phoneNumberID)
	if !ok {
		return nil, fmt.Errorf("graphtest: unknown phone number id %q", phoneNumberID)
	}
	return s.send(ctx, n, body)
}

func (s *Server) send(ctx context.Context, n Number, body []byte) (*http.Response, error) {
	if n.WebhookURL == "" {
		return nil, errors.New("graphtest: number " + n.PhoneNumberID + " has no webhook URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(body, n.AppSecret))
	req.Header.Set("User-Agent", "facebookexternalua")
	return s.opts.HTTPClient.Do(req)
}
