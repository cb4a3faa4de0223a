package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

// ReportFilter selects the data of a report: the period [From, To), optionally one channel and (for
// CSAT) one agent. ViewerID limits it to the channels that agent belongs to (0: every channel, for
// admins). Location sets the days of the by-period breakdown (UTC when nil).
type ReportFilter struct {
	From, To  time.Time
	ChannelID int64
	AgentID   int64
	ViewerID  int64
	Location  *time.Location
}

// scope restricts a query on a table with a channel_id column to the filter's channels.
func (f *ReportFilter) scope(q *gorm.DB, col string) *gorm.DB {
	if f.ChannelID > 0 {
		q = q.Where(col+" = ?", f.ChannelID)
	}
	if f.ViewerID > 0 {
		q = q.Where(col+" IN (SELECT channel_id FROM channel_members WHERE agent_id = ?)", f.ViewerID)
	}
	return q
}

// CSATStats summarise a set of surveys. Sent counts surveys that reached the customer; Skipped those
// that could not be sent. ResponseRate is Answered/Sent; Average and Distribution (ratings "1" to
// "5") cover the answered ones.
type CSATStats struct {
	Sent         int            `json:"sent"`
	Answered     int            `json:"answered"`
	Skipped      int            `json:"skipped"`
	ResponseRate float64        `json:"response_rate"`
	Average      *float64       `json:"average"`
	Distribution map[string]int `json:"distribution"`
	sum          int
}

