package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard"
)

type csatSurveyRow struct {
	ID             int64
	ConversationID int64
	ChannelID      int64
	AgentID        *int64
	Resolution     int
	Status         string
	MessageID      *int64
	Rating         *int
	Comment        string
	AwaitComment   bool
	SentAt         time.Time
	ExpiresAt      time.Time
	AnsweredAt     *time.Time
}

func (csatSurveyRow) TableName() string { return "csat_surveys" }

func (r *csatSurveyRow) toDomain() *switchboard.CSATSurvey {
	return &switchboard.CSATSurvey{ID: r.ID, ConversationID: r.ConversationID, ChannelID: r.ChannelID, AgentID: r.AgentID,
		Resolution: r.Resolution, Status: r.Status, MessageID: r.MessageID, Rating: r.Rating, Comment: r.Comment,
		AwaitComment: r.AwaitComment, SentAt: r.SentAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), AnsweredAt: utcPtr(r.AnsweredAt)}
}

// CreateCSATSurvey stores the survey of one resolution of a conversation, pending (to be sent) or
// skipped (with note logged as an activity line in the same transaction). Surveys of earlier
// resolutions still waiting are cancelled. A repeated call for the same resolution returns the survey
// already stored, unchanged.
func (s *Store) CreateCSATSurvey(ctx context.Context, sv *switchboard.CSATSurvey, note string) (*switchboard.CSATSurvey, []switchboard.Event, error) {
	now := s.now()
	if sv.SentAt.IsZero() {
		sv.SentAt = now
	}
	if sv.ExpiresAt.IsZero() {
		sv.ExpiresAt = now.Add(switchboard.DefaultCSATExpiryHours * time.Hour)
	}
	if err := sv.Validate(); err != nil {
		return nil, nil, err
	}
	var out *switchboard.CSATSurvey
	var events []switchboard.Event
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		events = nil
		var conv conversationRow
		if err := tx.Clauses(forUpdate()).Where("id = ?", sv.ConversationID).Take(&conv).Error; err != nil {
			return translateNotFound(err, "Conversation")
		}
		row := csatSurveyRow{ConversationID: conv.ID, ChannelID: conv.ChannelID, AgentID: sv.AgentID, Resolution: sv.Resolution,
			Status: sv.Status, SentAt: utc(sv.SentAt), ExpiresAt: utc(sv.ExpiresAt)}
		ins := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "conversation_id"}, {Name: "resolution"}}, DoNothing: true}).Create(&row)
		if ins.Error != nil {
			return ins.Error
		}
		if ins.RowsAffected == 0 {
			var existing csatSurveyRow
			if err := tx.Where("conversation_id = ? AND resolution = ?", conv.ID, sv.Resolution).Take(&existing).Error; err != nil {
				return err
			}
			out = existing.toDomain()
			return nil
		}
		if err := tx.Model(&csatSurveyRow{}).Where("conversation_id = ? AND resolution < ? AND status = ?", conv.ID, sv.Resolution, switchboard.SurveyPending).
			Updates(map[string]any{"status": switchboard.SurveyCancelled, "await_comment": false}).Error; err != nil {
			return err
		}
		if row.Status == switchboard.SurveySkipped && note != "" {
			_, ev, err := s.logActivityTx(ctx, tx, &conv, note, "auto:csat:"+strconv.FormatInt(row.ID, 10)+":skipped")
			if err != nil {
				return err
			}
			if ev != nil {
				events = append(events, *ev)
			}
		}
		out = row.toDomain()
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, events, nil
}

// CSATSurveySent records the message that carries a pending survey and, in the same transaction,
// schedules the job that expires it at expiresAt. It does nothing to a survey already sent.
func (s *Store) CSATSurveySent(ctx context.Context, surveyID, messageID int64, expiresAt time.Time) (*switchboard.CSATSurvey, error) {
	var out *switchboard.CSATSurvey
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		var row csatSurveyRow
		if err := tx.Clauses(forUpdate()).Where("id = ?", surveyID).Take(&row).Error; err != nil {
			return translateNotFound(err, "CSAT survey")
		}
		if row.Status == switchboard.SurveyPending && row.MessageID == nil {
			now, exp := s.now(), utc(expiresAt)
			row.MessageID, row.SentAt, row.ExpiresAt = &messageID, now, exp
			if err := tx.Model(&csatSurveyRow{}).Where("id = ?", row.ID).
				Updates(map[string]any{"message_id": messageID, "sent_at": now, "expires_at": exp}).Error; err != nil {
				return err
			}
			payload, _ := json.Marshal(switchboard.CSATExpireJob{SurveyID: row.ID})
			if err := s.enqueueJob(ctx, tx, &switchboard.Job{Kind: switchboard.CSATExpireJobKind,
				Key: "csat:" + strconv.FormatInt(row.ID, 10), Payload: payload, RunAt: exp}); err != nil {
				return err
			}
		}
		out = row.toDomain()
		return nil
	})
	return out, err
}

// CSATSurvey returns one survey.
func (s *Store) CSATSurvey(ctx context.Context, id int64) (*switchboard.CSATSurvey, error) {
	var row csatSurveyRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, translateNotFound(err, "CSAT survey")
	}
	return row.toDomain(), nil
}

// LatestCSATSurvey returns the survey of the conversation's latest resolution that has one.
func (s *Store) LatestCSATSurvey(ctx context.Context, conversationID int64) (*switchboard.CSATSurvey, error) {
	var row csatSurveyRow
	if err := s.conn(ctx).Where("conversation_id = ?", conversationID).Order("resolution DESC").Take(&row).Error; err != nil {
		return nil, translateNotFound(err, "CSAT survey")
	}
	return row.toDomain(), nil
}

