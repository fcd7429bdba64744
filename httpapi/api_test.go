package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/service"
)

var ctx = context.Background()

// forEachBackend runs f as a parallel subtest on every store.
func forEachBackend(t *testing.T, f func(t *testing.T, backend string)) {
	t.Helper()
	for _, b := range testenv.Backends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// raw sends a request the SDK would not, and returns status, headers and body.
func raw(t *testing.T, env *testenv.Env, method, path, token string, body string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, env.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// wantError checks that err is a server error with status and a message
// containing each of parts.
func wantError(t *testing.T, err error, status int, parts ...string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want a %d error", err, status)
	}
	if e.StatusCode != status {
		t.Errorf("status = %d (%s: %s), want %d", e.StatusCode, e.Type, e.Message, status)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("message %q does not contain %q", e.Message, p)
		}
	}
}

func TestLoginAndMe(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		id := env.User(t, "ada@example.com")
		c := env.Client(t, "")
		a, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "ADA@example.com", Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		if a.UserID != id || a.Token == "" {
			t.Fatalf("AuthenticateUser = %+v, want user %s and a token", a, id)
		}
		c.SetToken(a.Token)
		me, err := c.Me.Get(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if me.ID != id || me.UserID != id || me.Email != "ada@example.com" || me.FirstName != "Test" || !me.EmailVerified || me.NeedsToVerifyEmail {
			t.Errorf("me = %+v", me)
		}
		if got := me.Summary["apiTokenCount"]; got != float64(0) {
			t.Errorf("summary.apiTokenCount = %v, want 0", got)
		}
		me, err = c.Me.Get(ctx, &client.MeGetParams{SummaryExclude: []string{"apiTokenCount", "payloadCount"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := me.Summary["apiTokenCount"]; ok {
			t.Errorf("summaryExclude=apiTokenCount left it in: %v", me.Summary)
		}
	})
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "bob@example.com")
		c := env.Client(t, "")
		_, errWrong := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "bob@example.com", Password: "wrong-password"})
		_, errUnknown := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "nobody@example.com", Password: "wrong-password"})
		wantError(t, errWrong, 401, "email or password is incorrect")
		wantError(t, errUnknown, 401, "email or password is incorrect")
		if errWrong.Error() != errUnknown.Error() {
			t.Errorf("wrong password and unknown email differ: %v / %v", errWrong, errUnknown)
		}
		if !errors.Is(errWrong, accountd.ErrUnauthorized) {
			t.Errorf("errors.Is(err, ErrUnauthorized) = false for %v", errWrong)
		}
		tests := []struct {
			name, body string
			parts      []string
		}{
			{"no password", `{"email":"bob@example.com"}`, []string{"password", "required"}},
			{"short password", `{"email":"bob@example.com","password":"short"}`, []string{"password"}},
			{"bad email", `{"email":"not-an-email","password":"whatever-pw"}`, []string{"email"}},
			{"extra field", `{"email":"bob@example.com","password":"whatever-pw","admin":true}`, []string{"admin"}},
			{"unknown scope", `{"email":"bob@example.com","password":"whatever-pw","requestedScopes":["all.Instance"]}`, []string{"requestedScopes[0]", "all.Instance"}},
			{"negative ttl", `{"email":"bob@example.com","password":"whatever-pw","tokenTTL":-1}`, []string{"tokenTTL"}},
			{"not json", `{"email":`, []string{"body", "JSON"}},
			{"array", `[]`, []string{"object"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, _, body := raw(t, env, "POST", "/auth/user", "", tt.body, nil)
				if status != 400 {
					t.Fatalf("status = %d (%s), want 400", status, body)
				}
				var e struct{ Type, Message string }
				if err := json.Unmarshal(body, &e); err != nil || e.Type != "Validation" {
					t.Fatalf("body = %s, want a Validation error", body)
				}
				for _, p := range tt.parts {
					if !strings.Contains(e.Message, p) {
						t.Errorf("message %q does not contain %q", e.Message, p)
					}
				}
			})
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(time.Now())
	env := testenv.Start(t, "sqlite", testenv.Options{
		Clock:    clock.Now,
		Throttle: service.ThrottleConfig{Window: time.Minute, PerPair: 3, PerAddress: 100, PerAccount: 100},
	})
	env.User(t, "carol@example.com")
	c := env.Client(t, "")
	login := func(pw string) error {
		_, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "carol@example.com", Password: pw})
		return err
	}
	for i := 0; i < 3; i++ {
		wantError(t, login("wrong-password"), 401)
	}
	err := login(testenv.Password)
	wantError(t, err, 429, "try again in 60 seconds")
	var ce *client.Error
	if errors.As(err, &ce) && ce.RetryAfter != time.Minute {
		t.Errorf("Retry-After = %v, want 1m", ce.RetryAfter)
	}
	// another account from the same address is not blocked
	env.User(t, "dave@example.com")
	if _, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "dave@example.com", Password: testenv.Password}); err != nil {
		t.Errorf("other account blocked: %v", err)
	}
	clock.Add(time.Minute)
	if err := login(testenv.Password); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestOfficialClientExtras(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "eve@example.com")
	c := env.Login(t, "eve@example.com")
	status, _, body := raw(t, env, "GET", "/me?_actions=false&_links=true&_embedded=true", c.Token(), "",
		map[string]string{"losantdomain": "example.com", "Accept-Version": "^1.28.3"})
	if status != 200 {
		t.Fatalf("status = %d (%s), want 200", status, body)
	}
}

func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{MaxBody: 1024})
	env.User(t, "frank@example.com")
	tok := env.Login(t, "frank@example.com").Token()
	tests := []struct {
		name, method, path, token, body string
		status                          int
		typ, part                       string
	}{
		{"no token", "GET", "/me", "", "", 401, "Unauthorized", "Bearer"},
		{"garbage token", "GET", "/me", "garbage", "", 401, "Unauthorized", "token"},
		{"malformed id", "GET", "/me/tokens/xyz", tok, "", 400, "Validation", "apiTokenId"},
		{"unknown id", "GET", "/me/tokens/5f0000000000000000000000", tok, "", 404, "NotFound", "API token"},
		{"too large", "POST", "/me/tokens", tok, `{"name":"` + strings.Repeat("x", 2000) + `"}`, 413, "PayloadTooLarge", "1024"},
		{"empty body", "POST", "/me/tokens", tok, "", 400, "Validation", "body"},
		{"wrong method", "PUT", "/me", tok, "", 405, "MethodNotAllowed", "PUT"},
		{"unknown path", "GET", "/nope", tok, "", 404, "NotFound", "/nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := raw(t, env, tt.method, tt.path, tt.token, tt.body, nil)
			if status != tt.status {
				t.Fatalf("status = %d (%s), want %d", status, body, tt.status)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			var e struct{ Type, Message string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %q is not JSON", body)
			}
			if e.Type != tt.typ || !strings.Contains(e.Message, tt.part) {
				t.Errorf("error = %+v, want type %s with %q", e, tt.typ, tt.part)
			}
			if h.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	for _, p := range []string{"/healthz", "/readyz"} {
		status, _, body := raw(t, env, "GET", p, "", "", nil)
		if status != 200 || !bytes.Contains(body, []byte(`"ok"`)) {
			t.Errorf("%s = %d %s", p, status, body)
		}
	}
	env.Store.Close()
	if status, _, _ := raw(t, env, "GET", "/readyz", "", "", nil); status != 503 {
		t.Errorf("/readyz with the database closed = %d, want 503", status)
	}
}