func newCSATStats() *CSATStats {
	return &CSATStats{Distribution: map[string]int{"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}}
}

func (st *CSATStats) add(status string, rating *int, n int) {
	if status == switchboard.SurveySkipped {
		st.Skipped += n
		return
	}
	st.Sent += n
	if status == switchboard.SurveyAnswered && rating != nil && *rating >= 1 && *rating <= 5 {
		st.Answered += n
		st.sum += *rating * n
		st.Distribution[strconv.Itoa(*rating)] += n
	}
	st.derive()
}

// derive computes the rate and the average from the counts.
func (st *CSATStats) derive() {
	if st.Sent > 0 {
		st.ResponseRate = round2(float64(st.Answered) / float64(st.Sent))
	}
	if st.Answered > 0 {
		avg := round2(float64(st.sum) / float64(st.Answered))
		st.Average = &avg
	}
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// CSATAgentStats are the surveys of the conversations one agent resolved (AgentID nil: nobody, e.g.
// the AI agent).
type CSATAgentStats struct {
	AgentID *int64 `json:"agent_id"`
	Name    string `json:"name"`
	*CSATStats
}

// CSATChannelStats are the surveys of one channel.
type CSATChannelStats struct {
	ChannelID int64  `json:"channel_id"`
	Name      string `json:"name"`
	*CSATStats
}

// CSATDayStats are the surveys sent on one day (YYYY-MM-DD in the report's time zone).
type CSATDayStats struct {
	Day string `json:"day"`
	*CSATStats
}

// CSATReport is the satisfaction report of a period.
type CSATReport struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	*CSATStats
	ByAgent   []CSATAgentStats   `json:"by_agent"`
	ByChannel []CSATChannelStats `json:"by_channel"`
	ByPeriod  []CSATDayStats     `json:"by_period"`
}

// bucketSeconds groups rows in the database by quarter hour, which every time zone's day boundary
// falls on, so days are cut in Go for any zone, on both databases.
const bucketSeconds = 900

// epochBucket returns the SQL expression of the quarter hour a time column falls in.
func (s *Store) epochBucket(col string) string {
	if s.dialect == "postgres" {
		return fmt.Sprintf("FLOOR(EXTRACT(EPOCH FROM %s) / %d)::BIGINT", col, bucketSeconds)
	}
	return fmt.Sprintf("(%s / %d)", col, bucketSeconds*1000000) // SQLite keeps Unix microseconds
}

// CSATReport computes the satisfaction report of the surveys created in the period.
func (s *Store) CSATReport(ctx context.Context, f ReportFilter) (*CSATReport, error) {
	loc := f.Location
	if loc == nil {
		loc = time.UTC
	}
	q := s.conn(ctx).Table("csat_surveys").
		Select("channel_id, agent_id, status, rating, "+s.epochBucket("sent_at")+" AS bucket, COUNT(*) AS n").
		Where("sent_at >= ? AND sent_at < ?", utc(f.From), utc(f.To))
	q = f.scope(q, "channel_id")
	if f.AgentID > 0 {
		q = q.Where("agent_id = ?", f.AgentID)
	}
	var groups []struct {
		ChannelID int64
		AgentID   sql.NullInt64
		Status    string
		Rating    *int
		Bucket    int64
		N         int
	}
	if err := q.Group("channel_id, agent_id, status, rating, bucket").Scan(&groups).Error; err != nil {
		return nil, translate(err)
	}
	rep := &CSATReport{From: utc(f.From), To: utc(f.To), CSATStats: newCSATStats(),
		ByAgent: []CSATAgentStats{}, ByChannel: []CSATChannelStats{}, ByPeriod: []CSATDayStats{}}
	byAgent, byChannel, byDay := map[int64]*CSATStats{}, map[int64]*CSATStats{}, map[string]*CSATStats{}
	for _, g := range groups {
		day := time.Unix(g.Bucket*bucketSeconds, 0).In(loc).Format(time.DateOnly)
		for _, st := range []*CSATStats{rep.CSATStats, tally(byAgent, g.AgentID.Int64), tally(byChannel, g.ChannelID), tally(byDay, day)} {
			st.add(g.Status, g.Rating, g.N)
		}
	}
	agentNames, err := s.names(ctx, "agents", slices.Collect(maps.Keys(byAgent)))
	if err != nil {
		return nil, err
	}
	channelNames, err := s.names(ctx, "channels", slices.Collect(maps.Keys(byChannel)))
	if err != nil {
		return nil, err
	}
	// Agents by id, with nobody (0: unassigned or the AI agent) last.
	for _, id := range slices.SortedFunc(maps.Keys(byAgent), func(a, b int64) int { return cmp.Compare(uint64(a-1), uint64(b-1)) }) {
		a := CSATAgentStats{Name: agentNames[id], CSATStats: byAgent[id]}
		if id != 0 {
			a.AgentID = &id
		}
		rep.ByAgent = append(rep.ByAgent, a)
	}
	for _, id := range slices.Sorted(maps.Keys(byChannel)) {
		rep.ByChannel = append(rep.ByChannel, CSATChannelStats{ChannelID: id, Name: channelNames[id], CSATStats: byChannel[id]})
	}
	for _, day := range slices.Sorted(maps.Keys(byDay)) {
		rep.ByPeriod = append(rep.ByPeriod, CSATDayStats{Day: day, CSATStats: byDay[day]})
	}
	return rep, nil
}

// tally returns the stats of key k in m, new when k is first seen.
func tally[K comparable](m map[K]*CSATStats, k K) *CSATStats {
	if m[k] == nil {
		m[k] = newCSATStats()
	}
	return m[k]
}

// names returns the name of each id of a table with id and name columns.
func (s *Store) names(ctx context.Context, table string, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64
		Name string
	}
	if err := s.conn(ctx).Table(table).Select("id, name").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, translate(err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// OverviewReport is the activity of a period and the state of the queue now. The median first
// response time is measured over the conversations created in the period: from the customer's first
// message to the first reply by an agent or the AI agent.
type OverviewReport struct {
	From                       time.Time      `json:"from"`
	To                         time.Time      `json:"to"`
	ConversationsCreated       int            `json:"conversations_created"`
	ConversationsResolved      int            `json:"conversations_resolved"`
	MessagesIn                 int            `json:"messages_in"`
	MessagesOut                int            `json:"messages_out"`
	MessagesOutBySender        map[string]int `json:"messages_out_by_sender"`
	MedianFirstResponseSeconds *float64       `json:"median_first_response_seconds"`
	FirstResponses             int            `json:"first_responses"`
	Open                       int            `json:"open"`
	Pending                    int            `json:"pending"`
	Unassigned                 int            `json:"unassigned"`
}

// firstResponseQuery pairs each conversation's first customer message with the first reply after it.
const firstResponseQuery = `SELECT t.first_in,
  (SELECT MIN(r.created_at) FROM messages r WHERE r.conversation_id = t.id AND r.direction = 'outbound'
     AND r.sender IN ('agent', 'ai') AND r.type NOT IN ('note', 'activity') AND r.created_at >= t.first_in) AS first_reply
FROM (SELECT c.id, (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'inbound') AS first_in
      FROM conversations c WHERE %s) t
WHERE t.first_in IS NOT NULL`

// OverviewReport computes the overview of the period; the open, pending and unassigned counts are
// those of now.
func (s *Store) OverviewReport(ctx context.Context, f ReportFilter) (*OverviewReport, error) {
	from, to := utc(f.From), utc(f.To)
	rep := &OverviewReport{From: from, To: to, MessagesOutBySender: map[string]int{
		switchboard.SenderAgent: 0, switchboard.SenderAI: 0, switchboard.SenderSystem: 0}}
	count := func(col string, dst *int) error {
		var n int64
		q := f.scope(s.conn(ctx).Model(&conversationRow{}).Where(col+" >= ? AND "+col+" < ?", from, to), "channel_id")
		err := q.Count(&n).Error
		*dst = int(n)
		return err
	}
	if err := count("created_at", &rep.ConversationsCreated); err != nil {
		return nil, translate(err)
	}
	if err := count("resolved_at", &rep.ConversationsResolved); err != nil {
		return nil, translate(err)
	}
	var msgs []struct {
		Direction, Sender string
		N                 int
	}
	q := f.scope(s.conn(ctx).Model(&messageRow{}).Select("direction, sender, COUNT(*) AS n").
		Where("created_at >= ? AND created_at < ? AND type NOT IN ?", from, to, []string{switchboard.TypeNote, switchboard.TypeActivity}), "channel_id")
	if err := q.Group("direction, sender").Scan(&msgs).Error; err != nil {
		return nil, translate(err)
	}
	for _, m := range msgs {
		if m.Direction == switchboard.Inbound {
			rep.MessagesIn += m.N
			continue
		}
		rep.MessagesOut += m.N
		rep.MessagesOutBySender[m.Sender] += m.N
	}
	var now []struct {
		Status, AssigneeKind string
		N                    int
	}
	q = f.scope(s.conn(ctx).Model(&conversationRow{}).Select("status, assignee_kind, COUNT(*) AS n").
		Where("status <> ? AND channel_id IN (SELECT id FROM channels WHERE deleted_at IS NULL)", switchboard.StatusResolved), "channel_id")
	if err := q.Group("status, assignee_kind").Scan(&now).Error; err != nil {
		return nil, translate(err)
	}
	for _, c := range now {
		switch c.Status {
		case switchboard.StatusOpen:
			rep.Open += c.N
		case switchboard.StatusPending:
			rep.Pending += c.N
		}
		if c.AssigneeKind == "" {
			rep.Unassigned += c.N
		}
	}
	median, n, err := s.medianFirstResponse(ctx, f)
	if err != nil {
		return nil, err
	}
	rep.MedianFirstResponseSeconds, rep.FirstResponses = median, n
	return rep, nil
}

// medianFirstResponse returns the median first response time in seconds (nil without replies) and
// how many conversations it covers.
func (s *Store) medianFirstResponse(ctx context.Context, f ReportFilter) (*float64, int, error) {
	where := "c.created_at >= ? AND c.created_at < ?"
	args := []any{utc(f.From), utc(f.To)}
	if f.ChannelID > 0 {
		where += " AND c.channel_id = ?"
		args = append(args, f.ChannelID)
	}
	if f.ViewerID > 0 {
		where += " AND c.channel_id IN (SELECT channel_id FROM channel_members WHERE agent_id = ?)"
		args = append(args, f.ViewerID)
	}
	rows, err := s.conn(ctx).Raw(fmt.Sprintf(firstResponseQuery, where), args...).Rows()
	if err != nil {
		return nil, 0, translate(err)
	}
	defer rows.Close()
	var secs []float64
	for rows.Next() {
		var in, reply flexTime
		if err := rows.Scan(&in, &reply); err != nil {
			return nil, 0, translate(err)
		}
		if in.Valid && reply.Valid {
			secs = append(secs, reply.Time.Sub(in.Time).Seconds())
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, translate(err)
	}
	if len(secs) == 0 {
		return nil, 0, nil
	}
	sort.Float64s(secs)
	m := secs[len(secs)/2]
	if len(secs)%2 == 0 {
		m = (secs[len(secs)/2-1] + m) / 2
	}
	return &m, len(secs), nil
}

// flexTime scans a time that an aggregate returns: a time on PostgreSQL, Unix microseconds on SQLite
// (which keeps a column's time decoding only for plain column references).
type flexTime struct {
	Time  time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (t *flexTime) Scan(src any) error {
	t.Valid = src != nil
	switch v := src.(type) {
	case nil:
	case time.Time:
		t.Time = v.UTC()
	case int64:
		t.Time = time.UnixMicro(v).UTC()
	case float64:
		t.Time = time.UnixMicro(int64(v)).UTC()
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("store: cannot read %T as a time", src)
	}
	return nil
}

func (t *flexTime) parse(s string) error {
	v, err := time.Parse(time.RFC3339Nano, s)
	t.Time = v.UTC()
	return err
}
