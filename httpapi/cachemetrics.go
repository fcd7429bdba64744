package httpapi

import (
	"github.com/prometheus/client_golang/prometheus"
)

// cacheCollector reports the service's caches as they are when scraped: entries, estimated bytes against the
// budget, hits, misses and evictions, labelled by cache.
type cacheCollector struct {
	s                                               *Server
	entries, bytes, budget, hits, misses, evictions *prometheus.Desc
}

func newCacheCollector(s *Server) *cacheCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"cache"}, nil)
	}
	return &cacheCollector{s: s,
		entries:   d("accountd_cache_entries", "Entries a per-instance cache holds."),
		bytes:     d("accountd_cache_bytes", "Bytes a per-instance cache's entries are accounted at."),
		budget:    d("accountd_cache_budget_bytes", "Bytes a per-instance cache may hold (its share of --cache-memory)."),
		hits:      d("accountd_cache_hits_total", "Lookups a per-instance cache answered."),
		misses:    d("accountd_cache_misses_total", "Lookups a per-instance cache could not answer."),
		evictions: d("accountd_cache_evictions_total", "Entries a per-instance cache dropped to stay within its budget."),
	}
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.entries, c.bytes, c.budget, c.hits, c.misses, c.evictions} {
		ch <- d
	}
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	for _, u := range c.s.svc.CacheUsage() {
		ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(u.Entries), u.Name)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(u.Bytes), u.Name)
		ch <- prometheus.MustNewConstMetric(c.budget, prometheus.GaugeValue, float64(u.Budget), u.Name)
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(u.Hits), u.Name)
		ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(u.Misses), u.Name)
		ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(u.Evictions), u.Name)
	}
}
