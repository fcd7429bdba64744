// Package testenv starts a real accountd server on a loopback port, on
// SQLite in a temporary folder or on a fresh PostgreSQL schema, for
// end-to-end tests that talk to it through the Go client.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/console"
	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/internal/apicheck"
	"github.com/accountd/accountd/internal/pgtest"
	"github.com/accountd/accountd/mail"
	"github.com/accountd/accountd/postgres"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
	"github.com/accountd/accountd/sqlite"
)

// CheapHash keeps password hashing fast in tests only.
var CheapHash = secret.Params{Memory: 64, Time: 1, Threads: 1}

// Backends lists the stores end-to-end tests run on: SQLite always,
// PostgreSQL when pgtest.EnvVar is set.
func Backends() []string {
	if pgtest.Available() {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// OpenStore opens a fresh, empty store of the backend for t.
func OpenStore(t testing.TB, backend string) accountd.Store {
	t.Helper()
	ctx := context.Background()
	var (
		st  accountd.Store
		err error
	)
	switch backend {
	case "sqlite":
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "accountd.db"))
	case "postgres":
		st, err = postgres.Open(ctx, pgtest.DSN(t))
	default:
		t.Fatalf("testenv: unknown backend %q", backend)
	}
	if err != nil {
		t.Fatalf("testenv: opening %s store: %v", backend, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Env is one running server.
type Env struct {
	URL     string
	Store   accountd.Store
	Service *service.Service
	API     *httpapi.Server // the handler under test (its MetricsHandler, say)
	Keys    *secret.Keyring
	// Outbox is the folder messages are written to when Options.Mailer is
	// not set.
	Outbox string
	// UsageKey is a usage key the server accepts (POST /usage/events).
	UsageKey string
	// Metrics serves the server's Prometheus metrics.
	Metrics http.Handler
	check   *apicheck.Checker
}

// Options adjust the service under test.
type Options struct {
	Store    accountd.Store // share a store between Envs (instances); default: a fresh one
	Keys     *secret.Keyring
	Throttle service.ThrottleConfig
	Clock    func() time.Time
	MaxBody  int64
	Logger   *slog.Logger
	// Mailer delivers messages; default: an outbox in a temporary folder.
	Mailer service.Mailer
	// Github configures the GitHub link; default: off.
	Github service.GithubConfig
	// AllowUnverifiedEmail lets unverified users call every action.
	AllowUnverifiedEmail bool
	// Cache bounds the service's caches (default service.DefaultCacheBudget).
	Cache service.CacheBudget
	// TrustForwardedFor takes client addresses from X-Forwarded-For.
	TrustForwardedFor bool
	// Configure, when set, adjusts the service's configuration last
	// (hashing bounds and hooks, a shared throttle, ...).
	Configure func(*service.Config)
}

// Start runs a server on backend until the test ends.
func Start(t testing.TB, backend string, opts Options) *Env {
	t.Helper()
	st := opts.Store
	if st == nil {
		st = OpenStore(t, backend)
	}
	keys := opts.Keys
	if keys == nil {
		k, err := secret.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys, _ = secret.NewKeyring(k)
	}
	// The listener comes first: links in messages and the GitHub callback
	// need the server's URL.
	srv := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + srv.Listener.Addr().String()
	outbox := filepath.Join(t.TempDir(), "outbox")
	mailer := opts.Mailer
	if mailer == nil {
		o, err := mail.NewOutbox(outbox, "accountd <noreply@example.com>", opts.Logger)
		if err != nil {
			t.Fatal(err)
		}
		mailer = o
	}
	usageKey, usageLine, err := service.NewUsageKey(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	usageKeys, err := service.ParseUsageKeys(strings.NewReader(usageLine))
	if err != nil {
		t.Fatal(err)
	}
	cfg := service.Config{
		Usage: service.UsageConfig{Keys: usageKeys},
		Store: st, Keys: keys, Catalog: httpapi.Catalog(), Logger: opts.Logger, Hash: CheapHash,
		Throttle: opts.Throttle, Clock: opts.Clock, LastUsedFlush: 50 * time.Millisecond, Cache: opts.Cache,
		Security: service.SecurityConfig{Mailer: mailer, PublicURL: publicURL, Github: opts.Github},
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	svc, err := service.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	svc.Start()
	api, err := httpapi.NewServer(httpapi.Config{Service: svc, Ready: st.Ping, MaxBodyBytes: opts.MaxBody, Logger: opts.Logger,
		AllowUnverifiedEmail: opts.AllowUnverifiedEmail, TrustForwardedFor: opts.TrustForwardedFor})
	if err != nil {
		t.Fatal(err)
	}
	con, err := console.New(console.Config{Service: svc, Keys: keys, Logger: opts.Logger, AllowUnverifiedEmail: opts.AllowUnverifiedEmail})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = console.Mount(api, con)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
	})
	return &Env{URL: srv.URL, Store: st, Service: svc, API: api, Keys: keys, Outbox: outbox, UsageKey: usageKey, Metrics: api.MetricsHandler(), check: apicheck.New(t)}
}

// checking is a transport that checks every response it carries.
type checking struct {
	t     testing.TB
	check *apicheck.Checker
}

func (c checking) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.check.Check(c.t, req.Method, req.URL.Path, resp.StatusCode, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// HTTPClient returns an http.Client whose every response is checked as
// Client's are, for tests that send raw requests.
func (e *Env) HTTPClient(t testing.TB) *http.Client {
	return &http.Client{Transport: checking{t: t, check: e.check}}
}

// Client returns a client of the server, with token if not empty. Every
// response it receives is checked against our OpenAPI document, and against
// the reference schemas when apicheck.EnvVar names them.
func (e *Env) Client(t testing.TB, token string) *client.Client {
	t.Helper()
	c, err := client.New(e.URL, client.WithToken(token), client.WithHTTPClient(&http.Client{
		Transport: checking{t: t, check: e.check},
	}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Password meets the password rule; tests use it for every user.
const Password = "Sup3r-secret-pw"

// User creates a verified user and returns its id.
func (e *Env) User(t testing.TB, email string) string {
	t.Helper()
	u, err := e.Service.CreateUser(context.Background(), service.NewUser{Email: email, Password: Password, FirstName: "Test", Verified: true})
	if err != nil {
		t.Fatalf("creating user %s: %v", email, err)
	}
	return u.ID
}

// Login logs email in with Password and returns a client holding the token.
func (e *Env) Login(t testing.TB, email string) *client.Client {
	t.Helper()
	return e.LoginWith(t, email, Password)
}

// LoginWith logs email in with password and returns a client holding the
// token.
func (e *Env) LoginWith(t testing.TB, email, password string) *client.Client {
	t.Helper()
	c := e.Client(t, "")
	a, err := c.Auth.AuthenticateUser(context.Background(), client.UserCredentials{Email: email, Password: password})
	if err != nil {
		t.Fatalf("logging in %s: %v", email, err)
	}
	c.SetToken(a.Token)
	return c
}
