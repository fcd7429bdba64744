// Package crashtest kills the real accountd binary with SIGKILL in the
// middle of a write load and checks, after a restart on the same database,
// that every write it acknowledged is there: API tokens (listed and
// usable), applications, device states and usage reports, on SQLite (whose
// file must then pass PRAGMA integrity_check) and on PostgreSQL.
package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/pgtest"
	_ "modernc.org/sqlite"
)

const (
	email    = "crash@example.com"
	password = "Crash-Test-Passw0rd!"
	// The load runs at least loadBeforeKill, and until it has had minAcked
	// writes of each kind acknowledged (at most maxLoad), before the kill;
	// requests keep coming until the process is gone.
	loadBeforeKill = 1500 * time.Millisecond
	minAcked       = 10
	maxLoad        = 30 * time.Second
)

// binary is the accountd binary built once for the package's tests, or
// the one ACCOUNTD_CRASHTEST_BINARY names (to try the test on another
// build).
var binary string

func TestMain(m *testing.M) {
	if binary = os.Getenv("ACCOUNTD_CRASHTEST_BINARY"); binary != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "accountd-crashtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "accountd")
	build := exec.Command("go", "build", "-o", binary, "github.com/accountd/accountd/cmd/accountd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "crashtest: building accountd:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestKillMidLoad runs the crash scenario on each store.
func TestKillMidLoad(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		db := filepath.Join(dir, "accountd.db")
		crash(t, dir, db, nil)
		checkIntegrity(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t) // a fresh schema; skips without PostgreSQL
		keys := strings.TrimSpace(run(t, nil, "keys", "generate"))
		crash(t, t.TempDir(), dsn, []string{"--keys", keys})
	})
}

// acked is what the server acknowledged with a 2xx before it died.
type acked struct {
	mu     sync.Mutex
	tokens map[string]string // id -> token value
	apps   []string
	states atomic.Int64 // device states answered 200
	usage  atomic.Int64 // mqttIn payloads in usage reports answered 200
}

func crash(t *testing.T, dir, db string, extra []string) {
	// the usage key platform services report with
	keygen := strings.Split(strings.TrimSpace(run(t, nil, "usage", "keygen", "crash")), "\n")
	if len(keygen) != 4 {
		t.Fatalf("usage keygen printed %q", keygen)
	}
	usageKey := keygen[1]
	keysFile := filepath.Join(dir, "usage.keys")
	if err := os.WriteFile(keysFile, []byte(keygen[3]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, []string{"ACCOUNTD_DB=" + db}, "user", "create", "--email", email, "--password", password, "--verified")
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--usage-keys-file", keysFile,
		"--hash-memory", "64", "--hash-time", "1", "--outbox", filepath.Join(dir, "outbox")}, extra...)

	srv := start(t, args)
	c := &client{t: t, base: "http://" + srv.addr}
	session := c.login()
	app := c.create(session, "/applications", `{"name":"devices"}`)
	device := c.create(session, "/applications/"+app+"/devices", `{"name":"probe"}`)
	statePath := "/applications/" + app + "/devices/" + device + "/state"

	// the load: every worker records what was acknowledged, and stops at
	// its first transport error (the process is gone)
	ack := &acked{tokens: map[string]string{}}
	var wg sync.WaitGroup
	var n atomic.Int64
	worker := func(do func(i int64) bool) {
		wg.Go(func() {
			for do(n.Add(1)) {
			}
		})
	}
	for range 3 {
		worker(func(i int64) bool {
			status, body, err := c.do("POST", "/me/tokens", session, fmt.Sprintf(`{"name":"crash %d","scope":["me.get"]}`, i))
			if err != nil {
				return false
			}
			if status/100 == 2 {
				var tok struct{ ID, Token string }
				if err := json.Unmarshal(body, &tok); err != nil || tok.ID == "" || tok.Token == "" {
					t.Errorf("POST /me/tokens answered %d %s", status, body)
					return false
				}
				ack.mu.Lock()
				ack.tokens[tok.ID] = tok.Token
				ack.mu.Unlock()
			}
			return true
		})
		worker(func(i int64) bool {
			status, body, err := c.do("POST", "/applications", session, fmt.Sprintf(`{"name":"crash app %d"}`, i))
			if err != nil {
				return false
			}
			if status/100 == 2 {
				var a struct{ ID string }
				if err := json.Unmarshal(body, &a); err != nil || a.ID == "" {
					t.Errorf("POST /applications answered %d %s", status, body)
					return false
				}
				ack.mu.Lock()
				ack.apps = append(ack.apps, a.ID)
				ack.mu.Unlock()
			}
			return true
		})
	}
	for range 8 {
		worker(func(int64) bool {
			status, _, err := c.do("POST", statePath, session, `{"data":{"temp":21.5}}`)
			if err != nil {
				return false
			}
			if status == 200 {
				ack.states.Add(1)
			}
			return true
		})
	}
	for range 2 {
		worker(func(i int64) bool {
			body := fmt.Sprintf(`{"events":[{"id":"crash-%d","kind":"payload","time":%d,"applicationId":"%s","type":"mqttIn","source":"mqtt","count":3,"bytes":30}]}`,
				i, time.Now().UnixMilli(), app)
			status, _, err := c.do("POST", "/usage/events", usageKey, body)
			if err != nil {
				return false
			}
			if status == 200 {
				ack.usage.Add(3)
			}
			return true
		})
	}
	// kill once the load has run a while and acknowledged some of each
	// kind (a busy machine may take longer to)
	began := time.Now()
	for {
		ack.mu.Lock()
		enough := len(ack.tokens) >= minAcked && len(ack.apps) >= minAcked
		ack.mu.Unlock()
		enough = enough && ack.states.Load() >= minAcked && ack.usage.Load() >= minAcked
		if enough && time.Since(began) >= loadBeforeKill || time.Since(began) >= maxLoad {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.kill()
	wg.Wait()
	ack.mu.Lock()
	defer ack.mu.Unlock()
	t.Logf("acknowledged before the kill: %d tokens, %d applications, %d device states, %d usage payloads",
		len(ack.tokens), len(ack.apps), ack.states.Load(), ack.usage.Load())
	if len(ack.tokens) == 0 || len(ack.apps) == 0 || ack.states.Load() == 0 || ack.usage.Load() == 0 {
		t.Fatal("the load acknowledged nothing of some kind before the kill: the test proves nothing")
	}

	srv = start(t, args)
	c.base = "http://" + srv.addr
	session = c.login()
	// every token is listed, and works
	listed := map[string]bool{}
	for page := 0; ; page++ {
		var list struct {
			Items []struct {
				ID string `json:"id"`
			}
			TotalCount int `json:"totalCount"`
		}
		c.get(session, fmt.Sprintf("/me/tokens?perPage=1000&page=%d", page), &list)
		for _, it := range list.Items {
			listed[it.ID] = true
		}
		if len(list.Items) == 0 || len(listed) >= list.TotalCount {
			break
		}
	}
	for id, token := range ack.tokens {
		if !listed[id] {
			t.Errorf("token %s was acknowledged but is not listed after the restart", id)
			continue
		}
		if status, body, err := c.do("GET", "/me", token, ""); err != nil || status != 200 {
			t.Errorf("token %s was acknowledged but GET /me with it = %d %s %v", id, status, body, err)
		}
	}
	for _, id := range ack.apps {
		if status, body, err := c.do("GET", "/applications/"+id, session, ""); err != nil || status != 200 {
			t.Errorf("application %s was acknowledged but GET answers %d %s %v", id, status, body, err)
		}
	}
	var counts map[string]map[string]int64
	c.get(session, fmt.Sprintf("/me/payloadCounts?start=%d", time.Now().Add(-2*time.Hour).UnixMilli()), &counts)
	if got, want := counts["deviceState"]["rest"], ack.states.Load(); got < want {
		t.Errorf("after the restart deviceState/rest = %d, but %d states were answered 200", got, want)
	}
	if got, want := counts["mqttIn"]["mqtt"], ack.usage.Load(); got < want {
		t.Errorf("after the restart mqttIn/mqtt = %d, but usage reports of %d were answered 200", got, want)
	}
	t.Logf("after the restart: %d tokens listed, deviceState/rest %d, mqttIn/mqtt %d", len(listed), counts["deviceState"]["rest"], counts["mqttIn"]["mqtt"])
	srv.stop()
}

// checkIntegrity runs PRAGMA integrity_check on the SQLite file.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), "PRAGMA integrity_check")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		out = append(out, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0] != "ok" {
		t.Errorf("PRAGMA integrity_check = %q, want ok", out)
	}
}

