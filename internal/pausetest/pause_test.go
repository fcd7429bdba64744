// Package pausetest tries to break the revocation promise with what a
// production cluster does to an instance: stop it (SIGSTOP, as a VM pause
// or a long GC stall would) and cut it off from the database. Instances are
// real `accountd serve` processes (this test binary, re-executed) on one
// PostgreSQL schema, talked to over loopback HTTP.
package pausetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/cli"
	"github.com/accountd/accountd/internal/pgtest"
	"github.com/accountd/accountd/secret"
)

// serveEnv, when set, makes this binary an accountd process with the
// arguments it holds (separated by \x1f) instead of a test run.
const serveEnv = "ACCOUNTD_PAUSETEST_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(serveEnv); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Run(ctx, strings.Split(args, "\x1f"), nil, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

const password = "Sup3r-secret-pw"

type instance struct {
	url  string
	cmd  *exec.Cmd
	logs *lockedBuffer
}

// lockedBuffer collects an instance's log; it is shown only when a test
// fails (the outage test makes every instance log its failed polls).
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `accountd serve` on dsn until the test ends.
func start(t *testing.T, dsn, keys string) *instance {
	t.Helper()
	addr := freeAddr(t)
	args := []string{"serve", "--db", dsn, "--keys", keys, "--addr", addr, "--log-level", "info",
		"--hash-memory", "64", "--hash-time", "1",
		"--outbox", t.TempDir()} // messages stay in the test's folder
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"="+strings.Join(args, "\x1f"))
	var logs lockedBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{url: "http://" + addr, cmd: cmd, logs: &logs}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("instance %s logged:\n%s", addr, logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(in.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance on %s did not answer: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (in *instance) client(t *testing.T, token string) *client.Client {
	t.Helper()
	c, err := client.New(in.url, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newKeys(t *testing.T) string {
	t.Helper()
	k, err := secret.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k.String()
}

// setUp makes a user on dsn and returns a login session's client on in.
func setUp(t *testing.T, ctx context.Context, dsn string, in *instance) *client.Client {
	t.Helper()
	var out strings.Builder
	if code := cli.Run(ctx, []string{"user", "create", "--db", dsn, "--email", "pat@example.com", "--password", password, "--verified"},
		nil, strings.NewReader(""), &out, &out); code != 0 {
		t.Fatalf("user create: %d: %s", code, out.String())
	}
	c := in.client(t, "")
	a, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "pat@example.com", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(a.Token)
	return c
}

func statusOf(err error) int {
	var e *client.Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	if err == nil {
		return 200
	}
	return -1
}

// TestRevocationAfterPause: instance B has a token cached; B is stopped
// well past any window; the token is deleted through A; B must refuse it
// within a second of resuming (in fact on the first request).
func TestRevocationAfterPause(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	dsn, keys := pgtest.DSN(t), newKeys(t)
	a := start(t, dsn, keys)
	b := start(t, dsn, keys)
	owner := setUp(t, ctx, dsn, a)
	for round := range 3 {
		tok, err := owner.UserAPITokens.Post(ctx, client.APITokenPost{Name: fmt.Sprintf("paused %d", round)})
		if err != nil {
			t.Fatal(err)
		}
		onB := b.client(t, tok.Token)
		if _, err := onB.Me.Get(ctx, nil); err != nil {
			t.Fatalf("before the pause: %v", err)
		}
		if err := b.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2500 * time.Millisecond)
		if err := owner.UserAPIToken.Delete(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := b.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		resumed := time.Now()
		_, err = onB.Me.Get(ctx, nil)
		if got := statusOf(err); got != 401 {
			t.Errorf("round %d: first request after resuming answered %d (%v), want 401", round, got, err)
		}
		for statusOf(err) != 401 {
			if time.Since(resumed) > time.Second {
				t.Fatalf("round %d: the paused instance accepted the deleted token for over a second after resuming", round)
			}
			time.Sleep(10 * time.Millisecond)
			_, err = onB.Me.Get(ctx, nil)
		}
		t.Logf("round %d: refused %v after resuming", round, time.Since(resumed).Round(time.Millisecond))
	}
}

// proxy forwards TCP to PostgreSQL until cut, which drops every connection
// and refuses new ones until restored.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *proxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestDatabaseOutage: while an instance cannot reach the database, it
// cannot know whether a cached token was revoked, so it must not accept
// one; once the database is back, it serves again.
func TestDatabaseOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	dsn, keys := pgtest.DSN(t), newKeys(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	proxied := *u
	proxied.Host = px.ln.Addr().String()
	in := start(t, proxied.String(), keys)
	owner := setUp(t, ctx, dsn, in)
	if _, err := owner.Me.Get(ctx, nil); err != nil { // cached now
		t.Fatal(err)
	}
	px.cut()
	time.Sleep(1500 * time.Millisecond)
	for i := range 5 {
		_, err := owner.Me.Get(ctx, nil)
		if got := statusOf(err); got != 503 {
			t.Fatalf("request %d during the outage answered %d (%v), want 503", i, got, err)
		}
	}
	var e *client.Error
	_, err = owner.Me.Get(ctx, nil)
	if errors.As(err, &e) && e.Type != "Unavailable" {
		t.Errorf("type = %q, want Unavailable", e.Type)
	}
	px.restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := owner.Me.Get(ctx, nil)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after the database came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The outage is logged once, not four times a second, and so is the
	// recovery.
	deadline = time.Now().Add(5 * time.Second)
	for !strings.Contains(in.logs.String(), "polling auth events works again") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	logs := in.logs.String()
	if n := strings.Count(logs, "requests answer 503 until it works again"); n != 1 {
		t.Errorf("the outage was logged %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs, "polling auth events works again") {
		t.Errorf("the recovery was not logged:\n%s", logs)
	}
}
