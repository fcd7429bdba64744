package service

import (
	"context"
	"errors"

	"github.com/accountd/accountd"
)

// EndSession signs the principal's session out: its token is deleted, so
// it fails from its next use on, on every instance within the event poll.
// The web console's sign-out calls it; API tokens are not sessions and are
// revoked with DeleteAPIToken instead.
func (s *Service) EndSession(ctx context.Context, p accountd.Principal) error {
	if p.Kind != accountd.KindSession {
		return accountd.Errorf(accountd.CodeInvalid, "only a session can be signed out")
	}
	if err := s.store.DeleteToken(ctx, p.TokenID); err != nil && !errors.Is(err, accountd.ErrNotFound) {
		return err
	}
	s.forgetToken(p.UserID, p.TokenID)
	return nil
}

// GithubEnabled reports whether linking GitHub accounts is configured, so a
// page can leave out what would only fail.
func (s *Service) GithubEnabled() bool { return s.cfg.Security.Github.ClientID != "" }

// PublicURL is the base URL users reach the server at, as configured in
// SecurityConfig; the web console takes its origin and scheme from it.
func (s *Service) PublicURL() string { return s.cfg.Security.PublicURL }

// UnverifiedActions returns the actions a user whose email is not verified
// may take while verification is required: those the reference marks
// allowUnverified, so such a user can still see and fix their profile and
// ask for a new link. The API and the web console both apply it; each call
// returns a fresh map.
func UnverifiedActions() map[string]bool {
	return map[string]bool{"me.get": true, "me.patch": true, "me.verifyEmail": true}
}
