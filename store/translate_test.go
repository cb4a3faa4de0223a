package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"
	"gorm.io/gorm"

	"switchboard"
)

// TestTranslate: driver errors become the domain codes the API answers with; an outage is
// unavailable (503, retried by jobs), a bug or a broken disk internal (500).
func TestTranslate(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{gorm.ErrRecordNotFound, switchboard.ENOTFOUND},
		{fmt.Errorf("insert: %w", gorm.ErrDuplicatedKey), switchboard.ECONFLICT},
		{context.DeadlineExceeded, switchboard.EUNAVAILABLE},
		{sqlite3.BUSY, switchboard.EUNAVAILABLE},
		{sqlite3.BUSY_TIMEOUT, switchboard.EUNAVAILABLE},
		{sqlite3.CONSTRAINT_CHECK, switchboard.EINVALID},
		{sqlite3.INTERRUPT, switchboard.EUNAVAILABLE},
		{sqlite3.READONLY, switchboard.EINTERNAL},
		{sqlite3.IOERR_WRITE, switchboard.EINTERNAL},
		{sqlite3.CORRUPT, switchboard.EINTERNAL},
		{&pgconn.PgError{Code: "23505"}, switchboard.ECONFLICT},
		{&pgconn.PgError{Code: "23514"}, switchboard.EINVALID},
		{&pgconn.PgError{Code: "40P01"}, switchboard.EUNAVAILABLE},
		{&pgconn.PgError{Code: "57P01"}, switchboard.EUNAVAILABLE},
		{&pgconn.PgError{Code: "42P01"}, switchboard.EINTERNAL},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, switchboard.EUNAVAILABLE},
		{errors.New("something else"), switchboard.EINTERNAL},
	} {
		if got := switchboard.ErrorCode(translate(tc.err)); got != tc.want {
			t.Errorf("translate(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
