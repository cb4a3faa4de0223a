package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"switchboard"
	"switchboard/whatsapp"
)

// SendStore is the storage the send job needs.
type SendStore interface {
	Message(ctx context.Context, id int64) (*switchboard.Message, error)
	Conversation(ctx context.Context, id int64) (*switchboard.Conversation, error)
	Channel(ctx context.Context, id int64) (*switchboard.Channel, error)
	MarkSent(ctx context.Context, messageID int64, wamid string, at time.Time) (*switchboard.Message, []switchboard.Event, error)
	MarkFailed(ctx context.Context, messageID int64, e switchboard.MessageError, at time.Time) (*switchboard.Message, []switchboard.Event, error)
	MarkAbandoned(ctx context.Context, messageID int64, e switchboard.MessageError, at time.Time) (*switchboard.Message, []switchboard.Event, error)
	SetChannelStatus(ctx context.Context, id int64, status, reason string) error
}

// Sender is the send job: it delivers one queued message to the Graph API, at most SendRate messages
// per second per phone number, and records the outcome on the message: sent with its wamid, retried
// with backoff on throttling and outages, or failed with Meta's code and title.
type Sender struct {
	store     SendStore
	graph     GraphClients
	media     *Media
	clock     switchboard.Clock
	publisher Publisher
	log       *slog.Logger
	rate      float64

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// SenderOptions configure NewSender.
type SenderOptions struct {
	Store     SendStore
	Graph     GraphClients
	Media     *Media
	Clock     switchboard.Clock
	Publisher Publisher
	Logger    *slog.Logger
	// Rate is the most messages per second sent from one phone number (Meta's default is 80).
	Rate float64
}

// NewSender returns the send job handler.
func NewSender(o SenderOptions) *Sender {
	if o.Clock == nil {
		o.Clock = switchboard.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Rate <= 0 {
		o.Rate = 80
	}
	return &Sender{store: o.Store, graph: o.Graph, media: o.Media, clock: o.Clock, publisher: o.Publisher, log: o.Logger,
		rate: o.Rate, limiters: map[string]*rate.Limiter{}}
}

func (s *Sender) limiter(phoneNumberID string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[phoneNumberID]
	if !ok {
		l = rate.NewLimiter(rate.Limit(s.rate), max(1, int(s.rate)))
		s.limiters[phoneNumberID] = l
	}
	return l
}

// Handle is the send job.
func (s *Sender) Handle(ctx context.Context, j *switchboard.Job) error {
	var p switchboard.SendJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(err)
	}
	msg, err := s.store.Message(ctx, p.MessageID)
	if err != nil {
		if switchboard.IsCode(err, switchboard.ENOTFOUND) {
			return Permanent(err)
		}
		return err
	}
	if msg.Status != switchboard.MsgQueued || msg.ExternalID != "" {
		return nil // already sent (a retried job after a crash) or failed by someone else
	}
	ch, err := s.store.Channel(ctx, msg.ChannelID)
	if err != nil {
		if switchboard.IsCode(err, switchboard.ENOTFOUND) {
			return s.fail(ctx, msg, switchboard.MessageError{Title: "The channel was disconnected before the message could be sent."}, err)
		}
		return err
	}
	conv, err := s.store.Conversation(ctx, msg.ConversationID)
	if err != nil {
		return err
	}
	client := s.graph.For(ch)
	out, err := s.build(ctx, client, ch, conv, msg)
	if err != nil {
		var se *switchboard.Error
		if errors.As(err, &se) && se.Code == switchboard.EINVALID || errors.Is(err, whatsapp.ErrInvalidMessage) {
			return s.fail(ctx, msg, switchboard.MessageError{Title: "The message cannot be sent: " + err.Error()}, err)
		}
		return s.graphFailure(ctx, j, ch, msg, err)
	}
	if err := s.limiter(ch.PhoneNumberID).Wait(ctx); err != nil {
		return err
	}
	res, err := client.Send(ctx, ch.APIKey, ch.PhoneNumberID, out)
	if err != nil {
		return s.graphFailure(ctx, j, ch, msg, err)
	}
	_, events, err := s.store.MarkSent(ctx, msg.ID, res.MessageID, s.clock.Now())
	if err != nil {
		// Meta accepted the message but recording it failed. Retrying the job would send it twice, so
		// the record is tried once more on a fresh context; if that fails too, it is logged loudly.
		retryCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, events, err2 := s.store.MarkSent(retryCtx, msg.ID, res.MessageID, s.clock.Now()); err2 == nil {
			publish(ctx, s.publisher, events)
			return nil
		}
		s.log.Error("message sent but not recorded", "message_id", msg.ID, "wamid", res.MessageID, "err", err)
		return Permanent(err)
	}
	publish(ctx, s.publisher, events)
	return nil
}

// Buried is the send job's Buried hook (RunnerOptions.Buried): the worker sending the message stopped
// (a crash, a kill) on the job's last attempt and the job was buried by a later claim, so no attempt
// decided the message's fate. A message still queued is marked failed, because every reply must end
// delivered or visibly failed; the agent can send it again. A message already sent or failed is left
// alone (checked under its lock). Should the worker have been alive after all, cut off from the
// database, and Meta have taken the message, its MarkSent turns the failure into sent.
func (s *Sender) Buried(ctx context.Context, j *switchboard.Job) error {
	var p switchboard.SendJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return err
	}
	me := switchboard.MessageError{Title: "The message could not be sent: the server stopped while sending it (a crash or restart), on its last attempt."}
	_, events, err := s.store.MarkAbandoned(ctx, p.MessageID, me, s.clock.Now())
	if err != nil {
		return err
	}
	publish(ctx, s.publisher, events)
	return nil
}

