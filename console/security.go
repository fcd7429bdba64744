package console

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/accountd/accountd/service"
	"github.com/boombuler/barcode/qr"
)

type securityPage struct {
	TwoFactor     bool
	Github        string
	GithubEnabled bool
	// Sessions are the user's live login sessions, listed when the
	// session's scope grants me.sessions (ShowSessions).
	ShowSessions bool
	Sessions     []service.Session
}

func (c *Console) security(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	return c.renderSecurity(w, r, s, v, http.StatusOK)
}

func (c *Console) renderSecurity(w http.ResponseWriter, r *http.Request, s *session, v *view, status int) error {
	v.Title, v.Nav = "Security", "security"
	page := securityPage{TwoFactor: s.twoFactor, Github: s.github, GithubEnabled: c.svc.GithubEnabled()}
	if c.svc.Catalog().Allows(s.p.Scope, "sessions.get") {
		sessions, err := c.svc.Sessions(r.Context(), s.p)
		if err != nil {
			return err
		}
		page.ShowSessions, page.Sessions = true, sessions
	}
	v.Page = page
	c.render(w, r, status, "security", v)
	return nil
}

func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	f := r.PostForm
	if f.Get("newPassword") != f.Get("confirmPassword") {
		v.setForm("password", form{Values: url.Values{"signOutOthers": f["signOutOthers"]},
			Errors: map[string]string{"confirmPassword": "does not match the new password"}})
		return c.renderSecurity(w, r, s, v, http.StatusBadRequest)
	}
	others := f.Get("signOutOthers") == "on"
	a, err := c.svc.ChangePassword(r.Context(), s.p, service.ChangePassword{
		Password: f.Get("password"), NewPassword: f.Get("newPassword"), TwoFactorCode: f.Get("code"),
		InvalidateExistingTokens: others,
	})
	if err != nil {
		return c.formFailed(w, r, s, v, err, "password", map[string]string{"twoFactorCode": "code"}, c.renderSecurity)
	}
	// the change hands out a fresh session; this one goes, unless the
	// cut-off already took it with every other
	c.setCookie(w, sessionCookie, a.Token, 0)
	if !others {
		if err := c.svc.EndSession(r.Context(), s.p); err != nil {
			return err
		}
		redirect(w, r, Prefix+"/security", "password")
		return nil
	}
	redirect(w, r, Prefix+"/security", "password-all")
	return nil
}

type twoFactorPage struct {
	Key    string
	KeyURI string
	QR     template.HTML
}

func (c *Console) generateTwoFactor(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	k, err := c.svc.GenerateTwoFactorAuth(r.Context(), s.p)
	if err != nil {
		return c.formFailed(w, r, s, v, err, "2fa", nil, c.renderSecurity)
	}
	return c.renderTwoFactor(w, r, v, k.Key, k.KeyURI, http.StatusOK)
}

func (c *Console) renderTwoFactor(w http.ResponseWriter, r *http.Request, v *view, key, uri string, status int) error {
	svg, err := qrSVG(uri)
	if err != nil {
		return err
	}
	v.Title, v.Nav = "Set up two-factor authentication", "security"
	v.Page = twoFactorPage{Key: key, KeyURI: uri, QR: svg}
	c.render(w, r, status, "twofactor", v)
	return nil
}

func (c *Console) enableTwoFactor(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	f := r.PostForm
	key, uri := f.Get("key"), f.Get("keyUri")
	if !strings.HasPrefix(uri, "otpauth://") {
		return c.renderSecurity(w, r, s, v, http.StatusBadRequest)
	}
	_, codes, err := c.svc.EnableTwoFactorAuth(r.Context(), s.p, service.EnableTwoFactor{
		Password: f.Get("password"), TwoFactorCode: f.Get("code"), Key: key,
	})
	if err != nil {
		fe, status, ok := formError(err, f, map[string]string{"twoFactorCode": "code", "twoFactorAuthKey": "code"})
		if !ok || status == http.StatusUnauthorized {
			return err
		}
		v.setForm("enable", fe)
		return c.renderTwoFactor(w, r, v, key, uri, status)
	}
	return c.renderCodes(w, r, v, codes, "Two-factor authentication is on")
}

type codesPage struct{ Codes []string }

func (c *Console) renderCodes(w http.ResponseWriter, r *http.Request, v *view, codes []string, title string) error {
	v.Title, v.Nav = title, "security"
	v.Page = codesPage{Codes: codes}
	c.render(w, r, http.StatusOK, "codes", v)
	return nil
}

func (c *Console) disableTwoFactor(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	f := r.PostForm
	if _, err := c.svc.DisableTwoFactorAuth(r.Context(), s.p, f.Get("password"), f.Get("code")); err != nil {
		return c.formFailed(w, r, s, v, err, "disable", map[string]string{"twoFactorCode": "code"}, c.renderSecurity)
	}
	redirect(w, r, Prefix+"/security", "2fa-off")
	return nil
}

func (c *Console) regenerateCodes(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	f := r.PostForm
	codes, err := c.svc.RegenerateRecoveryCodes(r.Context(), s.p, f.Get("password"), f.Get("code"))
	if err != nil {
		return c.formFailed(w, r, s, v, err, "codes", map[string]string{"twoFactorCode": "code"}, c.renderSecurity)
	}
	return c.renderCodes(w, r, v, codes, "New recovery codes")
}

// connectGithub sends the browser to GitHub's consent page. It changes
// nothing: the link is made only when the person confirms on accountd's
// own page after GitHub sends them back.
func (c *Console) connectGithub(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	u, err := c.svc.GithubConnectURL(r.Context(), s.p)
	if err != nil {
		return err
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

func (c *Console) disconnectGithub(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	if _, err := c.svc.DisconnectGithub(r.Context(), s.p); err != nil {
		return c.formFailed(w, r, s, v, err, "github", nil, c.renderSecurity)
	}
	redirect(w, r, Prefix+"/security", "github-off")
	return nil
}

// qrSVG draws content as a QR code in SVG, one path of dark modules with a
// quiet zone of four, drawn here so no other service sees the key.
func qrSVG(content string) (template.HTML, error) {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return "", err
	}
	b := code.Bounds()
	n := b.Dx()
	const quiet = 4
	var d strings.Builder
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if r, _, _, _ := code.At(b.Min.X+x, b.Min.Y+y).RGBA(); r == 0 {
				fmt.Fprintf(&d, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	size := n + 2*quiet
	// every value is a number or the fixed path syntax above
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="220" height="220" role="img" aria-label="QR code of the key" shape-rendering="crispEdges">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`, size, size, size, size, d.String())), nil
}
