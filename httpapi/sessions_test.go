package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

// fromTransport sends every request as if from addr (X-Forwarded-For,
// which the servers of these tests trust).
type fromTransport struct {
	base http.RoundTripper
	addr string
}

func (f fromTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return f.base.RoundTrip(r)
}

// deviceClient is a client of env with its own user agent and address.
func deviceClient(t *testing.T, env *testenv.Env, token, userAgent, addr string) *client.Client {
	t.Helper()
	hc := env.HTTPClient(t)
	hc.Transport = fromTransport{base: hc.Transport, addr: addr}
	c, err := client.New(env.URL, client.WithToken(token), client.WithUserAgent(userAgent), client.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func deviceLogin(t *testing.T, env *testenv.Env, email, userAgent, addr string) *client.Client {
	t.Helper()
	c := deviceClient(t, env, "", userAgent, addr)
	a, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: email, Password: testenv.Password})
	if err != nil {
		t.Fatalf("logging in %s: %v", email, err)
	}
	c.SetToken(a.Token)
	return c
}

func listSessions(t *testing.T, c *client.Client) map[string]client.Session {
	t.Helper()
	l, err := c.Me.Sessions(ctx)
	if err != nil {
		t.Fatalf("listing sessions: %v", err)
	}
	if l.Count != len(l.Items) {
		t.Errorf("count = %d, but %d items", l.Count, len(l.Items))
	}
	out := map[string]client.Session{}
	for i, s := range l.Items {
		if i > 0 && s.CreationDate.After(l.Items[i-1].CreationDate) {
			t.Errorf("sessions not newest first: %v after %v", s.CreationDate, l.Items[i-1].CreationDate)
		}
		out[s.ID] = s
	}
	return out
}

// tokenID is the id (jti) of a signed token, as the server knows it: the
// session the caller's list marks current.
func currentID(t *testing.T, c *client.Client) string {
	t.Helper()
	for id, s := range listSessions(t, c) {
		if s.Current {
			return id
		}
	}
	t.Fatal("no session is marked current")
	return ""
}

