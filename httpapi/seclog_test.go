package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/internal/testenv"
	amail "github.com/accountd/accountd/mail"
	"github.com/accountd/accountd/service"
)

const secAgent = "seclog-test/1.0 (+https://example.com/bot)"

// agentClient is a client of env sending secAgent as its User-Agent, whose
// every response is checked like env.Client's.
func agentClient(t *testing.T, env *testenv.Env, token string) *client.Client {
	t.Helper()
	c, err := client.New(env.URL, client.WithToken(token), client.WithHTTPClient(env.HTTPClient(t)), client.WithUserAgent(secAgent))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func agentLogin(t *testing.T, env *testenv.Env, email, password, code string) *client.Client {
	t.Helper()
	c := agentClient(t, env, "")
	a, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: email, Password: password, TwoFactorCode: code})
	if err != nil {
		t.Fatalf("logging in %s: %v", email, err)
	}
	c.SetToken(a.Token)
	return c
}

// fullLog reads the whole of the client's security log, newest first.
func fullLog(t *testing.T, c *client.Client) []client.SecurityEvent {
	t.Helper()
	l, err := c.Me.SecurityLog(ctx, &client.SecurityLogParams{PerPage: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if l.Count != len(l.Items) || l.TotalCount != len(l.Items) {
		t.Fatalf("count %d, totalCount %d, %d items", l.Count, l.TotalCount, len(l.Items))
	}
	return l.Items
}

// TestSecurityLogKinds does, through the API, everything the security log
// records, and checks that each appears as often as it was done, newest
// first, with the client's address and user agent, the object it concerns,
// in one slog line each and in the metric, and never with a secret.
func TestSecurityLogKinds(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		gh := startFakeGithub(t)
		clock := testenv.NewClock(time.Now().UTC().Truncate(time.Second))
		logs := &syncBuffer{}
		env := testenv.Start(t, backend, testenv.Options{Github: gh.config(), Clock: clock.Now, AllowUnverifiedEmail: true,
			Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
			Throttle: service.ThrottleConfig{Window: time.Hour, PerPair: 4, PerAddress: 100, PerAccount: 100}})
		samID := env.User(t, "sam@example.com")
		env.User(t, "olga@example.com")
		olga := env.Login(t, "olga@example.com")
		anon := agentClient(t, env, "")
		var secrets []string // what must never show in the log
		want := map[string]int{}

		// a failure for an unknown email is in nobody's log
		_, err := anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "nobody@example.com", Password: "Wrong-pass-1"})
		wantError(t, err, 401)
		_, err = anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "sam@example.com", Password: "Wrong-pass-1"})
		wantError(t, err, 401)
		secrets = append(secrets, "Wrong-pass-1")
		want[accountd.SecLoginFailed]++
		c := agentLogin(t, env, "sam@example.com", testenv.Password, "")
		secrets = append(secrets, c.Token())
		want[accountd.SecLoginSucceeded]++

		tok, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "ci", Scope: []string{"me.get"}})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, tok.Token)
		want[accountd.SecTokenCreated]++
		name := "ci-renamed"
		if _, err := c.UserAPIToken.Patch(ctx, tok.ID, client.APITokenPatch{Name: &name}); err != nil {
			t.Fatal(err)
		}
		want[accountd.SecTokenChanged]++
		if err := c.UserAPIToken.Delete(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		want[accountd.SecTokenRevoked]++

		app, codes := enable2FA(t, c, clock)
		want[accountd.SecTwoFactorEnabled]++
		secrets = append(secrets, app.key)
		wrong := app.next()
		wrong = wrong[:5] + string('0'+(wrong[5]-'0'+1)%10)
		_, err = anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "sam@example.com", Password: testenv.Password, TwoFactorCode: wrong})
		wantError(t, err, 401)
		want[accountd.SecLoginFailed]++
		clock.Add(time.Millisecond) // entries of one millisecond come in the order of their ids
		_, err = anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "sam@example.com", Password: testenv.Password, TwoFactorCode: "zzzz-zzzz"})
		wantError(t, err, 401)
		want[accountd.SecLoginFailed]++
		second := agentLogin(t, env, "sam@example.com", testenv.Password, codes[0])
		want[accountd.SecRecoveryCodeUsed]++
		want[accountd.SecLoginSucceeded]++
		secondID := currentID(t, second)
		if err := c.Me.RevokeSession(ctx, secondID); err != nil {
			t.Fatal(err)
		}
		want[accountd.SecSessionRevoked]++
		secrets = append(secrets, codes...)
		newCodes, err := c.Me.RegenerateRecoveryCodes(ctx, client.MultiFactorAuthDisable{Password: testenv.Password, TwoFactorCode: app.next()})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, newCodes...)
		want[accountd.SecRecoveryCodesNew]++
		if _, err := c.Me.DisableTwoFactorAuth(ctx, client.MultiFactorAuthDisable{Password: testenv.Password, TwoFactorCode: app.next()}); err != nil {
			t.Fatal(err)
		}
		want[accountd.SecTwoFactorDisabled]++

		const newPassword = "An0ther-secret-pw"
		a, err := c.Me.ChangePassword(ctx, client.ChangePassword{Password: testenv.Password, NewPassword: newPassword})
		if err != nil {
			t.Fatal(err)
		}
		c.SetToken(a.Token)
		secrets = append(secrets, testenv.Password, newPassword, a.Token)
		want[accountd.SecPasswordChanged]++

		gh.signIn(octocat)
		if status, page := connect(t, c); status != 200 {
			t.Fatalf("connect: %d %s", status, page)
		}
		want[accountd.SecGithubLinked]++
		if _, err := c.Me.DisconnectGithub(ctx); err != nil {
			t.Fatal(err)
		}
		want[accountd.SecGithubUnlinked]++

		org, err := olga.Orgs.Post(ctx, client.OrgPost{Name: "Olga's"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := olga.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "sam@example.com", Role: "edit"}); err != nil {
			t.Fatal(err)
		}
		invites, err := c.Me.Invites(ctx)
		if err != nil || len(invites) != 1 {
			t.Fatalf("invites = %v, %v", invites, err)
		}
		if _, err := c.Me.RespondToInvite(ctx, invites[0].ID, "accept"); err != nil {
			t.Fatal(err)
		}
		want[accountd.SecInvitationAnswered]++

		appl, err := c.Applications.Post(ctx, client.OwnedPost{Name: "moves"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Me.TransferResources(ctx, client.ResourceTransfer{DestinationID: org.ID, DestinationType: "organization",
			ApplicationIDs: []string{appl.ID}}); err != nil {
			t.Fatal(err)
		}
		want[accountd.SecResourcesMoved]++
		if _, err := c.Dashboards.Post(ctx, client.OwnedPost{Name: "keeps me here"}); err != nil {
			t.Fatal(err)
		}
		err = c.Me.Delete(ctx, client.UserCredentials{Email: "sam@example.com", Password: newPassword})
		wantError(t, err, 400, "dashboard")
		want[accountd.SecDeleteRefused]++

		newEmail := "samuel@example.com"
		if _, err := c.Me.Patch(ctx, client.MePatch{Email: &newEmail, CurrentCredentials: &client.CurrentCredentials{Password: newPassword}}, nil); err != nil {
			t.Fatal(err)
		}
		want[accountd.SecEmailChanged]++

		// four wrong passwords reach the pair's limit; the next two are
		// throttled, and logged once
		for range 4 {
			_, err = anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: newEmail, Password: "Wrong-pass-2"})
			wantError(t, err, 401)
			want[accountd.SecLoginFailed]++
		}
		for range 2 {
			_, err = anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: newEmail, Password: newPassword})
			wantError(t, err, 429)
		}
		want[accountd.SecLoginThrottled]++

		log := fullLog(t, c)
		got := map[string]int{}
		for i, e := range log {
			got[e.Kind]++
			if i > 0 && e.Time.After(log[i-1].Time) {
				t.Errorf("entry %d (%s) is newer than entry %d", i, e.Kind, i-1)
			}
			if e.Address != "127.0.0.1" {
				t.Errorf("%s: address %q", e.Kind, e.Address)
			}
			wantAgent := secAgent
			if e.Kind == accountd.SecGithubLinked {
				wantAgent = "Go-http-client/1.1" // the browser that confirmed the link
			}
			if e.UserAgent != wantAgent {
				t.Errorf("%s: user agent %q, want %q", e.Kind, e.UserAgent, wantAgent)
			}
		}
		for _, k := range accountd.SecurityKinds {
			if got[k] != want[k] || want[k] == 0 {
				t.Errorf("%s: %d entries, want %d (and some)", k, got[k], want[k])
			}
		}
		byKind := func(kind string) client.SecurityEvent {
			for _, e := range log {
				if e.Kind == kind {
					return e
				}
			}
			return client.SecurityEvent{}
		}
		for _, tc := range []struct {
			kind, objectType, objectID string
			detail                     map[string]string
		}{
			{accountd.SecTokenCreated, "apiToken", tok.ID, map[string]string{"name": "ci", "scope": "me.get"}},
			{accountd.SecTokenChanged, "apiToken", tok.ID, map[string]string{"name": "ci-renamed", "oldName": "ci"}},
			{accountd.SecTokenRevoked, "apiToken", tok.ID, map[string]string{"name": "ci-renamed"}},
			{accountd.SecSessionRevoked, "session", secondID, map[string]string{"obtainedVia": "password"}},
			{accountd.SecGithubLinked, "githubAccount", "583231", map[string]string{"login": "octocat"}},
			{accountd.SecInvitationAnswered, "organization", org.ID, map[string]string{"answer": "accepted", "invite": invites[0].ID, "role": "edit"}},
			{accountd.SecResourcesMoved, "organization", org.ID, map[string]string{"applications": "1", "dashboards": "0"}},
			{accountd.SecDeleteRefused, "", "", map[string]string{"reason": "ownsResources"}},
			{accountd.SecEmailChanged, "", "", map[string]string{"from": "sam@example.com", "to": newEmail}},
			{accountd.SecRecoveryCodeUsed, "", "", map[string]string{"left": "9"}},
		} {
			e := byKind(tc.kind)
			if e.ObjectType != tc.objectType || e.ObjectID != tc.objectID || !mapsEqual(e.Detail, tc.detail) {
				t.Errorf("%s: object %s %s, detail %v; want %s %s, %v", tc.kind, e.ObjectType, e.ObjectID, e.Detail, tc.objectType, tc.objectID, tc.detail)
			}
		}
		var reasons []string
		for _, e := range log {
			if e.Kind == accountd.SecLoginFailed {
				reasons = append(reasons, e.Detail["reason"])
			}
		}
		if w := "password password password password recoveryCode twoFactorCode password"; strings.Join(reasons, " ") != w {
			t.Errorf("failure reasons, newest first: %v, want %s", reasons, w)
		}
		if s := byKind(accountd.SecLoginSucceeded); s.ObjectType != "session" || !accountd.ValidID(s.ObjectID) || s.Detail["method"] != "password" {
			t.Errorf("login: %+v", s)
		}

		raw, _ := json.Marshal(log)
		lines := logs.String()
		for _, sec := range secrets {
			if strings.Contains(string(raw), sec) || strings.Contains(lines, sec) {
				t.Errorf("a secret (%.6s...) shows in the log or its slog lines", sec)
			}
		}
		// one slog line per entry, with the stable fields
		n := 0
		for _, line := range strings.Split(lines, "\n") {
			var l map[string]any
			if json.Unmarshal([]byte(line), &l) != nil || l["msg"] != "security event" || l["user"] != samID {
				continue
			}
			n++
			if l["level"] != "INFO" || l["addr"] != "127.0.0.1" || l["kind"] == nil || l["event"] == nil || l["agent"] == nil || l["object"] == nil {
				t.Errorf("slog line %s", line)
			}
		}
		if n != len(log) {
			t.Errorf("%d slog lines for %d entries", n, len(log))
		}
		metrics := scrape(t, env)
		for _, k := range accountd.SecurityKinds {
			line := `accountd_security_events_total{kind="` + k + `"} `
			if !strings.Contains(metrics, line) {
				t.Errorf("metrics lack %s", line)
			}
		}
		if !strings.Contains(metrics, `accountd_security_events_total{kind="login.failed"} 7`) {
			t.Errorf("login.failed counted wrong:\n%s", grepLines(metrics, "accountd_security_events_total"))
		}

		// olga's log has her own login, org and nothing of sam's
		for _, e := range fullLog(t, olga) {
			if e.Kind != accountd.SecLoginSucceeded {
				t.Errorf("olga's log holds %s", e.Kind)
			}
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func scrape(t *testing.T, env *testenv.Env) string {
	t.Helper()
	rec := httptest.NewRecorder()
	env.Metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// TestSecurityLogQuery checks paging, the kind and time filters, the 400s
// naming the parameter, that a user reads only their own log and that the
// scope decides who may read it.
func TestSecurityLogQuery(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		clock := testenv.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
		env := testenv.Start(t, backend, testenv.Options{Clock: clock.Now})
		env.User(t, "pia@example.com")
		env.User(t, "quinn@example.com")
		c := env.Login(t, "pia@example.com") // 12:00 login.succeeded
		for i := range 5 {
			clock.Add(time.Minute)
			if _, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "t" + string(rune('0'+i))}); err != nil {
				t.Fatal(err)
			}
		}
		quinn := env.Login(t, "quinn@example.com")

		l, err := c.Me.SecurityLog(ctx, &client.SecurityLogParams{PerPage: 2, Page: 1})
		if err != nil {
			t.Fatal(err)
		}
		if l.TotalCount != 6 || l.Count != 2 || l.Page != 1 || l.PerPage != 2 ||
			l.Items[0].Detail["name"] != "t2" || l.Items[1].Detail["name"] != "t1" {
			t.Errorf("page 1 of 2 = %+v", l)
		}
		l, err = c.Me.SecurityLog(ctx, &client.SecurityLogParams{Kinds: []string{accountd.SecLoginSucceeded}})
		if err != nil || l.TotalCount != 1 || len(l.Kinds) != 1 {
			t.Errorf("kind filter = %+v, %v", l, err)
		}
		start := time.Date(2026, 5, 1, 12, 2, 0, 0, time.UTC)
		l, err = c.Me.SecurityLog(ctx, &client.SecurityLogParams{Since: start, Until: start.Add(2 * time.Minute)})
		if err != nil || l.TotalCount != 2 || l.Items[0].Detail["name"] != "t2" || l.Items[1].Detail["name"] != "t1" ||
			l.Since == nil || !l.Since.Equal(start) {
			t.Errorf("time filter = %+v, %v", l, err)
		}
		// isolation: quinn sees his login only
		l, err = quinn.Me.SecurityLog(ctx, nil)
		if err != nil || l.TotalCount != 1 || l.Items[0].Kind != accountd.SecLoginSucceeded {
			t.Errorf("quinn's log = %+v, %v", l, err)
		}

		for _, tc := range []struct {
			query, param string
		}{
			{"kind=login.bogus", "kind"},
			{"kind=login.failed,nope", "kind"},
			{"since=yesterday", "since"},
			{"until=2026-13-01T00:00:00Z", "until"},
			{"since=2026-05-02T00:00:00Z&until=2026-05-01T00:00:00Z", "until"},
			{"perPage=1001", "perPage"},
			{"page=-1", "page"},
			{"page=x", "page"},
			{"kind=" + strings.Repeat("login.failed,", 40), "kind"},
		} {
			status, _, body := raw(t, env, "GET", "/me/securityLog?"+tc.query, c.Token(), "", nil)
			var e struct{ Type, Message string }
			json.Unmarshal(body, &e)
			if status != 400 || !strings.HasPrefix(e.Message, tc.param) {
				t.Errorf("%s = %d %s, want 400 naming %s", tc.query, status, body, tc.param)
			}
		}

		// scopes: me.get alone cannot read it; me.securityLog can, and reads
		// its own user's log only
		for _, tc := range []struct {
			scope string
			ok    bool
		}{
			{"me.get", false}, {"userApiTokens.get", false}, {"me.securityLog", true}, {"me.*", true}, {"all.User.read", true},
		} {
			a, err := env.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "quinn@example.com", Password: testenv.Password,
				RequestedScopes: []string{tc.scope}})
			if err != nil {
				t.Fatal(err)
			}
			l, err := env.Client(t, a.Token).Me.SecurityLog(ctx, nil)
			if !tc.ok {
				wantError(t, err, 403, "securityLog.get")
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", tc.scope, err)
				continue
			}
			for _, e := range l.Items {
				if e.Kind != accountd.SecLoginSucceeded {
					t.Errorf("%s: quinn reads %s", tc.scope, e.Kind)
				}
			}
		}
	})
}

