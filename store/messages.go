package store

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"switchboard"

	"gorm.io/gorm"
)

type messageRow struct {
	ID             int64
	ConversationID int64
	ChannelID      int64
	Direction      string
	Sender         string
	SenderID       *int64
	SenderName     string
	Type           string
	Text           string
	Private        bool
	ExternalID     *string
	Status         string
	StatusRank     int
	ErrorCode      *int
	ErrorTitle     string
	ErrorDetails   string
	Media          *string
	Reactions      string
	ReplyTo        string
	Payload        *string
	ClientID       *string
	Timestamp      *time.Time
	SentAt         *time.Time
	DeliveredAt    *time.Time
	ReadAt         *time.Time
	PlayedAt       *time.Time
	FailedAt       *time.Time
	CreatedAt      time.Time
}

func (messageRow) TableName() string { return "messages" }

func (r *messageRow) toDomain() *switchboard.Message {
	m := &switchboard.Message{ID: r.ID, ConversationID: r.ConversationID, ChannelID: r.ChannelID, Direction: r.Direction,
		Sender: r.Sender, SenderID: r.SenderID, SenderName: r.SenderName, Type: r.Type, Text: r.Text, Private: r.Private,
		Status: r.Status, ReplyTo: r.ReplyTo, Timestamp: utcPtr(r.Timestamp), SentAt: utcPtr(r.SentAt),
		DeliveredAt: utcPtr(r.DeliveredAt), ReadAt: utcPtr(r.ReadAt), FailedAt: utcPtr(r.FailedAt), CreatedAt: r.CreatedAt.UTC(),
		Reactions: []switchboard.Reaction{}}
	if r.ExternalID != nil {
		m.ExternalID = *r.ExternalID
	}
	if r.ClientID != nil {
		m.ClientID = *r.ClientID
	}
	if r.ErrorCode != nil || r.ErrorTitle != "" {
		m.Error = &switchboard.MessageError{Title: r.ErrorTitle, Details: r.ErrorDetails}
		if r.ErrorCode != nil {
			m.Error.Code = *r.ErrorCode
		}
	}
	if r.Media != nil {
		var media switchboard.Media
		if json.Unmarshal([]byte(*r.Media), &media) == nil {
			m.Media = &media
		}
	}
	if r.Payload != nil {
		m.Payload = json.RawMessage(*r.Payload)
	}
	json.Unmarshal([]byte(r.Reactions), &m.Reactions)
	return m
}

func messageToRow(m *switchboard.Message) *messageRow {
	r := &messageRow{ID: m.ID, ConversationID: m.ConversationID, ChannelID: m.ChannelID, Direction: m.Direction, Sender: m.Sender,
		SenderID: m.SenderID, SenderName: m.SenderName, Type: m.Type, Text: m.Text, Private: m.Private, Status: m.Status,
		StatusRank: max(switchboard.StatusRank(m.Status), 0), ReplyTo: m.ReplyTo, Timestamp: utcPtr(m.Timestamp),
		SentAt: utcPtr(m.SentAt), DeliveredAt: utcPtr(m.DeliveredAt), ReadAt: utcPtr(m.ReadAt), FailedAt: utcPtr(m.FailedAt),
		CreatedAt: utc(m.CreatedAt), Reactions: "[]"}
	if m.ExternalID != "" {
		r.ExternalID = &m.ExternalID
	}
	if m.ClientID != "" {
		r.ClientID = &m.ClientID
	}
	if m.Error != nil {
		code := m.Error.Code
		r.ErrorCode, r.ErrorTitle, r.ErrorDetails = &code, m.Error.Title, m.Error.Details
	}
	if m.Media != nil {
		b, _ := json.Marshal(m.Media)
		s := string(b)
		r.Media = &s
	}
	if len(m.Payload) > 0 {
		s := string(m.Payload)
		r.Payload = &s
	}
	if len(m.Reactions) > 0 {
		b, _ := json.Marshal(m.Reactions)
		r.Reactions = string(b)
	}
	return r
}

// ListMessages returns a page of a conversation's messages in chronological order: the latest ones,
// or those before the cursor (an older page). The next cursor leads further back ("" at the start).
func (s *Store) ListMessages(ctx context.Context, conversationID int64, cursor string, limit int) ([]*switchboard.Message, string, error) {
	rows, next, err := newestFirst(s.conn(ctx).Where("conversation_id = ?", conversationID), cursor, "messages", limit,
		func(r messageRow) int64 { return r.ID })
	if err != nil {
		return nil, "", err
	}
	out := make([]*switchboard.Message, len(rows))
	for i := range rows {
		out[len(rows)-1-i] = rows[i].toDomain()
	}
	return out, next, nil
}

// newestFirst reads a page of q's rows by descending id: the latest ones, or those older than the
// cursor (the id of the last row of the previous page). The next cursor leads further back ("" at the
// oldest); what names the rows in the error of a bad cursor. limit is 50 when outside 1..200.
func newestFirst[R any](q *gorm.DB, cursor, what string, limit int, id func(R) int64) ([]R, string, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if cursor != "" {
		before, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || before <= 0 {
			return nil, "", switchboard.FieldError("cursor", "This cursor is not valid; start from the latest "+what+".")
		}
		q = q.Where("id < ?", before)
	}
	var rows []R
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = strconv.FormatInt(id(rows[len(rows)-1]), 10)
	}
	return rows, next, nil
}

// Message returns one message.
func (s *Store) Message(ctx context.Context, id int64) (*switchboard.Message, error) {
	var row messageRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, translateNotFound(err, "Message")
	}
	return row.toDomain(), nil
}
