// Package migrations holds Switchboard's SQL schema: hand-written goose migrations, one folder per
// dialect (postgres/, sqlite/) with the same version numbers, embedded into the binary and applied in
// order at start-up.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialects.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// FS returns the migration files of a dialect.
func FS(dialect string) (fs.FS, error) {
	switch dialect {
	case Postgres, SQLite:
		return fs.Sub(files, dialect)
	}
	return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
}

func provider(dialect string, db *sql.DB, logger *slog.Logger) (*goose.Provider, error) {
	fsys, err := FS(dialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	gd := goose.DialectSQLite3
	if dialect == Postgres {
		gd = goose.DialectPostgres
		// Several replicas may start together: a session advisory lock lets one migrate at a time.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	return goose.NewProvider(gd, db, fsys, opts...)
}

// Up applies every pending migration and returns the schema version reached.
func Up(ctx context.Context, dialect string, db *sql.DB, logger *slog.Logger) (int64, error) {
	p, err := provider(dialect, db, logger)
	if err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	return p.GetDBVersion(ctx)
}

// Latest returns the newest migration version this binary carries for a dialect.
func Latest(dialect string) (int64, error) {
	fsys, err := FS(dialect)
	if err != nil {
		return 0, err
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			continue
		}
		if v, err := strconv.ParseInt(num, 10, 64); err == nil && v > latest {
			latest = v
		}
	}
	return latest, nil
}

// Pending reports whether the database lacks migrations this binary has (readiness uses it). It reads
// goose's version table directly: one cheap query, no locks.
func Pending(ctx context.Context, dialect string, db *sql.DB) (bool, error) {
	latest, err := Latest(dialect)
	if err != nil {
		return false, err
	}
	var current sql.NullInt64
	err = db.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version WHERE is_applied`).Scan(&current)
	if err != nil {
		return false, fmt.Errorf("migrations: read schema version: %w", err)
	}
	return current.Int64 < latest, nil
}
