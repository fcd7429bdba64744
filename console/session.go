package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/httpx"
	"github.com/accountd/accountd/service"
)

// session is a signed-in request.
type session struct {
	p         accountd.Principal
	user      *accountd.User
	twoFactor bool
	github    string
}

// handler is a page or form of a signed-in user; a returned error is shown
// as a page (an internal one without detail).
type handler func(w http.ResponseWriter, r *http.Request, s *session, v *view) error

// unverifiedActions are the actions a user whose email is not verified
// may take while verification is required, as in the API.
var unverifiedActions = service.UnverifiedActions()

// handle serves a signed-in page: GETs and, for forms, POSTs checked for
// origin and CSRF token. action is the API action whose scope and email
// rule apply.
func (c *Console) handle(pattern, action string, h handler) {
	c.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		post := r.Method == http.MethodPost
		if post {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !c.sameOrigin(r) {
				http.Error(w, "Forbidden: this form was sent from another site.", http.StatusForbidden)
				return
			}
		}
		cookie, err := r.Cookie(sessionCookie)
		if err != nil {
			c.toLogin(w, r)
			return
		}
		p, err := c.svc.Authenticate(r.Context(), cookie.Value)
		if err != nil || p.Kind != accountd.KindSession {
			if err == nil || accountd.ErrorCode(err) == accountd.CodeUnauthorized {
				c.setCookie(w, sessionCookie, "", -1)
				c.toLogin(w, r)
				return
			}
			c.fail(w, r, err)
			return
		}
		if post {
			if err := r.ParseForm(); err != nil {
				http.Error(w, "Bad request: the form could not be read.", http.StatusBadRequest)
				return
			}
			if !c.csrfOK(r, p.TokenID, csrfContext) {
				http.Error(w, "Forbidden: the form is out of date or was not sent from this site; reload the page and try again.", http.StatusForbidden)
				return
			}
			// whatever the write, the person reads it back at once
			w = &httpx.BeforeAnswer{ResponseWriter: w, Fn: func() { c.svc.ForgetMe(p.UserID) }}
		}
		mv, err := c.svc.MeView(r.Context(), p, nil, nil)
		if err != nil {
			if accountd.ErrorCode(err) == accountd.CodeUnauthorized {
				c.setCookie(w, sessionCookie, "", -1)
				c.toLogin(w, r)
				return
			}
			c.fail(w, r, err)
			return
		}
		s := &session{p: p, user: mv.User, twoFactor: mv.Security.TwoFactorAuthEnabled, github: mv.Security.GithubName}
		v := &view{User: mv.User, CSRF: c.csrfFor(p.TokenID, csrfContext), Notice: noticeOf(r)}
		if !mv.User.EmailVerified && !c.anyEmail && !unverifiedActions[action] {
			v.Title = "Verify your email address first"
			c.message(w, r, http.StatusForbidden, v, "Your email address "+mv.User.Email+
				" is not verified yet. Follow the link in the verification message, or ask for a new one on your profile page; then this page opens.")
			return
		}
		if !c.svc.Catalog().Allows(p.Scope, action) {
			v.Title = "Not allowed"
			c.message(w, r, http.StatusForbidden, v, "This session's scope does not grant "+action+".")
			return
		}
		if err := h(w, r, s, v); err != nil {
			if accountd.ErrorCode(err) == accountd.CodeUnauthorized {
				c.setCookie(w, sessionCookie, "", -1)
				c.toLogin(w, r)
				return
			}
			var e *accountd.Error
			if st := statusOf(accountd.ErrorCode(err)); st != http.StatusInternalServerError && errors.As(err, &e) {
				v.Title = http.StatusText(st)
				c.message(w, r, st, v, e.Message)
				return
			}
			c.fail(w, r, err)
		}
	}))
}

// maxForm bounds a form's body.
const maxForm = 64 << 10

// toLogin sends a signed-out visitor to the sign-in page, to come back to
// the page they asked for (GETs only: a form is not sent twice).
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	to := Prefix + "/login"
	if r.Method == http.MethodGet && r.URL.Path != Prefix {
		to += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
