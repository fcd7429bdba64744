package httpapi_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/service"
)

type githubAccount struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
}

// fakeGithub is an OAuth provider and user API shaped like GitHub's. Its
// authorization page approves at once, as the account `as` names.
type fakeGithub struct {
	srv *httptest.Server
	t   *testing.T

	mu     sync.Mutex
	as     githubAccount
	codes  map[string]githubAccount
	tokens map[string]githubAccount
	n      int
}

const (
	fakeClientID     = "fake-client"
	fakeClientSecret = "fake-secret"
)

func startFakeGithub(t *testing.T) *fakeGithub {
	f := &fakeGithub{t: t, codes: map[string]githubAccount{}, tokens: map[string]githubAccount{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != fakeClientID || q.Get("response_type") != "code" || q.Get("state") == "" {
			http.Error(w, "bad authorization request", 400)
			return
		}
		f.mu.Lock()
		f.n++
		code := fmt.Sprintf("code-%d", f.n)
		f.codes[code] = f.as
		f.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
		}
		f.mu.Lock()
		acct, known := f.codes[r.FormValue("code")]
		delete(f.codes, r.FormValue("code"))
		f.n++
		token := fmt.Sprintf("gho_%d", f.n)
		if known {
			f.tokens[token] = acct
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if id != fakeClientID || secret != fakeClientSecret || !known {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": "bad_verification_code"})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"access_token": token, "token_type": "bearer", "scope": "read:user"})
	})
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		acct, ok := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(401)
			json.NewEncoder(w).Encode(map[string]string{"message": "Bad credentials"})
			return
		}
		json.NewEncoder(w).Encode(acct)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGithub) config() service.GithubConfig {
	return service.GithubConfig{ClientID: fakeClientID, ClientSecret: fakeClientSecret,
		AuthURL: f.srv.URL + "/login/oauth/authorize", TokenURL: f.srv.URL + "/login/oauth/access_token", APIURL: f.srv.URL}
}

// signIn makes the provider approve as acct.
func (f *fakeGithub) signIn(acct githubAccount) {
	f.mu.Lock()
	f.as = acct
	f.mu.Unlock()
}

// tokenFor issues an access token of acct, as GitHub would to a client.
func (f *fakeGithub) tokenFor(acct githubAccount) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	token := fmt.Sprintf("gho_%d", f.n)
	f.tokens[token] = acct
	return token
}

// connect links the client's user to the account the provider signs in
// as, through a browser that follows redirects; it returns the final page.
func connect(t *testing.T, c *client.Client) (int, string) {
	t.Helper()
	authorize, err := c.Me.ConnectGithub(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(authorize) // through the fake GitHub, back to the callback
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return resp.StatusCode, string(body)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("the confirmation page may be framed")
	}
	base := resp.Request.URL.Scheme + "://" + resp.Request.URL.Host
	return confirmLink(t, base, string(body))
}

var confirmForm = regexp.MustCompile(`<form method="post" action="([^"]+)"><input type="hidden" name="token" value="([^"]+)">`)

// confirmLink presses the button of the callback's confirmation page.
func confirmLink(t *testing.T, base, page string) (int, string) {
	t.Helper()
	m := confirmForm.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the callback page has no confirmation form: %s", page)
	}
	return browse(t, "POST", base+html.UnescapeString(m[1]), url.Values{"token": {html.UnescapeString(m[2])}})
}

var (
	octocat = githubAccount{ID: 583231, Login: "octocat"}
	hubot   = githubAccount{ID: 480938, Login: "hubot"}
)