// TestSecurityLogRetention: entries older than the retention go when
// housekeeping prunes, in batches, and newer ones stay.
func TestSecurityLogRetention(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		clock := testenv.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		env := testenv.Start(t, backend, testenv.Options{Clock: clock.Now, Configure: func(c *service.Config) {
			c.SecurityLog.Retention = 48 * time.Hour
			c.SecurityLog.PruneBatch = 2
		}})
		env.User(t, "rita@example.com")
		c := env.Login(t, "rita@example.com")
		for range 5 {
			if _, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "old"}); err != nil {
				t.Fatal(err)
			}
		}
		clock.Add(24 * time.Hour)
		if _, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "newer"}); err != nil {
			t.Fatal(err)
		}
		clock.Add(24*time.Hour + time.Millisecond) // the first six are past 48h
		env.Service.PruneSecurityLog(ctx)
		log := fullLog(t, c)
		if len(log) != 1 || log[0].Detail["name"] != "newer" {
			t.Errorf("after pruning: %+v", log)
		}
	})
}

// TestSecurityNotifications checks the messages in the outbox: what each
// says, that the old address hears of an email change, the new-address
// login notice, the rate limit per kind, and the expiry reminder sent once.
func TestSecurityNotifications(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		clock := testenv.NewClock(time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC))
		env := testenv.Start(t, backend, testenv.Options{Clock: clock.Now, TrustForwardedFor: true, AllowUnverifiedEmail: true})
		env.User(t, "una@example.com")
		from := func(addr string) map[string]string {
			return map[string]string{"X-Forwarded-For": addr, "User-Agent": secAgent, "Content-Type": "application/json"}
		}
		login := func(addr, password string) string {
			t.Helper()
			status, _, body := raw(t, env, "POST", "/auth/user", "", `{"email":"una@example.com","password":"`+password+`"}`, from(addr))
			var a struct{ Token string }
			if json.Unmarshal(body, &a); status != 200 {
				t.Fatalf("login from %s: %d %s", addr, status, body)
			}
			return a.Token
		}
		seen := 0
		newMail := func() []*mail.Message {
			t.Helper()
			all := outbox(t, env)
			var out []*mail.Message
			for _, raw := range all[seen:] {
				m, err := mail.ReadMessage(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, m)
			}
			seen = len(all)
			return out
		}
		expect := func(step string, want ...string) []string { // want: "to|subject"
			t.Helper()
			msgs := newMail()
			var got, bodies []string
			for _, m := range msgs {
				got = append(got, m.Header.Get("To")+"|"+m.Header.Get("Subject"))
				b, _ := io.ReadAll(m.Body)
				bodies = append(bodies, string(b))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: messages\n%s\nwant\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			return bodies
		}
		tok := login("203.0.113.1", testenv.Password) // the first login: nothing to compare with
		expect("first login")
		login("203.0.113.1", testenv.Password)
		expect("same address")
		login("198.51.100.9", testenv.Password)
		bodies := expect("new address", "una@example.com|New sign-in to your account")
		checkNotice(t, bodies, "from an address it was not signed in from before", "2026-06-01 09:30:00 UTC", "198.51.100.9 ("+secAgent+")")
		login("198.51.100.10", testenv.Password) // new too, but within the interval
		expect("rate limited")

		c := env.Client(t, tok)
		if _, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "deploy"}); err != nil {
			t.Fatal(err)
		}
		bodies = expect("token created", "una@example.com|A personal API token was created")
		checkNotice(t, bodies, `named "deploy"`, "127.0.0.1")
		if _, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "deploy 2"}); err != nil {
			t.Fatal(err)
		}
		expect("second token within the interval")
		clock.Add(5 * time.Minute)
		if _, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "deploy 3"}); err != nil {
			t.Fatal(err)
		}
		expect("token after the interval", "una@example.com|A personal API token was created")

		app, codes := enable2FA(t, c, clock)
		expect("2FA on")
		if _, err := env.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "una@example.com", Password: testenv.Password, TwoFactorCode: codes[0]}); err != nil {
			t.Fatal(err)
		}
		// from 127.0.0.1, new too, and the interval since the last new
		// address is over
		bodies = expect("recovery code", "una@example.com|A recovery code was used", "una@example.com|New sign-in to your account")
		checkNotice(t, bodies[:1], "recovery codes was used")
		checkNotice(t, bodies[1:], "127.0.0.1 (accountd-go-client)")
		if _, err := c.Me.DisableTwoFactorAuth(ctx, client.MultiFactorAuthDisable{Password: testenv.Password, TwoFactorCode: app.next()}); err != nil {
			t.Fatal(err)
		}
		bodies = expect("2FA off", "una@example.com|Two-factor authentication was turned off")
		checkNotice(t, bodies, "turned off")
		a, err := c.Me.ChangePassword(ctx, client.ChangePassword{Password: testenv.Password, NewPassword: "Brand-new-pw-9"})
		if err != nil {
			t.Fatal(err)
		}
		c.SetToken(a.Token)
		bodies = expect("password", "una@example.com|Your password was changed")
		checkNotice(t, bodies, "password of your account was changed")
		for _, b := range bodies {
			if strings.Contains(b, "Brand-new-pw-9") || strings.Contains(b, testenv.Password) {
				t.Error("a password is in the message")
			}
		}
		email := "una.new@example.com"
		if _, err := c.Me.Patch(ctx, client.MePatch{Email: &email, CurrentCredentials: &client.CurrentCredentials{Password: "Brand-new-pw-9"}}, nil); err != nil {
			t.Fatal(err)
		}
		bodies = expect("email", "una.new@example.com|Your email address was changed", "una@example.com|Your email address was changed",
			"una.new@example.com|Verify your email address")
		checkNotice(t, bodies[:2], "from una@example.com to una.new@example.com")

		// expiry reminders: once per token, 7 days ahead, and only active
		// tokens that expire
		in := func(d time.Duration) *time.Time { e := clock.Now().Add(d); return &e }
		soon, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "nightly", ExpirationDate: in(3 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "later", ExpirationDate: in(30 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		clock.Add(5 * time.Minute)
		newMail() // the token-created notices
		env.Service.RemindExpiringTokens(ctx)
		bodies = expect("reminder", "una.new@example.com|A personal API token expires soon")
		checkNotice(t, bodies, `"nightly"`, "3 days", "create a new token")
		env.Service.RemindExpiringTokens(ctx)
		expect("reminded once")
		clock.Add(24 * time.Hour)
		env.Service.RemindExpiringTokens(ctx)
		expect("still once")
		clock.Add(23 * 24 * time.Hour) // "later" is 7 days off now
		env.Service.RemindExpiringTokens(ctx)
		expect("the other token", "una.new@example.com|A personal API token expires soon")
		_ = soon
	})
}

