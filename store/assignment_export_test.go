package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// SeedLoadForTest creates, on PostgreSQL, n open conversations of a channel (each with its own
// contact) spread evenly over agentIDs, in a few set-based statements: the benchmark's 50,000.
func (s *Store) SeedLoadForTest(ctx context.Context, channelID int64, agentIDs []int64, n int) error {
	if s.dialect != "postgres" {
		return errors.New("SeedLoadForTest needs PostgreSQL")
	}
	db := s.conn(ctx)
	now := s.now()
	if err := db.Exec(`INSERT INTO contacts (name, wa_id, phone, created_at, updated_at)
SELECT 'Load ' || g, (990000000000 + g)::text, '+' || (990000000000 + g)::text, ?, ? FROM generate_series(1, ?) g`, now, now, n).Error; err != nil {
		return err
	}
	if err := db.Exec(`INSERT INTO conversations (channel_id, contact_id, status, assignee_kind, assignee_id, assigned_at, last_message_at, created_at, updated_at)
SELECT ?, c.id, 'open', 'human', (?::bigint[])[1 + (row_number() OVER (ORDER BY c.id)) % ?], ?, ?, ?, ?
FROM contacts c WHERE c.wa_id LIKE '99%'`, channelID, int64Array(agentIDs), len(agentIDs), now, now, now, now).Error; err != nil {
		return err
	}
	// The load counters were bumped 50,000 times: vacuum as autovacuum would before the next decision.
	return db.Exec(`VACUUM ANALYZE conversations, channel_members`).Error
}

// int64Array formats ids as a PostgreSQL array literal.
func int64Array(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return "{" + strings.Join(parts, ",") + "}"
}
