package client

import (
	"context"
	"net/url"
	"strconv"
	"strings"
)

// AuthService holds the login action.
type AuthService struct{ c *Client }

// AuthenticateUser logs in (POST /auth/user). It does not change the
// client's token; call SetToken with the result to use it.
func (s *AuthService) AuthenticateUser(ctx context.Context, creds UserCredentials) (*AuthedUser, error) {
	var out AuthedUser
	return &out, s.c.do(ctx, "POST", "/auth/user", nil, creds, &out)
}

// MeService holds the actions on the signed-in user.
type MeService struct{ c *Client }

func summaryQuery(include, exclude []string) url.Values {
	q := url.Values{}
	if len(include) > 0 {
		q.Set("summaryInclude", strings.Join(include, ","))
	}
	if len(exclude) > 0 {
		q.Set("summaryExclude", strings.Join(exclude, ","))
	}
	return q
}

// Get returns the signed-in user (GET /me).
func (s *MeService) Get(ctx context.Context, p *MeGetParams) (*Me, error) {
	q := url.Values{}
	if p != nil {
		q = summaryQuery(p.SummaryInclude, p.SummaryExclude)
		if p.IncludeRecent {
			q.Set("includeRecent", "true")
		}
	}
	var out Me
	return &out, s.c.do(ctx, "GET", "/me", q, nil, &out)
}

// Patch changes the profile (PATCH /me).
func (s *MeService) Patch(ctx context.Context, patch MePatch, p *MeGetParams) (*Me, error) {
	var q url.Values
	if p != nil {
		q = summaryQuery(p.SummaryInclude, p.SummaryExclude)
	}
	var out Me
	return &out, s.c.do(ctx, "PATCH", "/me", q, patch, &out)
}

// ChangePassword replaces the password and returns a fresh token
// (PATCH /me/changePassword).
func (s *MeService) ChangePassword(ctx context.Context, cp ChangePassword) (*AuthedUser, error) {
	var out AuthedUser
	return &out, s.c.do(ctx, "PATCH", "/me/changePassword", nil, cp, &out)
}

// RefreshToken returns a new token with the same scope and a new expiry
// (GET /me/refreshToken).
func (s *MeService) RefreshToken(ctx context.Context) (*AuthedUser, error) {
	var out AuthedUser
	return &out, s.c.do(ctx, "GET", "/me/refreshToken", nil, nil, &out)
}

// Delete removes the signed-in account (POST /me/delete).
func (s *MeService) Delete(ctx context.Context, creds UserCredentials) error {
	return s.c.do(ctx, "POST", "/me/delete", nil, creds, &Success{})
}

// UserAPITokensService holds the actions on the collection of API tokens.
type UserAPITokensService struct{ c *Client }

func listQuery(p *ListParams) url.Values {
	q := url.Values{}
	if p == nil {
		return q
	}
	for k, v := range map[string]string{
		"sortField": p.SortField, "sortDirection": p.SortDirection, "filterField": p.FilterField, "filter": p.Filter,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if p.Page > 0 {
		q.Set("page", strconv.Itoa(p.Page))
	}
	if p.PerPage > 0 {
		q.Set("perPage", strconv.Itoa(p.PerPage))
	}
	return q
}

// Get lists the user's API tokens (GET /me/tokens).
func (s *UserAPITokensService) Get(ctx context.Context, p *ListParams) (*APITokens, error) {
	var out APITokens
	return &out, s.c.do(ctx, "GET", "/me/tokens", listQuery(p), nil, &out)
}

// Post creates an API token; the answer holds its value, shown only this
// once (POST /me/tokens).
func (s *UserAPITokensService) Post(ctx context.Context, t APITokenPost) (*APIToken, error) {
	var out APIToken
	return &out, s.c.do(ctx, "POST", "/me/tokens", nil, t, &out)
}

// UserAPITokenService holds the actions on one API token.
type UserAPITokenService struct{ c *Client }

// Get returns one API token (GET /me/tokens/{apiTokenId}).
func (s *UserAPITokenService) Get(ctx context.Context, apiTokenID string) (*APIToken, error) {
	if err := checkID("apiTokenId", apiTokenID); err != nil {
		return nil, err
	}
	var out APIToken
	return &out, s.c.do(ctx, "GET", "/me/tokens/"+apiTokenID, nil, nil, &out)
}

// Patch renames, describes, deactivates or reactivates an API token
// (PATCH /me/tokens/{apiTokenId}).
func (s *UserAPITokenService) Patch(ctx context.Context, apiTokenID string, patch APITokenPatch) (*APIToken, error) {
	if err := checkID("apiTokenId", apiTokenID); err != nil {
		return nil, err
	}
	var out APIToken
	return &out, s.c.do(ctx, "PATCH", "/me/tokens/"+apiTokenID, nil, patch, &out)
}

// Delete removes an API token; it fails from its next use on
// (DELETE /me/tokens/{apiTokenId}).
func (s *UserAPITokenService) Delete(ctx context.Context, apiTokenID string) error {
	if err := checkID("apiTokenId", apiTokenID); err != nil {
		return err
	}
	return s.c.do(ctx, "DELETE", "/me/tokens/"+apiTokenID, nil, nil, &Success{})
}
