package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

// NewUser is what an operator gives to create an account.
type NewUser struct {
	Email     string
	Password  string
	FirstName string
	LastName  string
	Verified  bool
}

// CreateUser adds an account; the password must meet the password rule.
func (s *Service) CreateUser(ctx context.Context, n NewUser) (*accountd.User, error) {
	if err := accountd.ValidatePassword("password", n.Password); err != nil {
		return nil, err
	}
	now := accountd.Millis(s.now())
	u := &accountd.User{
		ID: accountd.NewID(now), Email: strings.TrimSpace(n.Email), FirstName: n.FirstName, LastName: n.LastName,
		EmailVerified: n.Verified, CreatedAt: now, UpdatedAt: now, PasswordUpdatedAt: now,
		PasswordHash: "pending", // replaced below; lets Validate check the rest before hashing
	}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	h, err := s.hashPassword(ctx, n.Password)
	if err != nil {
		return nil, err
	}
	u.PasswordHash = h
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// Users lists every account, oldest first.
func (s *Service) Users(ctx context.Context) ([]*accountd.User, error) { return s.store.Users(ctx) }

// Me returns the signed-in user.
func (s *Service) Me(ctx context.Context, p accountd.Principal) (*accountd.User, error) {
	u, err := s.store.User(ctx, p.UserID)
	if errors.Is(err, accountd.ErrNotFound) {
		// deleted between authentication and now
		return nil, errBadToken
	}
	return u, err
}

// summaryNames are the summary fields the reference's me schema lists.
// Clients send the platform's full set, so names accountd does not count
// (certificateCount, ...) are accepted and left out; any other name is a
// mistake worth a 400.
var summaryNames = []string{
	"apiTokenCount", "appCount", "certificateCount", "certificateAuthorityCount", "credentialCount", "dashCount",
	"dataTableCount", "deviceCount", "deviceRecipeCount", "eventCount", "experienceDomainCount",
	"experienceEndpointCount", "experienceGroupCount", "experienceSlugCount", "experienceUserCount",
	"experienceVersionCount", "experienceViewCount", "fileCount", "flowCount", "instanceCount", "integrationCount",
	"keyCount", "notebookCount", "notebookStats", "orgCount", "payloadCount", "resourceJobCount", "storageStats",
	"webhookCount",
}

// maxSummaryParam bounds a summaryInclude or summaryExclude value: every
// name listed once, with commas, is well under it.
const maxSummaryParam = 1024

// SummaryFields parses a summaryInclude or summaryExclude value (names
// separated by commas) into the sorted names it lists, each once. An
// unknown name is refused, naming it, so no caller-chosen text reaches a
// cache key.
func SummaryFields(param, value string) ([]string, error) {
	return summaryFieldsOf(summaryNames, param, value)
}

func summaryFieldsOf(summaryNames []string, param, value string) ([]string, error) {
	if len(value) > maxSummaryParam {
		return nil, accountd.Invalid(param, "must be at most %d characters", maxSummaryParam)
	}
	var out []string
	for _, v := range strings.Split(value, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if !slices.Contains(summaryNames, v) {
			if len(v) > 64 {
				v = v[:64] + "..."
			}
			return nil, accountd.Invalid(param, "%q is not a summary field; the fields are %s", v, strings.Join(summaryNames, ", "))
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// summaryField is one count GET /me reports, read from the user's state.
type summaryField struct {
	name string
	of   func(*accountd.MeState) int
}

// summaryFields are the counts accountd keeps; appCount, dashCount,
// deviceCount and flowCount count what the user can see: their own and
// their organizations'.
var summaryFields = []summaryField{
	{"apiTokenCount", func(st *accountd.MeState) int { return st.APITokens }},
	{"appCount", func(st *accountd.MeState) int { return st.Apps }},
	{"dashCount", func(st *accountd.MeState) int { return st.Dashboards }},
	{"deviceCount", func(st *accountd.MeState) int { return st.Devices }},
	{"flowCount", func(st *accountd.MeState) int { return st.Flows }},
	{"orgCount", func(st *accountd.MeState) int { return st.Orgs }},
}

// MePatch holds the fields PATCH /me may change; nil means unchanged.
type MePatch struct {
	Email, FirstName, LastName, CompanyName, Title, PhoneNumber, Location, URL *string
	Password                                                                   *string
	TokenCutoff                                                                *time.Time
	CurrentPassword                                                            *string
	CurrentTwoFactorCode                                                       string
}

// cutoffSkew is how far ahead of our clock a tokenCutoff may be.
const cutoffSkew = time.Minute

// PatchMe updates the profile. Changing the email or the password needs the
// current password; a new email is unverified until verified again.
func (s *Service) PatchMe(ctx context.Context, p accountd.Principal, m MePatch) (*accountd.User, error) {
	u, err := s.Me(ctx, p)
	if err != nil {
		return nil, err
	}
	now := accountd.Millis(s.now())
	emailChanges := m.Email != nil && *m.Email != u.Email
	if emailChanges || m.Password != nil {
		if m.CurrentPassword == nil {
			return nil, accountd.Invalid("currentCredentials", "is required to change the email or the password")
		}
		if err := s.checkCredentials(ctx, u, "currentCredentials.password", *m.CurrentPassword, "currentCredentials.twoFactorCode", m.CurrentTwoFactorCode); err != nil {
			return nil, err
		}
	}
	if m.TokenCutoff != nil && m.TokenCutoff.After(now.Add(cutoffSkew)) {
		return nil, accountd.Invalid("tokenCutoff", "must not be in the future")
	}
	var newHash string
	if m.Password != nil {
		if err := accountd.ValidatePassword("password", *m.Password); err != nil {
			return nil, err
		}
		if newHash, err = s.hashPassword(ctx, *m.Password); err != nil {
			return nil, err
		}
	}
	// The change is applied to the row as committed, under its lock, so a
	// concurrent change (a password, a cut-off) is never written over.
	verified := u.PasswordUpdatedAt
	var ann announcements
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		ann = nil
		cur, err := lockedMe(ctx, tx, u.ID, verified, emailChanges || m.Password != nil, "currentCredentials.password")
		if err != nil {
			return err
		}
		oldEmail := cur.Email
		for _, f := range []struct {
			dst *string
			src *string
		}{
			{&cur.FirstName, m.FirstName}, {&cur.LastName, m.LastName}, {&cur.CompanyName, m.CompanyName},
			{&cur.Title, m.Title}, {&cur.PhoneNumber, m.PhoneNumber}, {&cur.Location, m.Location}, {&cur.URL, m.URL},
		} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if emailChanges {
			cur.Email = strings.TrimSpace(*m.Email)
			cur.EmailVerified = false
		}
		if m.TokenCutoff != nil {
			// A cut-off from a clock slightly ahead of ours means "now": kept
			// as given, it would refuse the next login too.
			cur.TokenCutoff = accountd.Millis(*m.TokenCutoff)
			if cur.TokenCutoff.After(now) {
				cur.TokenCutoff = now
			}
		}
		if m.Password != nil {
			cur.PasswordHash, cur.PasswordUpdatedAt = newHash, now
		}
		cur.UpdatedAt = now
		if err := cur.Validate(); err != nil {
			return err
		}
		if err := tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		if emailChanges && cur.Email != oldEmail {
			if err := ann.record(ctx, s, tx, SecurityEntry{UserID: u.ID, Kind: accountd.SecEmailChanged,
				Detail: map[string]string{"from": oldEmail, "to": cur.Email}}); err != nil {
				return err
			}
		}
		if m.Password != nil {
			if err := ann.record(ctx, s, tx, SecurityEntry{UserID: u.ID, Kind: accountd.SecPasswordChanged}); err != nil {
				return err
			}
		}
		u = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.forgetUser(u.ID)
	ann.run()
	if emailChanges {
		s.emailChanged(ctx, u)
	}
	return u, nil
}

// lockedMe reads the signed-in user's row under its lock in tx. With
// passwordChecked, the password verified at verifiedAt must still be the
// password (else field "is incorrect"): a password changed meanwhile
// must not be taken as proven.
func lockedMe(ctx context.Context, tx accountd.Store, id string, verifiedAt time.Time, passwordChecked bool, field string) (*accountd.User, error) {
	cur, err := tx.UserForUpdate(ctx, id)
	if errors.Is(err, accountd.ErrNotFound) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	if passwordChecked && !cur.PasswordUpdatedAt.Equal(verifiedAt) {
		return nil, accountd.Invalid(field, "is incorrect")
	}
	return cur, nil
}

// ChangePassword is what PATCH /me/changePassword carries.
type ChangePassword struct {
	Password                 string
	NewPassword              string
	TwoFactorCode            string
	InvalidateExistingTokens bool
	TokenTTL                 *int64
}

// ChangePassword replaces the password after checking the current one, and
// returns a fresh session token with the caller's scope. With
// InvalidateExistingTokens every earlier token of the user fails at once.
func (s *Service) ChangePassword(ctx context.Context, p accountd.Principal, c ChangePassword) (AuthedUser, error) {
	ttl, err := s.sessionTTL("tokenTTL", c.TokenTTL)
	if err != nil {
		return AuthedUser{}, err
	}
	if err := accountd.ValidatePassword("newPassword", c.NewPassword); err != nil {
		return AuthedUser{}, err
	}
	if c.NewPassword == c.Password {
		return AuthedUser{}, accountd.Invalid("newPassword", "must differ from the current password")
	}
	u, err := s.Me(ctx, p)
	if err != nil {
		return AuthedUser{}, err
	}
	if err := s.checkCredentials(ctx, u, "password", c.Password, "twoFactorCode", c.TwoFactorCode); err != nil {
		return AuthedUser{}, err
	}
	newHash, err := s.hashPassword(ctx, c.NewPassword)
	if err != nil {
		return AuthedUser{}, err
	}
	by := s.creatorOf(ctx, p, u)
	verified := u.PasswordUpdatedAt
	var (
		out AuthedUser
		ann announcements
	)
	// One transaction under the user's row lock: the password verified must
	// still be the password, and with InvalidateExistingTokens the user's
	// token generation moves, so every token issued under the old one fails
	// whatever the clocks of the instances that issued it say, and every
	// issue still in flight elsewhere is refused when it reaches the row.
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		cur, err := lockedMe(ctx, tx, u.ID, verified, true, "password")
		if err != nil {
			return err
		}
		now := accountd.Millis(s.now())
		cur.PasswordHash, cur.PasswordUpdatedAt, cur.UpdatedAt = newHash, now, now
		if c.InvalidateExistingTokens {
			cur.TokenGen++
			cur.TokenCutoff = now
		}
		if err := tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		if out, err = s.newSession(ctx, tx, cur, p.Scope, ttl, by, accountd.ViaPassword); err != nil {
			return err
		}
		ann = nil
		return ann.record(ctx, s, tx, SecurityEntry{UserID: u.ID, Kind: accountd.SecPasswordChanged,
			Detail: map[string]string{"tokensInvalidated": fmt.Sprint(c.InvalidateExistingTokens)}})
	})
	if err != nil {
		return AuthedUser{}, err
	}
	s.forgetUser(u.ID)
	ann.run()
	return out, nil
}

// RefreshToken issues a new session token with the caller's scope and a
// fresh expiry. The caller's own token stays valid. A session refreshed
// from a login session is a new login session; one obtained with a
// personal API token (or a token obtained with one) stays bound to it:
// it expires no later and fails as soon as that token does.
func (s *Service) RefreshToken(ctx context.Context, p accountd.Principal) (AuthedUser, error) {
	u, err := s.Me(ctx, p)
	if err != nil {
		return AuthedUser{}, err
	}
	t := s.sessionToken(ctx, u, p.Scope, s.cfg.SessionTTL, s.creatorOf(ctx, p, u), accountd.ViaRefresh)
	if err := derive(t, p, "", false); err != nil {
		return AuthedUser{}, err
	}
	signed, err := s.issue(ctx, s.store, t, tokenBasis(p))
	if err != nil {
		return AuthedUser{}, err
	}
	return AuthedUser{UserID: u.ID, Token: signed, NeedsToVerifyEmail: !u.EmailVerified}, nil
}

// DeleteMe removes the user and every token of theirs, once the credentials
// given match the account.
func (s *Service) DeleteMe(ctx context.Context, p accountd.Principal, c Credentials) error {
	u, err := s.Me(ctx, p)
	if err != nil {
		return err
	}
	if accountd.EmailKey(c.Email) != accountd.EmailKey(u.Email) {
		s.deleteRefused(ctx, u.ID, "email")
		return accountd.Invalid("email", "does not match the signed-in account")
	}
	if err := s.checkCredentials(ctx, u, "password", c.Password, "twoFactorCode", c.TwoFactorCode); err != nil {
		// wrong secrets only, which the throttle bounds; a refusal by the
		// throttle itself would let a flood of requests write a row each
		if accountd.ErrorCode(err) == accountd.CodeInvalid {
			s.deleteRefused(ctx, u.ID, "credentials")
		}
		return err
	}
	if err := s.deleteUserChecked(ctx, u.ID); err != nil {
		if accountd.ErrorCode(err) == accountd.CodeInvalid {
			s.deleteRefused(ctx, u.ID, "ownsResources")
		}
		return err
	}
	s.forgetUser(u.ID)
	return nil
}

// creator names who makes a token: the user when signed in with a session,
// the API token acting for them otherwise.
type creator struct{ typ, id, name string }

func (s *Service) creatorOf(ctx context.Context, p accountd.Principal, u *accountd.User) creator {
	if p.Kind == accountd.KindAPI {
		c := creator{typ: "apiToken", id: p.TokenID}
		if t, err := s.store.Token(ctx, p.TokenID); err == nil {
			c.name = t.Name
		}
		return c
	}
	return userCreator(u)
}

func userCreator(u *accountd.User) creator {
	return creator{typ: "user", id: u.ID, name: displayName(u)}
}

// deleteRefused logs a refused deletion of the account, with the reason's
// category: email (not the account's), credentials (a wrong password or
// code, or none where one is needed),
// ownsResources (applications, dashboards or organizations it alone
// administers).
func (s *Service) deleteRefused(ctx context.Context, userID, reason string) {
	s.securityEvent(ctx, SecurityEntry{UserID: userID, Kind: accountd.SecDeleteRefused, Detail: map[string]string{"reason": reason}})
}
