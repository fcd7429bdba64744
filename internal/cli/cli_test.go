package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
)

// run executes a command line in-process and returns exit code, stdout and
// stderr.
func run(t *testing.T, environ []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, environ, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

const pw = "Sup3r-secret-pw"

func TestUserCommands(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "a.db")
	env := []string{"ACCOUNTD_DB=" + db}

	code, out, errOut := run(t, env, "user", "create", "--email", "ops@example.com", "--password", pw, "--first-name", "Op", "--verified")
	if code != ExitOK {
		t.Fatalf("user create = %d: %s", code, errOut)
	}
	id := strings.TrimSpace(out)
	if len(id) != 24 {
		t.Fatalf("user create printed %q, want an id", out)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"duplicate", []string{"user", "create", "--email", "OPS@example.com", "--password", pw}, ExitUsage, "already in use"},
		{"weak password", []string{"user", "create", "--email", "x@example.com", "--password", "password"}, ExitUsage, "upper-case"},
		{"bad email", []string{"user", "create", "--email", "nope", "--password", pw}, ExitUsage, "email"},
		{"missing flag", []string{"user", "create", "--email", "y@example.com"}, ExitUsage, "password"},
		{"unknown command", []string{"frobnicate"}, ExitUsage, "unknown command"},
		{"bad output", []string{"user", "list", "-o", "xml"}, ExitUsage, "--output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, env, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d with %q", code, errOut, tt.code, tt.want)
			}
		})
	}

	var stdout, stderr bytes.Buffer
	code = Run(context.Background(), []string{"user", "create", "--email", "stdin@example.com", "--password", "-"}, env,
		strings.NewReader(pw+"\n"), &stdout, &stderr)
	if code != ExitOK {
		t.Errorf("user create --password - = %d: %s", code, stderr.String())
	}

	code, out, _ = run(t, env, "user", "list")
	if code != ExitOK || !strings.Contains(out, id) || !strings.Contains(out, "ops@example.com") {
		t.Errorf("user list = %d %q", code, out)
	}
	code, out, _ = run(t, nil, "user", "list", "--db", db, "-o", "json")
	var rows []userRow
	if code != ExitOK || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 2 || rows[0].ID != id || !rows[0].EmailVerified {
		t.Errorf("user list -o json = %d %q", code, out)
	}
}

func TestKeysGenerate(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, nil, "keys", "generate")
	id, secret, ok := strings.Cut(strings.TrimSpace(out), ":")
	if code != ExitOK || !ok || id == "" || len(secret) < 43 {
		t.Errorf("keys generate = %d %q", code, out)
	}
}

func TestHelpEverywhere(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"user", "create", "--help"}, {"user", "list", "--help"}, {"migrate", "--help"}, {"keys", "generate", "--help"}} {
		code, out, _ := run(t, nil, args...)
		if code != ExitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("%v = %d %q", args, code, out)
		}
	}
	_, out, _ := run(t, nil, "serve", "--help")
	if !strings.Contains(out, "ACCOUNTD_DB") || !strings.Contains(out, "ACCOUNTD_ADDR") {
		t.Errorf("serve --help does not name the environment variables: %s", out)
	}
}

