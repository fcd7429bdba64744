package httpapi

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd"
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
	security *prometheus.CounterVec
	// securityKinds are security's children, one per kind, made up front
	// so that every kind shows (at 0) and counting looks nothing up.
	securityKinds map[string]prometheus.Counter
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
	m.security = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accountd_security_events_total",
		Help: "Security log entries recorded (GET /me/securityLog), by kind.",
	}, []string{"kind"})
	m.securityKinds = map[string]prometheus.Counter{}
	for _, k := range accountd.SecurityKinds {
		m.securityKinds[k] = m.security.WithLabelValues(k)
	}
	m.reg.MustRegister(m.security)
	m.reg.MustRegister(m.requests, m.duration, m.usage,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe wraps a handler to count and time it under action. The labelled
// children are looked up once: the histogram when the route is built, the
// counter of each status on the route's own method when first answered
// (so that no series shows before its first request); only another method
// (HEAD on a GET route) looks its counter up per request.
func (m *metrics) observe(action, method string, next http.Handler) http.Handler {
	hist := m.duration.WithLabelValues(action)
	var byStatus [600]atomic.Pointer[prometheus.Counter]
	counter := func(r *http.Request, status int) prometheus.Counter {
		if r.Method != method || status < 100 || status >= len(byStatus) {
			return m.requests.WithLabelValues(action, r.Method, strconv.Itoa(status))
		}
		if c := byStatus[status].Load(); c != nil {
			return *c
		}
		c := m.requests.WithLabelValues(action, method, strconv.Itoa(status))
		byStatus[status].Store(&c)
		return c
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Under serveRequest, w is the request it made: it has the start
		// time and will have the status, so nothing is wrapped again.
		rq, ok := w.(*request)
		if !ok {
			rq = &request{ResponseWriter: w, start: time.Now()}
		}
		next.ServeHTTP(rq, r)
		status := rq.status
		if status == 0 {
			status = http.StatusOK
		}
		hist.Observe(time.Since(rq.start).Seconds())
		counter(r, status).Inc()
	})
}

// securityEvent counts one security log entry of kind.
func (m *metrics) securityEvent(kind string) {
	if c, ok := m.securityKinds[kind]; ok {
		c.Inc()
	}
}

// MetricsHandler serves the Prometheus metrics. serve mounts it on its own
// listener (--metrics-addr), so the API port does not expose it.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}
