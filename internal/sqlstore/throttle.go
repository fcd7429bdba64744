package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

// The throttle's transactions run their statements on the transaction
// itself, not through the statement cache: under a flood every pooled
// connection can be inside one of them, and the cache's lock may be held
// by a caller preparing a statement, who waits for a connection; a
// transaction that waited on that lock would never give its connection
// back. pgx caches the statements per connection all the same.

func (s *Store) txExec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.q.ExecContext(ctx, s.d.rebind(query), args...)
}

func (s *Store) txQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.q.QueryRowContext(ctx, s.d.rebind(query), args...)
}

func (s *Store) txCounts(ctx context.Context, query string, args ...any) ([]accountd.ThrottleCount, error) {
	rows, err := s.q.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []accountd.ThrottleCount
	for rows.Next() {
		var c accountd.ThrottleCount
		var start int64
		if err := rows.Scan(&c.Key, &start); err != nil {
			return nil, err
		}
		c.Start = fromMillis(start)
		out = append(out, c)
	}
	return out, rows.Err()
}

// errThrottled rolls back a reservation that a counter at its limit
// refused.
var errThrottled = errors.New("throttled")

// ReserveThrottle counts the attempt with one upsert that adds one to
// every counter still under its limit (starting over those whose window
// ended) and says which it counted. If one was at its limit the
// transaction is rolled back, so the attempt counts nowhere. The upsert
// locks the rows it touches until the transaction ends, in key order, so
// racing reservations on one counter queue behind each other without
// deadlocking, and each sees the count the one before it left.
func (s *Store) ReserveThrottle(ctx context.Context, a accountd.ThrottleAttempt) ([]accountd.ThrottleCount, time.Duration, error) {
	at := millis(a.At)
	var counted []accountd.ThrottleCount
	var wait time.Duration
	err := s.inTx(ctx, func(tx *Store) error {
		counters := slices.Clone(a.Counters)
		if a.Trust != "" && slices.ContainsFunc(counters, func(c accountd.ThrottleCounter) bool { return c.Exempt }) {
			var until int64
			err := tx.txQueryRow(ctx, "SELECT expires_ms FROM throttle WHERE name = ?", a.Trust).Scan(&until)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return internal("reading throttle trust mark", err)
			case until > at:
				counters = slices.DeleteFunc(counters, func(c accountd.ThrottleCounter) bool { return c.Exempt })
			}
		}
		if len(counters) == 0 {
			return nil
		}
		slices.SortFunc(counters, func(x, y accountd.ThrottleCounter) int { return strings.Compare(x.Key, y.Key) })
		counters = slices.CompactFunc(counters, func(x, y accountd.ThrottleCounter) bool { return x.Key == y.Key })
		args := make([]any, 0, 4*len(counters))
		for _, c := range counters {
			args = append(args, c.Key, at, millis(a.At.Add(a.Window)), max(c.Limit, 1))
		}
		var err error
		counted, err = tx.txCounts(ctx,
			"INSERT INTO throttle (name, started_ms, expires_ms, max_attempts, attempts) VALUES "+valuesWithOne(len(counters))+`
			ON CONFLICT (name) DO UPDATE SET
				attempts = CASE WHEN throttle.expires_ms <= excluded.started_ms THEN 1 ELSE throttle.attempts + 1 END,
				started_ms = CASE WHEN throttle.expires_ms <= excluded.started_ms THEN excluded.started_ms ELSE throttle.started_ms END,
				expires_ms = CASE WHEN throttle.expires_ms <= excluded.started_ms THEN excluded.expires_ms ELSE throttle.expires_ms END,
				max_attempts = excluded.max_attempts
			WHERE throttle.expires_ms <= excluded.started_ms OR throttle.attempts < excluded.max_attempts
			RETURNING name, started_ms`, args...)
		if err != nil {
			return internal("counting throttled attempt", err)
		}
		if len(counted) == len(counters) {
			return nil
		}
		// Some counter is at its limit: the wait is until its window ends.
		keys := make([]any, 0, len(counters))
		for _, c := range counters {
			if !slices.ContainsFunc(counted, func(x accountd.ThrottleCount) bool { return x.Key == c.Key }) {
				keys = append(keys, c.Key)
			}
		}
		var end sql.NullInt64
		if err := tx.txQueryRow(ctx, "SELECT MAX(expires_ms) FROM throttle WHERE name IN ("+inList(len(keys))+")", keys...).Scan(&end); err != nil {
			return internal("reading throttle window", err)
		}
		wait = max(fromMillis(end.Int64).Sub(a.At), time.Millisecond)
		return errThrottled
	})
	switch {
	case errors.Is(err, errThrottled):
		return nil, wait, nil
	case err != nil:
		return nil, 0, err
	}
	slices.SortFunc(counted, func(x, y accountd.ThrottleCount) int { return strings.Compare(x.Key, y.Key) })
	return counted, 0, nil
}

// valuesWithOne is the VALUES rows of ReserveThrottle: four placeholders
// and a first attempt.
func valuesWithOne(rows int) string {
	return strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, 1), ", rows), ", ")
}

// EndThrottle gives the attempt back, clears and trusts, in one
// transaction, touching rows in key order as ReserveThrottle does.
func (s *Store) EndThrottle(ctx context.Context, e accountd.ThrottleEnd) error {
	return s.inTx(ctx, func(tx *Store) error {
		release := slices.Clone(e.Release)
		slices.SortFunc(release, func(x, y accountd.ThrottleCount) int { return strings.Compare(x.Key, y.Key) })
		for _, c := range release {
			// A window that started again since did not count the attempt.
			if _, err := tx.txExec(ctx, "UPDATE throttle SET attempts = attempts - 1 WHERE name = ? AND started_ms = ? AND attempts > 0",
				c.Key, millis(c.Start)); err != nil {
				return internal("giving back a throttled attempt", err)
			}
			// A counter back at nothing is no longer needed.
			if _, err := tx.txExec(ctx, "DELETE FROM throttle WHERE name = ? AND attempts <= 0 AND max_attempts > 0", c.Key); err != nil {
				return internal("giving back a throttled attempt", err)
			}
		}
		if len(e.Clear) > 0 {
			keys := make([]any, len(e.Clear))
			for i, k := range slices.Sorted(slices.Values(e.Clear)) {
				keys[i] = k
			}
			if _, err := tx.txExec(ctx, "DELETE FROM throttle WHERE name IN ("+inList(len(keys))+")", keys...); err != nil {
				return internal("clearing throttle counters", err)
			}
		}
		if e.Trust != "" {
			if _, err := tx.txExec(ctx, `INSERT INTO throttle (name, started_ms, expires_ms, attempts, max_attempts) VALUES (?, ?, ?, 0, 0)
				ON CONFLICT (name) DO UPDATE SET started_ms = excluded.started_ms, expires_ms = excluded.expires_ms`,
				e.Trust, millis(e.At), millis(e.Until)); err != nil {
				return internal("setting throttle trust mark", err)
			}
		}
		return nil
	})
}

// PruneThrottle deletes what lapsed by now, found through the expires_ms
// index.
func (s *Store) PruneThrottle(ctx context.Context, now time.Time) (int, error) {
	res, err := s.exec(ctx, "DELETE FROM throttle WHERE expires_ms <= ?", millis(now))
	if err != nil {
		return 0, internal("pruning throttle", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, internal("pruning throttle", err)
	}
	return int(n), nil
}
