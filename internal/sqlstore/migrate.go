package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// migration is one NNNN_name.sql file.
type migration struct {
	version int64
	name    string
	sql     string
}

// Migrate applies the migrations in the root of fsys that db has not had
// yet, in order of their numbers, each in its own transaction together with
// its row in schema_migrations. Versions db has that fsys lacks are left
// alone, so an older binary can start against a schema a newer one has
// already moved on.
//
// Every transaction first takes d.MigrationLock, then re-reads what is
// applied, so instances starting at once apply each migration exactly once.
// Migrations must therefore run inside a transaction (no CREATE INDEX
// CONCURRENTLY) and, once released, must never be edited.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS) error {
	migrations, err := readMigrations(fsys)
	if err != nil {
		return err
	}
	for {
		done, err := migrateNext(ctx, db, &d, migrations)
		if err != nil || done {
			return err
		}
	}
}

// migrateNext applies the first migration not yet applied and reports
// whether there was none.
func migrateNext(ctx context.Context, db *sql.DB, d *Dialect, migrations []migration) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if d.MigrationLock != "" {
		if _, err := tx.ExecContext(ctx, d.MigrationLock); err != nil {
			return false, fmt.Errorf("migrate: taking lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT NOT NULL PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return false, fmt.Errorf("migrate: creating schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return false, err
	}
	i := slices.IndexFunc(migrations, func(m migration) bool { return !applied[m.version] })
	if i < 0 {
		return true, tx.Commit()
	}
	m := migrations[i]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migrate: applying %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, d.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, "+d.NowMillis+")"), m.version, m.name); err != nil {
		return false, fmt.Errorf("migrate: recording %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate: committing %s: %w", m.name, err)
	}
	return false, nil
}

func appliedVersions(ctx context.Context, tx *sql.Tx) (map[int64]bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate: reading schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("migrate: reading schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate: reading schema_migrations: %w", err)
	}
	return applied, nil
}

// readMigrations loads the migrations in the root of fsys, sorted. Any
// other file there is an error rather than silently skipped: a misnamed
// migration would otherwise never run.
func readMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		version, ok := migrationVersion(name)
		if e.IsDir() || !ok {
			return nil, fmt.Errorf("migrate: %q is not named NNNN_name.sql", name)
		}
		if len(out) > 0 && out[len(out)-1].version == version {
			return nil, fmt.Errorf("migrate: %s and %s share a version", out[len(out)-1].name, name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		out = append(out, migration{version: version, name: name, sql: string(b)})
	}
	// ReadDir sorts by name and the numbers are fixed-width, so out is
	// already in version order.
	return out, nil
}

// migrationVersion parses the NNNN of NNNN_name.sql.
func migrationVersion(name string) (int64, bool) {
	base, ok := strings.CutSuffix(name, ".sql")
	if !ok || len(base) < 6 || base[4] != '_' {
		return 0, false
	}
	for _, c := range base[:4] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(base[:4], 10, 64)
	return v, err == nil
}
