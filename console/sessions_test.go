package console_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

// TestSessionsSection: the security page lists the visitor's sessions (the
// console's own marked, with how and from where each began), revokes one
// with a CSRF-checked form, refuses another user's, and signs out every
// other session.
func TestSessionsSection(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "ada@example.com")
	env.User(t, "bob@example.com")
	v := newVisitor(t, env.URL)
	v.signIn("ada@example.com", testenv.Password)
	api := env.Login(t, "ada@example.com")
	bob := env.Login(t, "bob@example.com")

	resp, body := v.get("/account/security")
	wantStatus(t, resp, body, http.StatusOK)
	section := body[strings.Index(body, `id="sessions"`):]
	for _, want := range []string{"this session", "<td>console</td>", "<td>password</td>", client.DefaultUserAgent, "Go-http-client", "127.0.0.1",
		`action="/account/security/sessions/revoke-others"`} {
		if !strings.Contains(section, want) {
			t.Errorf("sessions section lacks %q; section:\n%s", want, section)
		}
	}
	if n := strings.Count(section, "<tr>") - 1; n != 2 { // less the header row
		t.Errorf("sessions section lists %d sessions, want 2", n)
	}

	apiID := currentSession(t, api)
	if !strings.Contains(section, `/account/security/sessions/`+apiID+`/revoke`) {
		t.Errorf("no revoke form for the API session %s", apiID)
	}

	// another user's session: not found, and it keeps working
	resp, body = v.post("/account/security/sessions/"+currentSession(t, bob)+"/revoke", nil)
	wantStatus(t, resp, body, http.StatusNotFound)
	if _, err := bob.Me.Get(ctx, nil); err != nil {
		t.Errorf("bob's session after ada tried to revoke it: %v", err)
	}
	// without the CSRF token: refused
	resp, body = v.post("/account/security/sessions/"+apiID+"/revoke", map[string][]string{"csrf": {""}})
	wantStatus(t, resp, body, http.StatusForbidden)

	resp, _ = v.post("/account/security/sessions/"+apiID+"/revoke", nil)
	wantRedirect(t, resp, "/account/security?done=session-out")
	if _, err := api.Me.Get(ctx, nil); !errors.Is(err, accountd.ErrUnauthorized) {
		t.Errorf("the revoked session: %v, want 401", err)
	}
	resp, body = v.get("/account/security?done=session-out")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, "The session is signed out.") || strings.Contains(body, apiID) {
		t.Errorf("after revoking: want the notice and the session gone; page:\n%s", body)
	}

	others := []*client.Client{env.Login(t, "ada@example.com"), env.Login(t, "ada@example.com")}
	v.get("/account/security")
	resp, _ = v.post("/account/security/sessions/revoke-others", nil)
	wantRedirect(t, resp, "/account/security?done=sessions-out")
	for i, c := range others {
		if _, err := c.Me.Get(ctx, nil); !errors.Is(err, accountd.ErrUnauthorized) {
			t.Errorf("other session %d after signing out the others: %v, want 401", i, err)
		}
	}
	resp, body = v.get("/account/security?done=sessions-out")
	wantStatus(t, resp, body, http.StatusOK)
	if n := strings.Count(body[strings.Index(body, `id="sessions"`):], "<tr>") - 1; n != 1 {
		t.Errorf("after signing out the others: %d sessions listed, want 1 (this one)", n)
	}
}

func currentSession(t *testing.T, c *client.Client) string {
	t.Helper()
	l, err := c.Me.Sessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range l.Items {
		if s.Current {
			return s.ID
		}
	}
	t.Fatal("no session is marked current")
	return ""
}
