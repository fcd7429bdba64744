package console_test

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
)

func TestChangePassword(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "ada@example.com")
	const next, third = "An0ther-secret-pw", "Th1rd-secret-pw!"

	v := newVisitor(t, env.URL)
	first := v.signIn("ada@example.com", testenv.Password)
	api := env.Login(t, "ada@example.com")
	v.get("/account/security")

	resp, body := v.post("/account/security/password", url.Values{"password": {testenv.Password}, "newPassword": {next}, "confirmPassword": {"typo"}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	if !strings.Contains(body, `id="pw-confirm-err">does not match the new password`) {
		t.Errorf("mismatched confirmation: page:\n%s", body)
	}
	resp, body = v.post("/account/security/password", url.Values{"password": {testenv.Password}, "newPassword": {"short"}, "confirmPassword": {"short"}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	if !strings.Contains(body, `id="pw-new-err">`+accountd.PasswordRule) {
		t.Errorf("weak password: want the rule beside the field; page:\n%s", body)
	}

	// without signing out elsewhere: this browser gets a fresh session and
	// its old one goes; the API session stays
	resp, _ = v.post("/account/security/password", url.Values{"password": {testenv.Password}, "newPassword": {next}, "confirmPassword": {next}})
	wantRedirect(t, resp, "/account/security?done=password")
	if _, err := env.Service.Authenticate(ctx, first.Value); err == nil {
		t.Error("the console's old session still works after the change")
	}
	if _, err := api.Me.Get(ctx, nil); err != nil {
		t.Errorf("another session after a change that keeps them: %v", err)
	}
	resp, body = v.get("/account/security")
	wantStatus(t, resp, body, http.StatusOK)

	// signing out everywhere else
	resp, _ = v.post("/account/security/password", url.Values{"password": {next}, "newPassword": {third}, "confirmPassword": {third}, "signOutOthers": {"on"}})
	wantRedirect(t, resp, "/account/security?done=password-all")
	if _, err := api.Me.Get(ctx, nil); !errors.Is(err, accountd.ErrUnauthorized) {
		t.Errorf("another session after signing out everywhere else: %v, want 401", err)
	}
	resp, body = v.get("/account/security?done=password-all")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, "every other session and token of yours is signed out") {
		t.Error("no notice after the change")
	}
	env.LoginWith(t, "ada@example.com", third)
}

func TestTwoFactorPages(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	env := testenv.Start(t, "sqlite", testenv.Options{Clock: clock.Now})
	env.User(t, "ada@example.com")
	v := newVisitor(t, env.URL)
	v.signIn("ada@example.com", testenv.Password)
	v.get("/account/security")
	resp, body := v.post("/account/security/2fa/generate", nil)
	wantStatus(t, resp, body, http.StatusOK)
	key := regexp.MustCompile(`id="totp-key">([A-Z2-7]+)<`).FindStringSubmatch(body)
	uri := regexp.MustCompile(`name="keyUri" value="([^"]+)"`).FindStringSubmatch(body)
	if key == nil || uri == nil {
		t.Fatalf("2fa setup page without the key; page:\n%s", body)
	}
	keyURI := strings.ReplaceAll(uri[1], "&amp;", "&")
	code := func() string {
		clock.Add(secret.TOTPPeriod * time.Second)
		c, err := secret.TOTPCode(key[1], clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// a wrong code shows the same key again, with the error beside the code
	resp, body = v.post("/account/security/2fa/enable", url.Values{"key": {key[1]}, "keyUri": {keyURI}, "code": {"000000"}, "password": {testenv.Password}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	if !strings.Contains(body, `id="tf-code-err">is incorrect for this key`) || !strings.Contains(body, key[1]) {
		t.Errorf("wrong code: page:\n%s", body)
	}
	resp, body = v.post("/account/security/2fa/enable", url.Values{"key": {key[1]}, "keyUri": {keyURI}, "code": {code()}, "password": {testenv.Password}})
	wantStatus(t, resp, body, http.StatusOK)
	if n := strings.Count(body, "<li><code>"); n != 10 {
		t.Errorf("%d recovery codes shown, want 10", n)
	}
	resp, body = v.get("/account/security")
	if !strings.Contains(body, `<span class="badge ok">on</span>`) {
		t.Errorf("security page does not say two-factor is on")
	}
	// new recovery codes need a code
	resp, body = v.post("/account/security/recovery-codes", url.Values{"password": {testenv.Password}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	if !strings.Contains(body, `id="rc-code-err">`) {
		t.Errorf("recovery codes without a code: page:\n%s", body)
	}
	resp, body = v.post("/account/security/recovery-codes", url.Values{"password": {testenv.Password}, "code": {code()}})
	wantStatus(t, resp, body, http.StatusOK)
	if n := strings.Count(body, "<li><code>"); n != 10 {
		t.Errorf("%d new recovery codes shown, want 10", n)
	}
	resp, _ = v.post("/account/security/2fa/disable", url.Values{"password": {testenv.Password}, "code": {code()}})
	wantRedirect(t, resp, "/account/security?done=2fa-off")
	env.Login(t, "ada@example.com") // no code needed any more
}

func TestGithubLinkAndUnlink(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{Github: service.GithubConfig{
		ClientID: "console-test", ClientSecret: "s3cret", AuthURL: "https://github.example/login/oauth/authorize",
	}})
	id := env.User(t, "ada@example.com")
	v := newVisitor(t, env.URL)
	v.signIn("ada@example.com", testenv.Password)
	_, body := v.get("/account/security")
	if !strings.Contains(body, `href="/account/security/github"`) {
		t.Fatalf("security page has no GitHub link button; page:\n%s", body)
	}
	resp, _ := v.get("/account/security/github")
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || loc.Host != "github.example" ||
		loc.Query().Get("client_id") != "console-test" || loc.Query().Get("state") == "" {
		t.Fatalf("GitHub link: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// once linked (as GitHub's consent and the confirmation page would),
	// the page names the account and unlinks it
	if err := env.Store.LinkGithub(ctx, &accountd.GithubLink{UserID: id, GithubID: "583231", Login: "octocat", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	env.Service.ForgetMe(id)
	_, body = v.get("/account/security")
	if !strings.Contains(body, "<strong>octocat</strong>") {
		t.Fatalf("security page does not name the linked account; page:\n%s", body)
	}
	resp, _ = v.post("/account/security/github/disconnect", nil)
	wantRedirect(t, resp, "/account/security?done=github-off")
	if _, err := env.Store.GithubLink(ctx, id); !errors.Is(err, accountd.ErrNotFound) {
		t.Fatalf("link after unlinking: %v, want not found", err)
	}
}

func TestEmailChangeAndVerification(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	id := env.User(t, "ada@example.com")
	v := newVisitor(t, env.URL)
	v.signIn("ada@example.com", testenv.Password)
	v.get("/account")
	resp, _ := v.post("/account/email", url.Values{"email": {"augusta@example.com"}, "password": {testenv.Password}})
	wantRedirect(t, resp, "/account?done=email")
	u, err := env.Store.User(ctx, id)
	if err != nil || u.Email != "augusta@example.com" || u.EmailVerified {
		t.Fatalf("after the change: %+v, %v", u, err)
	}
	// unverified: the profile opens, the other pages say why they do not
	resp, body := v.get("/account")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, "Send a new verification link") {
		t.Error("profile of an unverified user offers no new link")
	}
	resp, body = v.get("/account/tokens")
	wantStatus(t, resp, body, http.StatusForbidden)
	if !strings.Contains(body, "is not verified yet") {
		t.Errorf("tokens page of an unverified user: page:\n%s", body)
	}
	// a new link; asking again within the minute is throttled as in the API
	resp, _ = v.post("/account/verify-email", nil)
	wantRedirect(t, resp, "/account?done=verify")
	v.get("/account")
	resp, body = v.post("/account/verify-email", nil)
	wantStatus(t, resp, body, http.StatusTooManyRequests)
	if resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `role="alert"`) {
		t.Errorf("second link within a minute: Retry-After %q; page:\n%s", resp.Header.Get("Retry-After"), body)
	}
}

func TestOrganizationsAndTokens(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "ada@example.com")
	env.User(t, "grace@example.com")
	v := newVisitor(t, env.URL)
	v.signIn("ada@example.com", testenv.Password)
	v.get("/account/organizations")
	resp, body := v.post("/account/organizations", url.Values{"name": {""}, "mfaMode": {"notRequired"}})
	wantStatus(t, resp, body, http.StatusBadRequest)
	if !strings.Contains(body, `id="org-name-err">`) {
		t.Errorf("nameless organization: page:\n%s", body)
	}
	resp, _ = v.post("/account/organizations", url.Values{"name": {"Difference Engines"}, "mfaMode": {"notRequired"}})
	orgPath := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(orgPath, "/account/organizations/") {
		t.Fatalf("create organization: %d to %q", resp.StatusCode, orgPath)
	}
	orgPath, _, _ = strings.Cut(orgPath, "?")
	resp, body = v.get(orgPath)
	wantStatus(t, resp, body, http.StatusOK)
	resp, _ = v.post(orgPath+"/invites", url.Values{"email": {"grace@example.com"}, "role": {"edit"}})
	wantRedirect(t, resp, orgPath+"?done=invited")
	_, body = v.get(orgPath)
	if !strings.Contains(body, "grace@example.com") || !strings.Contains(body, "Withdraw") {
		t.Errorf("admin view lacks the pending invitation; page:\n%s", body)
	}
	grace := env.Login(t, "grace@example.com")
	inv, err := grace.Me.Invites(ctx)
	if err != nil || len(inv) != 1 {
		t.Fatalf("grace's invitations: %v, %v", inv, err)
	}
	// another user's organization is not found
	g := newVisitor(t, env.URL)
	g.signIn("grace@example.com", testenv.Password)
	resp, body = g.get(orgPath)
	wantStatus(t, resp, body, http.StatusNotFound)

	// tokens: deactivate and reactivate
	v.get("/account/tokens")
	resp, body = v.post("/account/tokens", url.Values{"name": {"ci"}, "scope": {"me.get"}, "expiresOn": {"2099-01-02"}})
	wantStatus(t, resp, body, http.StatusOK)
	value := regexp.MustCompile(`id="token-value">([^<]+)<`).FindStringSubmatch(body)
	if value == nil || !strings.Contains(body, "2 Jan 2099 23:59 UTC") {
		t.Fatalf("created token page; page:\n%s", body)
	}
	tc := env.Client(t, value[1])
	tokID := regexp.MustCompile(`action="/account/tokens/([0-9a-f]{24})/status"`)
	_, body = v.get("/account/tokens")
	m := tokID.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("token list lacks the token; page:\n%s", body)
	}
	resp, _ = v.post("/account/tokens/"+m[1]+"/status", url.Values{"status": {"inactive"}})
	wantRedirect(t, resp, "/account/tokens?done=token-inactive")
	if _, err := tc.Me.Get(ctx, nil); !errors.Is(err, accountd.ErrUnauthorized) {
		t.Errorf("deactivated token: %v, want 401", err)
	}
	resp, _ = v.post("/account/tokens/"+m[1]+"/status", url.Values{"status": {"active"}})
	wantRedirect(t, resp, "/account/tokens?done=token-active")
	if _, err := tc.Me.Get(ctx, nil); err != nil {
		t.Errorf("reactivated token: %v", err)
	}
	// someone else's token id is not found
	g.get("/account/tokens")
	resp, body = g.post("/account/tokens/"+m[1]+"/delete", nil)
	wantStatus(t, resp, body, http.StatusNotFound)
	if _, err := tc.Me.Get(ctx, nil); err != nil {
		t.Errorf("token after another user's delete: %v", err)
	}
}
