package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

// NewAPIToken is what POST /me/tokens carries (apiTokenPost).
type NewAPIToken struct {
	Name        string
	Description string
	Scope       []string
	Status      string // "" means active
	ExpiresAt   *time.Time
}

// CreateAPIToken makes a personal API token and returns it with its signed
// value, which is shown this once and never stored. A token can hand out no
// more than its own scope grants.
func (s *Service) CreateAPIToken(ctx context.Context, p accountd.Principal, n NewAPIToken) (*accountd.Token, string, error) {
	scope, err := s.checkScopes("scope", n.Scope)
	if err != nil {
		return nil, "", err
	}
	if !s.catalog.Covers(p.Scope, scope) {
		return nil, "", &accountd.Error{Code: accountd.CodeForbidden, Field: "scope",
			Message: "scope: a token cannot grant more than the token that creates it holds"}
	}
	now := accountd.Millis(s.now())
	if n.ExpiresAt != nil && !n.ExpiresAt.After(now) {
		return nil, "", accountd.Invalid("expirationDate", "must be in the future")
	}
	status := n.Status
	if status == "" {
		status = accountd.StatusActive
	}
	u, err := s.Me(ctx, p)
	if err != nil {
		return nil, "", err
	}
	by := s.creatorOf(ctx, p, u)
	t := &accountd.Token{
		ID: accountd.NewID(now), UserID: p.UserID, Kind: accountd.KindAPI,
		Name: n.Name, Description: n.Description, Scope: scope, Status: status,
		CreatorType: by.typ, CreatorID: by.id, CreatorName: by.name,
		CreatedAt: now, UpdatedAt: now,
	}
	if n.ExpiresAt != nil {
		t.ExpiresAt = accountd.Millis(*n.ExpiresAt)
	}
	if err := derive(t, p, "expirationDate", n.ExpiresAt != nil); err != nil {
		return nil, "", err
	}
	var (
		signed string
		ann    announcements
	)
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		ann = nil
		var err error
		if signed, err = s.issue(ctx, tx, t, tokenBasis(p)); err != nil {
			return err
		}
		detail := map[string]string{"name": t.Name, "scope": strings.Join(t.Scope, " ")}
		if !t.ExpiresAt.IsZero() {
			detail["expirationDate"] = accountd.FormatTime(t.ExpiresAt)
		}
		return ann.record(ctx, s, tx, SecurityEntry{UserID: t.UserID, Kind: accountd.SecTokenCreated,
			ObjectType: "apiToken", ObjectID: t.ID, Detail: detail})
	})
	if err != nil {
		return nil, "", err
	}
	ann.run()
	return t, signed, nil
}

