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
// email, a wrong password and a right one all take at least one hash at the
// current parameters, so how long a login takes does not tell whether the
// account exists or how old its hash is.
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
	att, err := s.reserveAttempt(ctx, accountd.EmailKey(c.Email), accountd.ClientAddrFrom(ctx), now, true)
	if accountd.ErrorCode(err) == accountd.CodeTooManyRequests {
		s.loginThrottled(ctx, c.Email, now)
	}
	if err != nil {
		return AuthedUser{}, err
	}
	defer att.release()
	ctx = att.hashCtx
	u, err := s.store.UserByEmail(ctx, c.Email)
	if errors.Is(err, accountd.ErrNotFound) {
		if _, err := s.verifyPassword(ctx, s.dummyHash, c.Password); err != nil {
			return AuthedUser{}, err
		}
		att.failed()
		return AuthedUser{}, errBadCredentials
	}
	if err != nil {
		return AuthedUser{}, err
	}
	ok, err := s.checkUserPassword(ctx, u, c.Password, true)
	if err != nil {
		return AuthedUser{}, err
	}
	if !ok {
		att.failedFor("password")
		s.loginFailed(ctx, u, "password", "password")
		return AuthedUser{}, errBadCredentials
	}
	if err := s.secondFactor(ctx, u, "twoFactorCode", c.TwoFactorCode, accountd.CodeUnauthorized, att, now); err != nil {
		if att.reason != "" {
			s.loginFailed(ctx, u, "password", att.reason)
		}
		return AuthedUser{}, err
	}
	att.succeeded()
	return s.loginSession(ctx, u, scope, ttl, accountd.ViaPassword)
}

// checkUserPassword checks password against u's hash. A hash made under
// cheaper parameters than the current ones would answer sooner, telling
// dormant accounts apart from unknown emails: a right password re-hashes
// it at the current parameters (when upgrade is set), and otherwise a
// check of the dummy hash makes up the difference.
func (s *Service) checkUserPassword(ctx context.Context, u *accountd.User, password string, upgrade bool) (bool, error) {
	ok, err := s.verifyPassword(ctx, u.PasswordHash, password)
	if err != nil {
		return false, err
	}
	switch {
	case ok && upgrade && secret.NeedsRehash(u.PasswordHash, s.cfg.Hash):
		s.upgradeHash(ctx, u, password)
	case secret.Cheaper(u.PasswordHash, s.cfg.Hash):
		// Only its time matters, so its error does too little to answer
		// with: a pad refused for want of a hashing turn must not turn a
		// checked wrong password into a 503 that counts no failure.
		_, _ = s.verifyPassword(ctx, s.dummyHash, password)
	}
	return ok, nil
}

// upgradeHash re-hashes a password made under other cost parameters. It is
// best effort: the password was right whatever happens here.
func (s *Service) upgradeHash(ctx context.Context, u *accountd.User, password string) {
	h, err := s.hashPassword(ctx, password)
	if err != nil {
		s.log.WarnContext(ctx, "re-hashing password", "user", u.ID, "err", err)
		return
	}
	// Only over the very hash that was verified: a password changed
	// meanwhile must not be put back.
	if err := s.store.RehashPassword(ctx, u.ID, u.PasswordHash, h); err != nil {
		s.log.WarnContext(ctx, "storing re-hashed password", "user", u.ID, "err", err)
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
	att, err := s.reserveAttempt(ctx, accountd.EmailKey(u.Email), accountd.ClientAddrFrom(ctx), now, true)
	if err != nil {
		return err
	}
	defer att.release()
	ctx = att.hashCtx
	if err := s.passwordOK(ctx, u, passwordField, password, att); err != nil {
		return err
	}
	if err := s.secondFactor(ctx, u, codeField, code, accountd.CodeInvalid, att, now); err != nil {
		return err
	}
	att.succeeded()
	return nil
}

// passwordOK checks the password of a reserved attempt, counting a
// failure. It leaves recording success to the caller, which may have a
// second factor to check first: clearing the failures on a right password
// alone would let whoever has it guess codes without limit.
func (s *Service) passwordOK(ctx context.Context, u *accountd.User, field, password string, att *attempt) error {
	ok, err := s.checkUserPassword(ctx, u, password, false)
	if err != nil {
		return err
	}
	if !ok {
		att.failed()
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
