// Package whatsapp speaks Meta's WhatsApp Cloud API: it checks and parses the webhooks Meta posts and
// calls the Graph API (send, mark read, media, templates). It knows nothing of the database or of the
// HTTP framework; every call takes the channel's own credentials.
//
// Inbound flow, as the webhook endpoint uses it:
//
//	GET  → VerifyHandshake(query, verifyToken) → 200 + challenge, or 403
//	POST → read the raw body once → VerifySignature(body, header, appSecret) → ParseWebhook(body)
//	     → for each Change: Contacts, Messages, Statuses (apply by Status.Rank), Errors, TemplateUpdate
//
// Outbound flow: Client.Send(ctx, token, phoneNumberID, OutboundMessage) → SendResult (wamid) or an
// error that Classify sorts into retry, window closed, bad credentials or permanent failure.
package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// SignatureHeader is the HTTP header that carries Meta's HMAC-SHA256 signature of a webhook body.
const SignatureHeader = "X-Hub-Signature-256"

// signaturePrefix starts every SignatureHeader value.
const signaturePrefix = "sha256="

// ErrSignatureMissing is returned by VerifySignature when the request carried no signature header.
var ErrSignatureMissing = errors.New("whatsapp: webhook signature missing")

// ErrSignatureInvalid is returned (wrapped, with the reason) by VerifySignature when the signature is
// malformed, does not match the body, or cannot be checked because the app secret is empty.
var ErrSignatureInvalid = errors.New("whatsapp: webhook signature invalid")

// VerifyHandshake answers Meta's subscription check (GET with hub.mode, hub.verify_token and
// hub.challenge). It returns the challenge exactly as sent and true only when the mode is "subscribe",
// a challenge is present and the token equals verifyToken; the comparison runs in constant time and an
// empty verifyToken never matches, so an unconfigured channel cannot be subscribed by anyone.
func VerifyHandshake(q url.Values, verifyToken string) (challenge string, ok bool) {
	if verifyToken == "" || q.Get("hub.mode") != "subscribe" {
		return "", false
	}
	challenge = q.Get("hub.challenge")
	if challenge == "" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", false
	}
	return challenge, true
}

// VerifySignature checks header (the X-Hub-Signature-256 value, "sha256=<hex>") against the
// HMAC-SHA256 of the raw request body keyed with the app secret. The body must be the exact bytes Meta
// sent: Meta signs its escaped-unicode rendering, so re-encoded JSON would not match. It returns nil,
// ErrSignatureMissing for an empty header, or an error wrapping ErrSignatureInvalid.
func VerifySignature(body []byte, header, appSecret string) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrSignatureMissing
	}
	if appSecret == "" {
		return fmt.Errorf("%w: no app secret configured", ErrSignatureInvalid)
	}
	hexSig, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: header does not start with %q", ErrSignatureInvalid, signaturePrefix)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: malformed hex digest", ErrSignatureInvalid)
	}
	if !hmac.Equal(got, mac(body, appSecret)) {
		return fmt.Errorf("%w: digest does not match the body", ErrSignatureInvalid)
	}
	return nil
}

// Sign returns the X-Hub-Signature-256 value Meta would send for body: "sha256=" and the lowercase hex
// HMAC-SHA256 of the bytes keyed with appSecret. The fake Graph API and tests use it to sign webhooks.
func Sign(body []byte, appSecret string) string {
	return signaturePrefix + hex.EncodeToString(mac(body, appSecret))
}

func mac(body []byte, secret string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return h.Sum(nil)
}

// ObjectWhatsApp is the envelope "object" of every WhatsApp Business Account webhook.
const ObjectWhatsApp = "whatsapp_business_account"

// ErrInvalidWebhook is returned by ParseWebhook when the body is not JSON at all.
var ErrInvalidWebhook = errors.New("whatsapp: webhook body is not valid JSON")

// ErrNotWhatsApp is returned by ParseWebhook when the JSON is not a WhatsApp Business Account envelope
// (its "object" is missing or different).
var ErrNotWhatsApp = errors.New("whatsapp: webhook is not a whatsapp_business_account envelope")

// Webhook is one webhook POST flattened: every change of every entry, in order.
type Webhook struct {
	Changes []Change
}

// ParseWebhook decodes a webhook body. It fails only when the body is not JSON (ErrInvalidWebhook) or
// not a WhatsApp Business Account envelope (ErrNotWhatsApp); otherwise it tolerates unknown fields and
// types, numbers written as strings and the reverse, and missing optional parts, and returns every
// entry and change it can read. Each part decodes on its own, so a malformed item loses only itself;
// array items that are not JSON objects are skipped. Messages and statuses are returned as sent, even
// without an id: what to do with those is the caller's choice.
func ParseWebhook(body []byte) (*Webhook, error) {
	// One pass over the envelope: encoding/json skips a mistyped member and goes on with the rest,
	// which is the tolerance wanted here; only a syntax error stops it.
	var env envelopeWire
	if err := json.Unmarshal(body, &env); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return nil, ErrInvalidWebhook
		}
	}
	if env.Object != ObjectWhatsApp {
		return nil, ErrNotWhatsApp
	}
	wh := &Webhook{}
	for _, entry := range env.Entry {
		for _, ch := range entry.Changes {
			if ch.Field == "" && ch.Value == nil {
				continue // not an object
			}
			c := parseChange(ch.Value, string(ch.Field))
			c.WABAID, c.Time = string(entry.ID), entry.Time.Time()
			wh.Changes = append(wh.Changes, c)
		}
	}
	return wh, nil
}

type envelopeWire struct {
	Object flexString `json:"object"`
	Entry  []struct {
		ID      flexString `json:"id"`
		Time    flexTime   `json:"time"`
		Changes []struct {
			Field flexString      `json:"field"`
			Value json.RawMessage `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}
