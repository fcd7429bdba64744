package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, on a registry of its own (no
// global state), served by MetricsHandler.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	usage    *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accountd_http_requests_total",
			Help: "HTTP requests answered, by action (the reference action name, or the endpoint), method and status.",
		}, []string{"action", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "accountd_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by action.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"action"}),
		usage: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "accountd_usage_events_total",
			Help: "Usage events platform services reported (POST /usage/events), by the usage key's name and whether they were recorded or skipped as already recorded.",
		}, []string{"service", "result"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.usage,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe wraps a handler to count and time it under action.
func (m *metrics) observe(action string, next http.Handler) http.Handler {
	// the histogram for an action is looked up once, not per request
	hist := m.duration.WithLabelValues(action)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		hist.Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(action, r.Method, strconv.Itoa(status)).Inc()
	})
}

// MetricsHandler serves the Prometheus metrics. serve mounts it on its own
// listener (--metrics-addr), so the API port does not expose it.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}
