package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/secret"
)

// Credentials are what POST /auth/user and POST /me/delete carry
// (userCredentials in the reference).
type Credentials struct {
	Email           string
	Password        string
	TwoFactorCode   string
	RequestedScopes []string
	TokenTTL        *int64 // seconds; nil or 0: the default session life
}

// AuthedUser is a freshly issued login token (authedUser in the reference).
type AuthedUser struct {
	UserID             string
	Token              string
	NeedsToVerifyEmail bool
}

// DefaultScope is what a token gets when it asks for none.
var DefaultScope = []string{"all.User"}

var errBadCredentials = &accountd.Error{Code: accountd.CodeUnauthorized, Message: "email or password is incorrect"}

// Login checks an email and password and issues a session token. An unknown
// email and a wrong password fail alike and take as long.
func (s *Service) Login(ctx context.Context, c Credentials) (AuthedUser, error) {
	now := s.now()
	scope, err := s.checkScopes("requestedScopes", c.RequestedScopes)
	if err != nil {
		return AuthedUser{}, err
	}
	ttl, err := s.sessionTTL("tokenTTL", c.TokenTTL)
	if err != nil {
		return AuthedUser{}, err
	}
	addr := accountd.ClientAddrFrom(ctx)
	account := accountd.EmailKey(c.Email)
	if wait := s.throttle.blocked(account, addr, now); wait > 0 {
		return AuthedUser{}, tooMany(wait)
	}
	u, err := s.store.UserByEmail(ctx, c.Email)
	if errors.Is(err, accountd.ErrNotFound) {
		if _, err := s.verifyPassword(ctx, s.dummyHash, c.Password); err != nil {
			return AuthedUser{}, err
		}
		s.throttle.failed(account, addr, now)
		return AuthedUser{}, errBadCredentials
	}
	if err != nil {
		return AuthedUser{}, err
	}
	ok, err := s.verifyPassword(ctx, u.PasswordHash, c.Password)
	if err != nil {
		return AuthedUser{}, err
	}
	if !ok {
		s.throttle.failed(account, addr, now)
		return AuthedUser{}, errBadCredentials
	}
	if err := s.secondFactor(ctx, u, "twoFactorCode", c.TwoFactorCode, accountd.CodeUnauthorized, account, addr, now); err != nil {
		return AuthedUser{}, err
	}
	s.throttle.succeeded(account, addr, now)
	s.upgradeHash(ctx, u, c.Password)
	return s.newSession(ctx, s.store, u, scope, ttl, userCreator(u))
}

// upgradeHash re-hashes a password made under older cost parameters. It is
// best effort: the login has already succeeded.
func (s *Service) upgradeHash(ctx context.Context, u *accountd.User, password string) {
	if !secret.NeedsRehash(u.PasswordHash, s.cfg.Hash) {
		return
	}
	h, err := s.hashPassword(ctx, password)
	if err != nil {
		s.log.Warn("re-hashing password", "user", u.ID, "err", err)
		return
	}
	// Only over the very hash that was verified: a password changed
	// meanwhile must not be put back.
	if err := s.store.RehashPassword(ctx, u.ID, u.PasswordHash, h); err != nil {
		s.log.Warn("storing re-hashed password", "user", u.ID, "err", err)
		return
	}
	u.PasswordHash = h
}

// checkPassword verifies the signed-in user's password for a sensitive
// change. With two-factor auth on it fails for want of a code: callers that
// have one use checkCredentials.
func (s *Service) checkPassword(ctx context.Context, u *accountd.User, field, password string) error {
	return s.checkCredentials(ctx, u, field, password, "twoFactorCode", "")
}

// checkCredentials verifies the signed-in user's password and, when
// two-factor auth is on, their code, under the same throttle as logins: a
// stolen token must not become a way to guess either.
func (s *Service) checkCredentials(ctx context.Context, u *accountd.User, passwordField, password, codeField, code string) error {
	now := s.now()
	addr := accountd.ClientAddrFrom(ctx)
	account := accountd.EmailKey(u.Email)
	if err := s.passwordOK(ctx, u, passwordField, password, account, addr, now); err != nil {
		return err
	}
	if err := s.secondFactor(ctx, u, codeField, code, accountd.CodeInvalid, account, addr, now); err != nil {
		return err
	}
	s.throttle.succeeded(account, addr, now)
	return nil
}

// passwordOK checks the throttle and the password, counting a failure. It
// leaves recording success to the caller, which may have a second factor
// to check first: clearing the failures on a right password alone would let
// whoever has it guess codes without limit.
func (s *Service) passwordOK(ctx context.Context, u *accountd.User, field, password, account, addr string, now time.Time) error {
	if wait := s.throttle.blocked(account, addr, now); wait > 0 {
		return tooMany(wait)
	}
	ok, err := s.verifyPassword(ctx, u.PasswordHash, password)
	if err != nil {
		return err
	}
	if !ok {
		s.throttle.failed(account, addr, now)
		return accountd.Invalid(field, "is incorrect")
	}
	return nil
}

func tooMany(wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &accountd.Error{
		Code:       accountd.CodeTooManyRequests,
		Message:    fmt.Sprintf("too many failed attempts; try again in %d seconds", secs),
		RetryAfter: time.Duration(secs) * time.Second,
	}
}

func (s *Service) sessionTTL(field string, seconds *int64) (time.Duration, error) {
	if seconds == nil || *seconds == 0 {
		return s.cfg.SessionTTL, nil
	}
	maxSecs := int64(s.cfg.MaxSessionTTL / time.Second)
	if *seconds < 0 || *seconds > maxSecs {
		return 0, accountd.Invalid(field, "must be between 0 and %d seconds", maxSecs)
	}
	return time.Duration(*seconds) * time.Second, nil
}

// checkScopes returns the scope a new token asks for (DefaultScope when it
// names none), refusing scopes that grant nothing accountd serves.
func (s *Service) checkScopes(field string, scope []string) ([]string, error) {
	if len(scope) == 0 {
		return DefaultScope, nil
	}
	seen := map[string]bool{}
	for i, sc := range scope {
		if !s.catalog.Known(sc) {
			return nil, accountd.Invalid(fmt.Sprintf("%s[%d]", field, i), "%q is not a scope this service grants", sc)
		}
		if seen[sc] {
			return nil, accountd.Invalid(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", sc)
		}
		seen[sc] = true
	}
	return scope, nil
}

func displayName(u *accountd.User) string {
	if n := u.FullName(); n != "" {
		return n
	}
	return u.Email
}
