package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/accountd/accountd/internal/testenv"
)

// TestDeviceFieldsCommands creates devices with a parent, a gateway, tags
// and data from the terminal, and lists them by class, tag and parent.
func TestDeviceFieldsCommands(t *testing.T) {
	t.Parallel()
	srv := testenv.Start(t, "sqlite", testenv.Options{})
	srv.User(t, "fleet@example.com")
	r := remote{t: t, env: []string{"ACCOUNTD_URL=" + srv.URL, "ACCOUNTD_CONFIG_DIR=" + t.TempDir()}}
	if code, _, errOut := r.run(testenv.Password+"\n", "login", "--email", "fleet@example.com"); code != ExitOK {
		t.Fatalf("login = %d %s", code, errOut)
	}
	jsonOut := func(v any, args ...string) {
		t.Helper()
		code, out, errOut := r.run("", append(args, "-o", "json")...)
		if code != ExitOK {
			t.Fatalf("%v = %d %s", args, code, errOut)
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v printed %q: %v", args, out, err)
		}
	}
	var app, gw struct{ ID string }
	jsonOut(&app, "apps", "create", "--name", "Fleet")
	jsonOut(&gw, "devices", "create", app.ID, "--name", "hub", "--class", "gateway")
	var child struct {
		ID, ParentID, GatewayID string
		Tags                    []struct{ Key, Value string }
		Attributes              []struct{ Name, DataType string }
	}
	jsonOut(&child, "devices", "create", app.ID, "--name", "probe", "--class", "peripheral", "--parent", gw.ID, "--gateway", gw.ID,
		"--tag", "floor=2", "--data", `{"attributes":[{"name":"temp","dataType":"number"}]}`)
	if child.ParentID != gw.ID || child.GatewayID != gw.ID || len(child.Tags) != 1 || child.Tags[0].Key != "floor" ||
		len(child.Attributes) != 1 || child.Attributes[0].Name != "temp" {
		t.Errorf("created device = %+v", child)
	}
	for _, tc := range []struct {
		args      []string
		want, not string
	}{
		{[]string{"--class", "gateway"}, "hub", "probe"},
		{[]string{"--tag", "floor=2"}, "probe", "hub"},
		{[]string{"--tag", "floor"}, "probe", "hub"},
		{[]string{"--parent", gw.ID}, "probe", "hub"},
		{[]string{"--parent", ""}, "hub", "probe"},
	} {
		code, out, errOut := r.run("", append([]string{"devices", "list", app.ID}, tc.args...)...)
		if code != ExitOK || !strings.Contains(out, tc.want) || strings.Contains(out, tc.not) {
			t.Errorf("devices list %v = %d %q %q; want %s without %s", tc.args, code, out, errOut, tc.want, tc.not)
		}
	}
	for _, args := range [][]string{
		{"devices", "create", app.ID, "--name", "x", "--tag", "novalue"},
		{"devices", "create", app.ID, "--name", "x", "--data", "[1]"},
	} {
		if code, _, _ := r.run("", args...); code != ExitUsage {
			t.Errorf("%v = %d, want a usage error", args, code)
		}
	}
	if code, _, errOut := r.run("", "devices", "create", app.ID, "--name", "x", "--parent", app.ID); code == ExitOK || !strings.Contains(errOut, "parentId") {
		t.Errorf("a parent that is no device = %d %q, want an error naming parentId", code, errOut)
	}
}
