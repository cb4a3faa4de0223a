// Package automation is the server speaking for the business when nobody has to: keyword replies
// (opt-out, opt-in, help), the greeting of a new conversation, the away message outside business
// hours, and the satisfaction (CSAT) survey sent on each resolution. The decisions (which keyword,
// whether to greet, which closed period, which kind of survey) are plain functions; Service applies
// them through the store. Every message it sends takes the one outbound path (a queued message and
// its send job), with a client id derived from what caused it, so a retried job never sends twice.
//
//	inbound job ─▶ HandleInbound ─┬─ CSAT answer (conversation stays resolved) ─▶ note, comment prompt
//	                              └─ keyword ─▶ greeting ─▶ away message ─▶ caller: routing ─▶ AI
//	resolve ─▶ OnResolved ─▶ survey: list in the window │ template │ skipped with a note ─▶ expiry job
package automation

import (
	"context"
	"log/slog"

	"switchboard"
)

// Store is the storage the automations need.
type Store interface {
	Channel(ctx context.Context, id int64) (*switchboard.Channel, error)
	Conversation(ctx context.Context, id int64) (*switchboard.Conversation, error)
	Message(ctx context.Context, id int64) (*switchboard.Message, error)
	QueueOutbound(ctx context.Context, m *switchboard.Message) (*switchboard.Message, []switchboard.Event, error)
	LogActivity(ctx context.Context, conversationID int64, text, clientID string) (*switchboard.Message, []switchboard.Event, error)
	ReplyStore
	CSATStore
}

// Publisher delivers committed events to the agents' screens.
type Publisher interface {
	Publish(ctx context.Context, events []switchboard.Event)
}

// Options configure New.
type Options struct {
	Store Store
	// Publisher, when set, receives the events of every change the automations commit.
	Publisher Publisher
	Clock     switchboard.Clock
	Logger    *slog.Logger
}

// Service runs the automations of inbound messages and resolutions.
type Service struct {
	store     Store
	publisher Publisher
	clock     switchboard.Clock
	log       *slog.Logger
}

// New returns the automation service.
func New(opts Options) *Service {
	if opts.Clock == nil {
		opts.Clock = switchboard.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: opts.Store, publisher: opts.Publisher, clock: opts.Clock, log: opts.Logger}
}

// Outcome tells the inbound job what the automations did and what comes next.
type Outcome struct {
	// Route is true when routing (and then the AI agent) should run for the conversation: always,
	// except for an answer to a CSAT survey, which belongs to a resolved conversation.
	Route bool
	// CSATAnswer is set when the message was a rating or comment for a survey.
	CSATAnswer bool
	// Keyword is the category of the keyword the message matched ("" for none); KeywordAnswered is
	// set when its response was sent.
	Keyword         switchboard.KeywordCategory
	KeywordAnswered bool
	Greeted         bool
	AwaySent        bool
}

// HandleInbound runs the automations for one stored customer message, in order: a CSAT answer ends
// there; otherwise keyword replies, then the greeting, then the away message. The caller routes the
// conversation next when Outcome.Route is set. A message whose conversation or channel is gone
// needs nothing.
func (s *Service) HandleInbound(ctx context.Context, job switchboard.InboundJob) (Outcome, error) {
	msg, err := s.store.Message(ctx, job.MessageID)
	if err != nil {
		return Outcome{}, ignoreNotFound(err)
	}
	conv, err := s.store.Conversation(ctx, job.ConversationID)
	if err != nil {
		return Outcome{}, ignoreNotFound(err)
	}
	ch, err := s.store.Channel(ctx, conv.ChannelID)
	if err != nil {
		return Outcome{}, ignoreNotFound(err)
	}
	if IsCSATAnswer(conv, msg) {
		return Outcome{CSATAnswer: true}, s.csatAnswered(ctx, ch, conv)
	}
	out := Outcome{Route: conv.Status != switchboard.StatusResolved}
	if msg.Direction != switchboard.Inbound || msg.Type == switchboard.TypeActivity {
		return out, nil // a note about the contact (e.g. a number change), not something they wrote
	}
	if rule := MatchKeyword(ch.Settings.Keywords, msg); rule != nil {
		out.Keyword = rule.Category
		if out.KeywordAnswered, err = s.keyword(ctx, conv, msg, rule); err != nil {
			return out, err
		}
	}
	if conv.Status == switchboard.StatusResolved {
		return out, nil // resolved after this message arrived: nothing more to say
	}
	if ShouldGreet(ch.Settings.Greeting, job, out.Keyword != "") {
		clientID := "auto:greeting:" + itoa(conv.ID) + ":" + itoa(int64(conv.Resolutions))
		if out.Greeted, err = s.reply(ctx, conv, ch.Settings.Greeting.Text, clientID); err != nil {
			return out, err
		}
	}
	if out.Keyword == "" {
		if out.AwaySent, err = s.away(ctx, ch, conv, msg); err != nil {
			return out, err
		}
	}
	return out, nil
}

// NeedsWork reports whether HandleInbound could do anything for a message just stored, judged from
// what the ingestion knows: a survey answer, a keyword, a greeting, or an away message not yet sent
// for the current closed period. It errs towards true: HandleInbound itself decides.
func (s *Service) NeedsWork(w switchboard.InboundWork) bool {
	conv, msg, settings := w.Conversation, w.Message, &w.Channel.Settings
	if IsCSATAnswer(conv, msg) {
		return true
	}
	if msg.Direction != switchboard.Inbound || msg.Type == switchboard.TypeActivity {
		return false
	}
	if MatchKeyword(settings.Keywords, msg) != nil {
		return true
	}
	if conv.Status == switchboard.StatusResolved {
		return false
	}
	if ShouldGreet(settings.Greeting, w.Job, false) {
		return true
	}
	at := msg.CreatedAt
	if msg.Timestamp != nil {
		at = *msg.Timestamp
	}
	period, closed := AwayPeriod(&settings.BusinessHours, at)
	return closed && AwayAllowed(&settings.BusinessHours, conv) && (w.AwaySentFor == nil || !w.AwaySentFor.Equal(period))
}

// reply sends an automated text in the conversation's customer-service window; outside it (a job
// that ran very late) nothing is sent and false is returned.
func (s *Service) reply(ctx context.Context, conv *switchboard.Conversation, text, clientID string) (bool, error) {
	if !conv.WindowOpen(s.clock.Now()) {
		s.log.Info("automated reply not sent: the window is closed", "conversation_id", conv.ID, "client_id", clientID)
		return false, nil
	}
	_, events, err := s.store.QueueOutbound(ctx, &switchboard.Message{ConversationID: conv.ID, Sender: switchboard.SenderSystem,
		Type: switchboard.TypeText, Text: text, ClientID: clientID})
	if err != nil {
		return false, err
	}
	s.publish(ctx, events)
	return true, nil
}

// note logs an activity line in the conversation.
func (s *Service) note(ctx context.Context, conversationID int64, text, clientID string) error {
	_, events, err := s.store.LogActivity(ctx, conversationID, text, clientID)
	if err != nil {
		return err
	}
	s.publish(ctx, events)
	return nil
}

func (s *Service) publish(ctx context.Context, events []switchboard.Event) {
	if s.publisher != nil && len(events) > 0 {
		s.publisher.Publish(ctx, events)
	}
}

// ignoreNotFound turns "it no longer exists" into nothing to do.
func ignoreNotFound(err error) error {
	if switchboard.IsCode(err, switchboard.ENOTFOUND) {
		return nil
	}
	return err
}