// checkNotice checks that each body says the parts and what to do.
func checkNotice(t *testing.T, bodies []string, parts ...string) {
	t.Helper()
	if len(bodies) == 0 {
		t.Errorf("no message to check for %q", parts)
	}
	for _, b := range bodies {
		b = strings.Join(strings.Fields(b), " ")
		for _, p := range append(parts, "If it was not you") {
			if !strings.Contains(b, p) && !strings.Contains(b, strings.ToLower(p)) {
				t.Errorf("message lacks %q:\n%s", p, b)
			}
		}
	}
}

// TestSecurityLogOddAgent: a user agent of bytes that are not UTF-8, cut
// inside a character, is stored as valid text and does not fail the login.
func TestSecurityLogOddAgent(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "vic@example.com")
		agent := "odd\xff\xfeagent " + strings.Repeat("é", 200) // cut at 256 bytes, inside an é
		status, _, body := raw(t, env, "POST", "/auth/user", "", `{"email":"vic@example.com","password":"`+testenv.Password+`"}`,
			map[string]string{"User-Agent": agent})
		if status != 200 {
			t.Fatalf("login = %d %s", status, body)
		}
		var a struct{ Token string }
		json.Unmarshal(body, &a)
		log := fullLog(t, env.Client(t, a.Token))
		if len(log) != 1 || !utf8.ValidString(log[0].UserAgent) || !strings.HasPrefix(log[0].UserAgent, "odd\uFFFDagent éé") {
			t.Errorf("log = %+v", log)
		}
	})
}

