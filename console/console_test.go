package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/console"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/secret"
)

var ctx = context.Background()

// visitor is a browser without script over plain HTTP: it keeps cookies,
// does not follow redirects (tests look at them), and sends each form's
// CSRF token from the last page it read.
type visitor struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func newVisitor(t *testing.T, base string) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &visitor{t: t, base: base, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (v *visitor) do(req *http.Request) (*http.Response, string) {
	v.t.Helper()
	resp, err := v.hc.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	body := string(b)
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		v.csrf = m[1]
	}
	return resp, body
}

func (v *visitor) get(path string) (*http.Response, string) {
	v.t.Helper()
	req, err := http.NewRequest("GET", v.base+path, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(req)
}

// post sends a form from this site, with the last CSRF token read unless
// vals has its own.
func (v *visitor) post(path string, vals url.Values) (*http.Response, string) {
	v.t.Helper()
	return v.postFrom(v.base, path, vals)
}

func (v *visitor) postFrom(origin, path string, vals url.Values) (*http.Response, string) {
	v.t.Helper()
	if vals == nil {
		vals = url.Values{}
	}
	if !vals.Has("csrf") {
		vals.Set("csrf", v.csrf)
	}
	req, err := http.NewRequest("POST", v.base+path, strings.NewReader(vals.Encode()))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return v.do(req)
}

// signIn signs in through the form and returns the session cookie.
func (v *visitor) signIn(email, password string) *http.Cookie {
	v.t.Helper()
	v.get("/account/login")
	resp, body := v.post("/account/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		v.t.Fatalf("sign in: status %d, want 303; page:\n%s", resp.StatusCode, body)
	}
	return v.cookie("accountd_session")
}

func (v *visitor) cookie(name string) *http.Cookie {
	u, _ := url.Parse(v.base + "/account")
	for _, c := range v.hc.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func wantStatus(t *testing.T, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, body)
	}
}

func wantRedirect(t *testing.T, resp *http.Response, want string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("%s %s: status %d, want a redirect to %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want)
	}
	if got := resp.Header.Get("Location"); got != want {
		t.Fatalf("%s %s: redirect to %q, want %q", resp.Request.Method, resp.Request.URL.Path, got, want)
	}
}

var inlineCode = regexp.MustCompile(`(?i)<script(\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=|javascript:`)

// checkPage checks what every console page must have: a strict CSP, no
// framing, no caching, no inline code and nothing from another origin.
func checkPage(t *testing.T, path string, resp *http.Response, body string) {
	t.Helper()
	wantStatus(t, resp, body, http.StatusOK)
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: Content-Security-Policy %q allows inline code", path, csp)
	}
	if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: headers %v", path, h)
	}
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("%s: inline code %q in the page", path, m)
	}
	// the only absolute URL allowed is the SVG namespace
	rest := strings.ReplaceAll(body, `xmlns="http://www.w3.org/2000/svg"`, "")
	if strings.Contains(rest, "http://") || strings.Contains(rest, "https://") {
		t.Errorf("%s: the page names another origin", path)
	}
}

func TestHeadersAndNoInlineCode(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "hedy@example.com")
	v := newVisitor(t, env.URL)
	resp, body := v.get("/account/login")
	checkPage(t, "/account/login", resp, body)
	v.signIn("hedy@example.com", testenv.Password)
	for _, path := range []string{"/account", "/account/security", "/account/tokens", "/account/invitations",
		"/account/organizations", "/account/usage", "/account/delete"} {
		resp, body := v.get(path)
		checkPage(t, path, resp, body)
	}
	resp, body = v.post("/account/security/2fa/generate", nil)
	checkPage(t, "2fa setup", resp, body)
	if !strings.Contains(body, `<svg xmlns="http://www.w3.org/2000/svg"`) || !strings.Contains(body, `id="totp-key"`) {
		t.Errorf("2fa setup: want a QR code and the key; page:\n%s", body)
	}
	for _, path := range []string{"/account/static/console.css", "/account/static/console.js"} {
		resp, body := v.get(path)
		wantStatus(t, resp, body, http.StatusOK)
	}
	resp, body = v.get("/account/nothing-here")
	wantStatus(t, resp, body, http.StatusNotFound)
	// the API is still beside it
	resp, body = v.get("/healthz")
	wantStatus(t, resp, body, http.StatusOK)
}

