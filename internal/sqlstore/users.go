package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/accountd/accountd"
)

const userColumns = `id, email, email_key, first_name, last_name, company_name, title,
	phone_number, location, url, password_hash, email_verified, token_cutoff,
	created_at, updated_at, password_updated_at, token_gen`

// userArgs lists u's values in the order of userColumns.
func userArgs(u *accountd.User) []any {
	return []any{
		u.ID, u.Email, accountd.EmailKey(u.Email), u.FirstName, u.LastName, u.CompanyName, u.Title,
		u.PhoneNumber, u.Location, u.URL, u.PasswordHash, u.EmailVerified, millis(u.TokenCutoff),
		millis(u.CreatedAt), millis(u.UpdatedAt), millis(u.PasswordUpdatedAt), u.TokenGen,
	}
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(row scanner) (*accountd.User, error) {
	var (
		u                                  accountd.User
		emailKey                           string
		cutoff, created, updated, password int64
	)
	err := row.Scan(&u.ID, &u.Email, &emailKey, &u.FirstName, &u.LastName, &u.CompanyName, &u.Title,
		&u.PhoneNumber, &u.Location, &u.URL, &u.PasswordHash, &u.EmailVerified, &cutoff,
		&created, &updated, &password, &u.TokenGen)
	if err != nil {
		return nil, err
	}
	u.TokenCutoff, u.CreatedAt, u.UpdatedAt, u.PasswordUpdatedAt = fromMillis(cutoff), fromMillis(created), fromMillis(updated), fromMillis(password)
	return &u, nil
}

// emailTaken is the conflict both CreateUser and UpdateUser report. Ids
// are random, so a unique violation on users is the email's.
func emailTaken(err error) error {
	return &accountd.Error{Code: accountd.CodeConflict, Field: "email", Message: "email: already in use by another account", Err: err}
}

func (s *Store) CreateUser(ctx context.Context, u *accountd.User) error {
	_, err := s.exec(ctx, "INSERT INTO users ("+userColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", userArgs(u)...)
	switch {
	case err == nil:
		return nil
	case s.d.IsUniqueViolation(err):
		return emailTaken(err)
	default:
		return internal("creating user", err)
	}
}

func (s *Store) User(ctx context.Context, id string) (*accountd.User, error) {
	return s.oneUser(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id)
}

// UserForUpdate reads the user and, inside a transaction, holds the row
// until it ends: whatever decides on the user's current credentials (the
// password a login verified, the generation a token was issued under)
// decides on what is committed, not on a copy read earlier.
func (s *Store) UserForUpdate(ctx context.Context, id string) (*accountd.User, error) {
	return s.oneUser(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?"+s.d.ForUpdate, id)
}

// UserByEmail finds the user whose email matches without regard to case.
func (s *Store) UserByEmail(ctx context.Context, email string) (*accountd.User, error) {
	return s.oneUser(ctx, "SELECT "+userColumns+" FROM users WHERE email_key = ?", accountd.EmailKey(email))
}

func (s *Store) oneUser(ctx context.Context, query string, arg string) (*accountd.User, error) {
	u, err := scanUser(s.queryRow(ctx, query, arg))
	switch {
	case err == nil:
		return u, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, accountd.NotFound("user")
	default:
		return nil, internal("reading user", err)
	}
}

// Users lists every user, oldest first.
func (s *Store) Users(ctx context.Context) ([]*accountd.User, error) {
	rows, err := s.query(ctx, "SELECT "+userColumns+" FROM users ORDER BY created_at, id")
	if err != nil {
		return nil, internal("listing users", err)
	}
	defer rows.Close()
	var out []*accountd.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, internal("listing users", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing users", err)
	}
	return out, nil
}

// UpdateUser writes every field of u and, in the same transaction, an
// event for the user, since its cut-off may have moved.
func (s *Store) UpdateUser(ctx context.Context, u *accountd.User) error {
	return s.inTx(ctx, func(tx *Store) error {
		args := append(userArgs(u)[1:], u.ID)
		res, err := tx.exec(ctx, `UPDATE users SET email = ?, email_key = ?, first_name = ?, last_name = ?,
			company_name = ?, title = ?, phone_number = ?, location = ?, url = ?, password_hash = ?,
			email_verified = ?, token_cutoff = ?, created_at = ?, updated_at = ?, password_updated_at = ?,
			token_gen = ? WHERE id = ?`, args...)
		if err != nil {
			if tx.d.IsUniqueViolation(err) {
				return emailTaken(err)
			}
			return internal("updating user", err)
		}
		if err := oneRow(res, "user", "updating user"); err != nil {
			return err
		}
		tx.recordEvent(u.ID, "")
		return nil
	})
}

// RehashPassword swaps the hash only if it is still the one verified.
func (s *Store) RehashPassword(ctx context.Context, id, old, new string) error {
	if _, err := s.exec(ctx, "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?", new, id, old); err != nil {
		return internal("re-hashing password", err)
	}
	return nil
}

// DeleteUser removes the user; the foreign key's ON DELETE CASCADE removes
// their tokens in the same statement.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, "DELETE FROM users WHERE id = ?", id)
		if err != nil {
			return internal("deleting user", err)
		}
		if err := oneRow(res, "user", "deleting user"); err != nil {
			return err
		}
		if err := tx.forgetUsage(ctx, accountd.OwnerUser, id); err != nil {
			return err
		}
		tx.recordEvent(id, "")
		return nil
	})
}