// TestSecurityNoticesAcrossInstances: two instances on one database, one
// outbox. Tokens created at once through both send one notice between
// them, and both sweeping for expiring tokens at once send one reminder.
func TestSecurityNoticesAcrossInstances(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		dir := t.TempDir()
		box, err := amail.NewOutbox(dir, "accountd <noreply@example.com>", nil)
		if err != nil {
			t.Fatal(err)
		}
		clock := testenv.NewClock(time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC))
		a := testenv.Start(t, backend, testenv.Options{Mailer: box, Clock: clock.Now})
		b := testenv.Start(t, backend, testenv.Options{Store: a.Store, Keys: a.Keys, Mailer: box, Clock: clock.Now})
		a.User(t, "wes@example.com")
		ca := a.Login(t, "wes@example.com")
		cb := b.Client(t, ca.Token())
		expires := clock.Now().Add(2 * 24 * time.Hour)
		var wg sync.WaitGroup
		for i := range 8 {
			c := ca
			if i%2 == 1 {
				c = cb
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: fmt.Sprint("t", i), ExpirationDate: &expires}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		count := func(subject string) int {
			t.Helper()
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range entries {
				raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(raw), "Subject: "+subject+"\r\n") {
					n++
				}
			}
			return n
		}
		if n := count("A personal API token was created"); n != 1 {
			t.Errorf("%d token notices, want 1", n)
		}
		// one reminder a sweep per user (the interval), whichever instance
		// sweeps: eight sweeps at once, then the interval passes and the
		// next token's turn comes
		sweep := func() {
			var wg sync.WaitGroup
			for i := range 8 {
				svc := a.Service
				if i%2 == 1 {
					svc = b.Service
				}
				wg.Add(1)
				go func() { defer wg.Done(); svc.RemindExpiringTokens(ctx) }()
			}
			wg.Wait()
		}
		sweep()
		if n := count("A personal API token expires soon"); n != 1 {
			t.Errorf("%d reminders after one sweep, want 1", n)
		}
		for range 7 {
			clock.Add(5 * time.Minute)
			sweep()
		}
		if n := count("A personal API token expires soon"); n != 8 {
			t.Errorf("%d reminders for 8 tokens, want 8", n)
		}
		clock.Add(5 * time.Minute)
		sweep()
		if n := count("A personal API token expires soon"); n != 8 {
			t.Errorf("%d reminders after another sweep, want 8 (once per token)", n)
		}
	})
}

