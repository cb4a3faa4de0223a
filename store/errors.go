package store

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"
	"gorm.io/gorm"

	"switchboard"
)

// translate turns a driver or GORM error into a domain *Error. Errors that already carry a code pass
// through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var se *switchboard.Error
	if errors.As(err, &se) {
		return err
	}
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return switchboard.WrapError(switchboard.ENOTFOUND, "Not found.", err)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return switchboard.WrapError(switchboard.ECONFLICT, "It already exists.", err)
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return switchboard.WrapError(switchboard.EINVALID, "It refers to something that does not exist.", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return switchboard.WrapError(switchboard.EUNAVAILABLE, "The request was cancelled or timed out.", err)
	case errors.Is(err, sqlite3.BUSY), errors.Is(err, sqlite3.LOCKED):
		return switchboard.WrapError(switchboard.EUNAVAILABLE, "The database is busy; try again.", err)
	case errors.Is(err, sqlite3.CONSTRAINT_CHECK), errors.Is(err, sqlite3.CONSTRAINT_NOTNULL):
		// PostgreSQL's 23514 and 23502 below. (SQLite's unique and foreign-key violations arrive as
		// GORM's errors above: the dialector translates those two only.)
		return switchboard.WrapError(switchboard.EINVALID, "A value is not allowed.", err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505":
			return switchboard.WrapError(switchboard.ECONFLICT, "It already exists.", err)
		case pgErr.Code == "23503":
			return switchboard.WrapError(switchboard.EINVALID, "It refers to something that does not exist.", err)
		case pgErr.Code == "23514" || pgErr.Code == "23502" || pgErr.Code == "22001":
			return switchboard.WrapError(switchboard.EINVALID, "A value is not allowed.", err)
		case pgErr.Code == "40001" || pgErr.Code == "40P01" || pgErr.Code == "55P03":
			return switchboard.WrapError(switchboard.EUNAVAILABLE, "The database is busy; try again.", err)
		case strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "53300":
			return switchboard.WrapError(switchboard.EUNAVAILABLE, "The database is unavailable.", err)
		}
	}
	var sqliteCode sqlite3.ErrorCode // matches *sqlite3.Error and bare (extended) codes alike
	if errors.As(err, &sqliteCode) {
		// Any other SQLite error is a bug or a broken disk, not an outage that passes (its types have
		// Temporary and Timeout methods, so they would pass for network errors below); an interrupted
		// statement is a cancelled request.
		if sqliteCode == sqlite3.INTERRUPT {
			return switchboard.WrapError(switchboard.EUNAVAILABLE, "The request was cancelled or timed out.", err)
		}
		return switchboard.WrapError(switchboard.EINTERNAL, "", err)
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connErr) || pgconn.SafeToRetry(err) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "connection refused") ||
		strings.Contains(err.Error(), "driver: bad connection") {
		return switchboard.WrapError(switchboard.EUNAVAILABLE, "The database is unavailable.", err)
	}
	return switchboard.WrapError(switchboard.EINTERNAL, "", err)
}

// redactErr removes a connection string (which may hold a password) from an error message.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// notFound returns an ENOTFOUND error naming the missing thing.
func notFound(what string) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "%s not found.", what)
}

// translateNotFound is translate with a not-found error that names the missing thing.
func translateNotFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return notFound(what)
	}
	return translate(err)
}
