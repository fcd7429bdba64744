// Package sqlite opens the accountd store on an embedded SQLite database
// (modernc.org/sqlite, no cgo).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/sqlstore"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// pragmas are set on every connection:
//   - WAL lets readers run beside the one writer;
//   - busy_timeout makes a writer wait its turn instead of failing;
//   - foreign_keys is off by default in SQLite, and tokens rely on it;
//   - synchronous NORMAL is durable enough under WAL (a power cut may lose
//     the last commits, never corrupt) and much faster than FULL;
//   - _txlock=immediate begins every write transaction with the write lock,
//     so two transactions that read and then write cannot deadlock on
//     upgrading their locks (SQLITE_BUSY despite busy_timeout).
const pragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// Open opens the database file at path, creating it if need be, and brings
// its schema up to date before returning, so it also serves the operator's
// `accountd migrate`.
func Open(ctx context.Context, path string) (accountd.Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		// the driver reads everything after a ? as its own parameters
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", path+"?"+pragmas)
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	conns := max(4, runtime.GOMAXPROCS(0))
	if path == ":memory:" {
		// every connection would get a database of its own
		conns = 1
	}
	db.SetMaxOpenConns(conns)
	// Keep them all: a new connection re-runs the pragmas and drops the
	// page cache.
	db.SetMaxIdleConns(conns)
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := sqlstore.Migrate(ctx, db, dialect(), sub); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return sqlstore.New(db, dialect()), nil
}

// createPrivate creates the database file, empty and readable by its owner
// only, unless it exists. SQLite gives the -wal and -shm files it makes
// beside it the database file's mode, so they are private too.
func createPrivate(path string) error {
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: creating %s: %w", path, err)
	}
	return f.Close()
}

// Backup writes an online, consistent copy of the database at path to dest
// (VACUUM INTO: one read transaction, so writers carry on), mode 0600.
// dest must not exist.
func Backup(ctx context.Context, path, dest string) error {
	if path == "" || strings.ContainsRune(path, '?') {
		return fmt.Errorf("sqlite: invalid database path %q", path)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	// VACUUM INTO takes an empty file; making it first fixes its mode.
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: creating the backup: %w", err)
	}
	f.Close()
	db, err := sql.Open("sqlite", path+"?"+pragmas)
	if err != nil {
		os.Remove(dest)
		return fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		os.Remove(dest)
		return fmt.Errorf("sqlite: backing up %s: %w", path, err)
	}
	return nil
}

func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name: "sqlite",
		// unixepoch('subsec') keeps the milliseconds; 'now' is fixed for the
		// length of one statement.
		NowMillis: "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
		// no lock needed: BEGIN IMMEDIATE already serialises writers across
		// processes
		GroupConcat: func(col string) string { return "group_concat(" + col + ", ',')" },
		IsUniqueViolation: func(err error) bool {
			return hasCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
		},
		IsForeignKeyViolation: func(err error) bool {
			return hasCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY)
		},
	}
}

// hasCode reports whether err is a SQLite error with one of the extended
// result codes (the driver turns extended codes on).
func hasCode(err error, codes ...int) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && slices.Contains(codes, e.Code())
}