func TestGithub(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		gh := startFakeGithub(t)
		clock := testenv.NewClock(time.Now())
		env := testenv.Start(t, backend, testenv.Options{Github: gh.config(), Clock: clock.Now})
		env.User(t, "gina@example.com")
		env.User(t, "hal@example.com")
		c := env.Login(t, "gina@example.com")
		other := env.Login(t, "hal@example.com")
		anon := env.Client(t, "")

		authorize, err := c.Me.ConnectGithub(ctx)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(authorize)
		if !strings.HasPrefix(authorize, gh.srv.URL+"/login/oauth/authorize?") || u.Query().Get("client_id") != fakeClientID ||
			u.Query().Get("redirect_uri") != env.URL+"/auth/github/callback" || u.Query().Get("state") == "" {
			t.Errorf("authorize URL = %s", authorize)
		}

		_, err = anon.Auth.AuthenticateUserGithub(ctx, client.GithubLogin{AccessToken: gh.tokenFor(octocat)})
		wantError(t, err, 401, "no account is linked")

		gh.signIn(octocat)
		status, page := connect(t, c)
		if status != 200 || !strings.Contains(page, "octocat is now linked") {
			t.Fatalf("connect: %d %s", status, page)
		}
		me, err := c.Me.Get(ctx, nil)
		if err != nil || me.GithubName != "octocat" {
			t.Fatalf("me = %+v, %v; want githubName octocat", me, err)
		}

		t.Run("sign in", func(t *testing.T) {
			a, err := anon.Auth.AuthenticateUserGithub(ctx, client.GithubLogin{AccessToken: gh.tokenFor(octocat), RequestedScopes: []string{"me.get"}})
			if err != nil {
				t.Fatal(err)
			}
			me, err := env.Client(t, a.Token).Me.Get(ctx, nil)
			if err != nil || me.Email != "gina@example.com" {
				t.Errorf("signed in as %+v, %v", me, err)
			}
			_, err = env.Client(t, a.Token).UserAPITokens.Get(ctx, nil)
			wantError(t, err, 403)
			_, err = anon.Auth.AuthenticateUserGithub(ctx, client.GithubLogin{AccessToken: "gho_forged"})
			wantError(t, err, 401, "GitHub did not accept")
			_, err = anon.Auth.AuthenticateUserGithub(ctx, client.GithubLogin{AccessToken: gh.tokenFor(hubot)})
			wantError(t, err, 401, "no account is linked")
			_, err = anon.Auth.AuthenticateUserGithub(ctx, client.GithubLogin{})
			wantError(t, err, 400, "accessToken")
		})

		t.Run("sign in with two-factor auth", func(t *testing.T) {
			app, _ := enable2FA(t, c, clock)
			_, err := anon.Auth.AuthenticateUserGithub(ctx, client.GithubLogin{AccessToken: gh.tokenFor(octocat)})
			wantError(t, err, 401, "twoFactorCode", "required")
			if _, err := anon.Auth.AuthenticateUserGithub(ctx, client.GithubLogin{AccessToken: gh.tokenFor(octocat), TwoFactorCode: app.next()}); err != nil {
				t.Error(err)
			}
			if _, err := c.Me.DisableTwoFactorAuth(ctx, client.MultiFactorAuthDisable{Password: testenv.Password, TwoFactorCode: app.next()}); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("one user per GitHub account", func(t *testing.T) {
			status, page := connect(t, other)
			if status != 400 || !strings.Contains(page, "already linked to another user") {
				t.Errorf("second link: %d %s", status, page)
			}
			if me, _ := other.Me.Get(ctx, nil); me.GithubName != "" {
				t.Errorf("githubName = %q", me.GithubName)
			}
		})

		t.Run("callback failures", func(t *testing.T) {
			authorize, err := other.Me.ConnectGithub(ctx)
			if err != nil {
				t.Fatal(err)
			}
			state := mustParse(t, authorize).Query().Get("state")
			for _, tc := range []struct {
				name   string
				query  url.Values
				status int
				text   string
			}{
				{"forged state", url.Values{"code": {"x"}, "state": {"k:AAAA"}}, 400, "state"},
				{"tampered state", url.Values{"code": {"x"}, "state": {state[:len(state)-2] + "AA"}}, 400, "state"},
				{"unknown code", url.Values{"code": {"nope"}, "state": {state}}, 401, "did not accept"},
				{"no code", url.Values{"state": {state}}, 400, "code"},
				{"declined", url.Values{"error": {"access_denied"}, "state": {state}}, 401, "did not grant"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					status, page := browse(t, "GET", env.URL+"/auth/github/callback?"+tc.query.Encode(), nil)
					if status != tc.status || !strings.Contains(page, tc.text) {
						t.Errorf("%d %s, want %d with %q", status, page, tc.status, tc.text)
					}
				})
			}
			clock.Add(11 * time.Minute)
			status, page := browse(t, "GET", env.URL+"/auth/github/callback?"+url.Values{"code": {"x"}, "state": {state}}.Encode(), nil)
			if status != 410 || !strings.Contains(page, "expired") {
				t.Errorf("expired state: %d %s", status, page)
			}
		})

		t.Run("the callback asks before linking", func(t *testing.T) {
			authorize, err := other.Me.ConnectGithub(ctx)
			if err != nil {
				t.Fatal(err)
			}
			status, page := browse(t, "GET", authorize, nil)
			// the page names the account the link would join, so a person lured
			// into someone else's link sees it is not theirs
			if status != 200 || !strings.Contains(page, "hal@example.com") || !strings.Contains(page, "octocat") {
				t.Fatalf("callback page: %d %s", status, page)
			}
			if me, _ := other.Me.Get(ctx, nil); me.GithubName != "" {
				t.Errorf("linked before confirming: githubName %q", me.GithubName)
			}
			for _, tc := range []struct {
				token  string
				status int
				text   string
			}{{"", 400, "token"}, {"k:AAAA", 400, "token"}} {
				if status, page := browse(t, "POST", env.URL+"/auth/github/callback", url.Values{"token": {tc.token}}); status != tc.status || !strings.Contains(page, tc.text) {
					t.Errorf("confirm with %q: %d %s", tc.token, status, page)
				}
			}
			clock.Add(11 * time.Minute)
			if status, page := confirmLink(t, env.URL, page); status != 410 || !strings.Contains(page, "expired") {
				t.Errorf("an expired confirmation: %d %s", status, page)
			}
		})

		me, err = c.Me.DisconnectGithub(ctx)
		if err != nil || me.GithubName != "" {
			t.Fatalf("disconnect = %+v, %v", me, err)
		}
		_, err = c.Me.DisconnectGithub(ctx)
		wantError(t, err, 400, "no GitHub account is linked")
		_, err = anon.Auth.AuthenticateUserGithub(ctx, client.GithubLogin{AccessToken: gh.tokenFor(octocat)})
		wantError(t, err, 401, "no account is linked")

		// now free, the account links to the other user
		status, _ = connect(t, other)
		if me, _ := other.Me.Get(ctx, nil); status != 200 || me.GithubName != "octocat" {
			t.Errorf("relink to another user: %d, githubName %q", status, me.GithubName)
		}
	})
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestGithubOff(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "ivy@example.com")
	c := env.Login(t, "ivy@example.com")
	_, err := c.Me.ConnectGithub(ctx)
	wantError(t, err, 400, "GitHub is not configured")
	_, err = env.Client(t, "").Auth.AuthenticateUserGithub(ctx, client.GithubLogin{AccessToken: "gho_x"})
	wantError(t, err, 400, "GitHub is not configured")
	status, page := browse(t, "GET", env.URL+"/auth/github/callback?code=x&state=y", nil)
	if status != 400 || !strings.Contains(page, "not configured") {
		t.Errorf("callback: %d %s", status, page)
	}
	_, err = c.Me.DisconnectGithub(ctx)
	wantError(t, err, 400, "no GitHub account")
}
