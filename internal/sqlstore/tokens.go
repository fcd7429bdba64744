package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

const tokenColumns = `id, user_id, kind, name, description, scope, status,
	creator_type, creator_id, creator_name, expires_at, created_at, updated_at, last_used_at,
	parent_id, user_gen,
	obtained_via, created_address, created_user_agent, last_used_address, last_used_user_agent`

func scanToken(row scanner) (*accountd.Token, error) {
	var (
		t                                  accountd.Token
		kind, scope                        string
		expires, created, updated, lastUse int64
	)
	err := row.Scan(&t.ID, &t.UserID, &kind, &t.Name, &t.Description, &scope, &t.Status,
		&t.CreatorType, &t.CreatorID, &t.CreatorName, &expires, &created, &updated, &lastUse,
		&t.ParentID, &t.UserGen,
		&t.ObtainedVia, &t.CreatedAddress, &t.CreatedUserAgent, &t.LastUsedAddress, &t.LastUsedUserAgent)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scope), &t.Scope); err != nil {
		return nil, err
	}
	if len(t.Scope) == 0 {
		t.Scope = nil
	}
	t.Kind = accountd.TokenKind(kind)
	t.ExpiresAt, t.CreatedAt, t.UpdatedAt, t.LastUsedAt = fromMillis(expires), fromMillis(created), fromMillis(updated), fromMillis(lastUse)
	return &t, nil
}

// scopeJSON renders a scope as the JSON array text it is stored as; nil is
// "[]", not "null".
func scopeJSON(scope []string) (string, error) {
	if scope == nil {
		scope = []string{}
	}
	b, err := json.Marshal(scope)
	return string(b), err
}

// CreateToken records an event for the user when the token is an API
// token: GET /me counts them.
func (s *Store) CreateToken(ctx context.Context, t *accountd.Token) error {
	scope, err := scopeJSON(t.Scope)
	if err != nil {
		return internal("creating token", err)
	}
	return s.inTx(ctx, func(tx *Store) error {
		_, err = tx.exec(ctx, "INSERT INTO tokens ("+tokenColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			t.ID, t.UserID, string(t.Kind), t.Name, t.Description, scope, t.Status,
			t.CreatorType, t.CreatorID, t.CreatorName, millis(t.ExpiresAt), millis(t.CreatedAt), millis(t.UpdatedAt), millis(t.LastUsedAt),
			t.ParentID, t.UserGen,
			t.ObtainedVia, t.CreatedAddress, t.CreatedUserAgent, t.LastUsedAddress, t.LastUsedUserAgent)
		switch {
		case err == nil:
			if t.Kind == accountd.KindAPI {
				tx.recordOwnerEvent(accountd.OwnerUser, t.UserID)
			}
			return nil
		case tx.d.IsForeignKeyViolation(err):
			return accountd.NotFound("user")
		default:
			return internal("creating token", err)
		}
	})
}

