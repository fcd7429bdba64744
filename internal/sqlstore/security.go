package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/accountd/accountd"
)

// writeErr classifies a failed write of a row that belongs to a user: a
// missing user is NotFound, anything else Internal.
func (s *Store) writeErr(doing string, err error) error {
	if s.d.IsForeignKeyViolation(err) {
		return accountd.NotFound("user")
	}
	return internal(doing, err)
}

func (s *Store) TwoFactor(ctx context.Context, userID string) (*accountd.TwoFactor, error) {
	t := &accountd.TwoFactor{UserID: userID}
	var updated int64
	err := s.queryRow(ctx, "SELECT secret, pending, last_step, updated_at FROM two_factor WHERE user_id = ?", userID).
		Scan(&t.Secret, &t.Pending, &t.LastStep, &updated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return t, nil
	case err != nil:
		return nil, internal("reading two-factor state", err)
	}
	t.UpdatedAt = fromMillis(updated)
	return t, nil
}

// PutTwoFactor records an event for the user: GET /me shows whether
// two-factor auth is on.
func (s *Store) PutTwoFactor(ctx context.Context, t *accountd.TwoFactor) error {
	return s.inTx(ctx, func(tx *Store) error {
		_, err := tx.exec(ctx, `INSERT INTO two_factor (user_id, secret, pending, last_step, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, pending = excluded.pending,
			last_step = excluded.last_step, updated_at = excluded.updated_at`,
			t.UserID, t.Secret, t.Pending, t.LastStep, millis(t.UpdatedAt))
		if err != nil {
			return tx.writeErr("writing two-factor state", err)
		}
		tx.recordEvent(t.UserID, "")
		return nil
	})
}

func (s *Store) UseTwoFactorStep(ctx context.Context, userID string, step int64) (bool, error) {
	res, err := s.exec(ctx, "UPDATE two_factor SET last_step = ? WHERE user_id = ? AND last_step < ?", step, userID, step)
	if err != nil {
		return false, internal("recording two-factor step", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, internal("recording two-factor step", err)
	}
	return n == 1, nil
}

func (s *Store) RecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	rows, err := s.query(ctx, "SELECT code_hash FROM recovery_codes WHERE user_id = ? ORDER BY code_hash", userID)
	if err != nil {
		return nil, internal("listing recovery codes", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, internal("listing recovery codes", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing recovery codes", err)
	}
	return out, nil
}

func (s *Store) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	return s.inTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
			return internal("replacing recovery codes", err)
		}
		for _, h := range hashes {
			if _, err := tx.exec(ctx, "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", userID, h); err != nil {
				return tx.writeErr("replacing recovery codes", err)
			}
		}
		return nil
	})
}

func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error) {
	res, err := s.exec(ctx, "DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?", userID, hash)
	if err != nil {
		return false, internal("using recovery code", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, internal("using recovery code", err)
	}
	return n == 1, nil
}

func (s *Store) PutEmailVerification(ctx context.Context, v *accountd.EmailVerification) error {
	return s.inTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, "DELETE FROM email_verifications WHERE user_id = ?", v.UserID); err != nil {
			return internal("storing email verification", err)
		}
		_, err := tx.exec(ctx, "INSERT INTO email_verifications (token_hash, user_id, email, expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
			v.TokenHash, v.UserID, v.Email, millis(v.ExpiresAt), millis(v.CreatedAt))
		if err != nil {
			return tx.writeErr("storing email verification", err)
		}
		return nil
	})
}

func (s *Store) EmailVerification(ctx context.Context, tokenHash string) (*accountd.EmailVerification, error) {
	v := &accountd.EmailVerification{TokenHash: tokenHash}
	var expires, created int64
	err := s.queryRow(ctx, "SELECT user_id, email, expires_at, created_at FROM email_verifications WHERE token_hash = ?", tokenHash).
		Scan(&v.UserID, &v.Email, &expires, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, accountd.NotFound("email verification")
	case err != nil:
		return nil, internal("reading email verification", err)
	}
	v.ExpiresAt, v.CreatedAt = fromMillis(expires), fromMillis(created)
	return v, nil
}

func (s *Store) DeleteEmailVerifications(ctx context.Context, userID string) error {
	if _, err := s.exec(ctx, "DELETE FROM email_verifications WHERE user_id = ?", userID); err != nil {
		return internal("deleting email verifications", err)
	}
	return nil
}

func (s *Store) LinkGithub(ctx context.Context, l *accountd.GithubLink) error {
	return s.inTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, "DELETE FROM github_links WHERE user_id = ?", l.UserID); err != nil {
			return internal("linking GitHub account", err)
		}
		_, err := tx.exec(ctx, "INSERT INTO github_links (user_id, github_id, login, created_at) VALUES (?, ?, ?, ?)",
			l.UserID, l.GithubID, l.Login, millis(l.CreatedAt))
		switch {
		case err == nil:
			tx.recordEvent(l.UserID, "")
			return nil
		case tx.d.IsUniqueViolation(err):
			return &accountd.Error{Code: accountd.CodeConflict, Message: "this GitHub account is already linked to another user", Err: err}
		default:
			return tx.writeErr("linking GitHub account", err)
		}
	})
}

func (s *Store) GithubLink(ctx context.Context, userID string) (*accountd.GithubLink, error) {
	return s.oneGithubLink(ctx, "SELECT user_id, github_id, login, created_at FROM github_links WHERE user_id = ?", userID)
}

func (s *Store) GithubLinkByGithubID(ctx context.Context, githubID string) (*accountd.GithubLink, error) {
	return s.oneGithubLink(ctx, "SELECT user_id, github_id, login, created_at FROM github_links WHERE github_id = ?", githubID)
}

func (s *Store) oneGithubLink(ctx context.Context, query, arg string) (*accountd.GithubLink, error) {
	var (
		l       accountd.GithubLink
		created int64
	)
	err := s.queryRow(ctx, query, arg).Scan(&l.UserID, &l.GithubID, &l.Login, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, accountd.NotFound("GitHub link")
	case err != nil:
		return nil, internal("reading GitHub link", err)
	}
	l.CreatedAt = fromMillis(created)
	return &l, nil
}

func (s *Store) UnlinkGithub(ctx context.Context, userID string) error {
	return s.inTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, "DELETE FROM github_links WHERE user_id = ?", userID)
		if err != nil {
			return internal("unlinking GitHub account", err)
		}
		if err := oneRow(res, "GitHub link", "unlinking GitHub account"); err != nil {
			return err
		}
		tx.recordEvent(userID, "")
		return nil
	})
}
