// Package sqlstore is the one implementation of accountd.Store, over
// database/sql. sqlite/ and postgres/ open a database, migrate it and hand
// it here with their Dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/accountd/accountd"
)

// querier is what *sql.DB and *sql.Tx have in common, so that every method
// runs unchanged inside or outside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store implements accountd.Store. The zero value is not usable; see New.
type Store struct {
	db    *sql.DB
	q     querier // db, or the transaction this Store is bound to
	tx    *sql.Tx // nil outside InTx
	d     *Dialect
	stmts *stmtCache // shared by the Store and the ones InTx hands out
	// events are the auth events of this transaction, written just before
	// it commits (see recordEvent); nil outside InTx.
	events *[]accountd.AuthEvent
}

// stmtCache keeps each query prepared once: SQLite otherwise parses and
// compiles every statement on every call, which profiling showed to be the
// largest cost of a read. database/sql re-prepares a statement on each
// pooled connection as needed.
type stmtCache struct {
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache; queries are built from fixed text and
// whitelists, so the set is small, but a bound keeps a mistake cheap.
const maxCachedStmts = 512

// prepared returns the cached statement for query (already rebound), or nil
// when it cannot be prepared, in which case the caller runs it unprepared.
// It prepares without holding the cache's lock: preparing waits for a pooled
// connection, and transactions holding every connection may be waiting for
// the lock themselves (stmt), which would deadlock.
func (s *Store) prepared(ctx context.Context, query string) *sql.Stmt {
	s.stmts.mu.RLock()
	st, full := s.stmts.m[query], len(s.stmts.m) >= maxCachedStmts
	s.stmts.mu.RUnlock()
	if st != nil {
		return st
	}
	if full {
		return nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	// Closing a statement takes its connections' locks, so it happens
	// after the cache's lock is released.
	s.stmts.mu.Lock()
	kept, cur := false, s.stmts.m[query]
	if cur == nil && len(s.stmts.m) < maxCachedStmts {
		s.stmts.m[query], kept, cur = st, true, st
	}
	s.stmts.mu.Unlock()
	if !kept {
		st.Close() // another caller prepared it meanwhile, or the cache is full
	}
	return cur
}

// stmt returns the cached statement for query, bound to this Store's
// transaction if it has one. Inside a transaction it never prepares:
// preparing takes a second pooled connection, which with SQLite's single
// writer can wait on the very transaction that asks.
func (s *Store) stmt(ctx context.Context, query string) *sql.Stmt {
	if s.tx == nil {
		return s.prepared(ctx, query)
	}
	s.stmts.mu.RLock()
	st := s.stmts.m[query]
	s.stmts.mu.RUnlock()
	if st == nil {
		return nil
	}
	return s.tx.StmtContext(ctx, st)
}

var _ accountd.Store = (*Store)(nil)

// New returns a Store over db, which must already be migrated. The Store
// owns db: Close closes it.
func New(db *sql.DB, d Dialect) *Store {
	return &Store{db: db, q: db, d: &d, stmts: &stmtCache{m: map[string]*sql.Stmt{}}}
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = s.d.rebind(query)
	if st := s.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.q.ExecContext(ctx, query, args...)
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = s.d.rebind(query)
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.q.QueryContext(ctx, query, args...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	query = s.d.rebind(query)
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.q.QueryRowContext(ctx, query, args...)
}

// InTx runs fn on a Store bound to one transaction. Inside a transaction it
// runs fn on the same one: SQL transactions do not nest, and the caller's
// outcome decides for both.
func (s *Store) InTx(ctx context.Context, fn func(tx accountd.Store) error) error {
	return s.inTx(ctx, func(tx *Store) error { return fn(tx) })
}

func (s *Store) inTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return internal("beginning transaction", err)
	}
	// A no-op once committed; on an error or a panic in fn it is what
	// undoes the writes.
	defer tx.Rollback()
	txs := &Store{db: s.db, q: tx, tx: tx, d: s.d, stmts: s.stmts, events: new([]accountd.AuthEvent)}
	if err := fn(txs); err != nil {
		return err
	}
	if err := txs.writeEvents(ctx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return internal("committing transaction", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return internal("pinging database", err)
	}
	return nil
}

// Close closes the database. The Store an InTx hands out does not own it.
func (s *Store) Close() error {
	if s.tx != nil {
		return internal("closing store", errors.New("Close called inside InTx"))
	}
	s.stmts.mu.Lock()
	for q, st := range s.stmts.m {
		st.Close()
		delete(s.stmts.m, q)
	}
	s.stmts.mu.Unlock()
	return s.db.Close()
}

// internal wraps a failure as accountd.Internal, naming what was being done
// for the logs; the caller-facing message stays "internal error".
func internal(doing string, err error) error {
	return accountd.Internal(fmt.Errorf("sqlstore: %s: %w", doing, err))
}

// millis and fromMillis convert between time.Time and the BIGINT Unix
// milliseconds every timestamp is stored as. The zero time is 0, so that
// "never" sorts and compares the same on every database (NULL does not).
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// recordEvent notes that userID (all of it when tokenID is "") must be
// looked up again. It must be called inside the transaction of the change;
// the event is written when the transaction commits.
func (s *Store) recordEvent(userID, tokenID string) {
	*s.events = append(*s.events, accountd.AuthEvent{UserID: userID, TokenID: tokenID})
}

// recordOwnerEvent notes that what an owner's summary counts show changed:
// the user's, or every member's of the organization.
func (s *Store) recordOwnerEvent(ownerType, ownerID string) {
	if ownerType == accountd.OwnerOrg {
		*s.events = append(*s.events, accountd.AuthEvent{OrgID: ownerID})
	} else {
		*s.events = append(*s.events, accountd.AuthEvent{UserID: ownerID})
	}
}

// writeEvents writes the transaction's events as its last statement. Every
// instance follows the events by sequence number alone (AuthEventsAfter),
// which is only sound if numbers become visible in the order they were
// given out: on PostgreSQL, where two transactions may commit in the other
// order than they drew from the sequence, a transaction-scoped lock taken
// here, right before COMMIT, makes drawing and committing one step. It is
// held for a single insert and the commit, never while waiting for any
// other lock, so it cannot deadlock. (SQLite serialises every write
// transaction already.) A rolled-back transaction leaves a hole in the
// numbers that nothing will ever fill, so a reader never waits for one.
func (s *Store) writeEvents(ctx context.Context) error {
	evs := *s.events
	if len(evs) == 0 {
		return nil
	}
	if s.d.EventLock != "" {
		if _, err := s.exec(ctx, s.d.EventLock); err != nil {
			return internal("recording auth events", err)
		}
	}
	var b strings.Builder
	b.WriteString("INSERT INTO auth_events (user_id, token_id, org_id, at_ms) VALUES ")
	args := make([]any, 0, 3*len(evs))
	seen := make(map[accountd.AuthEvent]bool, len(evs))
	for _, e := range evs {
		if seen[e] {
			continue
		}
		seen[e] = true
		if len(args) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, " + s.d.NowMillis + ")")
		args = append(args, e.UserID, e.TokenID, e.OrgID)
	}
	if _, err := s.q.ExecContext(ctx, s.d.rebind(b.String()), args...); err != nil {
		return internal("recording auth events", err)
	}
	return nil
}

// AuthEventsAfter lists up to limit events numbered after seq, in order.
func (s *Store) AuthEventsAfter(ctx context.Context, seq int64, limit int) ([]accountd.AuthEvent, error) {
	rows, err := s.query(ctx, "SELECT seq, user_id, token_id, org_id FROM auth_events WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit)
	if err != nil {
		return nil, internal("listing auth events", err)
	}
	defer rows.Close()
	var out []accountd.AuthEvent
	for rows.Next() {
		var e accountd.AuthEvent
		if err := rows.Scan(&e.Seq, &e.UserID, &e.TokenID, &e.OrgID); err != nil {
			return nil, internal("listing auth events", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing auth events", err)
	}
	return out, nil
}

// LastAuthEvent is the number of the newest event, 0 when there is none.
func (s *Store) LastAuthEvent(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM auth_events").Scan(&seq); err != nil {
		return 0, internal("reading the last auth event", err)
	}
	return seq, nil
}

// PruneAuthEvents removes the events older than age by the database's clock.
func (s *Store) PruneAuthEvents(ctx context.Context, age time.Duration) error {
	if _, err := s.exec(ctx, "DELETE FROM auth_events WHERE at_ms < "+s.d.NowMillis+" - ?", age.Milliseconds()); err != nil {
		return internal("pruning auth events", err)
	}
	return nil
}
