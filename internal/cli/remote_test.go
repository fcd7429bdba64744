package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accountd/accountd/internal/testenv"
)

// remote runs client commands against a real server, with their own config
// directory.
type remote struct {
	t   *testing.T
	env []string
}

func (r remote) run(stdin string, args ...string) (int, string, string) {
	r.t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, r.env, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestClientCommands(t *testing.T) {
	t.Parallel()
	srv := testenv.Start(t, "sqlite", testenv.Options{})
	srv.User(t, "cli@example.com")
	dir := t.TempDir()
	r := remote{t: t, env: []string{"ACCOUNTD_URL=" + srv.URL, "ACCOUNTD_CONFIG_DIR=" + dir}}

	if code, _, errOut := r.run("", "me"); code != ExitAuth || !strings.Contains(errOut, "not logged in") {
		t.Fatalf("me before login = %d %q", code, errOut)
	}
	if code, _, errOut := r.run("wrong-password\n", "login", "--email", "cli@example.com"); code != ExitAuth {
		t.Fatalf("login with a wrong password = %d %q", code, errOut)
	}
	code, out, errOut := r.run("cli@example.com\n"+testenv.Password+"\n", "login")
	if code != ExitOK || !strings.Contains(out, "Logged in") {
		t.Fatalf("login = %d %q %q", code, out, errOut)
	}
	fi, err := os.Stat(filepath.Join(dir, "credentials.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", err, fi)
	}

	code, out, _ = r.run("", "me", "-o", "json")
	var me struct{ Email string }
	if code != ExitOK || json.Unmarshal([]byte(out), &me) != nil || me.Email != "cli@example.com" {
		t.Fatalf("me -o json = %d %q", code, out)
	}
	if code, out, _ = r.run("", "me", "patch", "--title", "Operator", "-o", "json"); code != ExitOK || !strings.Contains(out, `"title": "Operator"`) {
		t.Errorf("me patch = %d %q", code, out)
	}

	code, out, errOut = r.run("", "tokens", "create", "--name", "deploy", "--scope", "me.get,userApiTokens.get", "-o", "json")
	var tok struct{ ID, Token string }
	if code != ExitOK || json.Unmarshal([]byte(out), &tok) != nil || tok.Token == "" {
		t.Fatalf("tokens create = %d %q %q", code, out, errOut)
	}
	if code, out, _ = r.run("", "tokens", "list"); code != ExitOK || !strings.Contains(out, tok.ID) || !strings.Contains(out, "me.get,userApiTokens.get") {
		t.Errorf("tokens list = %d %q", code, out)
	}
	if code, out, _ = r.run("", "tokens", "update", tok.ID, "--status", "inactive"); code != ExitOK || !strings.Contains(out, "inactive") {
		t.Errorf("tokens update = %d %q", code, out)
	}
	// the deactivated token is refused: exit 4
	withTok := remote{t: t, env: append(r.env, "ACCOUNTD_TOKEN="+tok.Token)}
	if code, _, _ = withTok.run("", "me"); code != ExitAuth {
		t.Errorf("me with an inactive token = %d, want %d", code, ExitAuth)
	}
	if code, out, _ = r.run("", "tokens", "get", tok.ID); code != ExitOK || !strings.Contains(out, "deploy") {
		t.Errorf("tokens get = %d %q", code, out)
	}
	if code, _, _ = r.run("", "tokens", "revoke", tok.ID); code != ExitOK {
		t.Errorf("tokens revoke = %d", code)
	}
	if code, _, errOut = r.run("", "tokens", "get", tok.ID); code != ExitNotFound {
		t.Errorf("tokens get after revoke = %d %q, want %d", code, errOut, ExitNotFound)
	}
	if code, _, _ = r.run("", "tokens", "get", "not-an-id"); code != ExitUsage {
		t.Errorf("tokens get not-an-id = %d, want %d", code, ExitUsage)
	}

	newPW := "Brand-new-passw0rd"
	if code, _, errOut = r.run(testenv.Password+"\n"+newPW+"\n"+newPW+"\n", "me", "change-password", "--invalidate-tokens"); code != ExitOK {
		t.Fatalf("change-password = %d %q", code, errOut)
	}
	// the kept token was replaced by the fresh one
	if code, _, errOut = r.run("", "me"); code != ExitOK {
		t.Errorf("me after change-password = %d %q", code, errOut)
	}
	if code, _, _ = r.run("", "logout"); code != ExitOK {
		t.Errorf("logout = %d", code)
	}
	if code, _, _ = r.run("", "me"); code != ExitAuth {
		t.Errorf("me after logout = %d, want %d", code, ExitAuth)
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, _ := run(t, nil, "completion", shell)
		if code != ExitOK || !strings.Contains(out, "accountd") {
			t.Errorf("completion %s = %d, %d bytes", shell, code, len(out))
		}
	}
}