// APIToken returns one of the user's API tokens. Another user's token, or a
// session, is "not found".
func (s *Service) APIToken(ctx context.Context, p accountd.Principal, id string) (*accountd.Token, error) {
	if !accountd.ValidID(id) {
		return nil, accountd.Invalid("apiTokenId", "must be 24 hex characters")
	}
	t, err := s.store.Token(ctx, id)
	if err == nil && (t.UserID != p.UserID || t.Kind != accountd.KindAPI) {
		err = accountd.NotFound("API token")
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// TokenPage is one page of a token list, with the query as applied
// (defaults filled in).
type TokenPage struct {
	Tokens []*accountd.Token
	Total  int
	Query  accountd.TokenQuery
}

// APITokens returns a page of the user's API tokens and how many match.
// GET /me/tokens uses APITokensAnswer (meview.go), which keeps answers.
func (s *Service) APITokens(ctx context.Context, p accountd.Principal, q accountd.TokenQuery) (TokenPage, error) {
	q, err := checkTokenQuery(q)
	if err != nil {
		return TokenPage{}, err
	}
	tokens, total, err := s.store.Tokens(ctx, p.UserID, accountd.KindAPI, q)
	if err != nil {
		return TokenPage{}, err
	}
	return TokenPage{Tokens: tokens, Total: total, Query: q}, nil
}

// checkTokenQuery checks a token list query and fills in its defaults.
func checkTokenQuery(q accountd.TokenQuery) (accountd.TokenQuery, error) {
	if q.SortField == "" {
		q.SortField = "name"
	}
	if !slices.Contains(accountd.TokenSortFields, q.SortField) {
		return q, accountd.Invalid("sortField", "must be one of %s", strings.Join(accountd.TokenSortFields, ", "))
	}
	if q.FilterField != "" && !slices.Contains(accountd.TokenFilterFields, q.FilterField) {
		return q, accountd.Invalid("filterField", "must be one of %s", strings.Join(accountd.TokenFilterFields, ", "))
	}
	if q.FilterField == "" || q.Filter == "" {
		// blank or missing means no filtering, as the reference says
		q.FilterField, q.Filter = "", ""
	}
	err := checkPaging(&q.SortDirection, &q.Page, &q.PerPage)
	return q, err
}

// checkPaging fills in defaults and checks the paging parameters every list
// shares.
func checkPaging(direction *string, page, perPage *int) error {
	switch *direction {
	case "":
		*direction = "asc"
	case "asc", "desc":
	default:
		return accountd.Invalid("sortDirection", "must be asc or desc")
	}
	if *page < 0 {
		return accountd.Invalid("page", "must be 0 or more")
	}
	if *perPage == 0 {
		*perPage = accountd.DefaultPerPage
	}
	if *perPage < 1 || *perPage > accountd.MaxPerPage {
		return accountd.Invalid("perPage", "must be between 1 and %d", accountd.MaxPerPage)
	}
	return nil
}

// TokenPatch holds what PATCH /me/tokens/{id} may change; nil is unchanged.
type TokenPatch struct {
	Name, Description, Status *string
}

// PatchAPIToken renames, describes, deactivates or reactivates a token;
// status takes effect on the token's next use.
func (s *Service) PatchAPIToken(ctx context.Context, p accountd.Principal, id string, m TokenPatch) (*accountd.Token, error) {
	t, err := s.APIToken(ctx, p, id)
	if err != nil {
		return nil, err
	}
	detail := map[string]string{}
	if m.Name != nil && *m.Name != t.Name {
		detail["name"] = *m.Name
		detail["oldName"] = t.Name
		t.Name = *m.Name
	}
	if m.Description != nil && *m.Description != t.Description {
		detail["description"] = "changed"
		t.Description = *m.Description
	}
	if m.Status != nil && *m.Status != t.Status {
		detail["status"] = *m.Status
		t.Status = *m.Status
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	t.UpdatedAt = accountd.Millis(s.now())
	if _, ok := detail["name"]; !ok {
		detail["name"] = t.Name
	}
	var ann announcements
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		ann = nil
		if err := tx.UpdateToken(ctx, t); err != nil {
			return err
		}
		return ann.record(ctx, s, tx, SecurityEntry{UserID: t.UserID, Kind: accountd.SecTokenChanged,
			ObjectType: "apiToken", ObjectID: t.ID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	s.forgetToken(t.UserID, t.ID)
	ann.run()
	return t, nil
}

// DeleteAPIToken removes a token; it fails from its next use on.
func (s *Service) DeleteAPIToken(ctx context.Context, p accountd.Principal, id string) error {
	t, err := s.APIToken(ctx, p, id)
	if err != nil {
		return err
	}
	return s.revokeToken(ctx, t, SecurityEntry{UserID: t.UserID, Kind: accountd.SecTokenRevoked,
		ObjectType: "apiToken", ObjectID: t.ID, Detail: map[string]string{"name": t.Name}})
}

// revokeToken deletes t, and every token obtained with it, recording e in
// the same transaction; then it forgets t here (other instances learn of
// it from the change feed) and announces e.
func (s *Service) revokeToken(ctx context.Context, t *accountd.Token, e SecurityEntry) error {
	var ann announcements
	err := s.store.InTx(ctx, func(tx accountd.Store) error {
		ann = nil
		if err := tx.DeleteToken(ctx, t.ID); err != nil {
			return err
		}
		return ann.record(ctx, s, tx, e)
	})
	if err != nil {
		return err
	}
	s.forgetToken(t.UserID, t.ID)
	ann.run()
	return nil
}
