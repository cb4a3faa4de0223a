package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/whatsapp"
)

// IngestStore is the storage webhook ingestion needs.
type IngestStore interface {
	Channel(ctx context.Context, id int64) (*switchboard.Channel, error)
	ChannelByPhoneNumberID(ctx context.Context, phoneNumberID string) (*switchboard.Channel, error)
	IngestInboundMany(ctx context.Context, items []switchboard.ChannelInbound) ([]*switchboard.IngestResult, error)
	RecordDeadLetter(ctx context.Context, channelID int64, body []byte, reason string) error
	DeadLetter(ctx context.Context, id int64) (*switchboard.DeadLetter, error)
	DeleteDeadLetter(ctx context.Context, id int64) error
}

// Publisher delivers committed events to the agents' screens.
type Publisher interface {
	Publish(ctx context.Context, events []switchboard.Event)
}

// publish hands committed events to p, when there is a publisher and something to say.
func publish(ctx context.Context, p Publisher, events []switchboard.Event) {
	if p != nil && len(events) > 0 {
		p.Publish(ctx, events)
	}
}

// WebhookOutcome says what became of a webhook delivery, for metrics and logs.
type WebhookOutcome string

// The outcomes of Receive.
const (
	WebhookStored     WebhookOutcome = "stored"
	WebhookDeadLetter WebhookOutcome = "dead_letter"
)

// Inbound turns Meta's webhooks into stored conversations.
type Inbound struct {
	store     IngestStore
	publisher Publisher
	needsWork func(switchboard.InboundWork) bool
	group     *groupCommitter
	log       *slog.Logger
	channels  channelCache
}

// channelTTL is how long a channel read for a webhook or a download is reused: both come in bursts,
// and a changed app secret, token or setting is picked up within this time.
const channelTTL = 2 * time.Second

// channelCache keeps recently used channels so a burst of webhooks reads each one once.
type channelCache struct {
	ttl time.Duration // 0: channelTTL
	mu  sync.Mutex
	m   map[int64]cachedChannel
}

type cachedChannel struct {
	ch *switchboard.Channel
	at time.Time
}

// forget drops a channel, so that the next get reads it.
func (c *channelCache) forget(id int64) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

func (c *channelCache) get(ctx context.Context, id int64, load func(context.Context, int64) (*switchboard.Channel, error)) (*switchboard.Channel, error) {
	now, ttl := time.Now(), c.ttl
	if ttl <= 0 {
		ttl = channelTTL
	}
	c.mu.Lock()
	if e, ok := c.m[id]; ok && now.Sub(e.at) < ttl {
		c.mu.Unlock()
		return e.ch, nil
	}
	c.mu.Unlock()
	ch, err := load(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[int64]cachedChannel{}
	}
	c.m[id] = cachedChannel{ch: ch, at: now}
	c.mu.Unlock()
	return ch, nil
}

// InboundOptions configure NewInbound.
type InboundOptions struct {
	Store     IngestStore
	Publisher Publisher
	// NeedsWork decides which stored messages get an inbound job (Processor.NeedsWork); nil: all.
	NeedsWork func(switchboard.InboundWork) bool
	// CommitQueues is how many transactions store webhooks at once (group commit; default 1). Each
	// stores every webhook that arrived while the previous one ran.
	CommitQueues int
	Logger       *slog.Logger
}

// NewInbound returns the webhook ingestion service.
func NewInbound(opts InboundOptions) *Inbound {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Inbound{store: opts.Store, publisher: opts.Publisher, needsWork: opts.NeedsWork, log: opts.Logger,
		group: newGroupCommitter(opts.CommitQueues, opts.Store.IngestInboundMany)}
}

// Collectors are the ingestion's metrics: how many webhooks each transaction stores, and how long it takes.
func (in *Inbound) Collectors() []prometheus.Collector {
	return []prometheus.Collector{in.group.sizes, in.group.durations}
}

// Receive checks and stores one webhook POST made to a channel's URL. The signature must verify with
// the channel's app secret (EUNAUTHORIZED otherwise, and nothing is stored). Changes for another
// phone number are stored on that number's channel when the same Meta app (the same app secret) owns
// it, as happens when one app serves several numbers; otherwise they are refused and logged. A signed
// body that cannot be parsed is kept as a dead letter and acknowledged. Nothing is acknowledged
// before it is committed.
func (in *Inbound) Receive(ctx context.Context, channelID int64, body []byte, signature string) (WebhookOutcome, *switchboard.IngestResult, error) {
	ch, err := in.channels.get(ctx, channelID, in.store.Channel)
	if err != nil {
		return "", nil, err
	}
	if err := whatsapp.VerifySignature(body, signature, ch.AppSecret); err != nil {
		msg := "The X-Hub-Signature-256 header is missing."
		if errors.Is(err, whatsapp.ErrSignatureInvalid) {
			msg = "The X-Hub-Signature-256 signature does not match this channel's app secret."
		}
		return "", nil, switchboard.Errorf(switchboard.EUNAUTHORIZED, "%s", msg)
	}
	hook, err := whatsapp.ParseWebhook(body)
	if err != nil {
		if derr := in.store.RecordDeadLetter(ctx, ch.ID, body, err.Error()); derr != nil {
			return "", nil, derr
		}
		in.log.Warn("webhook kept as dead letter", "channel_id", ch.ID, "err", err)
		return WebhookDeadLetter, nil, nil
	}
	total, err := in.ingest(ctx, ch, hook, func(phoneNumberID string) *switchboard.Channel {
		return in.siblingChannel(ctx, ch, phoneNumberID, body, signature)
	})
	if err != nil {
		return "", nil, err
	}
	return WebhookStored, total, nil
}

