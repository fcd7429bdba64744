package client

import "context"

// MultiFactorAuthInfo is a new, pending TOTP key.
type MultiFactorAuthInfo struct {
	Key    string `json:"key"`
	KeyURI string `json:"keyUri"`
}

// MultiFactorAuthEnable turns two-factor authentication on.
type MultiFactorAuthEnable struct {
	Password         string `json:"password"`
	TwoFactorCode    string `json:"twoFactorCode"`
	TwoFactorAuthKey string `json:"twoFactorAuthKey,omitempty"`
}

// MultiFactorAuthDisable carries the password and a current code (or a
// recovery code); it also confirms regenerating recovery codes.
type MultiFactorAuthDisable struct {
	Password      string `json:"password"`
	TwoFactorCode string `json:"twoFactorCode"`
}

// MeWithRecoveryCodes is the user as enabling two-factor authentication
// answers: with the recovery codes, shown this once (accountd extension).
type MeWithRecoveryCodes struct {
	Me
	RecoveryCodes []string `json:"recoveryCodes"`
}

// GithubLogin signs in with an access token of a linked GitHub account.
type GithubLogin struct {
	AccessToken     string   `json:"accessToken"`
	TwoFactorCode   string   `json:"twoFactorCode,omitempty"` // accountd extension
	RequestedScopes []string `json:"requestedScopes,omitempty"`
	TokenTTL        *int64   `json:"tokenTTL,omitempty"`
}

// GenerateTwoFactorAuth makes a new pending TOTP key
// (PATCH /me/generateTwoFactorAuth).
func (s *MeService) GenerateTwoFactorAuth(ctx context.Context) (*MultiFactorAuthInfo, error) {
	var out MultiFactorAuthInfo
	return &out, s.c.do(ctx, "PATCH", "/me/generateTwoFactorAuth", nil, nil, &out)
}

// EnableTwoFactorAuth turns two-factor authentication on with the pending
// key (PATCH /me/enableTwoFactorAuth).
func (s *MeService) EnableTwoFactorAuth(ctx context.Context, e MultiFactorAuthEnable) (*MeWithRecoveryCodes, error) {
	var out MeWithRecoveryCodes
	return &out, s.c.do(ctx, "PATCH", "/me/enableTwoFactorAuth", nil, e, &out)
}

// DisableTwoFactorAuth turns two-factor authentication off
// (PATCH /me/disableTwoFactorAuth).
func (s *MeService) DisableTwoFactorAuth(ctx context.Context, d MultiFactorAuthDisable) (*Me, error) {
	var out Me
	return &out, s.c.do(ctx, "PATCH", "/me/disableTwoFactorAuth", nil, d, &out)
}

// RegenerateRecoveryCodes replaces the recovery codes and returns the new
// ones (POST /me/recoveryCodes, an accountd extension).
func (s *MeService) RegenerateRecoveryCodes(ctx context.Context, d MultiFactorAuthDisable) ([]string, error) {
	var out struct {
		RecoveryCodes []string `json:"recoveryCodes"`
	}
	err := s.c.do(ctx, "POST", "/me/recoveryCodes", nil, d, &out)
	return out.RecoveryCodes, err
}

// VerifyEmail sends a verification message (POST /me/verify-email).
func (s *MeService) VerifyEmail(ctx context.Context) error {
	return s.c.do(ctx, "POST", "/me/verify-email", nil, nil, &Success{})
}

// ConnectGithub returns the URL a browser opens to link a GitHub account
// (POST /me/connectGithub, an accountd extension).
func (s *MeService) ConnectGithub(ctx context.Context) (string, error) {
	var out struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	err := s.c.do(ctx, "POST", "/me/connectGithub", nil, nil, &out)
	return out.AuthorizeURL, err
}

// DisconnectGithub removes the GitHub link (PATCH /me/disconnectGithub).
func (s *MeService) DisconnectGithub(ctx context.Context) (*Me, error) {
	var out Me
	return &out, s.c.do(ctx, "PATCH", "/me/disconnectGithub", nil, nil, &out)
}

// AuthenticateUserGithub signs in through a linked GitHub account
// (POST /auth/user/github). Like AuthenticateUser, it leaves the client's
// token alone.
func (s *AuthService) AuthenticateUserGithub(ctx context.Context, g GithubLogin) (*AuthedUser, error) {
	var out AuthedUser
	return &out, s.c.do(ctx, "POST", "/auth/user/github", nil, g, &out)
}
