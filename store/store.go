// Package store is the one implementation of Switchboard's storage: GORM over PostgreSQL (production)
// and SQLite (the embedded default), with the schema from package migrations. Public methods own their
// transaction; unexported helpers take (ctx, tx, ...). Driver errors leave this package translated
// into domain error codes.
package store

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/ncruces/go-sqlite3/gormlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"switchboard"
	"switchboard/migrations"
)

// Options configure Open.
type Options struct {
	// DatabaseURL selects PostgreSQL; empty selects SQLite at SQLitePath.
	DatabaseURL string
	SQLitePath  string
	// Key is the 32-byte AES key that encrypts channel secrets at rest.
	Key      []byte
	Clock    switchboard.Clock
	Logger   *slog.Logger
	MaxConns int
	// SkipMigrations opens without applying migrations (tests cloning a migrated template).
	SkipMigrations bool
}

// Store is Switchboard's database.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect string
	clock   switchboard.Clock
	log     *slog.Logger
	aead    cipher.AEAD
	// jobSignal is poked after a commit that enqueued jobs, so idle workers wake without polling.
	jobSignal chan struct{}
}

// Open connects to the database, applies pending migrations and returns the store.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Clock == nil {
		opts.Clock = switchboard.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 20
	}
	aead, err := newAEAD(opts.Key)
	if err != nil {
		return nil, err
	}
	var dialector gorm.Dialector
	dialect := migrations.Postgres
	if opts.DatabaseURL != "" {
		dialector = postgres.Open(opts.DatabaseURL)
	} else {
		dialect = migrations.SQLite
		if opts.SQLitePath == "" {
			return nil, errors.New("store: SQLitePath is required without a DatabaseURL")
		}
		if err := os.MkdirAll(filepath.Dir(opts.SQLitePath), 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		dialector = gormlite.Open(sqliteDSN(opts.SQLitePath))
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		// pgx caches prepared statements itself; the SQLite driver parses every statement anew, which
		// cost a fifth of the server's CPU under load, so GORM keeps them prepared per connection.
		PrepareStmt:            dialect == migrations.SQLite,
		SkipDefaultTransaction: true,
		TranslateError:         true,
		NowFunc:                func() time.Time { return utc(opts.Clock.Now()) },
		Logger:                 newGormLogger(opts.Logger),
	})
	if err != nil {
		return nil, switchboard.WrapError(switchboard.EUNAVAILABLE, "The database cannot be opened.", redactErr(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(opts.MaxConns)
	sqlDB.SetMaxIdleConns(opts.MaxConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, sqlDB: sqlDB, dialect: dialect, clock: opts.Clock, log: opts.Logger, aead: aead,
		jobSignal: make(chan struct{}, jobSignalCapacity)}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, switchboard.WrapError(switchboard.EUNAVAILABLE, "The database does not answer.", redactErr(err))
	}
	if !opts.SkipMigrations {
		if err := s.migrate(ctx, opts); err != nil {
			sqlDB.Close()
			return nil, err
		}
	}
	return s, nil
}

// migrate applies pending migrations. On SQLite it uses a connection with the driver's default time
// format, because goose's own version table keeps SQLite's text timestamps.
func (s *Store) migrate(ctx context.Context, opts Options) error {
	db := s.sqlDB
	if s.dialect == migrations.SQLite {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(15000)")
		q.Add("_pragma", "journal_mode(wal)")
		q.Add("_pragma", "foreign_keys(on)")
		mdb, err := sql.Open("sqlite3", sqliteURI(opts.SQLitePath, q))
		if err != nil {
			return err
		}
		defer mdb.Close()
		db = mdb
	}
	v, err := migrations.Up(ctx, s.dialect, db, nil)
	if err != nil {
		return err
	}
	s.log.Info("database ready", "dialect", s.dialect, "schema_version", v)
	return nil
}

// sqliteDSN opens the file in WAL mode with foreign keys, a busy timeout, immediate transactions
// (so concurrent writers queue instead of failing with SQLITE_BUSY) and time stored as Unix
// microseconds (ordered, time-zone free).
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Set("_timefmt", "unixepoch_micro")
	q.Add("_pragma", "busy_timeout(15000)")
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "foreign_keys(on)")
	q.Add("_pragma", "synchronous(normal)")
	return sqliteURI(path, q)
}

// sqliteURI builds a file: URI; the path is escaped, so names with "#" or "?" open the right file.
func sqliteURI(path string, q url.Values) string {
	return (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}).String()
}

// Close closes the database.
func (s *Store) Close() error { return s.sqlDB.Close() }

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// SQL returns the underlying database handle, for benchmarks and the realtime listener.
func (s *Store) SQL() *sql.DB { return s.sqlDB }

// Ready reports whether the database answers and carries every migration of this binary.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return switchboard.WrapError(switchboard.EUNAVAILABLE, "The database does not answer.", err)
	}
	pending, err := migrations.Pending(ctx, s.dialect, s.sqlDB)
	if err != nil {
		return switchboard.WrapError(switchboard.EUNAVAILABLE, "The schema version cannot be read.", err)
	}
	if pending {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Database migrations are pending.")
	}
	return nil
}

type txStateKey struct{}

// txState records what a transaction did that matters after it commits.
type txState struct{ enqueued int }

// inTx runs fn in one transaction (BEGIN IMMEDIATE on SQLite) and translates its error. After a commit
// that enqueued jobs, idle workers are woken.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx *gorm.DB) error) error {
	st := &txState{}
	ctx = context.WithValue(ctx, txStateKey{}, st)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return fn(ctx, tx) })
	if err != nil {
		return translate(err)
	}
	s.signalJobs(st.enqueued)
	return nil
}

// conn returns the handle for a single statement outside any transaction.
func (s *Store) conn(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// now returns the store clock's time, in UTC at microsecond precision (what both databases keep).
func (s *Store) now() time.Time { return utc(s.clock.Now()) }

func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := utc(*t)
	return &v
}
