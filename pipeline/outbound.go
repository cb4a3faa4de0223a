package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"switchboard"
	"switchboard/whatsapp"
)

// OutboundStore is the storage the outbound path needs.
type OutboundStore interface {
	Conversation(ctx context.Context, id int64) (*switchboard.Conversation, error)
	Channel(ctx context.Context, id int64) (*switchboard.Channel, error)
	IsChannelMember(ctx context.Context, channelID, agentID int64) (bool, error)
	Template(ctx context.Context, channelID int64, name, language string) (*switchboard.Template, error)
	QueueOutbound(ctx context.Context, m *switchboard.Message) (*switchboard.Message, []switchboard.Event, error)
	RetryOutbound(ctx context.Context, messageID int64) (*switchboard.Message, []switchboard.Event, error)
	Message(ctx context.Context, id int64) (*switchboard.Message, error)
}

// SendRequest is what an agent (over REST or the websocket) asks to send in a conversation.
type SendRequest struct {
	ConversationID int64
	Text           string
	// Private makes the text an internal note, never sent to WhatsApp.
	Private  bool
	Template *TemplateRequest
	// ClientID makes the request idempotent: the same id returns the message already queued.
	ClientID string
	// ReplyTo quotes a message of the conversation by its wamid.
	ReplyTo string
	// Media is an attachment already stored in the data directory (REST uploads).
	Media *switchboard.Media
}

// TemplateRequest sends an approved template. Params fill the body variables: a JSON array for
// positional templates ({{1}}, {{2}}) or an object for named ones ({{first_name}}).
type TemplateRequest struct {
	Name         string          `json:"name"`
	Language     string          `json:"language"`
	Params       json.RawMessage `json:"params,omitempty"`
	HeaderParams []string        `json:"header_params,omitempty"`
	ButtonParams []ButtonParam   `json:"button_params,omitempty"`
}

// ButtonParam fills a template button: a quick reply's payload or a URL button's suffix.
type ButtonParam struct {
	Index   int    `json:"index"`
	SubType string `json:"sub_type"`
	Value   string `json:"value"`
}

// Outbound is the one path every business message takes: checks (window, template, opt-out), then a
// queued message and its send job in one transaction.
type Outbound struct {
	store     OutboundStore
	clock     switchboard.Clock
	publisher Publisher
	log       *slog.Logger
}

// OutboundOptions configure NewOutbound.
type OutboundOptions struct {
	Store     OutboundStore
	Clock     switchboard.Clock
	Publisher Publisher
	Logger    *slog.Logger
}

// NewOutbound returns the outbound service.
func NewOutbound(o OutboundOptions) *Outbound {
	if o.Clock == nil {
		o.Clock = switchboard.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Outbound{store: o.Store, clock: o.Clock, publisher: o.Publisher, log: o.Logger}
}

// Send checks and queues a message from an agent. Outside the 24-hour window only templates may be
// sent (EWINDOWCLOSED, nothing queued); marketing templates are refused to contacts who opted out
// and to US numbers (EOPTEDOUT / EINVALID); agents may only write in their channels.
func (o *Outbound) Send(ctx context.Context, agent *switchboard.Agent, req SendRequest) (*switchboard.Message, error) {
	conv, err := o.store.Conversation(ctx, req.ConversationID)
	if err != nil {
		return nil, err
	}
	if agent.Role != switchboard.RoleAdmin {
		ok, err := o.store.IsChannelMember(ctx, conv.ChannelID, agent.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "Conversation not found.")
		}
	}
	m := &switchboard.Message{ConversationID: conv.ID, Sender: switchboard.SenderAgent, SenderID: &agent.ID,
		SenderName: agent.Name, ClientID: req.ClientID, ReplyTo: req.ReplyTo}
	switch {
	case req.Private:
		m.Type, m.Text, m.Private = switchboard.TypeNote, req.Text, true
	case req.Template != nil:
		if err := o.prepareTemplate(ctx, conv, req.Template, m); err != nil {
			return nil, err
		}
	default:
		if !conv.WindowOpen(o.clock.Now()) {
			return nil, switchboard.Errorf(switchboard.EWINDOWCLOSED,
				"More than 24 hours have passed since the customer's last message; send an approved template instead.")
		}
		m.Type, m.Text, m.Media = switchboard.TypeText, req.Text, req.Media
		if req.Media != nil {
			m.Type = mediaType(req.Media.MimeType)
		} else {
			var p switchboard.Problems
			p.Check(strings.TrimSpace(req.Text) != "", "text", "Write a message.")
			p.Check(utf8.RuneCountInString(req.Text) <= switchboard.MaxTextLength, "text", "A WhatsApp message is at most 4096 characters.")
			if err := p.Err(); err != nil {
				return nil, err
			}
		}
	}
	msg, events, err := o.store.QueueOutbound(ctx, m)
	if err != nil {
		return nil, err
	}
	publish(ctx, o.publisher, events)
	return msg, nil
}

