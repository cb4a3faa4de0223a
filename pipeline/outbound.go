package pipeline

import (
	"context"
	"encoding/json"
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
// sent (EWINDOWCLOSED, nothing queued). A contact who opted out gets no business-initiated message
// (EOPTEDOUT): no template while the window is closed (it would open a business-initiated
// conversation) and no marketing template at all; replies inside the window, which the customer
// opened by writing, stay allowed. Marketing templates to US numbers are refused (EINVALID). Agents
// may only write in their channels.
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
	if err := o.optedOut(conv, tpl.Category); err != nil {
		return err
	}
	if strings.EqualFold(tpl.Category, switchboard.CategoryMarketing) && conv.Contact != nil && strings.HasPrefix(conv.Contact.Phone, "+1") {
		return &switchboard.Error{Code: switchboard.EINVALID, Message: "Meta does not deliver marketing templates to US numbers.",
			Fields: map[string]string{"template.name": "Marketing templates to +1 (US) numbers are paused by Meta."}}
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

// optedOut refuses a template of the given category to a contact who opted out: any template while
// the 24-hour window is closed, since it would start a business-initiated conversation, and a
// marketing template always. Inside the window a non-marketing template answers the customer, who
// wrote, and is allowed, like a free-form reply.
func (o *Outbound) optedOut(conv *switchboard.Conversation, category string) error {
	switch {
	case conv.Contact == nil || !conv.Contact.OptedOut:
		return nil
	case strings.EqualFold(category, switchboard.CategoryMarketing):
		return switchboard.Errorf(switchboard.EOPTEDOUT, "The customer opted out: marketing templates are not sent to them.")
	case !conv.WindowOpen(o.clock.Now()):
		return switchboard.Errorf(switchboard.EOPTEDOUT,
			"The customer opted out: no template may start a conversation with them. Wait until they write again.")
	}
	return nil
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
	if m.Type == switchboard.TypeTemplate {
		category, err := o.templateCategory(ctx, conv.ChannelID, m)
		if err != nil {
			return nil, err
		}
		if err := o.optedOut(conv, category); err != nil {
			return nil, err // the customer opted out since the template was first sent
		}
	} else if !conv.WindowOpen(o.clock.Now()) {
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

// templateCategory returns the category of a template message's template, "" when the template is
// no longer cached (the opt-out rule then judges it as a non-marketing template).
func (o *Outbound) templateCategory(ctx context.Context, channelID int64, m *switchboard.Message) (string, error) {
	var out whatsapp.OutboundMessage
	if json.Unmarshal(m.Payload, &out) != nil || out.Template == nil {
		return "", nil
	}
	tpl, err := o.store.Template(ctx, channelID, out.Template.Name, out.Template.Language)
	if switchboard.IsCode(err, switchboard.ENOTFOUND) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return tpl.Category, nil
}