// run runs an accountd command to completion and returns its stdout.
func run(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("accountd %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// server is a running accountd serve process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

// start starts accountd serve and waits until it listens.
func start(t *testing.T, args []string) *server {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = os.Environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, done: make(chan struct{})}
	t.Cleanup(s.kill)
	addr := make(chan string, 1)
	var logTail tail
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			logTail.add(sc.Text())
			var entry struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &entry) == nil && entry.Msg == "listening" {
				addr <- entry.Addr
			}
		}
		cmd.Wait()
	}()
	select {
	case s.addr = <-addr:
		return s
	case <-s.done:
		t.Fatalf("accountd serve exited before listening:\n%s", logTail.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("accountd serve did not listen within 30s:\n%s", logTail.String())
	}
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL) // after the process is gone: ErrProcessDone, nothing
	<-s.done
}

// stop asks the process to shut down and waits for it.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.t.Error("accountd did not stop within 30s of SIGTERM")
		s.kill()
	}
}

// tail keeps the last lines of a log for failure messages.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (l *tail) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if len(l.lines) > 20 {
		l.lines = l.lines[1:]
	}
}

func (l *tail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// client speaks HTTP to the server under test.
type client struct {
	t    *testing.T
	base string
	hc   http.Client
}

func (c *client) do(method, path, token, body string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err // a cut answer is not an acknowledgement
	}
	return resp.StatusCode, raw, nil
}

// get requires a 200 and decodes the answer into out.
func (c *client) get(token, path string, out any) {
	c.t.Helper()
	status, body, err := c.do("GET", path, token, "")
	if err != nil || status != 200 {
		c.t.Fatalf("GET %s = %d %s %v", path, status, body, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		c.t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// create POSTs body and returns the new resource's id.
func (c *client) create(token, path, body string) string {
	c.t.Helper()
	status, raw, err := c.do("POST", path, token, body)
	var out struct{ ID string }
	if err != nil || status/100 != 2 || json.Unmarshal(raw, &out) != nil || out.ID == "" {
		c.t.Fatalf("POST %s = %d %s %v", path, status, raw, err)
	}
	return out.ID
}

// login signs in as the test user and returns the session token.
func (c *client) login() string {
	c.t.Helper()
	status, raw, err := c.do("POST", "/auth/user", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	var out struct{ Token string }
	if err != nil || status != 200 || json.Unmarshal(raw, &out) != nil || out.Token == "" {
		c.t.Fatalf("POST /auth/user = %d %s %v", status, raw, err)
	}
	return out.Token
}
