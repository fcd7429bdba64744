package benchkit

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

// ChildEnv is this process's environment without ACCOUNTD_* variables, so
// nothing set in the caller's shell changes a server's flags behind the
// benchmark's back.
func ChildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ACCOUNTD_") {
			env = append(env, kv)
		}
	}
	return env
}

// Binary is bin when it is set (a prebuilt binary given on the command
// line), and otherwise package pkg of the accountd module built to
// dir/name, which it reports with progress.
func Binary(ctx context.Context, bin, pkg, dir, name string, progress func(format string, args ...any)) (string, error) {
	if bin != "" {
		return bin, nil
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	progress("building %s", pkg)
	out := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// moduleRoot is the directory of the go.mod the go command sees from here.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the benchmark from inside the accountd module")
	}
	return filepath.Dir(gomod), nil
}

// RunTool runs a one-shot command (accountd user create, keys generate)
// and returns its trimmed stdout.
func RunTool(ctx context.Context, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = ChildEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Server is one server process under test.
type Server struct {
	Name    string
	Cmd     *exec.Cmd
	Addr    string // host:port it listens on
	LogPath string
	done    chan struct{}
	waitErr error
}

// StartServer starts bin with args and environment env (ChildEnv, say),
// its stdout and stderr both going to logPath (a file, so the server's own
// logging costs the load generator nothing), and polls ready until it
// returns the address the server answers on.
func StartServer(ctx context.Context, name, bin string, args, env []string, logPath string, ready func(s *Server) string) (*Server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	s := &Server{Name: name, Cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	go func() { s.waitErr = cmd.Wait(); close(s.done) }()

	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if addr := ready(s); addr != "" {
			s.Addr = addr
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited before it was ready (%v):\n%s", name, s.waitErr, s.LogTail())
		case <-deadline:
			s.Stop()
			return nil, fmt.Errorf("%s was not ready within 60s:\n%s", name, s.LogTail())
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// FreePort finds a loopback port nothing listens on. Another process could
// take it before the server does; the server would then fail to start and
// say so.
func FreePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// Readyz is ready once GET /readyz on addr answers 200: accountd is
// listening and its database answers. (Its "listening" log line would do
// too, but not with --log-level warn.)
func Readyz(addr string) func(*Server) string {
	return func(*Server) string {
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

// HelloAddr is ready once bench/hello has printed its address: the first
// line of its output that is a host:port.
func HelloAddr(s *Server) string {
	raw, err := os.ReadFile(s.LogPath)
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

// Stop asks the server to shut down (SIGINT) and kills it if it has not
// within 15 seconds.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.Cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.Cmd.Process.Kill()
		<-s.done
	}
}

// Alive says whether the server process is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// ExitErr is how the server process ended (nil while it runs, or if it
// exited with status 0).
func (s *Server) ExitErr() error {
	if s.Alive() {
		return nil
	}
	return s.waitErr
}

// LogTail is the end of the server's log, for error messages.
func (s *Server) LogTail() string {
	raw, err := os.ReadFile(s.LogPath)
	if err != nil {
		return ""
	}
	const n = 2000
	if len(raw) > n {
		raw = raw[len(raw)-n:]
	}
	return string(raw)
}

// ErrorLines is the last n lines of the server's log at level ERROR, for
// the report when requests failed.
func (s *Server) ErrorLines(n int) []string {
	raw, err := os.ReadFile(s.LogPath)
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

// PGDatabase creates a fresh database, named prefix and random hex digits,
// on the PostgreSQL base DSN points at, and returns its name, its DSN and a
// function that drops it (with FORCE, so leftover connections do not keep
// it alive).
func PGDatabase(ctx context.Context, base, prefix string) (name, dsn string, drop func() error, err error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", nil, fmt.Errorf("--postgres must be a postgres:// URL")
	}
	var b [6]byte
	rand.Read(b[:])
	name = prefix + hex.EncodeToString(b[:])
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

// Login signs in over the API and returns the session token.
func Login(ctx context.Context, addr, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	var out struct {
		Token string `json:"token"`
	}
	if err := Call(ctx, http.MethodPost, "http://"+addr+"/auth/user", "", body, &out); err != nil {
		return "", fmt.Errorf("POST /auth/user: %w", err)
	}
	if out.Token == "" {
		return "", errors.New("POST /auth/user: no token in the answer")
	}
	return out.Token, nil
}

// CheckHello makes sure the baseline answers 200 with its greeting.
func CheckHello(ctx context.Context, addr string) error {
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

// Call makes one request outside the measurements, with a bearer token
// (when given) and a JSON body (when not nil), and decodes a 2xx answer's
// JSON body into out (when not nil).
func Call(ctx context.Context, method, u, token string, body []byte, out any) error {
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
