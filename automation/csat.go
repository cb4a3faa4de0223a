package automation

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"switchboard"
)

// CSATStore is the storage of satisfaction surveys.
type CSATStore interface {
	CreateCSATSurvey(ctx context.Context, sv *switchboard.CSATSurvey, note string) (*switchboard.CSATSurvey, []switchboard.Event, error)
	CSATSurveySent(ctx context.Context, surveyID, messageID int64, expiresAt time.Time) (*switchboard.CSATSurvey, error)
	LatestCSATSurvey(ctx context.Context, conversationID int64) (*switchboard.CSATSurvey, error)
	ExpireCSATSurvey(ctx context.Context, surveyID int64) (*switchboard.CSATSurvey, []switchboard.Event, error)
}

// Survey texts. The list's limits are WhatsApp's: a button label of at most 20 characters, section
// and row titles of at most 24, at most 10 rows.
const (
	DefaultCSATQuestion = "How would you rate the help you received?"
	CSATListButton      = "Rate us"
	CSATSectionTitle    = "Your rating"
	CSATCommentPrompt   = "Thank you! Would you like to tell us more? Reply with a short comment."
)

// How a survey goes out (PlanSurvey).
const (
	SurveyByList     = "list"
	SurveyByTemplate = "template"
	SurveySkip       = "skip"
)

// PlanSurvey decides how the survey of a resolution goes out at now: as an interactive list while
// the customer-service window is open, as the configured approved template when it is closed, or
// not at all (with the note to log), also when the customer opted out.
func PlanSurvey(cs switchboard.CSATSettings, conv *switchboard.Conversation, now time.Time) (how, note string) {
	switch {
	case conv.Contact != nil && conv.Contact.OptedOut:
		return SurveySkip, "Satisfaction survey not sent: the customer opted out."
	case conv.WindowOpen(now):
		return SurveyByList, ""
	case cs.TemplateName != "":
		return SurveyByTemplate, ""
	}
	return SurveySkip, "Satisfaction survey not sent: the 24-hour window is closed and no survey template is configured."
}

// The stored payload is the body of Meta's send API without the recipient, which the send job adds.
type sendBody struct {
	MessagingProduct string           `json:"messaging_product"`
	RecipientType    string           `json:"recipient_type"`
	Type             string           `json:"type"`
	Interactive      *interactiveBody `json:"interactive,omitempty"`
	Template         *templateBody    `json:"template,omitempty"`
}

type interactiveBody struct {
	Type string `json:"type"`
	Body struct {
		Text string `json:"text"`
	} `json:"body"`
	Action struct {
		Button   string        `json:"button"`
		Sections []listSection `json:"sections"`
	} `json:"action"`
}

type listSection struct {
	Title string    `json:"title"`
	Rows  []listRow `json:"rows"`
}

type listRow struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type templateBody struct {
	Name     string `json:"name"`
	Language struct {
		Code   string `json:"code"`
		Policy string `json:"policy"`
	} `json:"language"`
}

// SurveyMessage returns the outbound message of a survey: an interactive list of the ratings, best
// first, whose row ids name the survey (switchboard.CSATReplyID), or the configured template.
func SurveyMessage(how string, sv *switchboard.CSATSurvey, cs switchboard.CSATSettings) *switchboard.Message {
	question := strings.TrimSpace(cs.Question)
	if question == "" {
		question = DefaultCSATQuestion
	}
	m := &switchboard.Message{ConversationID: sv.ConversationID, Sender: switchboard.SenderSystem, Text: question,
		ClientID: "auto:csat:" + itoa(sv.ID)}
	body := sendBody{MessagingProduct: "whatsapp", RecipientType: "individual"}
	if how == SurveyByTemplate {
		m.Type, body.Type = switchboard.TypeTemplate, switchboard.TypeTemplate
		body.Template = &templateBody{Name: cs.TemplateName}
		body.Template.Language.Code, body.Template.Language.Policy = cs.TemplateLanguage, "deterministic"
		m.Text = "Satisfaction survey (template " + cs.TemplateName + ")"
	} else {
		m.Type, body.Type = "interactive", "interactive"
		in := &interactiveBody{Type: "list"}
		in.Body.Text = question
		in.Action.Button = CSATListButton
		section := listSection{Title: CSATSectionTitle}
		for r := 5; r >= 1; r-- {
			section.Rows = append(section.Rows, listRow{ID: switchboard.CSATReplyID(sv.ID, r), Title: switchboard.CSATRatingTitle(r)})
		}
		in.Action.Sections = []listSection{section}
		body.Interactive = in
	}
	m.Payload, _ = json.Marshal(body)
	return m
}

