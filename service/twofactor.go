package service

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/secret"
)

// SecurityConfig configures two-factor auth, email verification and the
// GitHub link.
type SecurityConfig struct {
	// Issuer names the service in authenticator apps (default "accountd").
	Issuer string
	// Mailer delivers verification messages; without one, asking for a
	// verification message fails.
	Mailer Mailer
	// PublicURL is the base URL of links in messages and of the GitHub
	// callback, e.g. https://accounts.example.com (no trailing slash).
	PublicURL string
	// VerifyTTL is how long a verification link works (default 24h).
	VerifyTTL time.Duration
	// Github configures linking and signing in with GitHub; off without a
	// client id.
	Github GithubConfig
}

// Mailer delivers one plain-text message.
type Mailer interface {
	Send(ctx context.Context, to, subject, text string) error
}

func (c *SecurityConfig) defaults() {
	if c.Issuer == "" {
		c.Issuer = "accountd"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://127.0.0.1:8080"
	}
	if c.VerifyTTL <= 0 {
		c.VerifyTTL = 24 * time.Hour
	}
	c.Github.defaults()
}

// TwoFactorKey is a new, not yet enabled TOTP key (multiFactorAuthInfo).
type TwoFactorKey struct {
	Key    string
	KeyURI string
}

func totpContext(kind, userID string) string { return "accountd totp " + kind + " " + userID }

// GenerateTwoFactorAuth makes a new pending TOTP key for the user. It only
// takes effect once EnableTwoFactorAuth proves the user's app holds it.
func (s *Service) GenerateTwoFactorAuth(ctx context.Context, p accountd.Principal) (TwoFactorKey, error) {
	u, err := s.Me(ctx, p)
	if err != nil {
		return TwoFactorKey{}, err
	}
	tf, err := s.store.TwoFactor(ctx, u.ID)
	if err != nil {
		return TwoFactorKey{}, err
	}
	if tf.Enabled() {
		return TwoFactorKey{}, accountd.Errorf(accountd.CodeInvalid, "two-factor authentication is already enabled; disable it before generating a new key")
	}
	k, err := secret.GenerateTOTP(s.cfg.Security.Issuer, u.Email, s.random)
	if err != nil {
		return TwoFactorKey{}, accountd.Internal(err)
	}
	if tf.Pending, err = s.keys.Seal([]byte(k.Secret), totpContext("pending", u.ID), s.random); err != nil {
		return TwoFactorKey{}, accountd.Internal(err)
	}
	tf.UpdatedAt = accountd.Millis(s.now())
	if err := s.store.PutTwoFactor(ctx, tf); err != nil {
		return TwoFactorKey{}, err
	}
	return TwoFactorKey{Key: k.Secret, KeyURI: k.URI}, nil
}

// EnableTwoFactor is what PATCH /me/enableTwoFactorAuth carries.
type EnableTwoFactor struct {
	Password      string
	TwoFactorCode string
	Key           string // optional: must be the pending key when given
}

// EnableTwoFactorAuth turns two-factor auth on with the pending key, once
// the password and a current code of that key check out. It returns the
// user and a fresh set of recovery codes, shown this once.
func (s *Service) EnableTwoFactorAuth(ctx context.Context, p accountd.Principal, e EnableTwoFactor) (*accountd.User, []string, error) {
	u, err := s.Me(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	tf, err := s.store.TwoFactor(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	if tf.Enabled() {
		return nil, nil, accountd.Errorf(accountd.CodeInvalid, "two-factor authentication is already enabled")
	}
	if tf.Pending == "" {
		return nil, nil, accountd.Errorf(accountd.CodeInvalid, "no key to enable: call generateTwoFactorAuth first")
	}
	now := s.now()
	att, err := s.reserveAttempt(ctx, accountd.EmailKey(u.Email), accountd.ClientAddrFrom(ctx), now, true)
	if err != nil {
		return nil, nil, err
	}
	defer att.release()
	ctx = att.hashCtx
	if err := s.passwordOK(ctx, u, "password", e.Password, att); err != nil {
		return nil, nil, err
	}
	raw, err := s.keys.Open(tf.Pending, totpContext("pending", u.ID))
	if err != nil {
		return nil, nil, accountd.Internal(err)
	}
	key := string(raw)
	if e.Key != "" && subtle.ConstantTimeCompare([]byte(e.Key), raw) != 1 {
		return nil, nil, accountd.Invalid("twoFactorAuthKey", "is not the key generateTwoFactorAuth last returned")
	}
	step, ok := secret.MatchTOTP(key, e.TwoFactorCode, now, tf.LastStep)
	s.hooks.secondFactor()
	if !ok {
		att.failed()
		return nil, nil, accountd.Invalid("twoFactorCode", "is incorrect for this key")
	}
	att.succeeded()
	codes, hashes, err := secret.NewRecoveryCodes(s.random)
	if err != nil {
		return nil, nil, accountd.Internal(err)
	}
	if tf.Secret, err = s.keys.Seal(raw, totpContext("secret", u.ID), s.random); err != nil {
		return nil, nil, accountd.Internal(err)
	}
	tf.Pending, tf.LastStep, tf.UpdatedAt = "", step, accountd.Millis(now)
	var ann announcements
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		if err := tx.PutTwoFactor(ctx, tf); err != nil {
			return err
		}
		if err := tx.SetRecoveryCodes(ctx, u.ID, hashes); err != nil {
			return err
		}
		return ann.record(ctx, s, tx, SecurityEntry{UserID: u.ID, Kind: accountd.SecTwoFactorEnabled})
	})
	if err != nil {
		return nil, nil, err
	}
	ann.run()
	return u, codes, nil
}

