package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard"
	"switchboard/store"
	"switchboard/whatsapp/graphtest"
)

// The sandbox (DESIGN §5) lets anyone try Switchboard without a Meta account: a fake Graph API is
// mounted at /sandbox/graph, a sandbox channel is created in one call, and a "customer phone" writes
// to it through the real, signed webhook endpoint; replies take the real send path and status
// webhooks come back as Meta's would.

// SandboxGraphPath is where the fake Graph API is mounted.
const SandboxGraphPath = "/sandbox/graph"

// HandlerTransport serves HTTP requests with a handler in-process, whatever their host: the sandbox's
// fake Meta and the server call each other without a network (and without needing the public URL to
// be reachable from inside).
func HandlerTransport(h func() http.Handler) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		req := r.Clone(r.Context())
		req.RequestURI = req.URL.RequestURI()
		if req.RemoteAddr == "" {
			req.RemoteAddr = "127.0.0.1:0"
		}
		h().ServeHTTP(rec, req)
		res := rec.Result()
		res.Request = r
		return res, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// SandboxStore is the storage the sandbox needs.
type SandboxStore interface {
	CreateChannel(ctx context.Context, c *switchboard.Channel) error
	ListChannels(ctx context.Context, agentID int64) ([]*switchboard.Channel, error)
}

// sandboxTemplates are the approved templates every sandbox business account starts with.
var sandboxTemplates = []string{
	`{"name":"hello_world","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"Hello! Thanks for reaching out. How can we help you today?"}]}`,
	`{"name":"follow_up","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"Hi {{1}}, we're following up on your request. Reply here to continue the conversation."}]}`,
	`{"name":"order_update","language":"en_US","category":"UTILITY","components":[{"type":"BODY","text":"Hi {{1}}, your order {{2}} has shipped and will arrive {{3}}."}]}`,
	`{"name":"spring_sale","language":"en_US","category":"MARKETING","components":[{"type":"BODY","text":"Our spring sale starts today: 20% off everything until Sunday."}]}`,
	`{"name":"order_receipt","language":"en_US","category":"UTILITY","components":[{"type":"HEADER","format":"DOCUMENT"},{"type":"BODY","text":"Hi {{1}}, here is the receipt for your order {{2}}."}]}`,
}

func randomDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		if i == 0 && d.Int64() == 0 {
			d = big.NewInt(7)
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

// registerSandbox tells the fake about a sandbox channel's number, so its sends are accepted and its
// status webhooks reach the channel.
func (s *Server) registerSandbox(ch *switchboard.Channel) {
	s.sandbox.RegisterNumber(graphtest.Number{PhoneNumberID: ch.PhoneNumberID, DisplayPhoneNumber: strings.TrimPrefix(ch.PhoneNumber, "+"),
		WABAID: ch.BusinessAccountID, Token: ch.APIKey, AppSecret: ch.AppSecret,
		WebhookURL: strings.TrimRight(s.cfg.PublicURL, "/") + "/webhooks/whatsapp/" + itoa(ch.ID)})
	for _, t := range sandboxTemplates {
		if err := s.sandbox.AddTemplate(ch.BusinessAccountID, []byte(t)); err != nil {
			s.log.Warn("sandbox template", "err", err)
		}
	}
}

// RestoreSandbox registers the existing sandbox channels with the fake after a restart (the fake
// keeps its state in memory).
func (s *Server) RestoreSandbox(ctx context.Context) error {
	if s.sandbox == nil {
		return nil
	}
	chans, err := s.store.ListChannels(ctx, 0)
	if err != nil {
		return err
	}
	for _, ch := range chans {
		if ch.Sandbox {
			s.registerSandbox(ch)
		}
	}
	return nil
}

type sandboxChannelRequest struct {
	Name string `json:"name"`
}

// handleCreateSandboxChannel creates a channel on the fake Graph API in one call, with a few approved
// templates synced.
func (s *Server) handleCreateSandboxChannel(c echo.Context) error {
	var req sandboxChannelRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ch := newChannel()
	ch.Name = strings.TrimSpace(req.Name)
	if ch.Name == "" {
		ch.Name = "Sandbox"
	}
	ch.Sandbox = true
	ch.PhoneNumber = "+1555" + randomDigits(7)
	ch.PhoneNumberID, ch.BusinessAccountID = randomDigits(15), randomDigits(15)
	ch.APIKey, ch.AppSecret = "EAAsandbox"+randomToken(24), randomToken(24)
	ctx := c.Request().Context()
	if err := s.store.CreateChannel(ctx, ch); err != nil {
		return err
	}
	s.registerSandbox(ch)
	// The admin trying the sandbox is its first member, so its conversations come to them.
	if err := s.store.PutChannelMember(ctx, &switchboard.ChannelMember{ChannelID: ch.ID, AgentID: currentAgent(c).ID,
		Capacity: ch.DefaultCapacity}); err != nil {
		return err
	}
	if s.templates != nil {
		if _, err := s.templates.Sync(ctx, ch.ID); err != nil {
			s.log.Warn("sandbox template sync", "channel_id", ch.ID, "err", err)
		}
	}
	return c.JSON(http.StatusCreated, s.channelView(ch, true))
}

// sandboxMessageRequest is what the customer phone sends.
type sandboxMessageRequest struct {
	WaID      string  `json:"wa_id"`
	Name      string  `json:"name"`
	Type      string  `json:"type"` // text, button_reply, list_reply, reaction, location, image
	Text      string  `json:"text"`
	ReplyTo   string  `json:"reply_to"`   // wamid of the business message answered (context)
	ReplyID   string  `json:"reply_id"`   // id of the tapped button or list row
	MessageID string  `json:"message_id"` // reaction target
	Emoji     string  `json:"emoji"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	// HoursAgo back-dates the message, e.g. 25 to try what happens once the 24-hour window is closed.
	HoursAgo float64 `json:"hours_ago"`
}

// sandboxImage is a 1×1 PNG the customer phone sends as a photo.
var sandboxImage, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

func (s *Server) sandboxMessage(req sandboxMessageRequest) (graphtest.InboundMessage, error) {
	if !switchboard.ValidE164("+" + req.WaID) {
		return graphtest.InboundMessage{}, switchboard.FieldError("wa_id", "The customer's number in digits, e.g. 15551234567.")
	}
	name := req.Name
	if name == "" {
		name = "Sandbox customer"
	}
	var m graphtest.InboundMessage
	switch req.Type {
	case "", "text":
		if strings.TrimSpace(req.Text) == "" {
			return m, switchboard.FieldError("text", "Write a message.")
		}
		m = graphtest.TextMessage(req.WaID, name, req.Text)
	case "button_reply":
		m = graphtest.ButtonReply(req.WaID, name, req.ReplyTo, req.ReplyID, req.Text)
	case "list_reply":
		m = graphtest.ListReply(req.WaID, name, req.ReplyTo, req.ReplyID, req.Text, "")
	case "reaction":
		m = graphtest.Reaction(req.WaID, name, req.MessageID, req.Emoji)
	case "location":
		m = graphtest.Location(req.WaID, name, req.Latitude, req.Longitude, req.Text, "")
	case "image":
		id := randomDigits(16)
		sha := s.sandbox.PutMedia(id, "image/png", sandboxImage)
		m = graphtest.MediaMessage(req.WaID, name, graphtest.InboundMedia{Kind: "image", ID: id, MimeType: "image/png", SHA256: sha, Caption: req.Text})
	default:
		return m, switchboard.FieldError("type", "Use text, button_reply, list_reply, reaction, location or image.")
	}
	if req.ReplyTo != "" && req.Type == "text" {
		m.ReplyTo = req.ReplyTo
	}
	if req.HoursAgo < 0 || req.HoursAgo > 24*30 {
		return m, switchboard.FieldError("hours_ago", "Back-date by 0 to 720 hours.")
	}
	if req.HoursAgo > 0 {
		m.Timestamp = time.Now().Add(-time.Duration(req.HoursAgo * float64(time.Hour)))
	}
	return m, nil
}

// handleSandboxCustomerMessage plays the customer: the message is wrapped as Meta would, signed with
// the channel's app secret and posted to the real webhook endpoint.
func (s *Server) handleSandboxCustomerMessage(c echo.Context) error {
	ch, err := s.visibleChannel(c)
	if err != nil {
		return err
	}
	if !ch.Sandbox {
		return notFoundErr("Sandbox channel")
	}
	var req sandboxMessageRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	msg, err := s.sandboxMessage(req)
	if err != nil {
		return err
	}
	body, err := s.sandbox.Inbound(ch.PhoneNumberID, msg)
	if err != nil {
		return err
	}
	res, err := s.sandbox.Deliver(c.Request().Context(), ch.PhoneNumberID, body)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "The webhook endpoint answered %d.", res.StatusCode)
	}
	return c.JSON(http.StatusAccepted, map[string]string{"external_id": msg.ID})
}

// handleSandboxTranscript returns what the customer's phone shows: the non-private messages of the
// customer's latest conversation on the sandbox channel, oldest first, with their delivery status.
func (s *Server) handleSandboxTranscript(c echo.Context) error {
	ch, err := s.visibleChannel(c)
	if err != nil {
		return err
	}
	if !ch.Sandbox {
		return notFoundErr("Sandbox channel")
	}
	waID := c.QueryParam("wa_id")
	if !switchboard.ValidE164("+" + waID) {
		return switchboard.FieldError("wa_id", "The customer's number in digits, e.g. 15551234567.")
	}
	ctx := c.Request().Context()
	convs, _, err := s.store.ListConversations(ctx, store.ConversationFilter{ChannelID: ch.ID, Search: waID, Limit: 1})
	if err != nil {
		return err
	}
	out := []*switchboard.Message{}
	if len(convs) > 0 && convs[0].Contact != nil && convs[0].Contact.WaID == waID {
		msgs, _, err := s.store.ListMessages(ctx, convs[0].ID, "", 200)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if !m.Private && m.Type != switchboard.TypeActivity {
				out = append(out, m)
			}
		}
	}
	return c.JSON(http.StatusOK, list(out))
}