// graphFailure decides between retrying and failing the message for good.
func (s *Sender) graphFailure(ctx context.Context, j *switchboard.Job, ch *switchboard.Channel, msg *switchboard.Message, err error) error {
	me := messageErrorOf(err)
	switch whatsapp.Classify(err) {
	case whatsapp.ClassCanceled:
		return err // our own context ended (lease lost): the job runs again, nothing was decided

	case whatsapp.ClassRetry:
		if j.Attempts < j.MaxAttempts {
			s.log.Warn("send throttled or unavailable; will retry", "message_id", msg.ID, "code", me.Code, "attempt", j.Attempts, "err", err)
			return RetryAfter(err, whatsapp.RetryAfter(err, j.Attempts))
		}
	case whatsapp.ClassTokenInvalid:
		if serr := s.store.SetChannelStatus(ctx, ch.ID, switchboard.ChannelTokenInvalid, me.Title); serr != nil {
			s.log.Warn("flag channel", "channel_id", ch.ID, "err", serr)
		}
		s.log.Error("channel token rejected by Meta; an admin must replace it", "channel_id", ch.ID, "code", me.Code)
	}
	return s.fail(ctx, msg, me, err)
}

// fail marks the message failed (visible to the agent, with a retry action) and ends the job.
func (s *Sender) fail(ctx context.Context, msg *switchboard.Message, me switchboard.MessageError, cause error) error {
	_, events, err := s.store.MarkFailed(ctx, msg.ID, me, s.clock.Now())
	if err != nil {
		return err // retried: the failure must become visible
	}
	publish(ctx, s.publisher, events)
	return Permanent(cause)
}

// messageErrorOf extracts Meta's code and title from a send error.
func messageErrorOf(err error) switchboard.MessageError {
	var ge *whatsapp.GraphError
	if errors.As(err, &ge) {
		title := ge.Title
		if title == "" {
			title = ge.Message
		}
		return switchboard.MessageError{Code: ge.Code, Title: title, Details: ge.Details}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, whatsapp.ErrTransport) {
		return switchboard.MessageError{Title: "WhatsApp could not be reached."}
	}
	return switchboard.MessageError{Title: err.Error()}
}

// build turns a stored message into the Graph API request.
func (s *Sender) build(ctx context.Context, client *whatsapp.Client, ch *switchboard.Channel, conv *switchboard.Conversation, m *switchboard.Message) (whatsapp.OutboundMessage, error) {
	var out whatsapp.OutboundMessage
	if len(m.Payload) > 0 && (m.Type == switchboard.TypeTemplate || m.Type == "interactive") {
		if err := json.Unmarshal(m.Payload, &out); err != nil {
			return out, fmt.Errorf("%w: stored payload: %v", whatsapp.ErrInvalidMessage, err)
		}
	} else if m.Media != nil {
		id, err := s.upload(ctx, client, ch, m)
		if err != nil {
			return out, err
		}
		out.Media = &whatsapp.OutboundMedia{Type: m.Type, ID: id}
		if m.Type == "document" {
			out.Media.Filename = m.Media.Filename // Meta takes a filename on documents only
		}
		if m.Type == "image" || m.Type == "video" || m.Type == "document" {
			out.Media.Caption = m.Text
		}
	} else {
		out.Text = &whatsapp.Text{Body: m.Text, PreviewURL: strings.Contains(m.Text, "https://") || strings.Contains(m.Text, "http://")}
	}
	if conv.Contact == nil {
		return out, switchboard.Errorf(switchboard.EINVALID, "the conversation has no contact")
	}
	out.To = conv.Contact.WaID
	if out.To == "" {
		out.To = conv.Contact.BSUID
	}
	out.ReplyTo = m.ReplyTo
	out.BizOpaqueCallbackData = "sb:" + strconv.FormatInt(m.ID, 10)
	return out, out.Validate()
}

// upload sends a stored attachment to Meta and returns its media id.
func (s *Sender) upload(ctx context.Context, client *whatsapp.Client, ch *switchboard.Channel, m *switchboard.Message) (string, error) {
	if s.media == nil {
		return "", switchboard.Errorf(switchboard.EINVALID, "attachments are not configured")
	}
	f, err := os.Open(s.media.Path(m.Media.SHA256))
	if err != nil {
		return "", switchboard.Errorf(switchboard.EINVALID, "the attachment is missing from the data directory")
	}
	defer f.Close()
	name := m.Media.Filename
	if name == "" {
		name = m.Type
	}
	return client.UploadMedia(ctx, ch.APIKey, ch.PhoneNumberID, name, m.Media.MimeType, f)
}
