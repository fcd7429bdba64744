package httpapi

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

// allowUnverified lists the actions a user whose email is not verified may
// call while verification is required (the rule is the service's, which the
// web console applies too).
var allowUnverified = service.UnverifiedActions()

var errUnverified = accountd.Errorf(accountd.CodeForbidden,
	"the email address must be verified first: follow the link in the verification message, or ask for a new one with POST /me/verify-email")

type twoFactorKeyBody struct {
	Key    string `json:"key"`
	KeyURI string `json:"keyUri"`
}

func (s *Server) generateTwoFactorAuth(w http.ResponseWriter, r *http.Request) error {
	k, err := s.svc.GenerateTwoFactorAuth(r.Context(), principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, twoFactorKeyBody{Key: k.Key, KeyURI: k.KeyURI})
	return nil
}

type enableTwoFactorBody struct {
	Password         string `json:"password"`
	TwoFactorCode    string `json:"twoFactorCode"`
	TwoFactorAuthKey string `json:"twoFactorAuthKey"`
}

// meWithCodesBody is me plus the recovery codes, which enabling shows once.
type meWithCodesBody struct {
	meBody
	RecoveryCodes []string `json:"recoveryCodes"`
}

func (s *Server) enableTwoFactorAuth(w http.ResponseWriter, r *http.Request) error {
	var b enableTwoFactorBody
	if err := s.decode(r, "multiFactorAuthEnable", &b); err != nil {
		return err
	}
	u, codes, err := s.svc.EnableTwoFactorAuth(r.Context(), principal(r), service.EnableTwoFactor{
		Password: b.Password, TwoFactorCode: b.TwoFactorCode, Key: b.TwoFactorAuthKey,
	})
	if err != nil {
		return err
	}
	m, err := s.meFor(r, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, meWithCodesBody{meBody: m, RecoveryCodes: codes})
	return nil
}

type passwordAndCodeBody struct {
	Password      string `json:"password"`
	TwoFactorCode string `json:"twoFactorCode"`
}

func (s *Server) disableTwoFactorAuth(w http.ResponseWriter, r *http.Request) error {
	var b passwordAndCodeBody
	if err := s.decode(r, "multiFactorAuthDisable", &b); err != nil {
		return err
	}
	u, err := s.svc.DisableTwoFactorAuth(r.Context(), principal(r), b.Password, b.TwoFactorCode)
	if err != nil {
		return err
	}
	return s.writeMe(r.Context(), w, r, u)
}

type recoveryCodesBody struct {
	RecoveryCodes []string `json:"recoveryCodes"`
}

func (s *Server) regenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	var b passwordAndCodeBody
	if err := s.decode(r, "multiFactorAuthDisable", &b); err != nil {
		return err
	}
	codes, err := s.svc.RegenerateRecoveryCodes(r.Context(), principal(r), b.Password, b.TwoFactorCode)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recoveryCodesBody{RecoveryCodes: codes})
	return nil
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.SendVerificationEmail(r.Context(), principal(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, success)
	return nil
}