// TestSessionsList: each login is a session with how it was obtained and
// the client it came from; refreshed sessions are listed, personal API
// tokens and other users' sessions are not; the caller's is marked.
func TestSessionsList(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		gh := startFakeGithub(t)
		env := testenv.Start(t, backend, testenv.Options{TrustForwardedFor: true, Github: gh.config()})
		env.User(t, "sam@example.com")
		env.User(t, "tess@example.com")
		laptop := deviceLogin(t, env, "sam@example.com", "laptop/1.0", "198.51.100.1")
		phone := deviceLogin(t, env, "sam@example.com", "phone/2.0", "2001:db8::2")
		refreshed, err := phone.Me.RefreshToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := laptop.UserAPITokens.Post(ctx, client.APITokenPost{Name: "ci"}); err != nil {
			t.Fatal(err)
		}
		tess := env.Login(t, "tess@example.com")
		tessID := currentID(t, tess)

		gh.signIn(octocat)
		if status, page := connect(t, laptop); status != 200 {
			t.Fatalf("linking GitHub: %d %s", status, page)
		}
		ghSession, err := deviceClient(t, env, "", "gh-cli/3", "192.0.2.3").Auth.AuthenticateUserGithub(ctx, client.GithubLogin{AccessToken: gh.tokenFor(octocat)})
		if err != nil {
			t.Fatal(err)
		}

		laptopID, phoneID := currentID(t, laptop), currentID(t, phone)
		refreshedID := currentID(t, deviceClient(t, env, refreshed.Token, "x", "192.0.2.200"))
		ghID := currentID(t, deviceClient(t, env, ghSession.Token, "x", "192.0.2.200"))
		got := listSessions(t, laptop)
		ids := make([]string, 0, len(got))
		for id := range got {
			ids = append(ids, id)
		}
		want := []string{laptopID, phoneID, refreshedID, ghID}
		slices.Sort(ids)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("sessions = %v, want %v (no API token, none of tess's %s)", ids, want, tessID)
		}
		for _, tc := range []struct {
			id, via, addr, agent string
			current              bool
		}{
			{laptopID, "password", "198.51.100.1", "laptop/1.0", true},
			{phoneID, "password", "2001:db8::2", "phone/2.0", false},
			{refreshedID, "refresh", "2001:db8::2", "phone/2.0", false},
			{ghID, "github", "192.0.2.3", "gh-cli/3", false},
		} {
			s := got[tc.id]
			if s.ObtainedVia != tc.via || s.CreatedAddress != tc.addr || s.CreatedUserAgent != tc.agent || s.Current != tc.current {
				t.Errorf("session %s = via %q from %q %q current %v; want %q from %q %q current %v", tc.id,
					s.ObtainedVia, s.CreatedAddress, s.CreatedUserAgent, s.Current, tc.via, tc.addr, tc.agent, tc.current)
			}
			if s.ExpirationDate == nil || !s.ExpirationDate.After(s.CreationDate) || len(s.Scope) == 0 {
				t.Errorf("session %s: expiry %v, scope %v", tc.id, s.ExpirationDate, s.Scope)
			}
		}
		// every session that has authenticated shows its last use, from
		// where it was used; the laptop's is this very listing
		if s := got[laptopID]; s.LastUsed == nil || s.LastUsedAddress != "198.51.100.1" || s.LastUsedUserAgent != "laptop/1.0" {
			t.Errorf("laptop's last use = %v from %q %q", s.LastUsed, s.LastUsedAddress, s.LastUsedUserAgent)
		}
		if s := got[refreshedID]; s.LastUsed == nil || s.LastUsedAddress != "192.0.2.200" || s.LastUsedUserAgent != "x" {
			t.Errorf("refreshed session's last use = %v from %q %q", s.LastUsed, s.LastUsedAddress, s.LastUsedUserAgent)
		}

		// the other user sees only their own
		theirs := listSessions(t, tess)
		if len(theirs) != 1 || !theirs[tessID].Current {
			t.Errorf("tess's sessions = %v, want only her own", theirs)
		}
	})
}

