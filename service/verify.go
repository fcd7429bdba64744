package service

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/secret"
)

// VerifyEmailPath is where verification links point, under PublicURL.
const VerifyEmailPath = "/verify-email"

// SendVerificationEmail mails the user a single-use link that verifies
// their current address (POST /me/verify-email). A newer link replaces
// older ones.
func (s *Service) SendVerificationEmail(ctx context.Context, p accountd.Principal) error {
	u, err := s.Me(ctx, p)
	if err != nil {
		return err
	}
	if u.EmailVerified {
		return accountd.Invalid("email", "is already verified")
	}
	if wait := s.sendLimit.take(u.ID, s.now()); wait > 0 {
		return resendLimited(wait)
	}
	return s.sendVerification(ctx, u)
}

// emailChanged sends a link to a new address. The change has been made, so
// a failure to send is logged rather than undoing it; the user can ask again.
func (s *Service) emailChanged(ctx context.Context, u *accountd.User) {
	if err := s.sendVerification(ctx, u); err != nil {
		s.log.ErrorContext(ctx, "sending verification email after an email change", "user", u.ID, "err", err)
	}
}

func (s *Service) sendVerification(ctx context.Context, u *accountd.User) error {
	m := s.cfg.Security.Mailer
	if m == nil {
		return accountd.Internal(errors.New("no mailer configured"))
	}
	token, hash, err := secret.NewLinkToken(s.random)
	if err != nil {
		return accountd.Internal(err)
	}
	now := accountd.Millis(s.now())
	ttl := s.cfg.Security.VerifyTTL
	v := &accountd.EmailVerification{TokenHash: hash, UserID: u.ID, Email: u.Email, ExpiresAt: now.Add(ttl), CreatedAt: now}
	if err := s.store.PutEmailVerification(ctx, v); err != nil {
		return err
	}
	link := strings.TrimRight(s.cfg.Security.PublicURL, "/") + VerifyEmailPath + "?" + url.Values{"token": {token}}.Encode()
	text := fmt.Sprintf(`Hello %s,

please confirm that %s is your email address by opening this link:

%s

The link works once and for %s. If you did not ask for this, ignore this
message.
`, displayName(u), u.Email, link, humanDuration(ttl))
	if err := m.Send(ctx, u.Email, "Verify your email address", text); err != nil {
		return accountd.Internal(err)
	}
	return nil
}

func humanDuration(d time.Duration) string {
	h := d.Hours()
	switch {
	case h >= 48 && h == float64(int(h/24))*24:
		return fmt.Sprintf("%d days", int(h/24))
	case h >= 1 && h == float64(int(h)):
		if h == 1 {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", int(h))
	}
	return fmt.Sprintf("%.0f minutes", h*60)
}

var errBadLink = &accountd.Error{Code: accountd.CodeNotFound,
	Message: "this verification link is not valid: it may have been used already, or replaced by a newer one"}

// CheckVerificationLink says which address a link would verify, without
// using it up: the page a link opens shows it and asks for a confirmation,
// since mail scanners open links on their own.
func (s *Service) CheckVerificationLink(ctx context.Context, token string) (string, error) {
	v, _, err := s.verificationFor(ctx, token)
	if err != nil {
		return "", err
	}
	return v.Email, nil
}

func (s *Service) verificationFor(ctx context.Context, token string) (*accountd.EmailVerification, *accountd.User, error) {
	if token == "" {
		return nil, nil, errBadLink
	}
	v, err := s.store.EmailVerification(ctx, secret.HashToken(token))
	if errors.Is(err, accountd.ErrNotFound) {
		return nil, nil, errBadLink
	}
	if err != nil {
		return nil, nil, err
	}
	if !s.now().Before(v.ExpiresAt) {
		return nil, nil, accountd.Errorf(accountd.CodeGone, "this verification link has expired; ask for a new one")
	}
	u, err := s.store.User(ctx, v.UserID)
	if errors.Is(err, accountd.ErrNotFound) {
		return nil, nil, errBadLink
	}
	if err != nil {
		return nil, nil, err
	}
	if accountd.EmailKey(u.Email) != accountd.EmailKey(v.Email) {
		return nil, nil, accountd.Errorf(accountd.CodeGone, "this verification link was sent to an address the account no longer uses")
	}
	return v, u, nil
}

// VerifyEmail uses a link: the user's address is verified and the link
// stops working.
func (s *Service) VerifyEmail(ctx context.Context, token string) (*accountd.User, error) {
	_, u, err := s.verificationFor(ctx, token)
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		// on the row as committed: the address verified must still be the
		// account's, and nothing else changed meanwhile is written over
		cur, err := tx.UserForUpdate(ctx, u.ID)
		if err != nil {
			return err
		}
		if accountd.EmailKey(cur.Email) != accountd.EmailKey(u.Email) {
			return accountd.Errorf(accountd.CodeGone, "this verification link was sent to an address the account no longer uses")
		}
		cur.EmailVerified = true
		cur.UpdatedAt = accountd.Millis(s.now())
		if err := tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		u = cur
		return tx.DeleteEmailVerifications(ctx, u.ID)
	})
	if err != nil {
		return nil, err
	}
	s.forgetUser(u.ID)
	return u, nil
}
