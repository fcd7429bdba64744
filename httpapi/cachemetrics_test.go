package httpapi_test

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"

	"github.com/accountd/accountd/internal/testenv"
)

// TestCacheMetrics: GET /me twice with one token shows a miss then a hit
// in each cache the request path reads, and every cache reports its budget
// (the answers, kept in the views' entries, report their lookups).
func TestCacheMetrics(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "gauged@example.com")
	c := env.Login(t, "gauged@example.com")
	before := cacheMetrics(t, env)
	for range 2 {
		if _, err := c.Me.Get(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	after := cacheMetrics(t, env)
	for _, cache := range []string{"tokens", "users", "views", "answers"} {
		hits := after["accountd_cache_hits_total/"+cache] - before["accountd_cache_hits_total/"+cache]
		if hits < 1 {
			t.Errorf("%s: %v hits after the same GET /me twice; want at least 1", cache, hits)
		}
		if cache == "answers" {
			continue // kept in the views' entries, within their budget
		}
		if after["accountd_cache_entries/"+cache] < 1 || after["accountd_cache_bytes/"+cache] <= 0 {
			t.Errorf("%s: %v entries, %v bytes after GET /me; want some", cache,
				after["accountd_cache_entries/"+cache], after["accountd_cache_bytes/"+cache])
		}
		if after["accountd_cache_budget_bytes/"+cache] <= 0 {
			t.Errorf("%s: no budget reported", cache)
		}
	}
}

var cacheMetricLine = regexp.MustCompile(`(?m)^(accountd_cache_[a-z_]+)\{cache="([a-z]+)"\} (\S+)$`)

func cacheMetrics(t *testing.T, env *testenv.Env) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	env.Metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := map[string]float64{}
	for _, m := range cacheMetricLine.FindAllStringSubmatch(rec.Body.String(), -1) {
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("%s: %v", m[0], err)
		}
		out[m[1]+"/"+m[2]] = v
	}
	if len(out) == 0 {
		t.Fatalf("no cache metrics:\n%s", rec.Body.String())
	}
	return out
}
