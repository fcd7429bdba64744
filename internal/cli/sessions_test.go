package cli

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

// TestSessionsCommands: sessions list shows the CLI's own session marked
// and the others; revoke signs one out; --all-others the rest.
func TestSessionsCommands(t *testing.T) {
	t.Parallel()
	srv := testenv.Start(t, "sqlite", testenv.Options{})
	srv.User(t, "sess@example.com")
	r := remote{t: t, env: []string{"ACCOUNTD_URL=" + srv.URL, "ACCOUNTD_CONFIG_DIR=" + t.TempDir()}}
	if code, _, errOut := r.run("sess@example.com\n"+testenv.Password+"\n", "login"); code != ExitOK {
		t.Fatalf("login = %d %q", code, errOut)
	}
	other := srv.Login(t, "sess@example.com")
	third := srv.Login(t, "sess@example.com")

	code, out, errOut := r.run("", "sessions", "list", "-o", "json")
	var l struct {
		Items []struct {
			ID          string `json:"id"`
			Current     bool   `json:"current"`
			ObtainedVia string `json:"obtainedVia"`
		} `json:"items"`
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &l) != nil || len(l.Items) != 3 {
		t.Fatalf("sessions list -o json = %d %q %q; want 3 sessions", code, out, errOut)
	}
	var mine, others []string
	for _, s := range l.Items {
		if s.Current {
			mine = append(mine, s.ID)
		} else {
			others = append(others, s.ID)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("%d sessions marked current, want 1", len(mine))
	}
	code, out, _ = r.run("", "sessions", "list")
	if code != ExitOK || !strings.Contains(out, mine[0]+" *") || !strings.Contains(out, "password") || !strings.Contains(out, "LAST USED") {
		t.Errorf("sessions list = %d\n%s", code, out)
	}

	for _, args := range [][]string{{"sessions", "revoke"}, {"sessions", "revoke", others[0], "--all-others"}} {
		if code, _, errOut := r.run("", args...); code != ExitUsage {
			t.Errorf("%v = %d %q, want a usage error", args, code, errOut)
		}
	}
	if code, _, errOut := r.run("", "sessions", "revoke", "5f0000000000000000000000"); code == ExitOK || !strings.Contains(errOut, "session was not found") {
		t.Errorf("revoking an unknown session = %d %q", code, errOut)
	}

	revokeID := currentIDOf(t, other)
	if code, out, errOut := r.run("", "sessions", "revoke", revokeID); code != ExitOK || !strings.Contains(out, "Revoked session "+revokeID) {
		t.Fatalf("sessions revoke = %d %q %q", code, out, errOut)
	}
	if _, err := other.Me.Get(t.Context(), nil); !errors.Is(err, accountd.ErrUnauthorized) {
		t.Errorf("revoked session: %v, want 401", err)
	}
	if code, out, errOut := r.run("", "sessions", "revoke", "--all-others", "-o", "json"); code != ExitOK || !strings.Contains(out, `"revoked": 1`) {
		t.Fatalf("sessions revoke --all-others = %d %q %q", code, out, errOut)
	}
	if _, err := third.Me.Get(t.Context(), nil); !errors.Is(err, accountd.ErrUnauthorized) {
		t.Errorf("other session after --all-others: %v, want 401", err)
	}
	if code, _, errOut := r.run("", "me"); code != ExitOK {
		t.Errorf("the CLI's own session after --all-others: %d %q", code, errOut)
	}
}

func currentIDOf(t *testing.T, c *client.Client) string {
	t.Helper()
	l, err := c.Me.Sessions(t.Context())
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