// ExpireCSATSurvey ends a survey whose time is up: unanswered, it expires (noted in the
// conversation); answered, it stops waiting for a comment. It does nothing before expires_at or to
// a survey already over, so the expiry job can run any number of times.
func (s *Store) ExpireCSATSurvey(ctx context.Context, surveyID int64) (*switchboard.CSATSurvey, []switchboard.Event, error) {
	var out *switchboard.CSATSurvey
	var events []switchboard.Event
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		events = nil
		var row csatSurveyRow
		if err := tx.Clauses(forUpdate()).Where("id = ?", surveyID).Take(&row).Error; err != nil {
			return translateNotFound(err, "CSAT survey")
		}
		out = row.toDomain()
		if s.now().Before(row.ExpiresAt) {
			return nil
		}
		switch {
		case row.Status == switchboard.SurveyPending:
			row.Status, row.AwaitComment = switchboard.SurveyExpired, false
		case row.AwaitComment:
			row.AwaitComment = false
		default:
			return nil
		}
		if err := tx.Model(&csatSurveyRow{}).Where("id = ?", row.ID).
			Updates(map[string]any{"status": row.Status, "await_comment": false}).Error; err != nil {
			return err
		}
		out = row.toDomain()
		if row.Status != switchboard.SurveyExpired {
			return nil
		}
		var conv conversationRow
		if err := tx.Where("id = ?", row.ConversationID).Take(&conv).Error; err != nil {
			return err
		}
		_, ev, err := s.logActivityTx(ctx, tx, &conv, "The satisfaction survey expired without an answer.",
			"auto:csat:"+strconv.FormatInt(row.ID, 10)+":expired")
		if ev != nil {
			events = append(events, *ev)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return out, events, nil
}

// CancelCSATSurveys cancels the conversation's unanswered surveys and stops waiting for a comment,
// as a reopen does. It returns how many surveys changed.
func (s *Store) CancelCSATSurveys(ctx context.Context, conversationID int64) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error {
		var err error
		n, err = s.cancelCSATTx(ctx, tx, conversationID)
		return err
	})
	return n, err
}

// cancelCSATTx is CancelCSATSurveys inside the caller's transaction (a reopen).
func (s *Store) cancelCSATTx(ctx context.Context, tx *gorm.DB, conversationID int64) (int64, error) {
	res := tx.Model(&csatSurveyRow{}).Where("conversation_id = ? AND status = ?", conversationID, switchboard.SurveyPending).
		Updates(map[string]any{"status": switchboard.SurveyCancelled, "await_comment": false})
	if res.Error != nil {
		return 0, res.Error
	}
	n := res.RowsAffected
	res = tx.Model(&csatSurveyRow{}).Where("conversation_id = ? AND await_comment = ?", conversationID, true).Update("await_comment", false)
	return n + res.RowsAffected, res.Error
}

// csatReplyTx runs inside ingestion, before the conversation is found or reopened, with the contact's
// latest conversation on the channel (locked). When it is resolved and its survey is waiting, a rating (or,
// after a rating, the comment) is recorded and that conversation is returned: the message belongs to
// it and must not reopen it. Any other message ends the survey (cancelled, or no longer waiting for
// a comment) and nil is returned, so ingestion goes on as usual.
func (s *Store) csatReplyTx(ctx context.Context, tx *gorm.DB, ch *switchboard.Channel, latest *conversationRow, m *switchboard.Message) (*conversationRow, error) {
	if m.Type == switchboard.TypeActivity {
		return nil, nil // a note about the contact (a number change), not something they wrote
	}
	if latest == nil || latest.Status != switchboard.StatusResolved {
		return nil, nil
	}
	conv := latest
	var rows []csatSurveyRow
	if err := tx.Clauses(forUpdate()).Where("conversation_id = ? AND (status = ? OR await_comment = ?)", conv.ID, switchboard.SurveyPending, true).
		Order("resolution DESC").Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	sv := &rows[0]
	now := s.now()
	live := now.Before(sv.ExpiresAt)
	update := map[string]any{}
	switch {
	case sv.Status == switchboard.SurveyPending && live:
		if r, ok := switchboard.ParseCSATReply(m.Type, m.Text, m.Payload); ok && (r.SurveyID == 0 || r.SurveyID == sv.ID) {
			update = map[string]any{"status": switchboard.SurveyAnswered, "rating": r.Rating, "answered_at": now,
				"await_comment": ch.Settings.CSAT.AskComment}
		}
	case sv.Status == switchboard.SurveyAnswered && sv.AwaitComment && live:
		if text := strings.TrimSpace(m.Text); m.Type == switchboard.TypeText && text != "" {
			if utf8.RuneCountInString(text) > switchboard.MaxTextLength {
				text = string([]rune(text)[:switchboard.MaxTextLength])
			}
			update = map[string]any{"comment": text, "await_comment": false}
		}
	}
	if len(update) > 0 {
		if err := tx.Model(&csatSurveyRow{}).Where("id = ?", sv.ID).Updates(update).Error; err != nil {
			return nil, err
		}
		return conv, nil
	}
	// Not an answer: the survey is over. One past its time expires rather than being cancelled.
	status := sv.Status
	if status == switchboard.SurveyPending {
		status = switchboard.SurveyCancelled
		if !live {
			status = switchboard.SurveyExpired
		}
	}
	return nil, tx.Model(&csatSurveyRow{}).Where("id = ?", sv.ID).Updates(map[string]any{"status": status, "await_comment": false}).Error
}
