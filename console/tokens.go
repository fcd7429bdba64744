package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

// tokenRow is one API token as the list shows it.
type tokenRow struct {
	T       *accountd.Token
	Expired bool
}

// scopeGroup is the scopes of one resource, for the scope picker.
type scopeGroup struct {
	Name   string
	Scopes []string
}

type tokensPage struct {
	Tokens     []tokenRow
	Total      int
	Page       int
	Prev, Next int // -1: none
	Groups     []scopeGroup
	Expiries   []expiry
}

type expiry struct{ Value, Label string }

var expiries = []expiry{{"30", "30 days"}, {"7", "7 days"}, {"90", "90 days"}, {"365", "1 year"}, {"never", "Never"}}

const tokensPerPage = 50

// scopeGroups groups the catalog's scopes by what comes before the first
// dot; all.User and all.User.read come first.
func (c *Console) scopeGroups() []scopeGroup {
	var out []scopeGroup
	for _, sc := range c.svc.Catalog().Scopes() {
		name, _, _ := strings.Cut(sc, ".")
		if sc == "usage.record" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Name == name {
			out[n-1].Scopes = append(out[n-1].Scopes, sc)
			continue
		}
		out = append(out, scopeGroup{Name: name, Scopes: []string{sc}})
	}
	slices.SortStableFunc(out, func(a, b scopeGroup) int {
		if (a.Name == "all") != (b.Name == "all") {
			if a.Name == "all" {
				return -1
			}
			return 1
		}
		return 0
	})
	return out
}

func (c *Console) tokens(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	return c.renderTokens(w, r, s, v, http.StatusOK)
}

func (c *Console) renderTokens(w http.ResponseWriter, r *http.Request, s *session, v *view, status int) error {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 0)
	tp, err := c.svc.APITokens(r.Context(), s.p, accountd.TokenQuery{SortField: "creationDate", SortDirection: "desc", Page: page, PerPage: tokensPerPage})
	if err != nil {
		return err
	}
	now := c.svc.Now()
	pg := tokensPage{Total: tp.Total, Page: page, Prev: page - 1, Next: -1, Groups: c.scopeGroups(), Expiries: expiries}
	if (page+1)*tokensPerPage < tp.Total {
		pg.Next = page + 1
	}
	for _, t := range tp.Tokens {
		pg.Tokens = append(pg.Tokens, tokenRow{T: t, Expired: t.Expired(now)})
	}
	if _, ok := v.Forms["create"]; !ok {
		v.setForm("create", form{Values: url.Values{"expiresIn": {"30"}}})
	}
	v.Title, v.Nav, v.Page = "API tokens", "tokens", pg
	c.render(w, r, status, "tokens", v)
	return nil
}

type tokenCreatedPage struct {
	T     *accountd.Token
	Value string
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	f := r.PostForm
	n := service.NewAPIToken{Name: f.Get("name"), Description: f.Get("description"), Scope: f["scope"]}
	if len(n.Scope) == 0 {
		v.setForm("create", form{Values: f, Errors: map[string]string{"scope": "choose at least one scope"}})
		return c.renderTokens(w, r, s, v, http.StatusBadRequest)
	}
	if on := f.Get("expiresOn"); on != "" {
		d, err := time.Parse("2006-01-02", on)
		if err != nil {
			v.setForm("create", form{Values: f, Errors: map[string]string{"expiresOn": "must be a date, YYYY-MM-DD"}})
			return c.renderTokens(w, r, s, v, http.StatusBadRequest)
		}
		end := d.Add(24*time.Hour - time.Millisecond) // the token works through that UTC day
		n.ExpiresAt = &end
	} else if in := f.Get("expiresIn"); in != "never" && in != "" {
		days, err := strconv.Atoi(in)
		if err != nil || days < 1 || days > 3650 {
			v.setForm("create", form{Values: f, Errors: map[string]string{"expiresIn": "choose one of the expiries offered"}})
			return c.renderTokens(w, r, s, v, http.StatusBadRequest)
		}
		end := c.svc.Now().Add(time.Duration(days) * 24 * time.Hour)
		n.ExpiresAt = &end
	}
	t, value, err := c.svc.CreateAPIToken(r.Context(), s.p, n)
	if err != nil {
		return c.formFailed(w, r, s, v, err, "create", map[string]string{"expirationDate": "expiresOn"}, c.renderTokens)
	}
	v.Title, v.Nav, v.Page = "Token created", "tokens", tokenCreatedPage{T: t, Value: value}
	c.render(w, r, http.StatusOK, "token", v)
	return nil
}

func (c *Console) setTokenStatus(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	status := r.PostForm.Get("status")
	if status != accountd.StatusActive && status != accountd.StatusInactive {
		return accountd.Invalid("status", "must be active or inactive")
	}
	if _, err := c.svc.PatchAPIToken(r.Context(), s.p, r.PathValue("id"), service.TokenPatch{Status: &status}); err != nil {
		return err
	}
	redirect(w, r, Prefix+"/tokens", "token-"+status)
	return nil
}

func (c *Console) deleteToken(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	if err := c.svc.DeleteAPIToken(r.Context(), s.p, r.PathValue("id")); err != nil {
		return err
	}
	redirect(w, r, Prefix+"/tokens", "token-deleted")
	return nil
}