// mediaType maps a MIME type to WhatsApp's media message type.
func mediaType(mime string) string {
	switch {
	case strings.HasPrefix(mime, "image/webp"):
		return "sticker"
	case strings.HasPrefix(mime, "image/"):
		return "image"
	case strings.HasPrefix(mime, "video/"):
		return "video"
	case strings.HasPrefix(mime, "audio/"):
		return "audio"
	}
	return "document"
}

// prepareTemplate checks the template request against the cached template and stores the Graph API
// template body as the message payload, so the send job sends exactly what was checked.
func (o *Outbound) prepareTemplate(ctx context.Context, conv *switchboard.Conversation, tr *TemplateRequest, m *switchboard.Message) error {
	var p switchboard.Problems
	p.Check(strings.TrimSpace(tr.Name) != "", "template.name", "Choose a template.")
	p.Check(strings.TrimSpace(tr.Language) != "", "template.language", "Choose the template's language.")
	if err := p.Err(); err != nil {
		return err
	}
	tpl, err := o.store.Template(ctx, conv.ChannelID, tr.Name, tr.Language)
	if err != nil {
		if switchboard.IsCode(err, switchboard.ENOTFOUND) {
			return switchboard.FieldError("template.name", "No such template in this language; sync the templates.")
		}
		return err
	}
	if !tpl.Usable() {
		return switchboard.FieldError("template.name", "This template is "+strings.ToLower(tpl.Status)+" and cannot be sent.")
	}
	if strings.EqualFold(tpl.Category, switchboard.CategoryMarketing) && conv.Contact != nil {
		if conv.Contact.OptedOut {
			return switchboard.Errorf(switchboard.EOPTEDOUT, "The customer opted out of marketing messages.")
		}
		if strings.HasPrefix(conv.Contact.Phone, "+1") {
			return &switchboard.Error{Code: switchboard.EINVALID, Message: "Meta does not deliver marketing templates to US numbers.",
				Fields: map[string]string{"template.name": "Marketing templates to +1 (US) numbers are paused by Meta."}}
		}
	}
	wt := whatsapp.ParseTemplate(templateJSON(tpl))
	msg, err := buildTemplate(wt, tr)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(whatsapp.OutboundMessage{Template: msg})
	if err != nil {
		return err
	}
	m.Type, m.Payload, m.Text = switchboard.TypeTemplate, payload, renderTemplate(wt, tr)
	return nil
}

// templateJSON rebuilds the template object Meta lists from the cached row.
func templateJSON(t *switchboard.Template) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"id": t.ExternalID, "name": t.Name, "language": t.Language, "status": t.Status,
		"category": t.Category, "parameter_format": t.ParameterFormat, "components": json.RawMessage(orEmpty(t.Components))})
	return b
}

func orEmpty(b []byte) []byte {
	if len(b) == 0 {
		return []byte("[]")
	}
	return b
}

