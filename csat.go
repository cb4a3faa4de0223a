package switchboard

import (
	"time"
	"unicode/utf8"
)

// CSAT survey statuses.
const (
	SurveyPending   = "pending"   // sent, waiting for the rating
	SurveyAnswered  = "answered"  // rating received (a comment may follow)
	SurveyCancelled = "cancelled" // the conversation was reopened before an answer
	SurveyExpired   = "expired"   // no answer in time
	SurveySkipped   = "skipped"   // not sent: the window was closed and no template is configured
)

// CSATSurvey is one satisfaction survey, sent for one resolution of a conversation.
type CSATSurvey struct {
	ID             int64      `json:"id"`
	ConversationID int64      `json:"conversation_id"`
	ChannelID      int64      `json:"channel_id"`
	AgentID        *int64     `json:"agent_id"`
	Resolution     int        `json:"resolution"`
	Status         string     `json:"status"`
	MessageID      *int64     `json:"message_id"`
	Rating         *int       `json:"rating"`
	Comment        string     `json:"comment"`
	AwaitComment   bool       `json:"await_comment"`
	SentAt         time.Time  `json:"sent_at"`
	ExpiresAt      time.Time  `json:"expires_at"`
	AnsweredAt     *time.Time `json:"answered_at"`
}

// Validate checks the survey's fields.
func (s *CSATSurvey) Validate() error {
	var p Problems
	p.Check(s.ConversationID > 0, "conversation_id", "Conversation is required.")
	p.Check(s.ChannelID > 0, "channel_id", "Channel is required.")
	p.Check(s.Resolution > 0, "resolution", "Resolution number is required.")
	switch s.Status {
	case SurveyPending, SurveyAnswered, SurveyCancelled, SurveyExpired, SurveySkipped:
	default:
		p.Add("status", "Unknown survey status.")
	}
	p.Check(s.Rating == nil || (*s.Rating >= 1 && *s.Rating <= 5), "rating", "Rating must be 1 to 5.")
	p.Check(s.Status != SurveyAnswered || s.Rating != nil, "rating", "An answered survey has a rating.")
	p.Check(utf8.RuneCountInString(s.Comment) <= MaxTextLength, "comment", "Comment must be at most 4096 characters.")
	return p.Err()
}