func (s *Store) Token(ctx context.Context, id string) (*accountd.Token, error) {
	t, err := scanToken(s.queryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE id = ?", id))
	switch {
	case err == nil:
		return t, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, accountd.NotFound("API token")
	default:
		return nil, internal("reading token", err)
	}
}

// tokenSort and tokenFilter map the sort and filter fields of the API to
// columns: the only way a caller's words reach the text of a query.
var (
	tokenSort = map[string]string{"name": "name", "status": "status", "id": "id",
		"creationDate": "created_at", "lastUpdated": "updated_at", "expirationDate": "expires_at"}
	tokenFilter = map[string]string{"name": "name", "status": "status"}
)

// likePattern turns a filter glob, where * is any run of characters and all
// else is literal, into a LIKE pattern with \ as the escape. Case is folded
// for ASCII only, in Go rather than with LOWER(?): SQLite's LOWER folds only
// ASCII, and PostgreSQL's under the columns' "C" collation does too, so
// both databases match alike.
func likePattern(glob string) string {
	var b strings.Builder
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case c == '*':
			b.WriteByte('%')
		case c == '%' || c == '_' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Tokens returns one page of the user's tokens of the kind, sorted with id
// as the tie-breaker (in the same direction) so that pages never overlap,
// and how many match the filter in all. A blank filter matches everything.
func (s *Store) Tokens(ctx context.Context, userID string, kind accountd.TokenKind, q accountd.TokenQuery) ([]*accountd.Token, int, error) {
	var out []*accountd.Token
	total, err := s.listPage(ctx, listSpec{
		what: "listing tokens", columns: tokenColumns,
		from: " FROM tokens WHERE user_id = ? AND kind = ?", args: []any{userID, string(kind)},
		sort: tokenSort, filter: tokenFilter, idCol: "id",
	}, accountd.ListQuery(q), func(rows scanner) error {
		t, err := scanToken(rows)
		out = append(out, t)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

func (s *Store) CountTokens(ctx context.Context, userID string, kind accountd.TokenKind) (int, error) {
	var n int
	if err := s.queryRow(ctx, "SELECT COUNT(*) FROM tokens WHERE user_id = ? AND kind = ?", userID, string(kind)).Scan(&n); err != nil {
		return 0, internal("counting tokens", err)
	}
	return n, nil
}

// UpdateToken writes the fields a token may change and, in the same
// transaction, an event for it. The event names the owner the row has, not
// the one t claims.
func (s *Store) UpdateToken(ctx context.Context, t *accountd.Token) error {
	scope, err := scopeJSON(t.Scope)
	if err != nil {
		return internal("updating token", err)
	}
	return s.inTx(ctx, func(tx *Store) error {
		var userID string
		err := tx.queryRow(ctx, `UPDATE tokens SET name = ?, description = ?, status = ?, scope = ?,
			expires_at = ?, updated_at = ? WHERE id = ? RETURNING user_id`,
			t.Name, t.Description, t.Status, scope, millis(t.ExpiresAt), millis(t.UpdatedAt), t.ID).Scan(&userID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return accountd.NotFound("API token")
		case err != nil:
			return internal("updating token", err)
		}
		tx.recordEvent(userID, t.ID)
		return nil
	})
}

// DeleteToken removes the token and every token obtained with it, however
// deep, with an event for each: a child must not outlive its parent, even
// as a row that lists as active.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *Store) error {
		rows, err := tx.query(ctx, `WITH RECURSIVE doomed(id) AS (
				SELECT id FROM tokens WHERE id = ?
				UNION SELECT t.id FROM tokens t JOIN doomed d ON t.parent_id = d.id
			)
			DELETE FROM tokens WHERE id IN (SELECT id FROM doomed) RETURNING id, user_id`, id)
		if err != nil {
			return internal("deleting token", err)
		}
		var gone []accountd.AuthEvent
		for rows.Next() {
			var e accountd.AuthEvent
			if err := rows.Scan(&e.TokenID, &e.UserID); err != nil {
				rows.Close()
				return internal("deleting token", err)
			}
			gone = append(gone, e)
		}
		if err := rows.Close(); err != nil {
			return internal("deleting token", err)
		}
		if err := rows.Err(); err != nil {
			return internal("deleting token", err)
		}
		if len(gone) == 0 {
			return accountd.NotFound("API token")
		}
		for _, e := range gone {
			tx.recordEvent(e.UserID, e.TokenID)
		}
		return nil
	})
}

// TouchTokens records last uses. Rows are updated in id order so that
// instances flushing overlapping sets cannot deadlock on PostgreSQL, and a
// use is only ever moved forward, so a late flush from a slower instance
// cannot undo a newer one.
func (s *Store) TouchTokens(ctx context.Context, uses map[string]accountd.TokenUse) error {
	if len(uses) == 0 {
		return nil
	}
	ids := make([]string, 0, len(uses))
	for id := range uses {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return s.inTx(ctx, func(tx *Store) error {
		for _, id := range ids {
			u := uses[id]
			ms := millis(u.At)
			if _, err := tx.exec(ctx, `UPDATE tokens SET last_used_at = ?, last_used_address = ?, last_used_user_agent = ?
				WHERE id = ? AND last_used_at < ?`, ms, u.Address, u.UserAgent, id, ms); err != nil {
				return internal("touching tokens", err)
			}
		}
		return nil
	})
}

// SessionTokens lists the user's session tokens that expire after now (or
// never), newest first, the id breaking ties.
func (s *Store) SessionTokens(ctx context.Context, userID string, now time.Time) ([]*accountd.Token, error) {
	rows, err := s.query(ctx, "SELECT "+tokenColumns+` FROM tokens
		WHERE user_id = ? AND kind = ? AND (expires_at = 0 OR expires_at > ?)
		ORDER BY created_at DESC, id DESC`, userID, string(accountd.KindSession), millis(now))
	if err != nil {
		return nil, internal("listing sessions", err)
	}
	defer rows.Close()
	var out []*accountd.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, internal("listing sessions", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing sessions", err)
	}
	return out, nil
}

// DeleteExpiredTokens removes the kind's tokens that expire at or before
// before; tokens that never expire (0) stay.
func (s *Store) DeleteExpiredTokens(ctx context.Context, kind accountd.TokenKind, before time.Time) (int, error) {
	res, err := s.exec(ctx, "DELETE FROM tokens WHERE kind = ? AND expires_at > 0 AND expires_at <= ?", string(kind), millis(before))
	if err != nil {
		return 0, internal("deleting expired tokens", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, internal("deleting expired tokens", err)
	}
	return int(n), nil
}
