package console

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

// loginPage is the sign-in form's data.
type loginPage struct {
	Next    string
	Pending string // sealed email and password waiting for a code
	Email   string
}

// pendingLogin is what a sign-in waiting for its second factor seals into
// the form, so the person types only the code on the second step. It is
// sealed with the server's keys and expires in pendingTTL.
type pendingLogin struct {
	Email    string `json:"e"`
	Password string `json:"p"`
	Expires  int64  `json:"x"`
}

const pendingTTL = 5 * time.Minute

func (c *Console) loginNonce(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(loginCookie); err == nil && len(ck.Value) == 32 {
		return ck.Value
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(c.random, b); err != nil {
		return ""
	}
	n := hex.EncodeToString(b)
	c.setCookie(w, loginCookie, n, int((time.Hour).Seconds()))
	return n
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if p, err := c.svc.Authenticate(r.Context(), ck.Value); err == nil && p.Kind == accountd.KindSession {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
	}
	v := &view{Title: "Sign in", Notice: noticeOf(r), CSRF: c.csrfFor(c.loginNonce(w, r), loginCSRF),
		Page: loginPage{Next: safeNext(r.URL.Query().Get("next"))}}
	c.render(w, r, http.StatusOK, "login", v)
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if !c.sameOrigin(r) {
		http.Error(w, "Forbidden: this form was sent from another site.", http.StatusForbidden)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Bad request: the form could not be read.", http.StatusBadRequest)
		return
	}
	nonce := ""
	if ck, err := r.Cookie(loginCookie); err == nil {
		nonce = ck.Value
	}
	if !c.csrfOK(r, nonce, loginCSRF) {
		http.Error(w, "Forbidden: the sign-in form is out of date or was not sent from this site; reload the page and try again.", http.StatusForbidden)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	v := &view{Title: "Sign in", CSRF: c.csrfFor(nonce, loginCSRF)}
	creds := service.Credentials{Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password")}
	if sealed := r.PostForm.Get("pending"); sealed != "" {
		var pl pendingLogin
		raw, err := c.keys.Open(sealed, pendingContext+" "+nonce)
		if err != nil || json.Unmarshal(raw, &pl) != nil || c.svc.Now().Unix() > pl.Expires {
			v.setForm("login", form{Values: url.Values{"email": {pl.Email}}, Error: "The sign-in took too long; enter your email and password again."})
			v.Page = loginPage{Next: next}
			c.render(w, r, http.StatusBadRequest, "login", v)
			return
		}
		creds.Email, creds.Password = pl.Email, pl.Password
		creds.TwoFactorCode = r.PostForm.Get("code")
	}
	a, err := c.svc.Login(r.Context(), creds)
	if err == nil {
		c.setCookie(w, sessionCookie, a.Token, 0)
		c.setCookie(w, loginCookie, "", -1)
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	var e *accountd.Error
	if errors.As(err, &e) && e.Field == "twoFactorCode" {
		// the password was right: ask for the code, keeping the password
		// sealed rather than in the page
		raw, _ := json.Marshal(pendingLogin{Email: creds.Email, Password: creds.Password, Expires: c.svc.Now().Add(pendingTTL).Unix()})
		sealed, serr := c.keys.Seal(raw, pendingContext+" "+nonce, c.random)
		if serr != nil {
			c.fail(w, r, serr)
			return
		}
		f := form{Values: url.Values{}, Errors: map[string]string{}}
		status := http.StatusOK
		switch {
		case creds.TwoFactorCode != "":
			f.Errors["code"] = "The code is incorrect. Enter the current code from your authenticator app, or a recovery code."
			status = http.StatusUnauthorized
		case r.PostForm.Has("pending"):
			f.Errors["code"] = "Enter the code from your authenticator app, or a recovery code."
			status = http.StatusBadRequest
		}
		v.setForm("code", f)
		v.Page = loginPage{Next: next, Pending: sealed, Email: creds.Email}
		c.render(w, r, status, "login", v)
		return
	}
	f, status, ok := formError(err, r.PostForm, nil)
	if !ok {
		c.fail(w, r, err)
		return
	}
	if creds.TwoFactorCode != "" {
		// throttled or otherwise refused on the code step: start over
		f.Values = url.Values{"email": {creds.Email}}
	}
	if status == http.StatusTooManyRequests && e != nil && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds())))
	}
	v.setForm("login", f)
	v.Page = loginPage{Next: next}
	c.render(w, r, status, "login", v)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	if err := c.svc.EndSession(r.Context(), s.p); err != nil {
		return err
	}
	c.setCookie(w, sessionCookie, "", -1)
	redirect(w, r, Prefix+"/login", "signed-out")
	return nil
}
