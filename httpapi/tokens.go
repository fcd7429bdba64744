package httpapi

import (
	"net/http"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

// apiTokenBody is the reference apiToken schema plus lastUsed.
type apiTokenBody struct {
	ID             string   `json:"id"`
	APITokenID     string   `json:"apiTokenId"`
	OwnerID        string   `json:"ownerId"`
	OwnerType      string   `json:"ownerType"`
	CreatorID      string   `json:"creatorId,omitempty"`
	CreatorType    string   `json:"creatorType,omitempty"`
	CreatorName    string   `json:"creatorName,omitempty"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	CreationDate   string   `json:"creationDate"`
	LastUpdated    string   `json:"lastUpdated"`
	ExpirationDate string   `json:"expirationDate,omitempty"`
	LastUsed       string   `json:"lastUsed,omitempty"`
	Scope          []string `json:"scope"`
	Status         string   `json:"status"`
	Token          string   `json:"token,omitempty"`
}

func apiTokenJSON(t *accountd.Token, signed string) apiTokenBody {
	b := apiTokenBody{
		ID: t.ID, APITokenID: t.ID, OwnerID: t.UserID, OwnerType: "user",
		CreatorID: t.CreatorID, CreatorType: t.CreatorType, CreatorName: t.CreatorName,
		Name: t.Name, Description: t.Description,
		CreationDate: accountd.FormatTime(t.CreatedAt), LastUpdated: accountd.FormatTime(t.UpdatedAt),
		Scope: t.Scope, Status: t.Status, Token: signed,
	}
	if !t.ExpiresAt.IsZero() {
		b.ExpirationDate = accountd.FormatTime(t.ExpiresAt)
	}
	if !t.LastUsedAt.IsZero() {
		b.LastUsed = accountd.FormatTime(t.LastUsedAt)
	}
	return b
}

type apiTokensBody struct {
	Items         []apiTokenBody `json:"items"`
	Count         int            `json:"count"`
	TotalCount    int            `json:"totalCount"`
	PerPage       int            `json:"perPage"`
	Page          int            `json:"page"`
	SortField     string         `json:"sortField"`
	SortDirection string         `json:"sortDirection"`
	FilterField   string         `json:"filterField,omitempty"`
	Filter        string         `json:"filter,omitempty"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	lq, err := listQuery(r) // the paging and sorting every list reads
	if err != nil {
		return err
	}
	q := accountd.TokenQuery{SortField: lq.SortField, SortDirection: lq.SortDirection,
		FilterField: lq.FilterField, Filter: lq.Filter, Page: lq.Page, PerPage: lq.PerPage}
	// the answer kept with the user's cached state (service/meview.go)
	body, err := s.svc.APITokensAnswer(r.Context(), principal(r), q, func(page service.TokenPage) []byte {
		q := page.Query
		b := apiTokensBody{Count: len(page.Tokens), TotalCount: page.Total,
			PerPage: q.PerPage, Page: q.Page, SortField: q.SortField, SortDirection: q.SortDirection,
			FilterField: q.FilterField, Filter: q.Filter}
		return appendTokenList(nil, &b, page.Tokens)
	})
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, body)
	return nil
}

type apiTokenPostBody struct {
	Name           string     `json:"name"`
	Description    string     `json:"description"`
	ExpirationDate *time.Time `json:"expirationDate"`
	Scope          []string   `json:"scope"`
	Status         string     `json:"status"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var b apiTokenPostBody
	if err := s.decode(r, "apiTokenPost", &b); err != nil {
		return err
	}
	t, signed, err := s.svc.CreateAPIToken(r.Context(), principal(r), service.NewAPIToken{
		Name: b.Name, Description: b.Description, Scope: b.Scope, Status: b.Status, ExpiresAt: b.ExpirationDate,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiTokenJSON(t, signed))
	return nil
}

func (s *Server) getToken(w http.ResponseWriter, r *http.Request) error {
	return getOne(w, r, "apiTokenId", s.svc.APIToken, func(t *accountd.Token) apiTokenBody { return apiTokenJSON(t, "") })
}

type apiTokenPatchBody struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Status      *string `json:"status"`
}

func (s *Server) patchToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "apiTokenId")
	if err != nil {
		return err
	}
	var b apiTokenPatchBody
	if err := s.decode(r, "apiTokenPatch", &b); err != nil {
		return err
	}
	t, err := s.svc.PatchAPIToken(r.Context(), principal(r), id, service.TokenPatch{Name: b.Name, Description: b.Description, Status: b.Status})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiTokenJSON(t, ""))
	return nil
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	return deleteOne(w, r, "apiTokenId", s.svc.DeleteAPIToken)
}