// DisableTwoFactorAuth turns two-factor auth off after checking the
// password and a current code (or a recovery code); the recovery codes go.
func (s *Service) DisableTwoFactorAuth(ctx context.Context, p accountd.Principal, password, code string) (*accountd.User, error) {
	u, err := s.Me(ctx, p)
	if err != nil {
		return nil, err
	}
	tf, err := s.store.TwoFactor(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !tf.Enabled() {
		return nil, accountd.Errorf(accountd.CodeInvalid, "two-factor authentication is not enabled")
	}
	if err := s.checkCredentials(ctx, u, "password", password, "twoFactorCode", code); err != nil {
		return nil, err
	}
	tf.Secret, tf.Pending, tf.UpdatedAt = "", "", accountd.Millis(s.now())
	var ann announcements
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		if err := tx.PutTwoFactor(ctx, tf); err != nil {
			return err
		}
		if err := tx.SetRecoveryCodes(ctx, u.ID, nil); err != nil {
			return err
		}
		return ann.record(ctx, s, tx, SecurityEntry{UserID: u.ID, Kind: accountd.SecTwoFactorDisabled})
	})
	if err != nil {
		return nil, err
	}
	ann.run()
	return u, nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes, after the
// password and a current code, and returns the new ones (shown once).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p accountd.Principal, password, code string) ([]string, error) {
	u, err := s.Me(ctx, p)
	if err != nil {
		return nil, err
	}
	tf, err := s.store.TwoFactor(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !tf.Enabled() {
		return nil, accountd.Errorf(accountd.CodeInvalid, "two-factor authentication is not enabled")
	}
	if err := s.checkCredentials(ctx, u, "password", password, "twoFactorCode", code); err != nil {
		return nil, err
	}
	codes, hashes, err := secret.NewRecoveryCodes(s.random)
	if err != nil {
		return nil, accountd.Internal(err)
	}
	var ann announcements
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		if err := tx.SetRecoveryCodes(ctx, u.ID, hashes); err != nil {
			return err
		}
		return ann.record(ctx, s, tx, SecurityEntry{UserID: u.ID, Kind: accountd.SecRecoveryCodesNew})
	})
	if err != nil {
		return nil, err
	}
	ann.run()
	return codes, nil
}

// SecurityStatus is what GET /me shows of the user's security settings.
type SecurityStatus struct {
	TwoFactorAuthEnabled bool
	GithubName           string // "" when no GitHub account is linked
}

// secondFactor checks code against the user's TOTP key or, failing that,
// their recovery codes, when two-factor auth is on. code is a wrong-code
// error's Code: Validation for sensitive changes, Unauthorized for logins.
// A wrong code counts as a failed attempt, like a wrong password; a
// missing one does not, since nothing was guessed. att is the attempt
// reserved before the password was checked; the caller records the
// success once every factor has passed.
func (s *Service) secondFactor(ctx context.Context, u *accountd.User, field, code string, errCode accountd.Code, att *attempt, now time.Time) error {
	tf, err := s.store.TwoFactor(ctx, u.ID)
	if err != nil {
		return err
	}
	if !tf.Enabled() {
		return nil
	}
	if code == "" {
		return &accountd.Error{Code: errCode, Field: field,
			Message: field + ": a two-factor authentication code is required for this account"}
	}
	ok, err := s.matchSecondFactor(ctx, u.ID, tf, code, now)
	if err != nil {
		return err
	}
	if !ok {
		att.failedFor(codeReason(code))
		return &accountd.Error{Code: errCode, Field: field, Message: field + ": the two-factor authentication code is incorrect"}
	}
	return nil
}

func (s *Service) matchSecondFactor(ctx context.Context, userID string, tf *accountd.TwoFactor, code string, now time.Time) (bool, error) {
	s.hooks.secondFactor()
	if len(code) == secret.TOTPDigits {
		raw, err := s.keys.Open(tf.Secret, totpContext("secret", userID))
		if err != nil {
			return false, accountd.Internal(err)
		}
		step, ok := secret.MatchTOTP(string(raw), code, now, tf.LastStep)
		if !ok {
			return false, nil
		}
		// The store takes the step only if it is newer than the last one
		// taken, so of two requests racing with one code only one wins.
		return s.store.UseTwoFactorStep(ctx, userID, step)
	}
	hashes, err := s.store.RecoveryCodes(ctx, userID)
	if err != nil {
		return false, err
	}
	want := secret.HashRecoveryCode(code)
	match := ""
	for _, h := range hashes {
		if subtle.ConstantTimeCompare([]byte(h), []byte(want)) == 1 {
			match = h
		}
	}
	if match == "" {
		return false, nil
	}
	used, err := s.store.UseRecoveryCode(ctx, userID, match)
	if used {
		s.securityEvent(ctx, SecurityEntry{UserID: userID, Kind: accountd.SecRecoveryCodeUsed,
			Detail: map[string]string{"left": fmt.Sprint(len(hashes) - 1)}})
	}
	return used, err
}
