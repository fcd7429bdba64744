package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/pgtest"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
)

// work counts the secrets a service under test checks, through its hooks.
type work struct {
	mu     sync.Mutex
	hashes map[secret.Params]int
	codes  int
	// gate, while armed, holds every hash until it is closed; entered
	// hears of each hash held.
	armed   atomic.Bool
	gate    chan struct{}
	entered chan struct{}
}

func newWork() *work {
	return &work{hashes: map[secret.Params]int{}, gate: make(chan struct{}), entered: make(chan struct{}, 64)}
}

// configure installs the hooks, and a wait queue longer than any burst a
// test sends, so that only the throttle turns requests away.
func (w *work) configure(cfg *service.Config) {
	cfg.HashQueue = 1000
	cfg.Hooks = service.Hooks{
		Hash: func(p secret.Params) {
			w.mu.Lock()
			w.hashes[p]++
			w.mu.Unlock()
			if w.armed.Load() {
				w.entered <- struct{}{}
				<-w.gate
			}
		},
		SecondFactor: func() {
			w.mu.Lock()
			w.codes++
			w.mu.Unlock()
		},
	}
}

func (w *work) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.hashes)
	w.codes = 0
}

// counts returns the hashes run (at any parameters) and the codes checked.
func (w *work) counts() (hashes, codes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.hashes {
		hashes += n
	}
	return hashes, w.codes
}

func (w *work) at(p secret.Params) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hashes[p]
}

