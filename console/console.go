// Package console is accountd's web account console: the pages at /account
// where a person signs in and manages their own account (profile, password,
// two-factor authentication, GitHub link, API tokens, invitations,
// organizations, usage, deleting the account) in a browser.
//
// It sits beside httpapi, on the same listener (Mount puts the two
// together), and calls the same service methods the API handlers call, so
// every rule, throttle and error is the API's. Pages are html/template
// files and the stylesheet and the one small script are embedded; every page
// works without JavaScript, and nothing is loaded from another origin.
//
// A console session is a session token issued by service.Login, kept in an
// HttpOnly cookie and checked with service.Authenticate on every request,
// so it is revoked like any other token (sign-out deletes it; a password
// change that signs out everywhere else cuts it off). Every form carries a
// CSRF token sealed to the session's token id (to a cookie nonce before
// sign-in) with the server's keys, which all instances share, and a POST
// from another origin is refused whatever it carries.
package console

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/httpx"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console lives.
const Prefix = "/account"

// Config is what the console needs; Service and Keys are required.
type Config struct {
	Service *service.Service
	// Keys seal CSRF tokens and a sign-in waiting for its second factor;
	// they must be the keys the service signs tokens with, which every
	// instance shares.
	Keys   *secret.Keyring
	Logger *slog.Logger
	// PublicURL is the base URL users reach the server at; the session
	// cookie is Secure when it is https, and POSTs must come from its
	// origin (or the request's own host). Default: the service's.
	PublicURL string
	// TrustForwardedFor takes the client address for login throttling from
	// the last X-Forwarded-For entry, as the API does.
	TrustForwardedFor bool
	// AllowUnverifiedEmail lets users whose email is not verified use every
	// page; by default they may only see and edit their profile and ask for
	// a new verification message, as in the API.
	AllowUnverifiedEmail bool
}

// Console is the console's http.Handler.
type Console struct {
	svc      *service.Service
	keys     *secret.Keyring
	log      *slog.Logger
	secure   bool
	origin   string // scheme://host of PublicURL
	trustXFF bool
	anyEmail bool
	pages    map[string]*template.Template
	mux      *http.ServeMux
	static   http.Handler
	random   io.Reader
}

// New builds the console.
func New(cfg Config) (*Console, error) {
	if cfg.Service == nil || cfg.Keys == nil {
		return nil, errors.New("console: Service and Keys are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = cfg.Service.PublicURL()
	}
	pu, err := url.Parse(cfg.PublicURL)
	if err != nil || pu.Host == "" || (pu.Scheme != "http" && pu.Scheme != "https") {
		return nil, errors.New("console: PublicURL must be an http or https URL")
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	c := &Console{
		svc: cfg.Service, keys: cfg.Keys, log: cfg.Logger,
		secure: pu.Scheme == "https", origin: pu.Scheme + "://" + pu.Host,
		trustXFF: cfg.TrustForwardedFor, anyEmail: cfg.AllowUnverifiedEmail,
		pages: pages, mux: http.NewServeMux(), random: rand.Reader,
		static: http.StripPrefix(Prefix+"/static/", http.FileServerFS(sub)),
	}
	c.routes()
	return c, nil
}

// Mount serves the console under Prefix and everything else with api.
func Mount(api http.Handler, c *Console) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Prefix || strings.HasPrefix(r.URL.Path, Prefix+"/") {
			c.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			id := c.newID()
			c.log.ErrorContext(r.Context(), "console panic", "panic", v, "path", r.URL.Path, "error_id", id)
			http.Error(w, "Something went wrong on our side; quote error "+id+" to the operator.", http.StatusInternalServerError)
		}
	}()
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	r = r.WithContext(accountd.WithClient(r.Context(), accountd.Client{Address: c.clientAddr(r), UserAgent: r.UserAgent(), Console: true}))
	c.mux.ServeHTTP(w, r)
}

// csp allows only this origin's stylesheet, script and images: no inline
// script or style, no framing, forms post only here.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (c *Console) clientAddr(r *http.Request) string { return httpx.ClientAddr(r, c.trustXFF) }

func (c *Console) newID() string {
	b := make([]byte, 6)
	if _, err := io.ReadFull(c.random, b); err != nil {
		return "unknown"
	}
	return hex.EncodeToString(b)
}

// Cookies.
const (
	sessionCookie = "accountd_session"
	loginCookie   = "accountd_login" // nonce the sign-in form's CSRF token is sealed to
)

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
}

// Seal contexts.
const (
	csrfContext    = "accountd console csrf"
	loginCSRF      = "accountd console login csrf"
	pendingContext = "accountd console pending sign-in"
)

// csrfFor seals the session's token id: only this server can make one, and
// it is good for this session only.
func (c *Console) csrfFor(tokenID, ctxName string) string {
	s, err := c.keys.Seal([]byte(tokenID), ctxName, c.random)
	if err != nil {
		c.log.Error("sealing a CSRF token", "err", err)
		return ""
	}
	return s
}

func (c *Console) csrfOK(r *http.Request, tokenID, ctxName string) bool {
	if tokenID == "" {
		return false
	}
	raw, err := c.keys.Open(r.PostFormValue("csrf"), ctxName)
	return err == nil && string(raw) == tokenID
}

// sameOrigin refuses a POST a browser says comes from elsewhere. Browsers
// send Origin on every form POST; older ones may send only Sec-Fetch-Site
// or nothing, in which case the CSRF token alone decides.
func (c *Console) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		if o == c.origin {
			return true
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return o == scheme+"://"+r.Host
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	return true
}

// safeNext returns where to go after signing in: a console path, never
// another site (no scheme, no host, no "//" or "\" tricks).
func safeNext(next string) string {
	if next == "" || strings.ContainsAny(next, "\\\x00\r\n\t") || strings.HasPrefix(next, "//") {
		return Prefix
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return Prefix
	}
	if u.Path != Prefix && !strings.HasPrefix(u.Path, Prefix+"/") || strings.Contains(u.Path, "/../") || strings.HasSuffix(u.Path, "/..") {
		return Prefix
	}
	return u.RequestURI()
}
