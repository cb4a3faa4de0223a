package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is Meta's Graph API host.
const DefaultBaseURL = "https://graph.facebook.com"

// DefaultVersion is the Graph API version used when ClientOptions.Version is empty.
const DefaultVersion = "v25.0"

// maxAnswerBytes bounds the JSON answers the client reads (media downloads have their own limit).
const maxAnswerBytes = 4 << 20

// ClientOptions configures a Client.
type ClientOptions struct {
	// HTTPClient makes the calls; nil means a client with a 30-second timeout.
	HTTPClient *http.Client
	// BaseURL is the Graph API root, e.g. https://graph.facebook.com or a fake's URL (with any path
	// prefix, e.g. http://localhost:8080/sandbox/graph). Empty means DefaultBaseURL.
	BaseURL string
	// Version is the Graph API version path element, e.g. "v25.0". Empty means DefaultVersion.
	Version string
}

// Client calls the Graph API. It holds no credentials: every call takes the channel's token and ids,
// so one Client serves every channel. It is safe for concurrent use.
type Client struct {
	hc      *http.Client
	base    string
	version string
}

// NewClient returns a Client for the given options, filling in defaults.
func NewClient(o ClientOptions) *Client {
	c := &Client{hc: o.HTTPClient, base: strings.TrimRight(o.BaseURL, "/"), version: strings.Trim(o.Version, "/")}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.version == "" {
		c.version = DefaultVersion
	}
	return c
}

// endpoint builds {base}/{version}/{id}/{edge...} with every element path-escaped.
func (c *Client) endpoint(elems ...string) string {
	var b strings.Builder
	b.WriteString(c.base + "/" + c.version)
	for _, e := range elems {
		b.WriteString("/" + url.PathEscape(e))
	}
	return b.String()
}

// requireIDs reports the first empty id, so a misconfigured channel fails before any HTTP call.
func requireIDs(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" {
			return &ValidationError{Field: pairs[i], Problem: "is required"}
		}
	}
	return nil
}

// doJSON sends body (nil for none) as JSON and decodes a 2xx answer into out (nil to ignore it).
func (c *Client) doJSON(ctx context.Context, method, rawURL, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("whatsapp: encoding request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return fmt.Errorf("whatsapp: building request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.do(req, token, out)
}

// do authenticates and runs req, turning transport failures into ErrTransport errors and non-2xx
// answers into *GraphError.
func (c *Client) do(req *http.Request, token string, out any) error {
	resp, err := c.send(req, token)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("%w: reading answer: %w", ErrTransport, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeGraphError(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("whatsapp: unexpected answer from %s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// send runs req with the bearer token; the caller closes the body.
func (c *Client) send(req *http.Request, token string) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTransport, err)
	}
	return resp, nil
}

// sameOrigin reports whether rawURL points at the configured Graph API host, so the bearer token is
// never sent to a host a paging link names.
func (c *Client) sameOrigin(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	base, err := url.Parse(c.base)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(u.Host, base.Host) &&
		strings.HasPrefix(u.Path, base.Path+"/")
}

// successWire is the {"success": true} answer of mark-read and delete.
type successWire struct {
	Success flexBool `json:"success"`
}

// errNotSuccessful is returned when Meta answers 200 with {"success": false}.
var errNotSuccessful = errors.New("whatsapp: graph api answered success=false")

// SendResult is Meta's answer to an accepted send. Accepted is not delivered: delivery and most policy
// failures arrive later as status webhooks about MessageID.
type SendResult struct {
	// MessageID is the wamid; status webhooks refer to it.
	MessageID string
	// WaID is the recipient's WhatsApp id as Meta resolved it; it may differ from Input (Brazil and
	// Mexico prefixes are rewritten).
	WaID string
	// Input is the "to" Meta received.
	Input string
	// MessageStatus is accepted, held_for_quality_assessment or paused; only templates under pacing
	// carry it.
	MessageStatus string
}

type sendAnswerWire struct {
	Contacts []struct {
		Input flexString `json:"input"`
		WaID  flexString `json:"wa_id"`
	} `json:"contacts"`
	Messages []struct {
		ID            flexString `json:"id"`
		MessageStatus flexString `json:"message_status"`
	} `json:"messages"`
}

// errNoMessageID is returned when Meta answers 2xx without a wamid: the message may have been accepted,
// so the error is permanent (a retry could send it twice).
var errNoMessageID = errors.New("whatsapp: send answer carries no message id")

// Send validates m against Meta's limits (a *ValidationError before any HTTP call) and posts it to
// /{phone-number-id}/messages with the channel's token. Errors from Meta are *GraphError; sort any
// error with Classify.
func (c *Client) Send(ctx context.Context, token, phoneNumberID string, m OutboundMessage) (SendResult, error) {
	if err := requireIDs("phone_number_id", phoneNumberID); err != nil {
		return SendResult{}, err
	}
	if err := m.Validate(); err != nil {
		return SendResult{}, err
	}
	var answer sendAnswerWire
	if err := c.doJSON(ctx, http.MethodPost, c.endpoint(phoneNumberID, "messages"), token, m, &answer); err != nil {
		return SendResult{}, err
	}
	if len(answer.Messages) == 0 || answer.Messages[0].ID == "" {
		return SendResult{}, errNoMessageID
	}
	r := SendResult{MessageID: string(answer.Messages[0].ID), MessageStatus: string(answer.Messages[0].MessageStatus)}
	if len(answer.Contacts) > 0 {
		r.Input, r.WaID = string(answer.Contacts[0].Input), string(answer.Contacts[0].WaID)
	}
	return r, nil
}

// readReceiptWire is the body of a mark-as-read request, with the optional typing indicator.
type readReceiptWire struct {
	MessagingProduct string `json:"messaging_product"`
	Status           string `json:"status"`
	MessageID        string `json:"message_id"`
	TypingIndicator  *struct {
		Type string `json:"type"`
	} `json:"typing_indicator,omitempty"`
}

// MarkRead marks the inbound message wamid (and the ones before it) as read, showing blue ticks. With
// typing it also shows a typing indicator, which lasts until our reply or 25 seconds: only ask for it
// when a reply is coming.
func (c *Client) MarkRead(ctx context.Context, token, phoneNumberID, wamid string, typing bool) error {
	if err := requireIDs("phone_number_id", phoneNumberID, "message_id", wamid); err != nil {
		return err
	}
	body := readReceiptWire{MessagingProduct: "whatsapp", Status: "read", MessageID: wamid}
	if typing {
		body.TypingIndicator = &struct {
			Type string `json:"type"`
		}{"text"}
	}
	var answer successWire
	if err := c.doJSON(ctx, http.MethodPost, c.endpoint(phoneNumberID, "messages"), token, body, &answer); err != nil {
		return err
	}
	if !answer.Success {
		return errNotSuccessful
	}
	return nil
}
