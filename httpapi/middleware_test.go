package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/accountd/accountd/internal/testenv"
)

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines are the JSON log records written so far with message msg.
func (b *lockedBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	generated := regexp.MustCompile(`^[0-9a-f]{20}$`)

	// Concurrent requests without an id each get a new one.
	const n = 64
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, h, _ := raw(t, env, "GET", "/healthz", "", "", nil)
			ids <- h.Get("X-Request-Id")
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if !generated.MatchString(id) || seen[id] {
			t.Errorf("generated X-Request-Id %q: want 20 hex characters, unique (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}

	for _, tc := range []struct{ sent, want string }{
		{"proxy-1234.abc_DEF", "proxy-1234.abc_DEF"}, // kept
		{"has space", ""},             // replaced
		{"ünïcode", ""},               // replaced
		{strings.Repeat("a", 65), ""}, // too long: replaced
	} {
		_, h, _ := raw(t, env, "GET", "/healthz", "", "", map[string]string{"X-Request-Id": tc.sent})
		got := h.Get("X-Request-Id")
		switch {
		case tc.want != "" && got != tc.want:
			t.Errorf("sent X-Request-Id %q, got %q back; want it kept", tc.sent, got)
		case tc.want == "" && !generated.MatchString(got):
			t.Errorf("sent X-Request-Id %q, got %q back; want a generated one", tc.sent, got)
		}
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	env := testenv.Start(t, "sqlite", testenv.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	userID := env.User(t, "logged@example.com")
	token := env.Login(t, "logged@example.com").Token()

	status, h, _ := raw(t, env, "GET", "/me?summaryExclude=appCount", token, "", map[string]string{"X-Request-Id": "req-me-1"})
	if status != 200 || h.Get("X-Request-Id") != "req-me-1" {
		t.Fatalf("GET /me = %d, X-Request-Id %q", status, h.Get("X-Request-Id"))
	}
	status, h, _ = raw(t, env, "GET", "/me/tokens", "", "", nil)
	if status != 401 {
		t.Fatalf("GET /me/tokens without a token = %d, want 401", status)
	}
	anonID := h.Get("X-Request-Id")

	byID := map[string]map[string]any{}
	for _, rec := range logs.lines(t, "request") {
		id, _ := rec["request_id"].(string)
		byID[id] = rec
	}
	me := byID["req-me-1"]
	if me == nil {
		t.Fatalf("no access log line with request_id req-me-1 in:\n%s", logs.buf.String())
	}
	for k, want := range map[string]any{"method": "GET", "path": "/me", "status": 200.0, "user_id": userID} {
		if me[k] != want {
			t.Errorf("GET /me log %s = %v, want %v", k, me[k], want)
		}
	}
	if b, _ := me["bytes"].(float64); b <= 0 {
		t.Errorf("GET /me log bytes = %v, want the body's size", me["bytes"])
	}
	if _, ok := me["duration_ms"].(float64); !ok {
		t.Errorf("GET /me log has no duration_ms: %v", me)
	}
	line := logs.buf.String()
	if strings.Contains(line, token) || strings.Contains(line, "summaryExclude") {
		t.Error("the access log holds the token or the query string")
	}
	anon := byID[anonID]
	if anon == nil {
		t.Fatalf("no access log line with the generated request id %q", anonID)
	}
	if anon["status"] != 401.0 || anon["path"] != "/me/tokens" {
		t.Errorf("unauthenticated request logged as %v", anon)
	}
	if _, ok := anon["user_id"]; ok {
		t.Errorf("unauthenticated request logged with a user_id: %v", anon)
	}
}

func TestRequestMetrics(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "counted@example.com")
	token := env.Login(t, "counted@example.com").Token()
	for range 3 {
		if status, _, _ := raw(t, env, "GET", "/me", token, "", nil); status != 200 {
			t.Fatalf("GET /me = %d", status)
		}
	}
	raw(t, env, "GET", "/me", "", "", nil)     // 401
	raw(t, env, "HEAD", "/me", token, "", nil) // another method on the route
	raw(t, env, "GET", "/healthz", "", "", nil)

	rec := httptest.NewRecorder()
	env.API.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`accountd_http_requests_total{action="me.get",method="GET",status="200"} 3`,
		`accountd_http_requests_total{action="me.get",method="GET",status="401"} 1`,
		`accountd_http_requests_total{action="me.get",method="HEAD",status="200"} 1`,
		`accountd_http_requests_total{action="ops.healthz",method="GET",status="200"} 1`,
		`accountd_http_request_duration_seconds_count{action="me.get"} 5`,
	} {
		if !bytes.Contains(body, []byte(want+"\n")) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// no series for what was never answered
	if bytes.Contains(body, []byte(`action="me.get",method="GET",status="500"`)) {
		t.Error("metrics show a series for a status never answered")
	}
}
