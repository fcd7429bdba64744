// Package httpapi serves accountd's HTTP API: the reference wire format of
// the Me and User API Token resources, and the supporting endpoints.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/httpx"
	"github.com/accountd/accountd/service"
)

// Config is what the server needs; Service is required.
type Config struct {
	Service *service.Service
	Logger  *slog.Logger
	// Ready reports whether the server can serve (the database answers);
	// GET /readyz calls it.
	Ready func(context.Context) error
	// MaxBodyBytes caps request bodies (default 1 MiB); larger ones get 413.
	MaxBodyBytes int64
	// TrustForwardedFor takes the client address for login throttling from
	// the last X-Forwarded-For entry; set it only behind a proxy that sets it.
	TrustForwardedFor bool
	// AllowUnverifiedEmail serves every action to users whose email is not
	// verified; by default they may call only the allowUnverified ones.
	AllowUnverifiedEmail bool
}

// Server is the API's http.Handler.
type Server struct {
	svc      *service.Service
	log      *slog.Logger
	ready    func(context.Context) error
	maxBody  int64
	trustXFF bool
	anyEmail bool // AllowUnverifiedEmail
	schemas  *schemas
	mux      *http.ServeMux
	handler  http.Handler
	metrics  *metrics
	// requestIDs makes the ids of requests that come without one.
	requestIDs *requestIDs
}

// NewServer builds the handler with every route of the table.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, errors.New("httpapi: Service is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Ready == nil {
		cfg.Ready = func(context.Context) error { return nil }
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	sch, err := newSchemas()
	if err != nil {
		return nil, err
	}
	s := &Server{
		svc: cfg.Service, log: cfg.Logger, ready: cfg.Ready, maxBody: cfg.MaxBodyBytes,
		trustXFF: cfg.TrustForwardedFor, schemas: sch, mux: http.NewServeMux(),
		metrics:    newMetrics(),
		anyEmail:   cfg.AllowUnverifiedEmail,
		requestIDs: newRequestIDs(),
	}
	cfg.Service.ObserveSecurityEvents(s.metrics.securityEvent)
	s.metrics.reg.MustRegister(newCacheCollector(s))
	methods := map[string][]string{} // path: the methods served on it
	for _, rt := range routes() {
		s.mux.Handle(rt.method+" "+rt.path, s.metrics.observe(rt.action, rt.method, s.action(rt)))
		methods[rt.path] = append(methods[rt.path], rt.method)
	}
	s.mux.Handle("GET /healthz", s.metrics.observe("ops.healthz", "GET", http.HandlerFunc(s.healthz)))
	s.mux.Handle("GET /readyz", s.metrics.observe("ops.readyz", "GET", http.HandlerFunc(s.readyz)))
	s.mux.Handle("GET /openapi.json", s.metrics.observe("ops.openapi", "GET", http.HandlerFunc(s.openapi)))
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json"} {
		methods[p] = append(methods[p], http.MethodGet)
	}
	for path, ms := range methods {
		// The same path without a method catches every other method, so
		// the answer is a JSON 405 rather than the mux's plain text.
		s.mux.Handle(path, s.methodNotAllowed(ms))
	}
	s.mux.Handle("/", s.notFound())
	s.handler = s.serveRequest(s.mux)
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// action wraps a route's handler with what every action needs: the body
// limit, then authentication and the scope check for routes that need a
// token. What depends only on the route is worked out here, once.
func (s *Server) action(rt route) http.Handler {
	service := serviceActions[rt.action]
	limit := s.maxBody
	if service {
		limit = max(limit, maxUsageBody)
	}
	grants := s.svc.Catalog()[rt.action] // scopes that grant the action
	unverifiedOK := s.anyEmail || allowUnverified[rt.action]
	// Password checks (login, two-factor, GitHub sign-in) read the
	// client's address, and new sessions record it; all come with a body
	// but a refresh. Other GET actions do without it: authentication asks
	// for it (request.Client) only when it records a token's use.
	needsAddr := rt.method != http.MethodGet || rt.action == "me.refreshToken"
	stateOnly := rt.action == "device.sendState"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		ctx := r.Context()
		if needsAddr || service {
			ctx = accountd.WithClient(ctx, accountd.Client{Address: s.clientAddr(r), UserAgent: r.UserAgent()})
		}
		if service {
			name, err := s.authenticateService(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			setLogUser(ctx, "service:"+name)
			ctx = context.WithValue(ctx, usageServiceKey{}, name)
		} else if rt.scopes != nil {
			p, err := s.authenticate(ctx, r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			setLogUser(ctx, p.UserID)
			if !slices.ContainsFunc(grants, func(g string) bool { return slices.Contains(p.Scope, g) }) {
				s.writeError(w, r, accountd.Errorf(accountd.CodeForbidden,
					"the token's scope does not grant %s", rt.action))
				return
			}
			if !p.EmailVerified && !unverifiedOK {
				s.writeError(w, r, errUnverified)
				return
			}
			if rq := requestFrom(ctx); rq != nil {
				rq.principal = &p
			} else {
				ctx = accountd.WithPrincipal(ctx, p)
			}
			if r.Method != http.MethodGet && !stateOnly {
				// Whatever the write was, the caller must read it back at
				// once: drop the cached GET /me views (and what their
				// device states' checks decided) before answering. A
				// device state changes neither.
				w = &httpx.BeforeAnswer{ResponseWriter: w, Fn: func() { s.svc.ForgetMe(p.UserID) }}
			}
		}
		if ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		if err := rt.handler(s, w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// methodNotAllowed answers 405 with Allow naming the methods served (a GET
// route serves HEAD too).
func (s *Server) methodNotAllowed(methods []string) http.Handler {
	allowed := slices.Clone(methods)
	if slices.Contains(allowed, http.MethodGet) {
		allowed = append(allowed, http.MethodHead)
	}
	slices.Sort(allowed)
	allow := strings.Join(slices.Compact(allowed), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Type: "MethodNotAllowed",
			Message: r.Method + " is not allowed on " + r.URL.Path})
	})
}

func (s *Server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Type: string(accountd.CodeNotFound),
			Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.ready(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Type: "Unavailable", Message: "the database does not answer"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(OpenAPIDocument())
}