func (s *Server) disconnectGithub(w http.ResponseWriter, r *http.Request) error {
	u, err := s.svc.DisconnectGithub(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.writeMe(r.Context(), w, r, u)
}

type githubConnectBody struct {
	AuthorizeURL string `json:"authorizeUrl"`
}

func (s *Server) connectGithub(w http.ResponseWriter, r *http.Request) error {
	u, err := s.svc.GithubConnectURL(r.Context(), principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, githubConnectBody{AuthorizeURL: u})
	return nil
}

type githubLoginBody struct {
	AccessToken     string   `json:"accessToken"`
	TwoFactorCode   string   `json:"twoFactorCode"`
	RequestedScopes []string `json:"requestedScopes"`
	TokenTTL        *int64   `json:"tokenTTL"`
}

func (s *Server) loginGithub(w http.ResponseWriter, r *http.Request) error {
	var b githubLoginBody
	if err := s.decode(r, "githubLogin", &b); err != nil {
		return err
	}
	a, err := s.svc.LoginGithub(r.Context(), service.GithubCredentials{
		AccessToken: b.AccessToken, TwoFactorCode: b.TwoFactorCode, RequestedScopes: b.RequestedScopes, TokenTTL: b.TokenTTL,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, authedUserJSON(a))
	return nil
}

// The pages below are opened in a browser from a message or by GitHub's
// redirect, so they answer in HTML, errors included.

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>{{.Title}} — accountd</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto; padding: 0 1em">
<h1>{{.Title}}</h1><p>{{.Text}}</p>
{{if .Token}}<form method="post" action="{{.Action}}"><input type="hidden" name="token" value="{{.Token}}">
<button type="submit">{{.Button}}</button></form>{{end}}
</body></html>
`))

type page struct {
	Title, Text   string
	Action, Token string
	Button        string
}

func (s *Server) writePage(w http.ResponseWriter, r *http.Request, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	// no framing: the pages' buttons must not be clickjacked
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, p); err != nil {
		s.log.WarnContext(r.Context(), "rendering page", "err", err)
	}
}

// writePageError shows err on a page; internal errors are logged and shown
// only by request id, as writeError does for JSON.
func (s *Server) writePageError(w http.ResponseWriter, r *http.Request, title string, err error) {
	var e *accountd.Error
	if !errors.As(err, &e) {
		e = accountd.Internal(err)
	}
	status := statusOf(e.Code)
	msg := e.Message
	if status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", requestID(r.Context()))
		msg = "Something went wrong on our side; quote request id " + requestID(r.Context()) + " to the operator."
	}
	s.writePage(w, r, status, page{Title: title, Text: msg})
}

// verifyEmailPage is where a verification link lands. It does not use the
// link up: mail scanners and link previews open links on their own, so the
// page asks the person to confirm with a button, which POSTs.
func (s *Server) verifyEmailPage(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	email, err := s.svc.CheckVerificationLink(r.Context(), token)
	if err != nil {
		s.writePageError(w, r, "Email not verified", err)
		return nil
	}
	s.writePage(w, r, http.StatusOK, page{
		Title: "Verify your email address", Text: "Confirm that " + email + " is your email address.",
		Action: service.VerifyEmailPath, Token: token, Button: "Verify " + email,
	})
	return nil
}

func (s *Server) confirmEmail(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		s.writePageError(w, r, "Email not verified", accountd.Invalid("token", "could not be read from the form"))
		return nil
	}
	u, err := s.svc.VerifyEmail(r.Context(), r.PostForm.Get("token"))
	if err != nil {
		s.writePageError(w, r, "Email not verified", err)
		return nil
	}
	s.writePage(w, r, http.StatusOK, page{Title: "Email verified", Text: u.Email + " is verified. You can close this page."})
	return nil
}

func (s *Server) githubCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		s.writePageError(w, r, "GitHub not linked", accountd.Errorf(accountd.CodeUnauthorized, "GitHub did not grant access"))
		return nil
	}
	pd, err := s.svc.GithubCallback(r.Context(), q.Get("code"), q.Get("state"))
	if err != nil {
		s.writePageError(w, r, "GitHub not linked", err)
		return nil
	}
	s.writePage(w, r, http.StatusOK, page{
		Title: "Link your GitHub account",
		Text: "Link the GitHub account " + pd.Login + " to the accountd account " + pd.Email +
			"? If " + pd.Email + " is not your account, close this page: someone else started this link.",
		Action: githubCallbackPath, Token: pd.Token, Button: "Link " + pd.Login + " to " + pd.Email,
	})
	return nil
}

// githubCallbackPath is where the confirmation form posts.
const githubCallbackPath = "/auth/github/callback"

func (s *Server) githubConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		s.writePageError(w, r, "GitHub not linked", accountd.Invalid("token", "could not be read from the form"))
		return nil
	}
	l, err := s.svc.GithubConfirm(r.Context(), r.PostForm.Get("token"))
	if err != nil {
		s.writePageError(w, r, "GitHub not linked", err)
		return nil
	}
	s.writePage(w, r, http.StatusOK, page{Title: "GitHub linked", Text: "The GitHub account " + l.Login + " is now linked. You can close this page."})
	return nil
}