// OnResolved sends the satisfaction survey of one resolution of a conversation (resolution is the
// conversation's resolution count after it; agentID the human who owned it, nil for nobody or the
// AI), when the channel's CSAT is on. A survey that cannot be sent is stored as skipped with a note.
// Calling it again for the same resolution (a retried job) does not send twice.
func (s *Service) OnResolved(ctx context.Context, conversationID int64, resolution int, agentID *int64) (*switchboard.CSATSurvey, error) {
	conv, err := s.store.Conversation(ctx, conversationID)
	if err != nil {
		return nil, ignoreNotFound(err)
	}
	ch, err := s.store.Channel(ctx, conv.ChannelID)
	if err != nil {
		return nil, ignoreNotFound(err)
	}
	cs := ch.Settings.CSAT
	if !cs.Enabled {
		return nil, nil
	}
	now := s.clock.Now()
	hours := cs.ExpiryHours
	if hours <= 0 {
		hours = switchboard.DefaultCSATExpiryHours
	}
	expires := now.Add(time.Duration(hours) * time.Hour)
	how, note := PlanSurvey(cs, conv, now)
	sv := &switchboard.CSATSurvey{ConversationID: conv.ID, ChannelID: ch.ID, AgentID: agentID, Resolution: resolution,
		Status: switchboard.SurveyPending, SentAt: now, ExpiresAt: expires}
	if how == SurveySkip {
		sv.Status = switchboard.SurveySkipped
	}
	sv, events, err := s.store.CreateCSATSurvey(ctx, sv, note)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, events)
	if sv.Status != switchboard.SurveyPending || sv.MessageID != nil {
		return sv, nil
	}
	msg, events, err := s.store.QueueOutbound(ctx, SurveyMessage(how, sv, cs))
	if err != nil {
		return nil, err
	}
	s.publish(ctx, events)
	return s.store.CSATSurveySent(ctx, sv.ID, msg.ID, expires)
}

// IsCSATAnswer reports whether a message was taken as a survey answer by ingestion: it arrived
// after its conversation was resolved and did not reopen it.
func IsCSATAnswer(conv *switchboard.Conversation, m *switchboard.Message) bool {
	return conv.Status == switchboard.StatusResolved && m.Direction == switchboard.Inbound && conv.ResolvedAt != nil &&
		!m.CreatedAt.Before(*conv.ResolvedAt)
}

// csatAnswered follows up a survey answer: the rating is noted in the conversation and, when the
// survey waits for a comment, the comment prompt is sent. Both are keyed to the survey, so the job of
// the comment that follows changes nothing.
func (s *Service) csatAnswered(ctx context.Context, ch *switchboard.Channel, conv *switchboard.Conversation) error {
	sv, err := s.store.LatestCSATSurvey(ctx, conv.ID)
	if err != nil {
		return ignoreNotFound(err)
	}
	if sv.Status != switchboard.SurveyAnswered || sv.Rating == nil {
		return nil
	}
	clientID := "auto:csat:" + itoa(sv.ID)
	if err := s.note(ctx, conv.ID, "The customer rated the conversation "+switchboard.CSATRatingTitle(*sv.Rating)+".", clientID+":rated"); err != nil {
		return err
	}
	if !sv.AwaitComment || !ch.Settings.CSAT.AskComment {
		return nil
	}
	_, err = s.reply(ctx, conv, CSATCommentPrompt, clientID+":comment")
	return err
}

// SendSurveyJob is the handler of switchboard.CSATSendJobKind jobs: OnResolved for the resolution
// the job names.
func (s *Service) SendSurveyJob(ctx context.Context, j *switchboard.Job) error {
	var p switchboard.CSATSendJob
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.ConversationID <= 0 || p.Resolution <= 0 {
		return switchboard.Errorf(switchboard.EINVALID, "The CSAT send job needs a conversation and a resolution.")
	}
	_, err := s.OnResolved(ctx, p.ConversationID, p.Resolution, p.AgentID)
	return err
}

// ExpireSurveyJob is the handler of switchboard.CSATExpireJobKind jobs: it ends a survey nobody
// answered in time.
func (s *Service) ExpireSurveyJob(ctx context.Context, j *switchboard.Job) error {
	var p switchboard.CSATExpireJob
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.SurveyID <= 0 {
		return switchboard.Errorf(switchboard.EINVALID, "The CSAT expiry job has no survey id.")
	}
	_, events, err := s.store.ExpireCSATSurvey(ctx, p.SurveyID)
	if err != nil {
		return ignoreNotFound(err)
	}
	s.publish(ctx, events)
	return nil
}
