package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

type contactRow struct {
	ID         int64
	Name       string
	WaID       *string `gorm:"column:wa_id"`
	BSUID      *string `gorm:"column:bsuid"`
	Phone      string
	Tags       string
	OptedOut   bool
	OptedOutAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (contactRow) TableName() string { return "contacts" }

func (r *contactRow) toDomain() *switchboard.Contact {
	c := &switchboard.Contact{ID: r.ID, Name: r.Name, Phone: r.Phone, OptedOut: r.OptedOut, OptedOutAt: utcPtr(r.OptedOutAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Tags: []string{}}
	if r.WaID != nil {
		c.WaID = *r.WaID
	}
	if r.BSUID != nil {
		c.BSUID = *r.BSUID
	}
	json.Unmarshal([]byte(r.Tags), &c.Tags)
	return c
}

type conversationRow struct {
	ID                 int64
	ChannelID          int64
	ContactID          int64
	Status             string
	AssigneeKind       string
	AssigneeID         *int64
	TeamID             *int64
	AIHandedOff        bool `gorm:"column:ai_handed_off"`
	LastInboundAt      *time.Time
	LastMessageAt      *time.Time
	LastMessagePreview string
	UnreadCount        int
	WaitingSince       *time.Time
	AssignedAt         *time.Time
	ResolvedAt         *time.Time
	Resolutions        int
	AwaySentFor        *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

func (conversationRow) TableName() string { return "conversations" }

func (r *conversationRow) toDomain() *switchboard.Conversation {
	c := &switchboard.Conversation{ID: r.ID, ChannelID: r.ChannelID, ContactID: r.ContactID, Status: r.Status, TeamID: r.TeamID,
		AIHandedOff: r.AIHandedOff, LastInboundAt: utcPtr(r.LastInboundAt), LastMessageAt: utcPtr(r.LastMessageAt),
		LastMessage: r.LastMessagePreview, UnreadCount: r.UnreadCount, WaitingSince: utcPtr(r.WaitingSince),
		AssignedAt: utcPtr(r.AssignedAt), ResolvedAt: utcPtr(r.ResolvedAt), Resolutions: r.Resolutions,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.AssigneeKind != "" && r.AssigneeID != nil {
		c.Assignee = &switchboard.Assignee{Kind: r.AssigneeKind, ID: *r.AssigneeID}
	}
	c.SetWindow()
	return c
}

// ConversationFilter selects conversations for ListConversations.
type ConversationFilter struct {
	// ViewerID limits the list to the channels this agent belongs to (0: every channel, for admins).
	ViewerID  int64
	ChannelID int64
	Status    string
	// Assignee is "me" (with MeID), "unassigned", "ai", or an agent id.
	Assignee string
	MeID     int64
	// Search matches the contact's name or number.
	Search string
	Cursor string
	Limit  int
}

// conversationCursor encodes the position after the last conversation of a page.
func conversationCursor(c *conversationRow) string {
	t := int64(0)
	if c.LastMessageAt != nil {
		t = c.LastMessageAt.UnixMicro()
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t, 10) + ":" + strconv.FormatInt(c.ID, 10)))
}

func parseConversationCursor(s string) (time.Time, int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if a, b, ok := strings.Cut(string(raw), ":"); ok {
			t, err1 := strconv.ParseInt(a, 10, 64)
			id, err2 := strconv.ParseInt(b, 10, 64)
			if err1 == nil && err2 == nil {
				return time.UnixMicro(t).UTC(), id, nil
			}
		}
	}
	return time.Time{}, 0, switchboard.FieldError("cursor", "This cursor is not valid; start from the first page.")
}

// ListConversations returns a page of conversations, most recently active first, with their
// contacts and assignees, and the cursor of the next page ("" at the end).
func (s *Store) ListConversations(ctx context.Context, f ConversationFilter) ([]*switchboard.Conversation, string, error) {
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 50
	}
	q := s.conn(ctx).Model(&conversationRow{}).Where("channel_id IN (SELECT id FROM channels WHERE deleted_at IS NULL)")
	if f.ViewerID > 0 {
		q = q.Where("channel_id IN (SELECT channel_id FROM channel_members WHERE agent_id = ?)", f.ViewerID)
	}
	if f.ChannelID > 0 {
		q = q.Where("channel_id = ?", f.ChannelID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	switch f.Assignee {
	case "":
	case "me":
		q = q.Where("assignee_kind = ? AND assignee_id = ?", switchboard.AssigneeHuman, f.MeID)
	case "unassigned":
		q = q.Where("assignee_kind = ''")
	case "ai":
		q = q.Where("assignee_kind = ?", switchboard.AssigneeAI)
	default:
		id, err := strconv.ParseInt(f.Assignee, 10, 64)
		if err != nil {
			return nil, "", switchboard.FieldError("assignee", `Use "me", "unassigned", "ai" or an agent id.`)
		}
		q = q.Where("assignee_kind = ? AND assignee_id = ?", switchboard.AssigneeHuman, id)
	}
	if term := strings.TrimSpace(f.Search); term != "" {
		like := "%" + strings.ToLower(strings.NewReplacer("%", "", "_", "").Replace(term)) + "%"
		q = q.Where("contact_id IN (SELECT id FROM contacts WHERE lower(name) LIKE ? OR phone LIKE ? OR wa_id LIKE ?)", like, like, like)
	}
	if f.Cursor != "" {
		t, id, err := parseConversationCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("(COALESCE(last_message_at, ?) < ? OR (COALESCE(last_message_at, ?) = ? AND id < ?))", time.Unix(0, 0).UTC(), t, time.Unix(0, 0).UTC(), t, id)
	}
	var rows []conversationRow
	if err := q.Order("last_message_at DESC, id DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	next := ""
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		next = conversationCursor(&rows[len(rows)-1])
	}
	out, err := s.hydrate(ctx, rows)
	return out, next, err
}

// hydrate turns rows into conversations with their contacts and assignee names.
func (s *Store) hydrate(ctx context.Context, rows []conversationRow) ([]*switchboard.Conversation, error) {
	out := make([]*switchboard.Conversation, len(rows))
	contactIDs := make([]int64, 0, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
		contactIDs = append(contactIDs, rows[i].ContactID)
	}
	if len(rows) == 0 {
		return out, nil
	}
	var contacts []contactRow
	if err := s.conn(ctx).Where("id IN ?", contactIDs).Find(&contacts).Error; err != nil {
		return nil, translate(err)
	}
	byContact := map[int64]*switchboard.Contact{}
	for i := range contacts {
		byContact[contacts[i].ID] = contacts[i].toDomain()
	}
	names, err := assigneeNames(s.conn(ctx), out)
	if err != nil {
		return nil, err
	}
	for _, c := range out {
		c.Contact = byContact[c.ContactID]
		if c.Assignee != nil {
			c.Assignee.Name = names[*c.Assignee]
		}
	}
	return out, nil
}

// Conversation returns one conversation with its contact and assignee.
func (s *Store) Conversation(ctx context.Context, id int64) (*switchboard.Conversation, error) {
	var row conversationRow
	err := s.conn(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound("Conversation")
	}
	if err != nil {
		return nil, translate(err)
	}
	out, err := s.hydrate(ctx, []conversationRow{row})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// CanSeeConversation reports whether an agent (not an admin) belongs to the conversation's channel.
func (s *Store) CanSeeConversation(ctx context.Context, agentID int64, c *switchboard.Conversation) (bool, error) {
	return s.IsChannelMember(ctx, c.ChannelID, agentID)
}

// assigneeNames looks up the names of the people and AI agents the conversations are assigned to,
// keyed by assignee (kind and id; the name is left empty in the key).
func assigneeNames(db *gorm.DB, convs []*switchboard.Conversation) (map[switchboard.Assignee]string, error) {
	ids := map[string][]int64{}
	for _, c := range convs {
		if c.Assignee != nil {
			ids[c.Assignee.Kind] = append(ids[c.Assignee.Kind], c.Assignee.ID)
		}
	}
	out := map[switchboard.Assignee]string{}
	for kind, table := range map[string]string{switchboard.AssigneeHuman: "agents", switchboard.AssigneeAI: "ai_agents"} {
		if len(ids[kind]) == 0 {
			continue
		}
		var rows []struct {
			ID   int64
			Name string
		}
		if err := db.Table(table).Select("id", "name").Where("id IN ?", ids[kind]).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[switchboard.Assignee{Kind: kind, ID: r.ID}] = r.Name
		}
	}
	return out, nil
}