func TestSignedOutRedirects(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "grace@example.com")
	v := newVisitor(t, env.URL)
	resp, _ := v.get("/account/tokens?page=0")
	wantRedirect(t, resp, "/account/login?next="+url.QueryEscape("/account/tokens?page=0"))
	resp, _ = v.get("/account")
	wantRedirect(t, resp, "/account/login")
	resp, _ = v.post("/account/profile", url.Values{"firstName": {"x"}})
	wantRedirect(t, resp, "/account/login")

	for _, tc := range []struct{ next, want string }{
		{"/account/tokens?page=0", "/account/tokens?page=0"},
		{"/account/usage", "/account/usage"},
		{"//evil.example/account", "/account"},
		{"https://evil.example/account", "/account"},
		{"/\\evil.example", "/account"},
		{"/account/../healthz", "/account"},
		{"/healthz", "/account"},
		{"javascript:alert(1)", "/account"},
		{"", "/account"},
	} {
		t.Run(tc.next, func(t *testing.T) {
			v := newVisitor(t, env.URL)
			v.get("/account/login?next=" + url.QueryEscape(tc.next))
			resp, body := v.post("/account/login", url.Values{"email": {"grace@example.com"}, "password": {testenv.Password}, "next": {tc.next}})
			wantStatus(t, resp, body, http.StatusSeeOther)
			wantRedirect(t, resp, tc.want)
		})
	}
	// signed in, the sign-in page sends you on
	v.signIn("grace@example.com", testenv.Password)
	resp, _ = v.get("/account/login?next=%2Faccount%2Fusage")
	wantRedirect(t, resp, "/account/usage")
}

func TestCookieFlags(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "ada@example.com")
	check := func(t *testing.T, h http.Handler, base string, secure bool) {
		v := newVisitor(t, base)
		v.hc.Transport = handlerTransport{h}
		_, body := v.get("/account/login")
		resp, body := v.post("/account/login", url.Values{"email": {"ada@example.com"}, "password": {testenv.Password}})
		wantStatus(t, resp, body, http.StatusSeeOther)
		var session *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "accountd_session" {
				session = c
			}
		}
		if session == nil {
			t.Fatal("no session cookie set")
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/account" || session.Secure != secure {
			t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/account, Secure=%v", session, secure)
		}
		if _, err := env.Service.Authenticate(ctx, session.Value); err != nil {
			t.Errorf("the cookie is not a session token the service accepts: %v", err)
		}
	}
	t.Run("http", func(t *testing.T) {
		c, err := console.New(console.Config{Service: env.Service, Keys: env.Keys})
		if err != nil {
			t.Fatal(err)
		}
		check(t, c, env.URL, false)
	})
	t.Run("https", func(t *testing.T) {
		c, err := console.New(console.Config{Service: env.Service, Keys: env.Keys, PublicURL: "https://accounts.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		check(t, c, "https://accounts.example.com", true)
	})
}

// handlerTransport serves requests with a handler in memory.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	req.RemoteAddr = "192.0.2.1:1234"
	ht.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "ada@example.com")
	env.User(t, "mallory@example.com")
	v := newVisitor(t, env.URL)
	v.signIn("ada@example.com", testenv.Password)
	resp, body := v.get("/account")
	wantStatus(t, resp, body, http.StatusOK)

	m := newVisitor(t, env.URL)
	m.signIn("mallory@example.com", testenv.Password)
	m.get("/account")
	mallorys := m.csrf

	for _, tc := range []struct {
		name   string
		origin string
		csrf   string
	}{
		{"no token", env.URL, ""},
		{"garbage token", env.URL, "k1:AAAA"},
		{"another session's token", env.URL, mallorys},
		{"another origin", "https://evil.example", ""},
		{"null origin", "null", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := url.Values{"firstName": {"Pwned"}}
			if tc.csrf != "" || tc.origin == env.URL {
				vals.Set("csrf", tc.csrf)
			}
			resp, body := v.postFrom(tc.origin, "/account/profile", vals)
			wantStatus(t, resp, body, http.StatusForbidden)
		})
	}
	me, err := env.Service.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range me {
		if u.FirstName == "Pwned" {
			t.Fatalf("a refused form changed %s", u.Email)
		}
	}
	// the same form with the page's token goes through
	resp, _ = v.post("/account/profile", url.Values{"firstName": {"Ada"}})
	wantRedirect(t, resp, "/account?done=profile")

	// the sign-in form is bound to its cookie too
	w := newVisitor(t, env.URL)
	resp, body = w.post("/account/login", url.Values{"email": {"ada@example.com"}, "password": {testenv.Password}})
	wantStatus(t, resp, body, http.StatusForbidden)
	w.get("/account/login")
	resp, body = w.postFrom("https://evil.example", "/account/login", url.Values{"email": {"ada@example.com"}, "password": {testenv.Password}})
	wantStatus(t, resp, body, http.StatusForbidden)
}

