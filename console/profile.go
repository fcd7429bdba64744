package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

// profileFields are the profile's fields, in the order the page shows them.
var profileFields = []struct{ Name, Label, Type, Auto string }{
	{"firstName", "First name", "text", "given-name"},
	{"lastName", "Last name", "text", "family-name"},
	{"companyName", "Company", "text", "organization"},
	{"title", "Title", "text", "organization-title"},
	{"phoneNumber", "Phone number", "tel", "tel"},
	{"location", "Location", "text", "address-level2"},
	{"url", "Website", "url", "url"},
}

type profilePage struct {
	Fields     any
	TwoFactor  bool
	Summary    map[string]int
	RecentApps []accountd.NamedItem
	RecentDash []accountd.NamedItem
	RecentOrgs []accountd.NamedItem
}

func profileValues(u *accountd.User) url.Values {
	return url.Values{
		"firstName": {u.FirstName}, "lastName": {u.LastName}, "companyName": {u.CompanyName},
		"title": {u.Title}, "phoneNumber": {u.PhoneNumber}, "location": {u.Location}, "url": {u.URL},
		"email": {u.Email},
	}
}

func (c *Console) profile(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	return c.renderProfile(w, r, s, v, http.StatusOK)
}

func (c *Console) renderProfile(w http.ResponseWriter, r *http.Request, s *session, v *view, status int) error {
	ctx := r.Context()
	v.Title, v.Nav = "Profile", "profile"
	if _, ok := v.Forms["profile"]; !ok {
		v.setForm("profile", form{Values: profileValues(s.user)})
	}
	if _, ok := v.Forms["email"]; !ok {
		v.setForm("email", form{Values: url.Values{"email": {s.user.Email}}})
	}
	pg := profilePage{Fields: profileFields, TwoFactor: s.twoFactor}
	// recent items and counts need a verified email when that is required
	if s.user.EmailVerified || c.anyEmail {
		mv, err := c.svc.MeView(ctx, s.p, nil, nil)
		if err != nil {
			return err
		}
		pg.Summary = mv.Summary
		for _, l := range []struct {
			typ string
			dst *[]accountd.NamedItem
		}{{"application", &pg.RecentApps}, {"dashboard", &pg.RecentDash}, {"organization", &pg.RecentOrgs}} {
			items, err := c.svc.RecentItems(ctx, s.p, l.typ, "")
			if err != nil {
				return err
			}
			*l.dst = items
		}
	}
	v.Page = pg
	c.render(w, r, status, "profile", v)
	return nil
}

func (c *Console) saveProfile(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	f := r.PostForm
	var m service.MePatch
	for _, fld := range []struct {
		name string
		dst  **string
	}{
		{"firstName", &m.FirstName}, {"lastName", &m.LastName}, {"companyName", &m.CompanyName},
		{"title", &m.Title}, {"phoneNumber", &m.PhoneNumber}, {"location", &m.Location}, {"url", &m.URL},
	} {
		if f.Has(fld.name) {
			val := f.Get(fld.name)
			*fld.dst = &val
		}
	}
	if _, err := c.svc.PatchMe(r.Context(), s.p, m); err != nil {
		return c.formFailed(w, r, s, v, err, "profile", nil, c.renderProfile)
	}
	redirect(w, r, Prefix, "profile")
	return nil
}

func (c *Console) changeEmail(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	f := r.PostForm
	email, pw := f.Get("email"), f.Get("password")
	m := service.MePatch{Email: &email, CurrentPassword: &pw, CurrentTwoFactorCode: f.Get("code")}
	aliases := map[string]string{"currentCredentials.password": "password", "currentCredentials.twoFactorCode": "code", "currentCredentials": "password"}
	if _, err := c.svc.PatchMe(r.Context(), s.p, m); err != nil {
		return c.formFailed(w, r, s, v, err, "email", aliases, c.renderProfile)
	}
	if email == s.user.Email {
		redirect(w, r, Prefix, "") // nothing changed
		return nil
	}
	redirect(w, r, Prefix, "email")
	return nil
}

func (c *Console) resendVerification(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	if err := c.svc.SendVerificationEmail(r.Context(), s.p); err != nil {
		return c.formFailed(w, r, s, v, err, "verify", nil, c.renderProfile)
	}
	redirect(w, r, Prefix, "verify")
	return nil
}

// formFailed shows the page again with err beside the field it is about,
// or passes on errors that are not the person's to fix.
func (c *Console) formFailed(w http.ResponseWriter, r *http.Request, s *session, v *view, err error, name string, aliases map[string]string,
	page func(http.ResponseWriter, *http.Request, *session, *view, int) error) error {
	f, status, ok := formError(err, r.PostForm, aliases)
	if !ok || status == http.StatusUnauthorized {
		return err
	}
	if status == http.StatusTooManyRequests {
		var e *accountd.Error
		if errors.As(err, &e) && e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds())))
		}
	}
	v.setForm(name, f)
	return page(w, r, s, v, status)
}
