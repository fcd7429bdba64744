package main

// Server processes, databases and one-off API calls. Copied, trimmed, from
// bench/mebench/servers.go; keep the two in step until they are factored.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// childEnv is this process's environment without ACCOUNTD_* variables, so
// nothing set in the caller's shell changes a server's flags behind the
// benchmark's back.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ACCOUNTD_") {
			env = append(env, kv)
		}
	}
	return env
}

// moduleRoot is the directory of the go.mod the go command sees from here.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run usagebench from inside the accountd module")
	}
	return filepath.Dir(gomod), nil
}

// goBuild builds pkg (relative to the module root) to dir/name.
func goBuild(ctx context.Context, root, pkg, dir, name string) (string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// runTool runs a one-shot command (accountd user create, keys generate)
// and returns its trimmed stdout.
func runTool(ctx context.Context, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// server is one server process under test.
type server struct {
	name    string
	cmd     *exec.Cmd
	addr    string // host:port it listens on
	logPath string
	done    chan struct{}
	waitErr error
}

// startServer starts bin with args, its stdout and stderr both going to
// logPath, and polls ready until it returns the address the server answers
// on.
func startServer(ctx context.Context, name, bin string, args []string, logPath string, ready func(s *server) string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() { s.waitErr = cmd.Wait(); close(s.done) }()

	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if addr := ready(s); addr != "" {
			s.addr = addr
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited before it was ready (%v):\n%s", name, s.waitErr, s.logTail())
		case <-deadline:
			s.stop()
			return nil, fmt.Errorf("%s was not ready within 60s:\n%s", name, s.logTail())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// freePort finds a loopback port nothing listens on.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// readyz is ready once GET /readyz on addr answers 200.
func readyz(addr string) func(*server) string {
	return func(*server) string {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return ""
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return ""
		}
		return addr
	}
}

// helloAddr is ready once hello has printed its address.
func helloAddr(s *server) string {
	raw, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if _, _, err := net.SplitHostPort(line); err == nil {
			return line
		}
	}
	return ""
}

// stop asks the server to shut down (SIGINT) and kills it if it has not
// within 15 seconds.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// logTail is the end of the server's log, for error messages.
func (s *server) logTail() string {
	raw, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	const n = 2000
	if len(raw) > n {
		raw = raw[len(raw)-n:]
	}
	return string(raw)
}

// pgDatabase creates a fresh database on the PostgreSQL base points at,
// and returns its name, its DSN and a function that drops it.
func pgDatabase(ctx context.Context, base string) (name, dsn string, drop func() error, err error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", nil, fmt.Errorf("--postgres must be a postgres:// URL")
	}
	var b [6]byte
	rand.Read(b[:])
	name = "accountd_usagebench_" + hex.EncodeToString(b[:])
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, base)
	if err != nil {
		return "", "", nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(cctx, "CREATE DATABASE "+name); err != nil {
		return "", "", nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return fmt.Errorf("connecting to drop database %s: %w", name, err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("dropping database %s: %w", name, err)
		}
		return nil
	}
	u.Path = "/" + name
	return name, u.String(), drop, nil
}

// login signs in over the API and returns the session token.
func login(ctx context.Context, addr, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	var out struct {
		Token string `json:"token"`
	}
	if err := call(ctx, http.MethodPost, "http://"+addr+"/auth/user", "", body, &out); err != nil {
		return "", fmt.Errorf("POST /auth/user: %w", err)
	}
	if out.Token == "" {
		return "", errors.New("POST /auth/user: no token in the answer")
	}
	return out.Token, nil
}

// checkHello makes sure the baseline answers 200 with its greeting.
func checkHello(ctx context.Context, addr string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), "Hello") {
		return fmt.Errorf("GET / on hello: %s %q", resp.Status, b)
	}
	return nil
}

// call makes one request with a bearer token (when given) and decodes a
// 2xx answer's JSON body into out.
func call(ctx context.Context, method, u, token string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(raw))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// errorLines is the last n lines of the server's log at level ERROR, for
// the report when requests failed.
func (s *server) errorLines(n int) []string {
	raw, err := os.ReadFile(s.logPath)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, "level=ERROR") {
			out = append(out, line)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
