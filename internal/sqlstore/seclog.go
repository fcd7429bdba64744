package sqlstore

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

const securityColumns = "id, user_id, at_ms, kind, address, user_agent, object_type, object_id, detail"

func (s *Store) AddSecurityEvent(ctx context.Context, e *accountd.SecurityEvent) error {
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(e.Detail); err != nil {
			return internal("recording a security event", err)
		}
	}
	_, err := s.exec(ctx, "INSERT INTO security_log ("+securityColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		e.ID, e.UserID, millis(e.At), e.Kind, e.Address, e.UserAgent, e.ObjectType, e.ObjectID, string(detail))
	if err != nil {
		return s.writeErr("recording a security event", err)
	}
	return nil
}

// SecurityEvents reads the page off security_log_user_at backwards; the
// total rides on each row as listPage's do.
func (s *Store) SecurityEvents(ctx context.Context, userID string, q accountd.SecurityQuery) ([]*accountd.SecurityEvent, int, error) {
	where := " FROM security_log WHERE user_id = ?"
	args := []any{userID}
	if len(q.Kinds) > 0 {
		where += " AND kind IN (?" + strings.Repeat(", ?", len(q.Kinds)-1) + ")"
		for _, k := range q.Kinds {
			args = append(args, k)
		}
	}
	if !q.Since.IsZero() {
		where += " AND at_ms >= ?"
		args = append(args, millis(q.Since))
	}
	if !q.Until.IsZero() {
		where += " AND at_ms < ?"
		args = append(args, millis(q.Until))
	}
	perPage := q.PerPage
	if perPage <= 0 {
		perPage = accountd.DefaultPerPage
	}
	page := max(q.Page, 0)
	if page > math.MaxInt/perPage {
		n, err := s.count(ctx, "listing security events", "SELECT COUNT(*)"+where, args...)
		return nil, n, err
	}
	all := make([]any, 0, 2*len(args)+2)
	all = append(append(append(all, args...), args...), perPage, page*perPage)
	rows, err := s.query(ctx, "SELECT "+securityColumns+", (SELECT COUNT(*)"+where+")"+where+
		" ORDER BY at_ms DESC, id DESC LIMIT ? OFFSET ?", all...)
	if err != nil {
		return nil, 0, internal("listing security events", err)
	}
	defer rows.Close()
	var (
		out   []*accountd.SecurityEvent
		total int
	)
	for rows.Next() {
		var (
			e      accountd.SecurityEvent
			at     int64
			detail string
		)
		if err := rows.Scan(&e.ID, &e.UserID, &at, &e.Kind, &e.Address, &e.UserAgent, &e.ObjectType, &e.ObjectID, &detail, &total); err != nil {
			return nil, 0, internal("listing security events", err)
		}
		e.At = fromMillis(at)
		if detail != "" && detail != "{}" {
			if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
				return nil, 0, internal("listing security events", err)
			}
		}
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, internal("listing security events", err)
	}
	if len(out) == 0 && page > 0 {
		rows.Close()
		n, err := s.count(ctx, "listing security events", "SELECT COUNT(*)"+where, args...)
		return nil, n, err
	}
	return out, total, nil
}

// SecurityEventSeen reads the user's rows off security_log_user_at and
// stops at the first match.
func (s *Store) SecurityEventSeen(ctx context.Context, userID, kind, address string) (bool, error) {
	query := "SELECT COUNT(*) FROM (SELECT 1 FROM security_log WHERE user_id = ? AND kind = ?"
	args := []any{userID, kind}
	if address != "" {
		query += " AND address = ?"
		args = append(args, address)
	}
	n, err := s.count(ctx, "reading the security log", query+" LIMIT 1) seen", args...)
	return n > 0, err
}

// PruneSecurityEvents deletes one batch: the subquery reads the oldest
// rows off security_log_at and stops at limit, so a prune never scans the
// table.
func (s *Store) PruneSecurityEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM security_log WHERE id IN
		(SELECT id FROM security_log WHERE at_ms < ? ORDER BY at_ms LIMIT ?)`, millis(before), limit)
	if err != nil {
		return 0, internal("pruning the security log", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, internal("pruning the security log", err)
	}
	return int(n), nil
}

// ClaimNotice is one upsert whose update only happens when the last notice
// is old enough: both databases then report one row affected, and none
// when the condition held it back.
func (s *Store) ClaimNotice(ctx context.Context, userID, kind string, at time.Time, every time.Duration) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO security_notices (user_id, kind, sent_ms) VALUES (?, ?, ?)
		ON CONFLICT (user_id, kind) DO UPDATE SET sent_ms = excluded.sent_ms
		WHERE security_notices.sent_ms <= ?`, userID, kind, millis(at), millis(at.Add(-every)))
	if err != nil {
		return false, s.writeErr("claiming a notification", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, internal("claiming a notification", err)
	}
	return n == 1, nil
}

// ExpiringTokens reads off tokens_kind_expires_at.
func (s *Store) ExpiringTokens(ctx context.Context, kind accountd.TokenKind, from, to time.Time, limit int) ([]*accountd.Token, error) {
	rows, err := s.query(ctx, "SELECT "+prefixed("t.", tokenColumns)+` FROM tokens t
		WHERE t.kind = ? AND t.expires_at > ? AND t.expires_at <= ? AND t.status = ?
		AND NOT EXISTS (SELECT 1 FROM token_reminders r WHERE r.token_id = t.id)
		ORDER BY t.expires_at LIMIT ?`, string(kind), millis(from), millis(to), accountd.StatusActive, limit)
	if err != nil {
		return nil, internal("listing expiring tokens", err)
	}
	defer rows.Close()
	var out []*accountd.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, internal("listing expiring tokens", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing expiring tokens", err)
	}
	return out, nil
}

func (s *Store) MarkTokenReminded(ctx context.Context, tokenID string, at time.Time) (bool, error) {
	res, err := s.exec(ctx, "INSERT INTO token_reminders (token_id, sent_ms) VALUES (?, ?) ON CONFLICT (token_id) DO NOTHING",
		tokenID, millis(at))
	if err != nil {
		if s.d.IsForeignKeyViolation(err) {
			return false, accountd.NotFound("API token")
		}
		return false, internal("recording a token reminder", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, internal("recording a token reminder", err)
	}
	return n == 1, nil
}

func (s *Store) UnmarkTokenReminded(ctx context.Context, tokenID string) error {
	if _, err := s.exec(ctx, "DELETE FROM token_reminders WHERE token_id = ?", tokenID); err != nil {
		return internal("forgetting a token reminder", err)
	}
	return nil
}
