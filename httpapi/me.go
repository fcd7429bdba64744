package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

// meBody is the reference "me" schema, as far as accountd keeps it.
type meBody struct {
	ID                   string      `json:"id"`
	UserID               string      `json:"userId"`
	CreationDate         string      `json:"creationDate"`
	LastUpdated          string      `json:"lastUpdated"`
	PasswordLastUpdated  string      `json:"passwordLastUpdated"`
	Email                string      `json:"email"`
	FirstName            string      `json:"firstName,omitempty"` // the schema wants at least one character
	LastName             string      `json:"lastName"`
	CompanyName          string      `json:"companyName"`
	Title                string      `json:"title"`
	PhoneNumber          string      `json:"phoneNumber"`
	Location             string      `json:"location"`
	URL                  string      `json:"url"`
	FullName             string      `json:"fullName"`
	TokenCutoff          string      `json:"tokenCutoff,omitempty"`
	EmailVerified        bool        `json:"emailVerified"`
	NeedsToVerifyEmail   bool        `json:"needsToVerifyEmail"`
	TwoFactorAuthEnabled bool        `json:"twoFactorAuthEnabled"`
	GithubName           string      `json:"githubName,omitempty"`
	Summary              summaryBody `json:"summary"`
	// with includeRecent=true (httpapi/resources.go)
	RecentApplications  *recentListBody `json:"recentApplications,omitempty"`
	RecentDashboards    *recentListBody `json:"recentDashboards,omitempty"`
	RecentOrganizations *recentListBody `json:"recentOrganizations,omitempty"`

	AvatarURL string `json:"avatarUrl"`
	// Limits lists the limits set for every user (service.Limits.Map).
	Limits map[string]int `json:"limits"`
}

// summaryBody is the counts, and payloadCount (an object) when asked for.
type summaryBody struct {
	counts       map[string]int
	payloadCount service.PayloadStats
}

func (b summaryBody) MarshalJSON() ([]byte, error) {
	if b.payloadCount == nil {
		return json.Marshal(b.counts)
	}
	m := make(map[string]any, len(b.counts)+1)
	for k, v := range b.counts {
		m[k] = v
	}
	m["payloadCount"] = b.payloadCount
	return json.Marshal(m)
}

func meJSON(u *accountd.User, summary map[string]int) meBody {
	m := meBody{
		ID: u.ID, UserID: u.ID,
		CreationDate: accountd.FormatTime(u.CreatedAt), LastUpdated: accountd.FormatTime(u.UpdatedAt),
		PasswordLastUpdated: accountd.FormatTime(u.PasswordUpdatedAt),
		Email:               u.Email, FirstName: u.FirstName, LastName: u.LastName, CompanyName: u.CompanyName,
		Title: u.Title, PhoneNumber: u.PhoneNumber, Location: u.Location, URL: u.URL, FullName: u.FullName(),
		EmailVerified: u.EmailVerified, NeedsToVerifyEmail: !u.EmailVerified,
		Summary: summaryBody{counts: summary},
	}
	if !u.TokenCutoff.IsZero() {
		m.TokenCutoff = accountd.FormatTime(u.TokenCutoff)
	}
	return m
}

// principal is who the request acts for: the one a handler put in its
// context (after a login, say), else the one it authenticated as.
func principal(r *http.Request) accountd.Principal {
	if p, ok := accountd.PrincipalFrom(r.Context()); ok {
		return p
	}
	if rq := requestFrom(r.Context()); rq != nil && rq.principal != nil {
		return *rq.principal
	}
	return accountd.Principal{}
}

