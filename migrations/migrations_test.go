package migrations

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

var versionRe = regexp.MustCompile(`^(\d{5})_[a-z0-9_]+\.sql$`)

// TestDialectsHaveTheSameVersions keeps the two schemas in step: every version exists in both folders
// under the same name, and each file has an Up and a Down section.
func TestDialectsHaveTheSameVersions(t *testing.T) {
	names := map[string][]string{}
	for _, d := range []string{Postgres, SQLite} {
		fsys, err := FS(d)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !versionRe.MatchString(e.Name()) {
				t.Errorf("%s/%s: want NNNNN_name.sql", d, e.Name())
			}
			body, _ := fs.ReadFile(fsys, e.Name())
			if !strings.Contains(string(body), "-- +goose Up") || !strings.Contains(string(body), "-- +goose Down") {
				t.Errorf("%s/%s: needs -- +goose Up and Down sections", d, e.Name())
			}
			names[d] = append(names[d], e.Name())
		}
	}
	pg, lite := names[Postgres], names[SQLite]
	if len(pg) == 0 {
		t.Fatal("no migrations found")
	}
	if strings.Join(pg, ",") != strings.Join(lite, ",") {
		t.Fatalf("dialects differ:\npostgres: %v\nsqlite:   %v", pg, lite)
	}
}
