package store_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

// TestConstraintViolationsAreInvalid: a CHECK or NOT NULL constraint refusing a value is the caller's
// mistake (invalid, 422), on SQLite as on PostgreSQL, not an internal error; a statement the database
// cannot run is internal (500), not "unavailable".
func TestConstraintViolationsAreInvalid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		for _, tc := range []struct {
			name string
			sql  string
			args []any
			want string
		}{
			{"check", `INSERT INTO jobs (kind, state, run_at, max_attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				[]any{"send", "sleeping", now, 3, now, now}, switchboard.EINVALID},
			{"not null", `INSERT INTO jobs (kind, state, run_at, max_attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				[]any{nil, switchboard.JobQueued, now, 3, now, now}, switchboard.EINVALID},
			{"a statement the database cannot run", `INSERT INTO no_such_table (x) VALUES (?)`, []any{1}, switchboard.EINTERNAL},
			{"valid", `INSERT INTO jobs (kind, state, run_at, max_attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				[]any{"send", switchboard.JobQueued, now, 3, now, now}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := s.InTxForTest(t.Context(), func(ctx context.Context, tx *gorm.DB) error {
					return tx.Exec(tc.sql, tc.args...).Error
				})
				if got := switchboard.ErrorCode(err); got != tc.want {
					t.Fatalf("got %v (%q), want code %q", err, got, tc.want)
				}
			})
		}
	})
}