// ingest stores a parsed webhook posted to ch: each change on ch, or on the channel sibling returns
// for another phone number (nil: refused), in one transaction shared with the webhooks that arrive
// meanwhile (group commit), then publishes the events.
func (in *Inbound) ingest(ctx context.Context, ch *switchboard.Channel, hook *whatsapp.Webhook, sibling func(string) *switchboard.Channel) (*switchboard.IngestResult, error) {
	byChannel := map[int64]*switchboard.InboundBatch{}
	channels := map[int64]*switchboard.Channel{ch.ID: ch}
	for i := range hook.Changes {
		c := &hook.Changes[i]
		target := ch
		if c.PhoneNumberID != "" && c.PhoneNumberID != ch.PhoneNumberID {
			if target = sibling(c.PhoneNumberID); target == nil {
				continue
			}
			channels[target.ID] = target
		}
		b := byChannel[target.ID]
		if b == nil {
			b = &switchboard.InboundBatch{NeedsWork: in.needsWork}
			byChannel[target.ID] = b
		}
		addChange(b, c)
	}
	ids := make([]int64, 0, len(byChannel))
	for id := range byChannel {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	items := make([]switchboard.ChannelInbound, len(ids))
	for i, id := range ids {
		items[i] = switchboard.ChannelInbound{Channel: channels[id], Batch: byChannel[id]}
	}
	total := &switchboard.IngestResult{}
	if len(items) == 0 {
		return total, nil
	}
	results, err := in.group.commit(items)
	if err != nil {
		return nil, err
	}
	for _, res := range results {
		total.Messages += res.Messages
		total.Duplicates += res.Duplicates
		total.Statuses += res.Statuses
		total.Parked += res.Parked
		total.Events = append(total.Events, res.Events...)
	}
	publish(ctx, in.publisher, total.Events)
	return total, nil
}

// ReplayDeadLetter parses a kept webhook again (after an upgrade taught the parser its shape) and
// stores it as if it had just arrived; its signature was checked when it did. Changes for other
// phone numbers are refused, since the original signature is not kept. The dead letter is removed
// once stored; a body that still cannot be parsed is EINVALID with the parser's reason.
func (in *Inbound) ReplayDeadLetter(ctx context.Context, id int64) (*switchboard.IngestResult, error) {
	dl, err := in.store.DeadLetter(ctx, id)
	if err != nil {
		return nil, err
	}
	if dl.ChannelID == nil {
		return nil, switchboard.Errorf(switchboard.EINVALID, "This webhook belongs to no channel.")
	}
	ch, err := in.store.Channel(ctx, *dl.ChannelID)
	if err != nil {
		return nil, err
	}
	hook, err := whatsapp.ParseWebhook([]byte(dl.Body))
	if err != nil {
		return nil, switchboard.FieldError("body", "The webhook still cannot be parsed: "+err.Error())
	}
	res, err := in.ingest(ctx, ch, hook, func(phoneNumberID string) *switchboard.Channel {
		in.log.Warn("replayed change refused: phone number id of another channel", "channel_id", ch.ID, "payload_phone_number_id", phoneNumberID)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, in.store.DeleteDeadLetter(ctx, id)
}

// siblingChannel returns the channel of another phone number when the same Meta app signed the body
// for it, or nil (and logs) when the change must be refused.
func (in *Inbound) siblingChannel(ctx context.Context, posted *switchboard.Channel, phoneNumberID string, body []byte, signature string) *switchboard.Channel {
	other, err := in.store.ChannelByPhoneNumberID(ctx, phoneNumberID)
	if err == nil && whatsapp.VerifySignature(body, signature, other.AppSecret) == nil {
		return other
	}
	in.log.Warn("webhook change refused: phone number id does not belong to this channel",
		"channel_id", posted.ID, "channel_phone_number_id", posted.PhoneNumberID, "payload_phone_number_id", phoneNumberID)
	return nil
}

// addChange translates one webhook change into the batch.
func addChange(b *switchboard.InboundBatch, c *whatsapp.Change) {
	if c.Field != whatsapp.FieldMessages {
		b.Events = append(b.Events, switchboard.ChannelEvent{Field: c.Field, Payload: c.Raw})
		if u := c.TemplateUpdate; u != nil {
			b.Templates = append(b.Templates, switchboard.TemplateStatusChange{ExternalID: u.TemplateID, Name: u.Name,
				Language: u.Language, Status: u.Event, Reason: u.Reason})
		}
		return
	}
	for _, m := range c.Messages {
		contact, _ := c.ContactFor(m)
		b.Messages = append(b.Messages, inboundMessage(m, contact))
	}
	for _, st := range c.Statuses {
		u := switchboard.StatusUpdate{ExternalID: st.ID, Status: st.Status, At: st.Timestamp, Payload: st.Raw}
		if len(st.Errors) > 0 {
			u.Error = messageError(st.Errors[0])
		}
		b.Statuses = append(b.Statuses, u)
	}
	if len(c.Errors) > 0 {
		raw, _ := json.Marshal(c.Errors)
		b.Events = append(b.Events, switchboard.ChannelEvent{Field: "errors", Payload: raw})
	}
}

// dropNUL removes NUL characters, which a JSON string may carry ("\u0000") but PostgreSQL's text
// cannot: a webhook with one would otherwise fail to store on every retry Meta makes.
func dropNUL(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
}

func messageError(e whatsapp.Error) *switchboard.MessageError {
	e.Title, e.Message, e.Details = dropNUL(e.Title), dropNUL(e.Message), dropNUL(e.Details)
	details := e.Details
	if details == "" && e.Message != e.Title {
		details = e.Message
	}
	return &switchboard.MessageError{Code: e.Code, Title: e.Title, Details: details}
}

// inboundMessage translates one customer message.
func inboundMessage(m whatsapp.Message, contact whatsapp.Contact) switchboard.InboundMessage {
	waID := contact.WaID
	if waID == "" {
		waID = m.From
	}
	bsuid := contact.UserID
	if bsuid == "" {
		bsuid = m.FromUserID
	}
	m.Text, contact.Name = dropNUL(m.Text), dropNUL(contact.Name)
	in := switchboard.InboundMessage{WaID: waID, BSUID: bsuid, ProfileName: contact.Name, ExternalID: m.ID, Timestamp: m.Timestamp}
	switch {
	case m.Reaction != nil:
		in.Reaction = &switchboard.ReactionChange{TargetExternalID: m.Reaction.MessageID, Emoji: m.Reaction.Emoji, Removed: m.Reaction.Removed}
		return in
	case m.Revoke != nil:
		in.RevokedID = m.Revoke.OriginalMessageID
		return in
	case m.System != nil && m.System.NewWaID != "":
		in.NumberChange = &switchboard.NumberChange{OldWaID: m.From, NewWaID: m.System.NewWaID, Text: m.Text}
		return in
	}
	msg := &switchboard.Message{Type: m.Type, Text: m.Text, ExternalID: m.ID, Payload: m.Raw}
	if !m.Timestamp.IsZero() {
		at := m.Timestamp
		msg.Timestamp = &at
	}
	if m.Context != nil {
		msg.ReplyTo = dropNUL(m.Context.ID)
	}
	switch m.Type {
	case whatsapp.TypeSystem:
		msg.Type = switchboard.TypeActivity // e.g. "security code changed"
	case whatsapp.TypeText, whatsapp.TypeImage, whatsapp.TypeAudio, whatsapp.TypeVideo, whatsapp.TypeDocument,
		whatsapp.TypeSticker, whatsapp.TypeLocation, whatsapp.TypeContacts, whatsapp.TypeInteractive,
		whatsapp.TypeButton, whatsapp.TypeOrder:
	default:
		msg.Type = "unsupported"
		if msg.Text == "" {
			msg.Text = "The customer sent a message WhatsApp cannot show here"
			if m.UnsupportedType != "" {
				msg.Text += " (" + m.UnsupportedType + ")"
			}
			msg.Text += "."
		}
	}
	if m.Media != nil {
		msg.Media = &switchboard.Media{ExternalID: m.Media.ID, MimeType: m.Media.MimeType, SHA256: m.Media.SHA256,
			Filename: dropNUL(m.Media.Filename), Voice: m.Media.Voice, Status: switchboard.MediaPending}
		if m.Media.ID == "" {
			msg.Media.Status = switchboard.MediaUnavailable
		}
	}
	if len(m.Errors) > 0 {
		msg.Error = messageError(m.Errors[0])
		if msg.Media != nil {
			msg.Media.Status = switchboard.MediaUnavailable // 131052: Meta could not fetch it either
		}
		if msg.Text == "" {
			msg.Text = "WhatsApp could not deliver this " + m.Type + " message (" + msg.Error.Title + "); ask the customer to send it again."
		}
	}
	in.Message = msg
	return in
}