// TestSessionLastUse: a use is written by the flush, not by the request;
// another use within the minute writes nothing new, one after it does, with
// the new address and user agent.
func TestSessionLastUse(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		clock := testenv.NewClock(time.Now().UTC().Truncate(time.Millisecond))
		env := testenv.Start(t, backend, testenv.Options{TrustForwardedFor: true, Clock: clock.Now})
		env.User(t, "uma@example.com")
		c := deviceLogin(t, env, "uma@example.com", "first/1", "198.51.100.10")
		id := currentID(t, c) // a use, at t0
		t0 := clock.Now()

		waitLastUse := func(want accountd.TokenUse) {
			t.Helper()
			deadline := time.Now().Add(3 * time.Second)
			for {
				tok, err := env.Store.Token(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				got := accountd.TokenUse{At: tok.LastUsedAt, Address: tok.LastUsedAddress, UserAgent: tok.LastUsedUserAgent}
				if got.At.Equal(want.At) && got.Address == want.Address && got.UserAgent == want.UserAgent {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("stored last use = %v %q %q, want %v %q %q", got.At, got.Address, got.UserAgent, want.At, want.Address, want.UserAgent)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		waitLastUse(accountd.TokenUse{At: t0, Address: "198.51.100.10", UserAgent: "first/1"})

		// within the minute: nothing new is noted
		clock.Add(30 * time.Second)
		other := deviceClient(t, env, c.Token(), "second/2", "203.0.113.20")
		if _, err := other.Me.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // several flush intervals
		waitLastUse(accountd.TokenUse{At: t0, Address: "198.51.100.10", UserAgent: "first/1"})

		// past it: the new use, its address and agent
		clock.Add(31 * time.Second)
		if _, err := other.Me.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
		waitLastUse(accountd.TokenUse{At: clock.Now(), Address: "203.0.113.20", UserAgent: "second/2"})
		s := listSessions(t, c)[id]
		if s.LastUsed == nil || !s.LastUsed.Equal(clock.Now()) || s.LastUsedAddress != "203.0.113.20" {
			t.Errorf("listed last use = %v from %q, want %v from 203.0.113.20", s.LastUsed, s.LastUsedAddress, clock.Now())
		}
	})
}

// TestSessionRevoke: revoking a session refuses it at once on this instance
// and within a second on another that had it cached; another user's
// session, an API token and an unknown id are 404; revoking the others
// keeps the caller's (and what it was obtained with) and API tokens.
func TestSessionRevoke(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		a := testenv.Start(t, backend, testenv.Options{})
		b := testenv.Start(t, backend, testenv.Options{Store: a.Store, Keys: a.Keys})
		a.User(t, "vic@example.com")
		a.User(t, "wes@example.com")
		mine := a.Login(t, "vic@example.com")
		stolen := a.Login(t, "vic@example.com")
		stolenID := currentID(t, stolen)
		onB := b.Client(t, stolen.Token())
		if _, err := onB.Me.Get(ctx, nil); err != nil { // cached on b
			t.Fatal(err)
		}
		wes := a.Login(t, "wes@example.com")
		api, err := mine.UserAPITokens.Post(ctx, client.APITokenPost{Name: "deploy"})
		if err != nil {
			t.Fatal(err)
		}

		if err := mine.Me.RevokeSession(ctx, currentID(t, wes)); err == nil {
			t.Error("revoking another user's session succeeded")
		} else {
			wantError(t, err, 404, "session")
		}
		if _, err := wes.Me.Get(ctx, nil); err != nil {
			t.Errorf("wes's session after vic tried to revoke it: %v", err)
		}
		wantError(t, mine.Me.RevokeSession(ctx, api.ID), 404, "session")
		wantError(t, mine.Me.RevokeSession(ctx, "5f0000000000000000000000"), 404, "session")
		status, _, body := raw(t, a, "DELETE", "/me/sessions/nothex", mine.Token(), "", nil)
		if status != 400 || !strings.Contains(string(body), "sessionId") {
			t.Errorf("malformed id: %d %s, want 400 naming sessionId", status, body)
		}

		if err := mine.Me.RevokeSession(ctx, stolenID); err != nil {
			t.Fatal(err)
		}
		revoked := time.Now()
		_, err = stolen.Me.Get(ctx, nil)
		wantError(t, err, 401)
		for {
			_, err := onB.Me.Get(ctx, nil)
			if err != nil {
				wantError(t, err, 401)
				break
			}
			if time.Since(revoked) > time.Second {
				t.Fatal("the other instance still accepts the session a second after it was revoked")
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%s: refused on the other instance after %v", backend, time.Since(revoked).Round(time.Millisecond))
		wantError(t, mine.Me.RevokeSession(ctx, stolenID), 404)
		if _, ok := listSessions(t, mine)[stolenID]; ok {
			t.Error("the revoked session is still listed")
		}

		// Sessions refreshed with the API token are bound to it; the one
		// making the request was refreshed from such a session. Revoking
		// the others keeps it and its parent.
		viaAPI, err := a.Client(t, api.Token).Me.RefreshToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		child, err := a.Client(t, viaAPI.Token).Me.RefreshToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		caller := a.Client(t, child.Token)
		others := []*client.Client{a.Login(t, "vic@example.com"), a.Login(t, "vic@example.com")}
		n, err := caller.Me.RevokeOtherSessions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 { // mine and the two others
			t.Errorf("revoked %d sessions, want 3", n)
		}
		// the security log has one entry for the one revoked by id and one
		// for the whole sign-out of the others
		var revokedEntries []string
		for _, e := range fullLog(t, caller) {
			if e.Kind == accountd.SecSessionRevoked {
				revokedEntries = append(revokedEntries, e.ObjectID+"/"+e.Detail["count"])
			}
		}
		if w := []string{"/3", stolenID + "/"}; !slices.Equal(revokedEntries, w) {
			t.Errorf("session.revoked entries, newest first: %q, want %q", revokedEntries, w)
		}
		for i, c := range append(others, mine) {
			if _, err := c.Me.Get(ctx, nil); err == nil {
				t.Errorf("session %d still works after revoking the others", i)
			}
		}
		for name, tok := range map[string]string{"caller": child.Token, "its parent": viaAPI.Token, "API token": api.Token} {
			if _, err := a.Client(t, tok).Me.Get(ctx, nil); err != nil {
				t.Errorf("%s after revoking the other sessions: %v", name, err)
			}
		}
		if got := listSessions(t, caller); len(got) != 2 {
			t.Errorf("after revoking the others: %d sessions listed, want 2 (the caller and its parent)", len(got))
		}
		if _, err := wes.Me.Get(ctx, nil); err != nil {
			t.Errorf("another user's session after revoking the others: %v", err)
		}
		// nothing left to revoke
		if n, err := caller.Me.RevokeOtherSessions(ctx); err != nil || n != 0 {
			t.Errorf("revoking the others again = %d, %v; want 0", n, err)
		}
	})
}

// TestSessionScopes: reading sessions needs a scope that grants
// me.sessions; me.get alone does not, nor does reading grant revoking.
func TestSessionScopes(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "xena@example.com")
	other := env.Login(t, "xena@example.com")
	otherID := currentID(t, other)
	login := func(scope ...string) *client.Client {
		a, err := env.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{
			Email: "xena@example.com", Password: testenv.Password, RequestedScopes: scope})
		if err != nil {
			t.Fatal(err)
		}
		return env.Client(t, a.Token)
	}

	meGet := login("me.get")
	_, err := meGet.Me.Sessions(ctx)
	wantError(t, err, 403, "sessions.get")
	wantError(t, meGet.Me.RevokeSession(ctx, otherID), 403, "session.revoke")
	_, err = meGet.Me.RevokeOtherSessions(ctx)
	wantError(t, err, 403, "sessions.revokeOthers")

	for _, scope := range []string{"me.sessions", "all.User.read", "me.*"} {
		if _, err := login(scope).Me.Sessions(ctx); err != nil {
			t.Errorf("listing with %s: %v", scope, err)
		}
	}
	reader := login("me.sessions")
	wantError(t, reader.Me.RevokeSession(ctx, otherID), 403, "session.revoke")
	if err := login("me.revokeSession").Me.RevokeSession(ctx, otherID); err != nil {
		t.Errorf("revoking with me.revokeSession: %v", err)
	}
	if _, err := other.Me.Get(ctx, nil); err == nil {
		t.Error("the revoked session still works")
	}
}

// TestSessionFromBeforeSessions: a session row issued before accountd
// recorded how and where (no obtainedVia, no client) lists as unknown.
func TestSessionFromBeforeSessions(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	uid := env.User(t, "yuri@example.com")
	c := env.Login(t, "yuri@example.com")
	u, err := env.Store.User(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	now := accountd.Millis(time.Now())
	old := &accountd.Token{ID: accountd.NewID(now), UserID: uid, Kind: accountd.KindSession, Scope: []string{"all.User"},
		Status: accountd.StatusActive, CreatorType: "user", CreatorID: uid, CreatedAt: now, UpdatedAt: now,
		ExpiresAt: now.Add(time.Hour), UserGen: u.TokenGen}
	if err := env.Store.CreateToken(ctx, old); err != nil {
		t.Fatal(err)
	}
	s, ok := listSessions(t, c)[old.ID]
	if !ok || s.ObtainedVia != "unknown" || s.CreatedAddress != "" || s.CreatedUserAgent != "" || s.LastUsed != nil || s.Current {
		t.Errorf("old session = %+v (listed %v), want obtainedVia unknown and nothing else known", s, ok)
	}
}
