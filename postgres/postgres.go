// Package postgres opens the accountd store on PostgreSQL, which any number
// of accountd instances may share.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Pool settings: enough connections for a busy instance while leaving room
// under the default max_connections (100) for several instances; idle ones
// go after a while so a quiet fleet holds few, and all are recycled so
// that load spreads again after a failover.
const (
	maxConns        = 16
	connMaxIdleTime = 5 * time.Minute
	connMaxLifetime = 30 * time.Minute
)

// Open connects to the database dsn names (a postgres:// URL or key=value
// string; unknown URL parameters such as search_path are sent as run-time
// settings) and brings its schema up to date before returning, so it also
// serves the operator's `accountd migrate`. Instances that start at once
// take turns to migrate.
func Open(ctx context.Context, dsn string) (accountd.Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx leaves the password out of its parse errors
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	db.SetConnMaxLifetime(connMaxLifetime)
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := sqlstore.Migrate(ctx, db, dialect(), sub); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return sqlstore.New(db, dialect()), nil
}

// SQLSTATEs of the violations the store turns into domain errors.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:           "postgres",
		NumberedParams: true,
		ForUpdate:      " FOR UPDATE",
		ForShare:       " FOR SHARE",
		SkipLocked:     " FOR UPDATE SKIP LOCKED",
		// clock_timestamp, not now(): now() is the start of the
		// transaction, which may be well before the change commits.
		NowMillis: "FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT",
		// Keyed by schema, as schema_migrations is: one database may hold
		// several accountd schemas (tests do), which need not wait on each
		// other. The first key is accountd's own, 'accd'.
		MigrationLock:         "SELECT pg_advisory_xact_lock(1633903460, hashtext(current_schema()))",
		EventLock:             "SELECT pg_advisory_xact_lock(1633903461, hashtext(current_schema()))",
		GroupConcat:           func(col string) string { return "string_agg(" + col + ", ',')" },
		IsUniqueViolation:     func(err error) bool { return hasCode(err, uniqueViolation) },
		IsForeignKeyViolation: func(err error) bool { return hasCode(err, foreignKeyViolation) },
	}
}

func hasCode(err error, code string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == code
}
