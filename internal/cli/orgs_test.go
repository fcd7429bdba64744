package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/accountd/accountd/internal/testenv"
)

// TestOrgCommands walks the organization flow from the terminal: two users,
// an organization, an invitation accepted, an application moved into it.
func TestOrgCommands(t *testing.T) {
	t.Parallel()
	srv := testenv.Start(t, "sqlite", testenv.Options{})
	srv.User(t, "owner@example.com")
	srv.User(t, "guest@example.com")
	login := func(email string) remote {
		r := remote{t: t, env: []string{"ACCOUNTD_URL=" + srv.URL, "ACCOUNTD_CONFIG_DIR=" + t.TempDir()}}
		if code, _, errOut := r.run(testenv.Password+"\n", "login", "--email", email); code != ExitOK {
			t.Fatalf("login %s = %d %s", email, code, errOut)
		}
		return r
	}
	owner, guest := login("owner@example.com"), login("guest@example.com")
	jsonOut := func(r remote, v any, args ...string) {
		t.Helper()
		code, out, errOut := r.run("", append(args, "-o", "json")...)
		if code != ExitOK {
			t.Fatalf("%v = %d %s", args, code, errOut)
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v printed %q: %v", args, out, err)
		}
	}

	var org struct{ ID string }
	jsonOut(owner, &org, "orgs", "create", "--name", "Acme")
	var invites []struct{ ID, Email, Role string }
	jsonOut(owner, &invites, "orgs", "invite", org.ID, "--email", "guest@example.com", "--role", "edit")
	if len(invites) != 1 || invites[0].Email != "guest@example.com" {
		t.Fatalf("invites = %+v", invites)
	}
	if code, out, _ := guest.run("", "invites", "list"); code != ExitOK || !strings.Contains(out, "Acme") || !strings.Contains(out, "edit") {
		t.Fatalf("invites list = %d %q", code, out)
	}
	var mine []struct{ ID string }
	jsonOut(guest, &mine, "invites", "list")
	if code, out, _ := guest.run("", "invites", "accept", mine[0].ID); code != ExitOK || !strings.Contains(out, "accepted") {
		t.Fatalf("invites accept = %d %q", code, out)
	}
	if code, _, _ := guest.run("", "invites", "accept", mine[0].ID); code == ExitOK {
		t.Error("a second answer to the same invitation was accepted")
	}
	if code, out, _ := owner.run("", "orgs", "get", org.ID); code != ExitOK || !strings.Contains(out, "guest@example.com") {
		t.Fatalf("orgs get = %d %q", code, out)
	}

	var app struct{ ID string }
	jsonOut(owner, &app, "apps", "create", "--name", "Weather")
	if code, out, errOut := owner.run("", "transfer", "--to", org.ID, "--app", app.ID, "--strict"); code != ExitOK || !strings.Contains(out, "Everything moved") {
		t.Fatalf("transfer = %d %q %q", code, out, errOut)
	}
	if code, out, _ := guest.run("", "apps", "list"); code != ExitOK || !strings.Contains(out, app.ID) || !strings.Contains(out, "organization") {
		t.Errorf("the guest's apps after the transfer = %d %q", code, out)
	}
	if code, out, _ := owner.run("", "recent", "organization"); code != ExitOK || !strings.Contains(out, "ID") {
		t.Errorf("recent = %d %q", code, out)
	}
	if code, _, _ := owner.run("", "recent", "gadget"); code != ExitUsage {
		t.Errorf("recent with a bad type = %d, want %d", code, ExitUsage)
	}
	if code, _, _ := owner.run("", "orgs", "get", "5f0000000000000000000000"); code != ExitNotFound {
		t.Errorf("orgs get of an unknown id = %d, want %d", code, ExitNotFound)
	}
}
