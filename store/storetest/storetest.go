// Package storetest opens fresh, migrated stores for tests: SQLite in a temporary directory and
// PostgreSQL from TEST_DATABASE_URL, where each test gets its own database cloned from a migrated
// template (tens of milliseconds). Without TEST_DATABASE_URL the PostgreSQL variants are skipped,
// except under CI, where that is a failure: scripts/test.sh always provides one.
package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for administration

	"switchboard"
	"switchboard/migrations"
	"switchboard/store"
)

// Key is the fixed encryption key of test stores.
var Key = []byte("0123456789abcdef0123456789abcdef")

// Options tune a test store.
type Options struct {
	Clock switchboard.Clock
}

// Each runs fn once per database, as subtests named "sqlite" and "postgres".
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	EachWith(t, Options{}, fn)
}

// EachWith is Each with options.
func EachWith(t *testing.T, opts Options, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t, opts)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t, opts)) })
}

// SQLite opens a fresh store on a new SQLite file.
func SQLite(t testing.TB, opts Options) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{
		SQLitePath: filepath.Join(t.TempDir(), "switchboard.db"), Key: Key, Clock: opts.Clock,
	})
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Postgres opens a store on a fresh PostgreSQL database.
func Postgres(t testing.TB, opts Options) *store.Store {
	t.Helper()
	dsn := PostgresURL(t)
	s, err := store.Open(context.Background(), store.Options{DatabaseURL: dsn, Key: Key, Clock: opts.Clock, SkipMigrations: true, MaxConns: 10})
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
	dbCounter    atomic.Int64
)

// PostgresURL creates a fresh, migrated database and returns its URL; it is dropped when the test
// ends. Tests that start several server processes share one database through this URL.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TEST_DATABASE_URL is not set under CI: run the tests through scripts/test.sh")
		}
		t.Skip("TEST_DATABASE_URL is not set; scripts/test.sh starts a PostgreSQL for these tests")
	}
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(base) })
	if templateErr != nil {
		t.Fatalf("prepare template database: %v", templateErr)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("sbtest_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, dbCounter.Add(1))
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		// Cloning fails while another session is connected to the template; retry briefly.
		if _, lastErr = admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE ` + templateName); lastErr == nil {
			break
		}
		time.Sleep(time.Duration(20*(attempt+1)) * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatalf("create test database: %v", lastErr)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	return withDatabase(base, name)
}

// ensureTemplate creates (once per schema version, across concurrent test processes) a database with
// every migration applied, to be cloned by each test.
func ensureTemplate(base string) (string, error) {
	sum, err := schemaHash()
	if err != nil {
		return "", err
	}
	name := "sbtemplate_" + sum[:12]
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	ctx := context.Background()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// One test process at a time builds the template.
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(727274)`)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`)
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+building); err != nil {
		return "", err
	}
	db, err := sql.Open("pgx", withDatabase(base, building))
	if err != nil {
		return "", err
	}
	_, err = migrations.Up(ctx, migrations.Postgres, db, nil)
	db.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", err
	}
	return name, nil
}

// schemaHash identifies the PostgreSQL migrations, so a changed schema gets a new template.
func schemaHash() (string, error) {
	fsys, err := migrations.FS(migrations.Postgres)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + strings.TrimPrefix(name, "/")
	return u.String()
}