// TestNewAddressNoticeOff: with the notice off, a login from a new address
// is logged as such and mails nothing.
func TestNewAddressNoticeOff(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{TrustForwardedFor: true, Configure: func(c *service.Config) {
		c.SecurityLog.NoNewAddressNotice = true
	}})
	env.User(t, "xia@example.com")
	var token string
	for _, addr := range []string{"203.0.113.5", "203.0.113.6"} {
		status, _, body := raw(t, env, "POST", "/auth/user", "", `{"email":"xia@example.com","password":"`+testenv.Password+`"}`,
			map[string]string{"X-Forwarded-For": addr, "Content-Type": "application/json"})
		var a struct{ Token string }
		if json.Unmarshal(body, &a); status != 200 {
			t.Fatalf("login: %d %s", status, body)
		}
		token = a.Token
	}
	if msgs := outbox(t, env); len(msgs) != 0 {
		t.Errorf("%d messages, want none", len(msgs))
	}
	log := fullLog(t, env.Client(t, token))
	if len(log) != 2 || log[0].Detail["newAddress"] != "true" || log[0].Address != "203.0.113.6" || log[1].Detail["newAddress"] != "" {
		t.Errorf("log = %+v", log)
	}
}

// TestSecurityKindsDocumented: the document lists exactly the kinds the
// service records, in the entry schema and in the page's kinds.
func TestSecurityKindsDocumented(t *testing.T) {
	t.Parallel()
	var doc struct {
		Components struct {
			Schemas struct {
				SecurityEvent struct {
					Properties struct {
						Kind struct {
							Enum []string `json:"enum"`
						} `json:"kind"`
					} `json:"properties"`
				} `json:"securityEvent"`
				SecurityLog struct {
					Properties struct {
						Kinds struct {
							Items struct {
								Enum []string `json:"enum"`
							} `json:"items"`
						} `json:"kinds"`
					} `json:"properties"`
				} `json:"securityLog"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Components.Schemas
	for name, got := range map[string][]string{"securityEvent.kind": s.SecurityEvent.Properties.Kind.Enum,
		"securityLog.kinds": s.SecurityLog.Properties.Kinds.Items.Enum} {
		if !slices.Equal(got, accountd.SecurityKinds) {
			t.Errorf("%s enum %v, want %v", name, got, accountd.SecurityKinds)
		}
	}
}