func TestRevokedSessionRefused(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "ada@example.com")

	t.Run("sign out", func(t *testing.T) {
		v := newVisitor(t, env.URL)
		old := v.signIn("ada@example.com", testenv.Password)
		v.get("/account")
		resp, _ := v.post("/account/logout", nil)
		wantRedirect(t, resp, "/account/login?done=signed-out")
		if _, err := env.Service.Authenticate(ctx, old.Value); err == nil {
			t.Fatal("the session token still authenticates after signing out")
		}
		// a copy of the old cookie is refused
		again := newVisitor(t, env.URL)
		u, _ := url.Parse(env.URL + "/account")
		again.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "accountd_session", Value: old.Value, Path: "/account"}})
		resp, _ = again.get("/account/security")
		wantRedirect(t, resp, "/account/login?next=%2Faccount%2Fsecurity")
	})
	t.Run("password changed elsewhere", func(t *testing.T) {
		v := newVisitor(t, env.URL)
		v.signIn("ada@example.com", testenv.Password)
		resp, body := v.get("/account")
		wantStatus(t, resp, body, http.StatusOK)
		api := env.Login(t, "ada@example.com")
		if _, err := api.Me.ChangePassword(ctx, client.ChangePassword{Password: testenv.Password, NewPassword: "An0ther-secret-pw", InvalidateExistingTokens: true}); err != nil {
			t.Fatal(err)
		}
		resp, _ = v.get("/account")
		wantRedirect(t, resp, "/account/login")
	})
}