// oneRow turns "no row changed" into NotFound(what).
func oneRow(res sql.Result, what, doing string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return internal(doing, err)
	}
	if n == 0 {
		return accountd.NotFound(what)
	}
	return nil
}

// MeState reads the user, the summary counts, the two-factor and GitHub
// state and the user's organizations in one statement of scalar subqueries:
// a GET /me cache miss costs one round trip.
func (s *Store) MeState(ctx context.Context, id string) (*accountd.MeState, error) {
	vis := strings.ReplaceAll(s.visibleTo(), "?", "u.id")
	q := `SELECT ` + prefixed("u.", userColumns) + `,
		(SELECT COUNT(*) FROM tokens t WHERE t.user_id = u.id AND t.kind = 'api'),
		(SELECT COUNT(*) FROM applications a WHERE ` + vis + `),
		(SELECT COUNT(*) FROM dashboards a WHERE ` + vis + `),
		(SELECT COUNT(*) FROM devices d JOIN applications a ON a.id = d.application_id WHERE ` + vis + `),
		(SELECT COUNT(*) FROM flows f JOIN applications a ON a.id = f.application_id WHERE ` + vis + `),
		(SELECT COUNT(*) FROM org_members m WHERE m.user_id = u.id),
		COALESCE((SELECT CASE WHEN tf.secret <> '' THEN 1 ELSE 0 END FROM two_factor tf WHERE tf.user_id = u.id), 0),
		COALESCE((SELECT g.login FROM github_links g WHERE g.user_id = u.id), ''),
		COALESCE((SELECT ` + s.d.GroupConcat("m.org_id") + ` FROM org_members m WHERE m.user_id = u.id), '')
		FROM users u WHERE u.id = ?`
	var (
		st        accountd.MeState
		twoFactor int
		orgs      string
	)
	u, err := scanUser(rowWithExtra{s.queryRow(ctx, q, id), []any{&st.APITokens, &st.Apps, &st.Dashboards, &st.Devices,
		&st.Flows, &st.Orgs, &twoFactor, &st.GithubLogin, &orgs}})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, accountd.NotFound("user")
	case err != nil:
		return nil, internal("reading user state", err)
	}
	st.User, st.TwoFactor = u, twoFactor == 1
	if orgs != "" {
		st.OrgIDs = strings.Split(orgs, ",")
	}
	return &st, nil
}

// rowWithExtra scans the columns scanUser knows, then extra ones.
type rowWithExtra struct {
	row   scanner
	extra []any
}

func (r rowWithExtra) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra...)...) }

// prefixed qualifies each column of a comma-separated list.
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
