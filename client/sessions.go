package client

import (
	"context"
	"time"
)

// Session is one live login session of the signed-in user (accountd
// extension). Its ID is its login token's id.
type Session struct {
	ID                string     `json:"id"`
	CreationDate      time.Time  `json:"creationDate"`
	ExpirationDate    *time.Time `json:"expirationDate,omitempty"`
	LastUsed          *time.Time `json:"lastUsed,omitempty"` // to about a minute; nil: not used since issued
	ObtainedVia       string     `json:"obtainedVia"`        // password, github, refresh, console or unknown
	CreatedAddress    string     `json:"createdAddress"`
	CreatedUserAgent  string     `json:"createdUserAgent"`
	LastUsedAddress   string     `json:"lastUsedAddress,omitempty"`
	LastUsedUserAgent string     `json:"lastUsedUserAgent,omitempty"`
	Scope             []string   `json:"scope"`
	Current           bool       `json:"current"` // the session making the request
}

// Sessions is the list GET /me/sessions answers with, newest first.
type Sessions struct {
	Items []Session `json:"items"`
	Count int       `json:"count"`
}

// SessionsRevoked is what DELETE /me/sessions answers with.
type SessionsRevoked struct {
	Revoked int `json:"revoked"`
}

// Sessions lists the signed-in user's live login sessions (GET
// /me/sessions). Personal API tokens are listed by UserAPITokens.Get.
func (s *MeService) Sessions(ctx context.Context) (*Sessions, error) {
	var out Sessions
	return &out, s.c.do(ctx, "GET", "/me/sessions", nil, nil, &out)
}

// RevokeSession signs one session out, at once (DELETE
// /me/sessions/{sessionId}); revoking the client's own signs it out.
func (s *MeService) RevokeSession(ctx context.Context, sessionID string) error {
	if err := checkID("sessionId", sessionID); err != nil {
		return err
	}
	return s.c.do(ctx, "DELETE", "/me/sessions/"+sessionID, nil, nil, &Success{})
}

// RevokeOtherSessions signs out every session but the client's own (and
// those it was obtained with), and says how many (DELETE /me/sessions).
func (s *MeService) RevokeOtherSessions(ctx context.Context) (int, error) {
	var out SessionsRevoked
	if err := s.c.do(ctx, "DELETE", "/me/sessions", nil, nil, &out); err != nil {
		return 0, err
	}
	return out.Revoked, nil
}
