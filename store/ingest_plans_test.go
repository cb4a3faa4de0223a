package store_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"switchboard/store"
	"switchboard/store/storetest"
)

// TestIngestReadsIgnoreChannelStatistics: a channel PostgreSQL's statistics have not seen (a new
// number, or one that grew since the last ANALYZE) is estimated at one row. The ingestion's reads by
// channel must still find each message and conversation through its own index entry, not read every
// row of the channel: the blocks they touch must not grow with the channel.
func TestIngestReadsIgnoreChannelStatistics(t *testing.T) {
	s := storetest.Postgres(t, storetest.Options{})
	db := s.SQL()
	ctx := t.Context()
	const perChannel = 3000
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// A channel with its contacts, conversations and messages.
	fill := func(ch int) {
		exec(`INSERT INTO channels (id, name, phone_number, phone_number_id, business_account_id, api_key_enc, app_secret_enc,
  verify_token, settings, created_at, updated_at)
VALUES ($1::bigint, 'Channel ' || $1::bigint, '+1555000' || lpad($1::bigint::text, 4, '0'),
  '10654035224' || lpad($1::bigint::text, 4, '0'), '102290129340398', 'v1:x', 'v1:x', 'verify' || $1::bigint, '{}', now(), now())`, ch)
		exec(`INSERT INTO contacts (name, wa_id, phone, created_at, updated_at)
SELECT 'Customer', $1 || lpad(i::text, 6, '0'), '+' || $1 || lpad(i::text, 6, '0'), now(), now() FROM generate_series(1, $2) i`,
			fmt.Sprint(ch), perChannel)
		exec(`INSERT INTO conversations (channel_id, contact_id, status, created_at, updated_at)
SELECT $1, id, 'open', now(), now() FROM contacts WHERE wa_id LIKE $2`, ch, fmt.Sprint(ch)+"%")
		exec(`INSERT INTO messages (conversation_id, channel_id, direction, sender, type, text, private, external_id, status,
  status_rank, media, reactions, payload, created_at)
SELECT id, $1::bigint, 'inbound', 'customer', 'text', 'hello', false, 'wamid.' || $1::bigint || '.' || id, 'received', 0, '', '[]', '{}', now()
FROM conversations WHERE channel_id = $1::bigint`, ch)
	}
	fill(1)
	exec("ANALYZE")
	fill(2) // unknown to the statistics

	var wamids string
	if err := db.QueryRowContext(ctx, `SELECT array_agg(external_id)::text FROM (
  SELECT external_id FROM messages WHERE channel_id = 2 ORDER BY id LIMIT 3) m`).Scan(&wamids); err != nil {
		t.Fatal(err)
	}
	args := map[string][]any{
		"stored wamids":      {2, wamids[:len(wamids)-1] + ",wamid.2.none}"},
		"open conversations": {2, "{2000001,2000002,2000003,2999999}"},
	}
	for name, q := range store.IngestReadsForTest {
		t.Run(name, func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			var plan string
			if err := tx.QueryRowContext(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+q, args[name]...).Scan(&plan); err != nil {
				t.Fatal(err)
			}
			var p []struct{ Plan planNode }
			if err := json.Unmarshal([]byte(plan), &p); err != nil {
				t.Fatal(err)
			}
			if rows := p[0].Plan.ActualRows; rows != 3 {
				t.Fatalf("found %v rows, want 3", rows)
			}
			// A few index descents per item (11 and 21 blocks); the channel's rows are thousands.
			if hit := p[0].Plan.SharedHitBlocks + p[0].Plan.SharedReadBlocks; hit > 40 {
				t.Fatalf("read %d blocks for 4 items of a %d-row channel: the plan scans the channel\n%s", hit, perChannel, plan)
			}
		})
	}
}

type planNode struct {
	ActualRows       float64 `json:"Actual Rows"`
	SharedHitBlocks  int     `json:"Shared Hit Blocks"`
	SharedReadBlocks int     `json:"Shared Read Blocks"`
}