func TestFormErrorsKeepValues(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "ada@example.com")
	v := newVisitor(t, env.URL)
	v.signIn("ada@example.com", testenv.Password)
	v.get("/account")

	long := strings.Repeat("x", 1025)
	resp, body := v.post("/account/profile", url.Values{"firstName": {"Augusta"}, "title": {long}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	for _, want := range []string{`value="Augusta"`, `value="` + long + `"`, `id="pf-title-err">must be at most 1024 characters`, `aria-invalid="true"`} {
		if !strings.Contains(body, want) {
			t.Errorf("profile page after an error lacks %.80q", want)
		}
	}

	resp, body = v.post("/account/email", url.Values{"email": {"augusta@example.com"}, "password": {"Wrong-password-1"}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	if !strings.Contains(body, `id="em-password-err">is incorrect`) || !strings.Contains(body, `value="augusta@example.com"`) {
		t.Errorf("email form: want the error beside the password and the email kept; page:\n%s", body)
	}
	if strings.Contains(body, "Wrong-password-1") {
		t.Error("the password typed is written back into the page")
	}

	resp, body = v.post("/account/tokens", url.Values{"name": {"ci"}, "expiresIn": {"30"}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	if !strings.Contains(body, "choose at least one scope") || !strings.Contains(body, `value="ci"`) {
		t.Errorf("token form: want the scope error and the name kept")
	}
	resp, body = v.post("/account/tokens", url.Values{"name": {"ci"}, "scope": {"me.get", "no.such"}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	if !strings.Contains(body, `id="tk-scope-err">&#34;no.such&#34; is not a scope this service grants`) ||
		!strings.Contains(body, `value="me.get" checked`) {
		t.Errorf("token form: want the service's scope error; page:\n%s", body)
	}

	// the same throttle as the API: five wrong passwords, then 429
	env.User(t, "eve@example.com")
	w := newVisitor(t, env.URL)
	w.get("/account/login")
	for i := range 6 {
		resp, body = w.post("/account/login", url.Values{"email": {"eve@example.com"}, "password": {"Wrong-password-1"}})
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		wantStatus(t, resp, body, want)
	}
	if resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "too many failed attempts") || !strings.Contains(body, `value="eve@example.com"`) {
		t.Errorf("throttled sign-in: Retry-After %q; page:\n%s", resp.Header.Get("Retry-After"), body)
	}
}

func TestTwoFactorSignIn(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	env := testenv.Start(t, "sqlite", testenv.Options{Clock: clock.Now})
	env.User(t, "ada@example.com")
	api := env.Login(t, "ada@example.com")
	info, err := api.Me.GenerateTwoFactorAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		clock.Add(secret.TOTPPeriod * time.Second)
		c, err := secret.TOTPCode(info.Key, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	me, err := api.Me.EnableTwoFactorAuth(ctx, client.MultiFactorAuthEnable{Password: testenv.Password, TwoFactorCode: code()})
	if err != nil {
		t.Fatal(err)
	}

	v := newVisitor(t, env.URL)
	v.get("/account/login?next=%2Faccount%2Ftokens")
	resp, body := v.post("/account/login", url.Values{"email": {"ada@example.com"}, "password": {testenv.Password}, "next": {"/account/tokens"}})
	wantStatus(t, resp, body, http.StatusOK)
	pending := regexp.MustCompile(`name="pending" value="([^"]+)"`).FindStringSubmatch(body)
	if pending == nil || strings.Contains(body, testenv.Password) {
		t.Fatalf("want the code step with the password sealed, not shown; page:\n%s", body)
	}
	resp, body = v.post("/account/login", url.Values{"pending": {pending[1]}, "code": {""}, "next": {"/account/tokens"}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	if !strings.Contains(body, `id="login-code-err">Enter the code`) {
		t.Errorf("empty code: page:\n%s", body)
	}
	resp, body = v.post("/account/login", url.Values{"pending": {pending[1]}, "code": {"000000"}, "next": {"/account/tokens"}})
	wantStatus(t, resp, body, http.StatusUnauthorized)
	if !strings.Contains(body, "The code is incorrect") {
		t.Errorf("wrong code: page:\n%s", body)
	}
	resp, _ = v.post("/account/login", url.Values{"pending": {pending[1]}, "code": {code()}, "next": {"/account/tokens"}})
	wantRedirect(t, resp, "/account/tokens")

	// a recovery code works in its place, once
	w := newVisitor(t, env.URL)
	w.get("/account/login")
	_, body = w.post("/account/login", url.Values{"email": {"ada@example.com"}, "password": {testenv.Password}})
	pending = regexp.MustCompile(`name="pending" value="([^"]+)"`).FindStringSubmatch(body)
	resp, _ = w.post("/account/login", url.Values{"pending": {pending[1]}, "code": {me.RecoveryCodes[0]}})
	wantRedirect(t, resp, "/account")

	// a sealed sign-in from another browser's form does not open
	x := newVisitor(t, env.URL)
	x.get("/account/login")
	resp, body = x.post("/account/login", url.Values{"pending": {pending[1]}, "code": {me.RecoveryCodes[1]}})
	wantStatus(t, resp, body, http.StatusBadRequest)
}

func TestUsagePage(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "ada@example.com")
	api := env.Login(t, "ada@example.com")
	app, err := api.Applications.Post(ctx, client.OwnedPost{Name: "Weather"})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := api.Devices.Post(ctx, app.ID, client.DevicePost{Name: "probe"})
	if err != nil {
		t.Fatal(err)
	}
	state := client.DeviceState{Data: map[string]any{"t": 1}}
	if err := api.Device.SendState(ctx, app.ID, dev.ID, state, state, state); err != nil {
		t.Fatal(err)
	}
	v := newVisitor(t, env.URL)
	v.signIn("ada@example.com", testenv.Password)
	for _, rg := range []string{"", "?range=7d", "?range=365d", "?range=bogus"} {
		resp, body := v.get("/account/usage" + rg)
		wantStatus(t, resp, body, http.StatusOK)
		if !strings.Contains(body, `<svg class="chart"`) || !strings.Contains(body, "<code>deviceState</code>") ||
			!strings.Contains(body, ": 3 payloads</title>") {
			t.Errorf("usage%s: want the charts and 3 deviceState payloads; page:\n%s", rg, body)
		}
	}
}
