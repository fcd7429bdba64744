package sqlstore

import (
	"strconv"
	"strings"
)

// Dialect is what differs between the databases the one Store runs on. The
// SQL the Store writes is otherwise common to SQLite and PostgreSQL; only
// the migrations are written per database.
type Dialect struct {
	Name string

	// NumberedParams turns the ? placeholders every query is written with
	// into $1, $2, ... (PostgreSQL).
	NumberedParams bool

	// NowMillis is an SQL expression for the database's clock in Unix
	// milliseconds. Auth events are stamped and windowed with it, so that
	// instances whose clocks disagree still agree on what is recent.
	NowMillis string

	// MigrationLock, if set, is run first in every migration transaction to
	// serialise instances that start at once. It must release itself when
	// the transaction ends.
	MigrationLock string

	// GroupConcat is the aggregate that joins a column's values with commas
	// (group_concat, string_agg).
	GroupConcat func(col string) string

	// EventLock, if set, is run in a transaction right before its auth
	// events are written, and must hold until the transaction ends, so that
	// event numbers become visible in order (see writeEvents).
	EventLock string

	// ForUpdate and ForShare end a SELECT that must hold the rows it reads
	// for the rest of the transaction (PostgreSQL's row locks); empty where
	// write transactions are serialised anyway (SQLite's BEGIN IMMEDIATE).
	ForUpdate, ForShare string
	// SkipLocked ends a SELECT that takes rows for the rest of the
	// transaction, skipping those another transaction holds (PostgreSQL's
	// FOR UPDATE SKIP LOCKED); empty on SQLite, whose writers take turns.
	SkipLocked string

	// IsUniqueViolation and IsForeignKeyViolation classify driver errors by
	// their codes.
	IsUniqueViolation     func(error) bool
	IsForeignKeyViolation func(error) bool
}

// rebind rewrites the ? placeholders of query for the dialect. The queries
// are ours and hold no ? inside literals, so a plain scan is enough.
func (d *Dialect) rebind(query string) string {
	if !d.NumberedParams || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}
