package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/httpx"
)

// request is what the outermost handler knows of a request and the layers
// under it add to: its id, who called (for the access log), and what was
// answered. It is the response writer the handlers are given and the one
// context value every request carries, so each request costs one context
// copy and one writer, however many layers read them.
type request struct {
	http.ResponseWriter
	id     string
	start  time.Time
	status int
	bytes  int
	// userID is set by the authentication step in the handler's goroutine
	// and read by the access log after the handler returns, in the same
	// goroutine; it never holds a secret.
	userID string
	// principal is who the request authenticated as (principal reads it),
	// kept here rather than in a context of its own: one allocation less.
	principal *accountd.Principal
	// req and trustXFF let Client say who is calling, worked out only when
	// asked.
	req      *http.Request
	trustXFF bool
}

// Client is the caller's address and user agent, for authentication to
// record with a token's use (accountd.ClientSource).
func (rq *request) Client() accountd.Client {
	return accountd.Client{Address: httpx.ClientAddr(rq.req, rq.trustXFF), UserAgent: rq.req.UserAgent()}
}

type requestKey struct{}

func requestFrom(ctx context.Context) *request {
	rq, _ := ctx.Value(requestKey{}).(*request)
	return rq
}

func requestID(ctx context.Context) string {
	if rq := requestFrom(ctx); rq != nil {
		return rq.id
	}
	return ""
}

// setLogUser lets the authentication step tell the access log who called,
// without the log reading anything secret.
func setLogUser(ctx context.Context, userID string) {
	if rq := requestFrom(ctx); rq != nil {
		rq.userID = userID
	}
}

func (rq *request) WriteHeader(status int) {
	if rq.status == 0 {
		rq.status = status
	}
	rq.ResponseWriter.WriteHeader(status)
}

func (rq *request) Write(b []byte) (int, error) {
	if rq.status == 0 {
		rq.status = http.StatusOK
	}
	n, err := rq.ResponseWriter.Write(b)
	rq.bytes += n
	return n, err
}

func (rq *request) Unwrap() http.ResponseWriter { return rq.ResponseWriter }

// requestIDs makes request ids unique without asking the kernel for
// randomness on every request: a random prefix drawn once per server, then
// a counter. Ids are 20 hex characters.
type requestIDs struct {
	prefix [8]byte // hex of 4 random bytes
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [4]byte
	rand.Read(b[:])
	g := &requestIDs{}
	hex.Encode(g.prefix[:], b[:])
	return g
}

func (g *requestIDs) next() string {
	const digits = "0123456789abcdef"
	var b [20]byte
	copy(b[:], g.prefix[:])
	n := g.n.Add(1)
	for i := len(b) - 1; i >= len(g.prefix); i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// serveRequest is the outermost layer: it keeps a sane X-Request-Id from
// the caller (a proxy's) or makes one and echoes it, turns a panic into a
// logged 500 so that none reaches a client, and writes one access-log line
// per request: never headers, query strings or bodies, which may hold
// secrets.
func (s *Server) serveRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := &request{ResponseWriter: w, start: time.Now(), id: r.Header.Get("X-Request-Id"), req: r, trustXFF: s.trustXFF}
		if !saneRequestID(rq.id) {
			rq.id = s.requestIDs.next()
		}
		w.Header().Set("X-Request-Id", rq.id)
		r = r.WithContext(context.WithValue(r.Context(), requestKey{}, rq))
		if !s.serveRecovering(next, rq, r) {
			return
		}
		if !s.log.Enabled(r.Context(), slog.LevelInfo) {
			return
		}
		attrs := make([]slog.Attr, 0, 8)
		attrs = append(attrs,
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rq.status),
			slog.Int("bytes", rq.bytes), slog.Float64("duration_ms", float64(time.Since(rq.start).Microseconds())/1000),
			slog.String("request_id", rq.id))
		if rq.userID != "" {
			attrs = append(attrs, slog.String("user_id", rq.userID))
		}
		msg := "request"
		if rq.status == statusClientClosed {
			msg = "request canceled by the client"
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, msg, attrs...)
	})
}

// serveRecovering runs next and reports whether it returned rather than
// panicked; a panic is logged and answered with a 500.
func (s *Server) serveRecovering(next http.Handler, rq *request, r *http.Request) (ok bool) {
	defer func() {
		if ok {
			return
		}
		v := recover()
		if v == nil {
			return // runtime.Goexit, not a panic: let it go on
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.log.ErrorContext(r.Context(), "panic serving request", "panic", v, "path", r.URL.Path)
		s.writeError(rq, r, accountd.Internal(nil))
	}()
	next.ServeHTTP(rq, r)
	return true
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// authenticate reads "Authorization: Bearer TOKEN" and verifies the token.
func (s *Server) authenticate(ctx context.Context, r *http.Request) (accountd.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return accountd.Principal{}, accountd.Errorf(accountd.CodeUnauthorized,
			"an Authorization: Bearer token is required")
	}
	if rq := requestFrom(ctx); rq != nil {
		return s.svc.AuthenticateFrom(ctx, strings.TrimSpace(token), rq)
	}
	return s.svc.Authenticate(ctx, strings.TrimSpace(token))
}

// clientAddr is the caller's IP address, without the port.
func (s *Server) clientAddr(r *http.Request) string { return httpx.ClientAddr(r, s.trustXFF) }