// buildTemplate turns the request's parameters into Meta's components and checks them locally
// (count and kind), so a bad request is refused before anything is queued.
func buildTemplate(t whatsapp.Template, tr *TemplateRequest) (*whatsapp.TemplateMessage, error) {
	msg := &whatsapp.TemplateMessage{Name: tr.Name, Language: tr.Language}
	var body []whatsapp.TemplateParameter
	if len(tr.Params) > 0 && string(tr.Params) != "null" {
		var list []string
		var named map[string]string
		switch {
		case json.Unmarshal(tr.Params, &list) == nil:
			if t.Named() {
				return nil, switchboard.FieldError("template.params", "This template has named variables; send an object such as {\"first_name\": \"Ana\"}.")
			}
			for _, v := range list {
				body = append(body, whatsapp.TextParam(v))
			}
		case json.Unmarshal(tr.Params, &named) == nil:
			if !t.Named() {
				return nil, switchboard.FieldError("template.params", "This template has numbered variables; send a list of values.")
			}
			for _, name := range t.BodyParams().Names {
				if v, ok := named[name]; ok {
					body = append(body, whatsapp.NamedTextParam(name, v))
				}
			}
			if len(named) != len(body) {
				return nil, switchboard.FieldError("template.params", "Some names are not variables of this template.")
			}
		default:
			return nil, switchboard.FieldError("template.params", "Send a list of values (or an object for named variables).")
		}
	}
	if len(tr.HeaderParams) > 0 {
		hp := make([]whatsapp.TemplateParameter, len(tr.HeaderParams))
		for i, v := range tr.HeaderParams {
			hp[i] = whatsapp.TextParam(v)
		}
		msg.Components = append(msg.Components, whatsapp.TemplateComponentParams{Type: whatsapp.ComponentHeader, Parameters: hp})
	}
	if len(body) > 0 {
		msg.Components = append(msg.Components, whatsapp.TemplateComponentParams{Type: whatsapp.ComponentBody, Parameters: body})
	}
	for _, b := range tr.ButtonParams {
		param := whatsapp.TextParam(b.Value)
		if b.SubType == "quick_reply" {
			param = whatsapp.PayloadParam(b.Value)
		}
		msg.Components = append(msg.Components, whatsapp.TemplateComponentParams{Type: whatsapp.ComponentButton, SubType: b.SubType,
			Index: b.Index, Parameters: []whatsapp.TemplateParameter{param}})
	}
	for _, v := range body {
		if strings.TrimSpace(v.Text) == "" {
			return nil, switchboard.FieldError("template.params", "Every variable needs a value.")
		}
	}
	if err := t.CheckParams(msg.Components); err != nil {
		return nil, switchboard.FieldError("template.params", err.Error())
	}
	return msg, nil
}

// renderTemplate shows the agent what the customer will read: the body with its variables filled.
func renderTemplate(t whatsapp.Template, tr *TemplateRequest) string {
	c, ok := t.Component("BODY")
	if !ok {
		return "[template " + tr.Name + "]"
	}
	text := c.Text
	var list []string
	var named map[string]string
	if json.Unmarshal(tr.Params, &list) == nil {
		for i, v := range list {
			text = strings.ReplaceAll(text, fmt.Sprintf("{{%d}}", i+1), v)
		}
	} else if json.Unmarshal(tr.Params, &named) == nil {
		for k, v := range named {
			text = strings.ReplaceAll(text, "{{"+k+"}}", v)
		}
	}
	return text
}

// Retry sends a failed message again (the agent's retry action).
func (o *Outbound) Retry(ctx context.Context, agent *switchboard.Agent, conversationID, messageID int64) (*switchboard.Message, error) {
	m, err := o.store.Message(ctx, messageID)
	if err != nil {
		return nil, err
	}
	if m.ConversationID != conversationID {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "Message not found.")
	}
	conv, err := o.store.Conversation(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	if agent.Role != switchboard.RoleAdmin {
		if ok, err := o.store.IsChannelMember(ctx, conv.ChannelID, agent.ID); err != nil || !ok {
			return nil, switchboard.Errorf(switchboard.ENOTFOUND, "Message not found.")
		}
	}
	if m.Type != switchboard.TypeTemplate && !conv.WindowOpen(o.clock.Now()) {
		return nil, switchboard.Errorf(switchboard.EWINDOWCLOSED,
			"More than 24 hours have passed since the customer's last message; send an approved template instead.")
	}
	msg, events, err := o.store.RetryOutbound(ctx, messageID)
	if err != nil {
		return nil, err
	}
	publish(ctx, o.publisher, events)
	return msg, nil
}