// writeMe answers with the user and the summary the query asks for.
func (s *Server) writeMe(ctx context.Context, w http.ResponseWriter, r *http.Request, u *accountd.User) error {
	m, err := s.meFor(r.WithContext(ctx), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// meFor is the me body of u, after a change made by this request, with
// the summary the query asks for: the user's cached state is dropped first,
// so the answer shows the change.
func (s *Server) meFor(r *http.Request, u *accountd.User) (meBody, error) {
	include, exclude, err := summaryQuery(r.URL.Query())
	if err != nil {
		return meBody{}, err
	}
	s.svc.ForgetMe(u.ID)
	v, err := s.svc.MeView(r.Context(), principal(r), include, exclude)
	if err != nil {
		return meBody{}, err
	}
	return meViewJSON(v), nil
}

// summaryQuery reads summaryInclude and summaryExclude: known names only,
// sorted, each once.
func summaryQuery(q url.Values) (include, exclude []string, err error) {
	if include, err = service.SummaryFields("summaryInclude", q.Get("summaryInclude")); err != nil {
		return nil, nil, err
	}
	if exclude, err = service.SummaryFields("summaryExclude", q.Get("summaryExclude")); err != nil {
		return nil, nil, err
	}
	return include, exclude, nil
}

func meViewJSON(v *service.MeView) meBody {
	m := meJSON(v.User, v.Summary)
	m.Summary.payloadCount = v.PayloadCount
	m.TwoFactorAuthEnabled, m.GithubName = v.Security.TwoFactorAuthEnabled, v.Security.GithubName
	m.AvatarURL, m.Limits = v.AvatarURL, v.Limits.Map()
	return m
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	recent, err := includeRecent(q)
	if err != nil {
		return err
	}
	include, exclude, err := summaryQuery(q)
	if err != nil {
		return err
	}
	if !recent {
		// the answer kept with the user's cached state (service/meview.go)
		body, err := s.svc.MeAnswer(r.Context(), principal(r), include, exclude, func(v *service.MeView) []byte {
			return encodeJSON(meViewJSON(v))
		})
		if err != nil {
			return err
		}
		writeBody(w, http.StatusOK, body)
		return nil
	}
	v, err := s.svc.MeView(r.Context(), principal(r), include, exclude)
	if err != nil {
		return err
	}
	m := meViewJSON(v)
	if recent {
		if err := s.recentForMe(r, &m); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

type mePatchBody struct {
	Email              *string    `json:"email"`
	FirstName          *string    `json:"firstName"`
	LastName           *string    `json:"lastName"`
	CompanyName        *string    `json:"companyName"`
	Title              *string    `json:"title"`
	PhoneNumber        *string    `json:"phoneNumber"`
	Location           *string    `json:"location"`
	URL                *string    `json:"url"`
	Password           *string    `json:"password"`
	TokenCutoff        *time.Time `json:"tokenCutoff"`
	CurrentCredentials *struct {
		Password      string `json:"password"`
		TwoFactorCode string `json:"twoFactorCode"`
	} `json:"currentCredentials"`
}

func (s *Server) patchMe(w http.ResponseWriter, r *http.Request) error {
	var b mePatchBody
	if err := s.decode(r, "mePatch", &b); err != nil {
		return err
	}
	m := service.MePatch{
		Email: b.Email, FirstName: b.FirstName, LastName: b.LastName, CompanyName: b.CompanyName, Title: b.Title,
		PhoneNumber: b.PhoneNumber, Location: b.Location, URL: b.URL, Password: b.Password, TokenCutoff: b.TokenCutoff,
	}
	if c := b.CurrentCredentials; c != nil {
		m.CurrentPassword, m.CurrentTwoFactorCode = &c.Password, c.TwoFactorCode
	}
	u, err := s.svc.PatchMe(r.Context(), principal(r), m)
	if err != nil {
		return err
	}
	return s.writeMe(r.Context(), w, r, u)
}

type changePasswordBody struct {
	Password                 string `json:"password"`
	NewPassword              string `json:"newPassword"`
	TwoFactorCode            string `json:"twoFactorCode"`
	InvalidateExistingTokens bool   `json:"invalidateExistingTokens"`
	TokenTTL                 *int64 `json:"tokenTTL"`
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	var b changePasswordBody
	if err := s.decode(r, "changePassword", &b); err != nil {
		return err
	}
	a, err := s.svc.ChangePassword(r.Context(), principal(r), service.ChangePassword{
		Password: b.Password, NewPassword: b.NewPassword, TwoFactorCode: b.TwoFactorCode,
		InvalidateExistingTokens: b.InvalidateExistingTokens, TokenTTL: b.TokenTTL,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, authedUserJSON(a))
	return nil
}

func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request) error {
	a, err := s.svc.RefreshToken(r.Context(), principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, authedUserJSON(a))
	return nil
}

func (s *Server) deleteMe(w http.ResponseWriter, r *http.Request) error {
	var b credentialsBody
	if err := s.decode(r, "userCredentials", &b); err != nil {
		return err
	}
	if err := s.svc.DeleteMe(r.Context(), principal(r), b.toService()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, success)
	return nil
}