// request builds a JSON request to env.
func request(t *testing.T, url, method, path, token, body string, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// sendAll sends every request at once (each from its own goroutine, all
// released together) and counts the answers by status.
func sendAll(t *testing.T, c *http.Client, reqs []*http.Request) map[int]int {
	t.Helper()
	var mu sync.Mutex
	got := map[int]int{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, req := range reqs {
		wg.Go(func() {
			<-start
			resp, err := c.Do(req)
			if err != nil {
				t.Errorf("%s %s: %v", req.Method, req.URL.Path, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			got[resp.StatusCode]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return got
}

func loginBody(email, password, code string) string {
	b, _ := json.Marshal(client.UserCredentials{Email: email, Password: password, TwoFactorCode: code})
	return string(b)
}

// checked asserts that exactly limit of n racing guesses were checked
// (hashes run) and answered 401 (or wrongStatus), the rest 429.
func checked(t *testing.T, w *work, statuses map[int]int, n, limit, wrongStatus int) {
	t.Helper()
	hashes, _ := w.counts()
	if hashes != limit {
		t.Errorf("%d racing wrong guesses ran %d password hashes, want %d (the limit)", n, hashes, limit)
	}
	if statuses[wrongStatus] != limit || statuses[http.StatusTooManyRequests] != n-limit {
		t.Errorf("answers by status = %v, want %d×%d and %d×429", statuses, limit, wrongStatus, n-limit)
	}
}

// TestRacingWrongPasswords: guesses sent all at once get no more checked
// than the throttle allows, per address and per account.
func TestRacingWrongPasswords(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		w := newWork()
		env := testenv.Start(t, backend, testenv.Options{Configure: w.configure, TrustForwardedFor: true})
		env.User(t, "race@example.com")
		env.User(t, "spread@example.com")
		hc := env.HTTPClient(t)

		t.Run("200 from one address", func(t *testing.T) {
			w.reset()
			reqs := make([]*http.Request, 200)
			for i := range reqs {
				reqs[i] = request(t, env.URL, "POST", "/auth/user", "", loginBody("race@example.com", fmt.Sprintf("Wrong-guess-%d!", i), ""))
			}
			checked(t, w, sendAll(t, hc, reqs), 200, service.DefaultThrottle.PerPair, http.StatusUnauthorized)
		})

		// The owner of spread@ logged in before from an address, which
		// the account-wide limit then spares.
		owner := func() int {
			resp, err := hc.Do(request(t, env.URL, "POST", "/auth/user", "", loginBody("spread@example.com", testenv.Password, ""),
				"X-Forwarded-For", "192.0.2.7"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if status := owner(); status != 200 {
			t.Fatalf("owner's first login: %d", status)
		}

		t.Run("300 addresses on one account", func(t *testing.T) {
			w.reset()
			reqs := make([]*http.Request, 300)
			for i := range reqs {
				reqs[i] = request(t, env.URL, "POST", "/auth/user", "", loginBody("spread@example.com", fmt.Sprintf("Wrong-guess-%d!", i), ""),
					"X-Forwarded-For", fmt.Sprintf("10.1.%d.%d", i/250, i%250+1))
			}
			checked(t, w, sendAll(t, hc, reqs), 300, service.DefaultThrottle.PerAccount, http.StatusUnauthorized)
		})

		t.Run("the owner still logs in from a trusted address", func(t *testing.T) {
			if status := owner(); status != 200 {
				t.Errorf("owner's trusted address on a blocked account: %d, want 200", status)
			}
			resp, err := hc.Do(request(t, env.URL, "POST", "/auth/user", "", loginBody("spread@example.com", testenv.Password, ""),
				"X-Forwarded-For", "192.0.2.1"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("new address on a blocked account: %d, want 429", resp.StatusCode)
			}
		})
	})
}

// wrongCode is a 6-digit code that the app does not show within the
// accepted drift of now.
func wrongCode(app totp, i int) string {
	valid := map[string]bool{}
	for _, d := range []time.Duration{-secret.TOTPPeriod * time.Second, 0, secret.TOTPPeriod * time.Second} {
		c, err := secret.TOTPCode(app.key, app.clock.Now().Add(d))
		if err != nil {
			app.t.Fatal(err)
		}
		valid[c] = true
	}
	for {
		c := fmt.Sprintf("%06d", i%1000000)
		if !valid[c] {
			return c
		}
		i += 7919
	}
}

// TestRacingRechecks: the password re-checks of sensitive changes and the
// second factor share the throttle and are as atomic as logins.
func TestRacingRechecks(t *testing.T) {
	t.Parallel()
	const n = 60
	limit := service.DefaultThrottle.PerPair
	clock := testenv.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	w := newWork()
	env := testenv.Start(t, "sqlite", testenv.Options{Clock: clock.Now, Configure: w.configure})
	hc := env.HTTPClient(t)

	tests := []struct {
		name       string
		method     string
		path       string
		body       func(i int, email string, app totp) string
		twoFactor  bool
		wantStatus int
		wantCodes  int
	}{
		{"changePassword", "PATCH", "/me/changePassword", func(i int, _ string, _ totp) string {
			return fmt.Sprintf(`{"password":"Wrong-guess-%d!","newPassword":"Another-passw0rd!"}`, i)
		}, false, 400, 0},
		{"delete", "POST", "/me/delete", func(i int, email string, _ totp) string {
			return loginBody(email, fmt.Sprintf("Wrong-guess-%d!", i), "")
		}, false, 400, 0},
		{"disableTwoFactorAuth with wrong codes", "PATCH", "/me/disableTwoFactorAuth", func(i int, _ string, app totp) string {
			return fmt.Sprintf(`{"password":%q,"twoFactorCode":%q}`, testenv.Password, wrongCode(app, i))
		}, true, 400, limit},
		{"login with wrong codes and recovery codes", "POST", "/auth/user", func(i int, email string, app totp) string {
			if i%2 == 0 {
				return loginBody(email, testenv.Password, wrongCode(app, i))
			}
			return loginBody(email, testenv.Password, fmt.Sprintf("wrong-recovery-%d", i))
		}, true, 401, limit},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			email := fmt.Sprintf("recheck%d@example.com", i)
			env.User(t, email)
			c := env.Login(t, email)
			var app totp
			if tt.twoFactor {
				app, _ = enable2FA(t, c, clock)
			}
			reqs := make([]*http.Request, n)
			for j := range reqs {
				reqs[j] = request(t, env.URL, tt.method, tt.path, c.Token(), tt.body(j, email, app))
			}
			w.reset()
			checked(t, w, sendAll(t, hc, reqs), n, limit, tt.wantStatus)
			if _, codes := w.counts(); codes != tt.wantCodes {
				t.Errorf("codes checked = %d, want %d", codes, tt.wantCodes)
			}
		})
	}
}

// TestSharedThrottle: with two instances on one PostgreSQL database,
// guesses spread over both get no more checked than one instance allows.
func TestSharedThrottle(t *testing.T) {
	t.Parallel()
	if !pgtest.Available() {
		t.Skip(pgtest.EnvVar + " is not set: the shared throttle lives in PostgreSQL")
	}
	st := testenv.OpenStore(t, "postgres")
	w := newWork() // both instances count into it
	shared := func(cfg *service.Config) {
		w.configure(cfg)
		cfg.Throttle.Shared = true
	}
	a := testenv.Start(t, "postgres", testenv.Options{Store: st, Configure: shared})
	b := testenv.Start(t, "postgres", testenv.Options{Store: st, Configure: shared})
	a.User(t, "shared@example.com")
	w.reset()
	hc := a.HTTPClient(t)
	reqs := make([]*http.Request, 200)
	for i := range reqs {
		url := a.URL
		if i%2 == 1 {
			url = b.URL
		}
		reqs[i] = request(t, url, "POST", "/auth/user", "", loginBody("shared@example.com", fmt.Sprintf("Wrong-guess-%d!", i), ""))
	}
	checked(t, w, sendAll(t, hc, reqs), 200, service.DefaultThrottle.PerPair, http.StatusUnauthorized)

	// A right password on either instance is refused too, until the window
	// ends: the block is shared.
	for _, env := range []*testenv.Env{a, b} {
		_, err := env.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "shared@example.com", Password: testenv.Password})
		wantError(t, err, 429)
	}
}

// TestHashQueue: when every hashing turn is taken and the queue is full,
// or a turn does not come within HashWait, the answer is 503 with a
// Retry-After at once, and nothing is counted against the account.
func TestHashQueue(t *testing.T) {
	t.Parallel()
	start := func(t *testing.T, wait time.Duration) (*testenv.Env, *work) {
		w := newWork()
		env := testenv.Start(t, "sqlite", testenv.Options{Configure: func(cfg *service.Config) {
			w.configure(cfg)
			cfg.HashConcurrency, cfg.HashQueue, cfg.HashWait = 1, 1, wait
		}})
		w.armed.Store(true)
		t.Cleanup(func() {
			if w.armed.Swap(false) {
				close(w.gate)
			}
		})
		return env, w
	}
	login := func(t *testing.T, env *testenv.Env, email string) (int, http.Header, string) {
		resp, err := env.HTTPClient(t).Do(request(t, env.URL, "POST", "/auth/user", "", loginBody(email, "Wrong-passw0rd!", "")))
		if err != nil {
			t.Errorf("login %s: %v", email, err)
			return 0, nil, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	busy := func(t *testing.T, status int, h http.Header, body string) {
		t.Helper()
		if status != http.StatusServiceUnavailable || h.Get("Retry-After") != "1" || !strings.Contains(body, `"type":"Unavailable"`) {
			t.Errorf("answer = %d, Retry-After %q, %s; want 503, Retry-After 1, type Unavailable", status, h.Get("Retry-After"), body)
		}
	}
	waiting := func(t *testing.T, env *testenv.Env, n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for env.Service.HashWaiting() != n {
			if time.Now().After(deadline) {
				t.Fatalf("HashWaiting = %d, want %d", env.Service.HashWaiting(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}

	t.Run("queue full", func(t *testing.T) {
		t.Parallel()
		env, w := start(t, time.Minute)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		wg.Go(func() { statuses[0], _, _ = login(t, env, "holder@example.com") })
		<-w.entered // the one hashing turn is taken
		wg.Go(func() { statuses[1], _, _ = login(t, env, "queued@example.com") })
		waiting(t, env, 1) // the one place in the queue is taken
		began := time.Now()
		status, h, body := login(t, env, "refused@example.com")
		busy(t, status, h, body)
		if d := time.Since(began); d > 5*time.Second {
			t.Errorf("the 503 took %v", d)
		}
		w.armed.Store(false)
		close(w.gate)
		wg.Wait()
		if statuses[0] != 401 || statuses[1] != 401 {
			t.Errorf("held and queued logins answered %v, want 401 each", statuses)
		}
		// The refused login counted nothing: five more tries on it are
		// all checked.
		for i := range service.DefaultThrottle.PerPair {
			if status, _, _ := login(t, env, "refused@example.com"); status != 401 {
				t.Fatalf("try %d after the 503: %d, want 401", i+1, status)
			}
		}
	})

	t.Run("trusted lane", func(t *testing.T) {
		t.Parallel()
		env, w := start(t, time.Minute)
		w.armed.Store(false)
		env.User(t, "owner@example.com")
		env.Login(t, "owner@example.com") // trusts this address for owner@
		w.armed.Store(true)
		var wg sync.WaitGroup
		wg.Go(func() { login(t, env, "holder@example.com") })
		<-w.entered
		wg.Go(func() { login(t, env, "queued@example.com") })
		waiting(t, env, 1)
		status, h, body := login(t, env, "stranger@example.com")
		busy(t, status, h, body)
		// The owner, from the address they logged in from before, is
		// queued in a lane of their own rather than turned away.
		ownerErr := make(chan error, 1)
		wg.Go(func() {
			_, err := env.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "owner@example.com", Password: testenv.Password})
			ownerErr <- err
		})
		waiting(t, env, 2)
		w.armed.Store(false)
		close(w.gate)
		wg.Wait()
		if err := <-ownerErr; err != nil {
			t.Errorf("owner's login while strangers fill the queue: %v", err)
		}
	})

	t.Run("wait too long", func(t *testing.T) {
		t.Parallel()
		env, w := start(t, 50*time.Millisecond)
		var wg sync.WaitGroup
		wg.Go(func() { login(t, env, "holder@example.com") })
		<-w.entered
		status, h, body := login(t, env, "waiter@example.com")
		busy(t, status, h, body)
		w.armed.Store(false)
		close(w.gate)
		wg.Wait()
	})
}

func grepLines(s, substr string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func newJSONLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// syncBuffer is a log sink the server writes to from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCanceledWhileWaiting: a client that gives up while its login waits
// for a hashing turn is logged as canceled (499), not as a server error,
// and its attempt is given back.
func TestCanceledWhileWaiting(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	w := newWork()
	env := testenv.Start(t, "sqlite", testenv.Options{
		Logger: newJSONLogger(logs),
		Configure: func(cfg *service.Config) {
			w.configure(cfg)
			cfg.HashConcurrency = 1
			cfg.Throttle = service.ThrottleConfig{Window: time.Hour, PerPair: 1}
		},
	})
	env.User(t, "leaver@example.com")
	w.armed.Store(true)
	var wg sync.WaitGroup
	wg.Go(func() {
		env.HTTPClient(t).Do(request(t, env.URL, "POST", "/auth/user", "", loginBody("holder@example.com", "Wrong-passw0rd!", "")))
	})
	<-w.entered
	rctx, cancel := context.WithCancel(context.Background())
	req := request(t, env.URL, "POST", "/auth/user", "", loginBody("leaver@example.com", "Wrong-passw0rd!", "")).WithContext(rctx)
	wg.Go(func() {
		if _, err := http.DefaultClient.Do(req); err == nil {
			t.Error("the canceled request got an answer")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for env.Service.HashWaiting() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the second login never queued")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	for !strings.Contains(logs.String(), "request canceled by the client") {
		if time.Now().After(deadline) {
			t.Fatalf("no cancellation logged:\n%s", logs.String())
		}
		time.Sleep(time.Millisecond)
	}
	w.armed.Store(false)
	close(w.gate)
	wg.Wait()
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "request canceled by the client") && !strings.Contains(line, `"status":499`) {
			t.Errorf("canceled request logged without status 499: %s", line)
		}
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("logged as an error: %s", line)
		}
	}
	rec := httptest.NewRecorder()
	env.Metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	metrics := rec.Body.String()
	if !strings.Contains(metrics, `accountd_http_requests_total{action="auth.authenticateUser",method="POST",status="499"} 1`) {
		t.Errorf("metrics do not count the canceled login as 499:\n%s", grepLines(metrics, "accountd_http_requests_total"))
	}
	if strings.Contains(metrics, `status="5`) {
		t.Errorf("metrics count a 5xx:\n%s", grepLines(metrics, "accountd_http_requests_total"))
	}
	// PerPair is 1: had the canceled attempt been counted, this right
	// password would be refused.
	if _, err := env.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "leaver@example.com", Password: testenv.Password}); err != nil {
		t.Errorf("login after a canceled attempt: %v", err)
	}
}

// TestLoginCostSameForOldHashes: after the hash parameters go up, a wrong
// password on an account hashed under the old ones does as much work at
// the new ones as an unknown email, and a right one upgrades the hash.
func TestLoginCostSameForOldHashes(t *testing.T) {
	t.Parallel()
	old := testenv.Start(t, "sqlite", testenv.Options{}) // testenv.CheapHash
	id := old.User(t, "dormant@example.com")
	current := secret.Params{Memory: 2 * testenv.CheapHash.Memory, Time: 2, Threads: 1}
	w := newWork()
	env := testenv.Start(t, "sqlite", testenv.Options{Store: old.Store, Configure: func(cfg *service.Config) {
		w.configure(cfg)
		cfg.Hash = current
	}})
	anon := env.Client(t, "")
	login := func(email, password string) (atCurrent int, err error) {
		w.reset()
		_, err = anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: email, Password: password})
		return w.at(current), err
	}

	unknown, err := login("nobody@example.com", "Wrong-passw0rd!")
	wantError(t, err, 401)
	if unknown != 1 {
		t.Fatalf("unknown email: %d hashes at the current parameters, want 1", unknown)
	}
	wrong, err := login("dormant@example.com", "Wrong-passw0rd!")
	wantError(t, err, 401)
	if wrong < unknown {
		t.Errorf("wrong password on an old hash: %d hashes at the current parameters, fewer than an unknown email's %d", wrong, unknown)
	}
	right, err := login("dormant@example.com", testenv.Password)
	if err != nil {
		t.Fatal(err)
	}
	if right < unknown {
		t.Errorf("right password on an old hash: %d hashes at the current parameters, fewer than an unknown email's %d", right, unknown)
	}
	u, err := env.Store.User(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := secret.ParamsOf(u.PasswordHash); err != nil || p != current {
		t.Errorf("after a right password the hash has %+v (%v), want the current %+v", p, err, current)
	}
	// Upgraded: one hash, at the current parameters.
	w.reset()
	if _, err := anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "dormant@example.com", Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	if hashes, _ := w.counts(); hashes != 1 || w.at(current) != 1 {
		t.Errorf("login after the upgrade ran %d hashes (%d at the current parameters), want 1", hashes, w.at(current))
	}
}
