package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/accountd/accountd/internal/testenv"
)

// TestOrgResourceRoleCommands: an invitation with role none and a role on
// one application, from the terminal, then set-role replacing and clearing
// the per-resource roles.
func TestOrgResourceRoleCommands(t *testing.T) {
	t.Parallel()
	srv := testenv.Start(t, "sqlite", testenv.Options{})
	srv.User(t, "owner@example.com")
	guestID := srv.User(t, "guest@example.com")
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
	var org struct{ ID, PlanID, BillingEmail string }
	jsonOut(owner, &org, "orgs", "create", "--name", "Acme", "--plan", "gold", "--billing-email", "billing@example.com")
	if org.PlanID != "gold" || org.BillingEmail != "billing@example.com" {
		t.Errorf("created = %+v", org)
	}
	var app, other struct{ ID string }
	jsonOut(owner, &app, "apps", "create", "--name", "Shared", "--org", org.ID)
	jsonOut(owner, &other, "apps", "create", "--name", "Hidden", "--org", org.ID)

	if code, _, errOut := owner.run("", "orgs", "invite", org.ID, "--email", "guest@example.com", "--app-role", "nope"); code != ExitUsage || !strings.Contains(errOut, "ID=ROLE") {
		t.Errorf("invite with a bad --app-role = %d %q", code, errOut)
	}
	var invites []struct {
		ID               string
		Role             string
		DisallowTransfer bool
		ApplicationRoles []struct{ ResourceID, Role string }
	}
	jsonOut(owner, &invites, "orgs", "invite", org.ID, "--email", "guest@example.com", "--role", "none", "--app-role", app.ID+"=view", "--disallow-transfer")
	if len(invites) != 1 || invites[0].Role != "none" || !invites[0].DisallowTransfer || len(invites[0].ApplicationRoles) != 1 || invites[0].ApplicationRoles[0].ResourceID != app.ID {
		t.Fatalf("invites = %+v", invites)
	}
	var mine []struct{ ID string }
	jsonOut(guest, &mine, "invites", "list")
	if code, _, errOut := guest.run("", "invites", "accept", mine[0].ID); code != ExitOK {
		t.Fatalf("accept = %d %s", code, errOut)
	}
	if code, out, _ := guest.run("", "apps", "list"); code != ExitOK || !strings.Contains(out, app.ID) || strings.Contains(out, other.ID) {
		t.Errorf("the guest's apps = %d %q, want only %s", code, out, app.ID)
	}
	if code, out, _ := owner.run("", "orgs", "get", org.ID); code != ExitOK || !strings.Contains(out, "app "+app.ID+"=view") {
		t.Errorf("orgs get = %d %q", code, out)
	}
	if code, out, errOut := owner.run("", "orgs", "set-role", org.ID, guestID, "--app-role", other.ID+"=collaborate"); code != ExitOK || !strings.Contains(out, "app "+other.ID+"=collaborate") || strings.Contains(out, app.ID) {
		t.Errorf("set-role --app-role = %d %q %q", code, out, errOut)
	}
	if code, out, errOut := owner.run("", "orgs", "set-role", org.ID, guestID, "--app-role=", "--role", "view"); code != ExitOK || strings.Contains(out, "app ") || !strings.Contains(out, "view") {
		t.Errorf("set-role --app-role= --role view = %d %q %q", code, out, errOut)
	}
}
