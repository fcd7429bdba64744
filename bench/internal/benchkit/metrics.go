package benchkit

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Metrics are a scrape of accountd's Prometheus metrics (serve
// --metrics-addr): each sample's value under its name and labels as
// printed ("accountd_cache_hits_total{cache=\"tokens\"}").
type Metrics map[string]float64

// ScrapeMetrics reads GET /metrics from addr, keeping the samples whose
// names start with one of prefixes.
func ScrapeMetrics(ctx context.Context, addr string, prefixes ...string) (Metrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	out := Metrics{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(line, p) }) {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// Sub is the change from b to m, for counters.
func (m Metrics) Sub(b Metrics) Metrics {
	out := Metrics{}
	for k, v := range m {
		out[k] = v - b[k]
	}
	return out
}

// CacheNames are accountd's caches as its metrics label them: answers
// (GET /me answers kept with the users' state, counted apart) since the
// verified signatures went into the tokens' entries and the encoded
// answers (wire) into the views'; an older accountd reports verified and
// wire. Reports leave out those a server does not report.
var CacheNames = []string{"tokens", "verified", "users", "views", "answers", "lists", "wire"}

// hasCache reports whether m holds samples of the cache.
func (m Metrics) hasCache(cache string) bool {
	_, ok := m["accountd_cache_hits_total"+`{cache="`+cache+`"}`]
	return ok
}

// Cache returns one cache's sample of the metric name
// (accountd_cache_NAME).
func (m Metrics) Cache(name, cache string) float64 {
	return m["accountd_cache_"+name+`{cache="`+cache+`"}`]
}

// HitRatios describes each cache's hits among its lookups in m (a
// difference of two scrapes), as "tokens 99.1%, verified 98.7%, ...".
func (m Metrics) HitRatios() string {
	var parts []string
	for _, c := range CacheNames {
		if !m.hasCache(c) {
			continue
		}
		h, miss := m.Cache("hits_total", c), m.Cache("misses_total", c)
		if h+miss == 0 {
			parts = append(parts, c+" —")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.1f%%", c, 100*h/(h+miss)))
	}
	return strings.Join(parts, ", ")
}

// CacheFill describes each cache's entries and accounted bytes against its
// budget in m (one scrape).
func (m Metrics) CacheFill() string {
	var parts []string
	for _, c := range CacheNames {
		if !m.hasCache(c) || m.Cache("budget_bytes", c) == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.0f entries, %.1f of %.1f MiB", c, m.Cache("entries", c),
			m.Cache("bytes", c)/(1<<20), m.Cache("budget_bytes", c)/(1<<20)))
	}
	return strings.Join(parts, "; ")
}
