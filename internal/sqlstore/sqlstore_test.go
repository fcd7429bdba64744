package sqlstore

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite"
)

func TestRebind(t *testing.T) {
	for _, tc := range []struct {
		numbered bool
		in, want string
	}{
		{false, "a = ? AND b = ?", "a = ? AND b = ?"},
		{true, "a = ? AND b = ?", "a = $1 AND b = $2"},
		{true, "SELECT 1", "SELECT 1"},
		{true, "x LIKE ? ESCAPE '\\' LIMIT ? OFFSET ?", "x LIKE $1 ESCAPE '\\' LIMIT $2 OFFSET $3"},
	} {
		d := Dialect{NumberedParams: tc.numbered}
		if got := d.rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLikePattern(t *testing.T) {
	for in, want := range map[string]string{
		"":           "",
		"*":          "%",
		"Alpha*":     "alpha%",
		"*50%_off*":  `%50\%\_off%`,
		`back\slash`: `back\\slash`,
		"ÉTÉ?":       "ÉtÉ?", // ASCII only: non-ASCII is left as both databases leave it
	} {
		if got := likePattern(in); got != want {
			t.Errorf("likePattern(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMigrationVersion(t *testing.T) {
	for name, want := range map[string]int64{
		"0001_init.sql":  1,
		"0042_a_b.sql":   42,
		"0001_init.sql~": -1,
		"001_init.sql":   -1,
		"0001init.sql":   -1,
		"0001_.sql":      -1,
		"abcd_init.sql":  -1,
		"0001_init.SQL":  -1,
		"README.md":      -1,
	} {
		v, ok := migrationVersion(name)
		if (want < 0) == ok || (ok && v != want) {
			t.Errorf("migrationVersion(%q) = %d, %v; want %d", name, v, ok, want)
		}
	}
}

func openSQLite(t *testing.T) (*sql.DB, Dialect) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, Dialect{Name: "sqlite", NowMillis: "0"}
}

func tables(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return strings.Join(names, " ")
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	db, d := openSQLite(t)
	v1 := fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER);")}}
	if err := Migrate(ctx, db, d, v1); err != nil {
		t.Fatalf("Migrate v1: %v", err)
	}
	if err := Migrate(ctx, db, d, v1); err != nil {
		t.Fatalf("Migrate v1 again: %v", err)
	}
	v2 := fstest.MapFS{
		"0001_a.sql": v1["0001_a.sql"],
		"0002_c.sql": {Data: []byte("CREATE TABLE c (z INTEGER)")},
	}
	if err := Migrate(ctx, db, d, v2); err != nil {
		t.Fatalf("Migrate v2: %v", err)
	}
	if got := tables(t, db); got != "a b c schema_migrations" {
		t.Errorf("tables = %q", got)
	}
	// an older binary: knows only 0001, and must start
	if err := Migrate(ctx, db, d, v1); err != nil {
		t.Errorf("Migrate with fewer migrations than applied: %v", err)
	}

	t.Run("failure rolls back", func(t *testing.T) {
		bad := fstest.MapFS{
			"0001_a.sql": v1["0001_a.sql"],
			"0002_c.sql": v2["0002_c.sql"],
			"0003_d.sql": {Data: []byte("CREATE TABLE d (x INTEGER); SELECT * FROM nowhere;")},
		}
		if err := Migrate(ctx, db, d, bad); err == nil || !strings.Contains(err.Error(), "0003_d.sql") {
			t.Fatalf("Migrate(bad) = %v, want an error naming 0003_d.sql", err)
		}
		if got := tables(t, db); got != "a b c schema_migrations" {
			t.Errorf("tables after a failed migration = %q", got)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != 2 {
			t.Errorf("schema_migrations has %d rows, %v; want 2", n, err)
		}
	})

	for name, fsys := range map[string]fstest.MapFS{
		"misnamed":  {"0001_a.sql": v1["0001_a.sql"], "2_b.sql": {Data: []byte("SELECT 1")}},
		"duplicate": {"0001_a.sql": v1["0001_a.sql"], "0001_b.sql": {Data: []byte("SELECT 1")}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := Migrate(ctx, db, d, fsys); err == nil {
				t.Error("Migrate accepted it")
			}
		})
	}
}
