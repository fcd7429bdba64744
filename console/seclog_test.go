package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/service"
)

// TestSecurityLogPage: the console's security log shows the user's own
// entries with where they came from, filters by kind and pages.
func TestSecurityLogPage(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	adaID := env.User(t, "ada@example.com")
	env.User(t, "grace@example.com")
	v := newVisitor(t, env.URL)
	v.signIn("ada@example.com", testenv.Password)
	v.get("/account/tokens")
	resp, body := v.post("/account/tokens", url.Values{"name": {"nightly build"}, "scope": {"me.get"}, "expiresIn": {"30"}})
	wantStatus(t, resp, body, http.StatusOK)

	resp, body = v.get("/account/security-log")
	checkPage(t, "/account/security-log", resp, body)
	for _, want := range []string{"Signed in", "API token created", "name: nightly build", "127.0.0.1", "Go-http-client/1.1",
		`aria-current="page">Security log`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q; page:\n%s", want, body)
		}
	}
	_, body = v.get("/account/security-log?kind=" + accountd.SecTokenCreated)
	if !strings.Contains(body, "API token created") || strings.Contains(body, "<th scope=\"row\">Signed in") ||
		!strings.Contains(body, `value="token.created" selected`) {
		t.Errorf("filtered by kind; page:\n%s", body)
	}
	_, body = v.get("/account/security-log?kind=nonsense")
	if !strings.Contains(body, "<th scope=\"row\">Signed in") {
		t.Errorf("an unknown kind shows everything; page:\n%s", body)
	}

	// grace sees nothing of ada's
	g := newVisitor(t, env.URL)
	g.signIn("grace@example.com", testenv.Password)
	_, body = g.get("/account/security-log")
	if strings.Contains(body, "nightly build") || !strings.Contains(body, "Signed in") {
		t.Errorf("grace's log; page:\n%s", body)
	}

	// 60 more entries: two pages of 50
	for range 60 {
		announce, err := env.Service.RecordSecurityEvent(ctx, nil, service.SecurityEntry{UserID: adaID, Kind: accountd.SecSessionRevoked})
		if err != nil {
			t.Fatal(err)
		}
		announce()
	}
	_, body = v.get("/account/security-log")
	if strings.Count(body, "<tr>") != 51 || !strings.Contains(body, `href="/account/security-log?page=1">Older`) || strings.Contains(body, ">Newer<") {
		t.Errorf("first page: %d rows; page:\n%s", strings.Count(body, "<tr>")-1, body)
	}
	_, body = v.get("/account/security-log?page=1")
	if strings.Count(body, "<tr>") != 13 || !strings.Contains(body, `href="/account/security-log?page=0">Newer`) || !strings.Contains(body, "API token created") {
		t.Errorf("second page: %d rows; page:\n%s", strings.Count(body, "<tr>")-1, body)
	}
}