// TestServe runs the real serve command on a SQLite file: it creates the
// database and a key file, answers over HTTP, and stops cleanly on cancel.
func TestServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "serve.db")
	if code, _, errOut := run(t, nil, "user", "create", "--db", db, "--email", "srv@example.com", "--password", pw, "--verified"); code != ExitOK {
		t.Fatalf("user create: %s", errOut)
	}
	// a platform service's usage key, in the keys file as keygen prints it
	code, out, errOut := run(t, nil, "usage", "keygen", "probe")
	if code != ExitOK {
		t.Fatalf("usage keygen: %s", errOut)
	}
	keyLines := strings.Split(strings.TrimSpace(out), "\n")
	usageKey := keyLines[1]
	keysFile := filepath.Join(dir, "usage.keys")
	os.WriteFile(keysFile, []byte(keyLines[2]+"\n"+keyLines[3]+"\n"), 0o600) // its comment and its line
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw2 := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--hash-memory", "64", "--hash-time", "1", "--metrics-addr", "127.0.0.1:0",
			"--usage-keys-file", keysFile},
			[]string{"ACCOUNTD_DB=" + db}, strings.NewReader(""), io.Discard, pw2)
		pw2.Close()
		done <- code
	}()
	lines := bufio.NewScanner(pr)
	var addr, metricsAddr string
	for lines.Scan() {
		var entry struct{ Msg, Addr string }
		if json.Unmarshal(lines.Bytes(), &entry) != nil {
			continue
		}
		switch entry.Msg {
		case "listening":
			addr = entry.Addr
		case "serving metrics":
			metricsAddr = entry.Addr
		}
		if addr != "" && metricsAddr != "" {
			break
		}
	}
	if addr == "" || metricsAddr == "" {
		t.Fatalf("serve never logged its addresses (api %q, metrics %q)", addr, metricsAddr)
	}
	go io.Copy(io.Discard, pr)

	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/readyz = %v, %v", resp, err)
	}
	resp.Body.Close()
	c, _ := client.New("http://" + addr)
	a, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "srv@example.com", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(a.Token)
	if me, err := c.Me.Get(ctx, nil); err != nil || me.Email != "srv@example.com" {
		t.Fatalf("GET /me = %+v, %v", me, err)
	}
	app, err := c.Applications.Post(ctx, client.OwnedPost{Name: "Probe"})
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := client.New("http://"+addr, client.WithToken(usageKey))
	ev := client.UsageEvent{ID: "probe:1", Kind: "payload", Time: time.Now(), ApplicationID: app.ID, Type: "webhook", Source: "webhook"}
	if res, err := svc.Usage.Record(ctx, []client.UsageEvent{ev, ev}); err != nil || res.Recorded != 1 {
		t.Fatalf("recording usage with the key from --usage-keys-file = %+v, %v", res, err)
	}
	resp, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`accountd_http_requests_total{action="me.get",method="GET",status="200"} 1`, `accountd_http_request_duration_seconds_bucket{action="auth.authenticateUser"`,
		`accountd_usage_events_total{result="recorded",service="probe"} 1`, `accountd_usage_events_total{result="duplicate",service="probe"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if resp, err := http.Get("http://" + addr + "/metrics"); err != nil || resp.StatusCode != 404 {
		t.Errorf("/metrics on the API port: %v %v, want 404", resp.StatusCode, err)
	}
	fi, err := os.Stat(db + ".keys")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want mode 0600", err, fi.Mode())
	}

	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("serve exited %d after shutdown", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10s")
	}
}

func TestServeNeedsKeysOnPostgres(t *testing.T) {
	t.Parallel()
	code, _, errOut := run(t, nil, "serve", "--db", "postgres://nobody@127.0.0.1:1/none")
	if code == ExitOK || !strings.Contains(errOut, "ACCOUNTD_KEYS") {
		t.Errorf("serve on PostgreSQL without keys = %d %q", code, errOut)
	}
}

// TestServeFlagChecks: out-of-range values are refused with a usage error
// naming the flag, not quietly replaced.
func TestServeFlagChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flag, value, want string
	}{
		{"--hash-concurrency", "0", "--hash-concurrency: must be at least 1"},
		{"--hash-queue", "-1", "--hash-queue: must not be negative"},
		{"--hash-wait", "0s", "--hash-wait: must be positive"},
		{"--security-log-retention", "1m", "--security-log-retention: must be at least 1h"},
		{"--notice-interval", "10ms", "--notice-interval: must be at least 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "a.db")
			code, _, errOut := run(t, nil, "serve", "--db", db, "--addr", "127.0.0.1:0", tt.flag, tt.value)
			if code != ExitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("serve %s %s = %d %q, want %d and %q", tt.flag, tt.value, code, errOut, ExitUsage, tt.want)
			}
		})
	}
}
