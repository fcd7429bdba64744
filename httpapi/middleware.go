package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd"
)

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID keeps a sane X-Request-Id from the caller (a proxy's) or
// makes one, and echoes it on the response.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneRequestID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// logUser lets the authentication step tell the access log who called,
// without the log reading anything secret.
type logUser struct{ id atomic.Pointer[string] }

type logUserKey struct{}

func setLogUser(ctx context.Context, userID string) {
	if lu, ok := ctx.Value(logUserKey{}).(*logUser); ok {
		lu.id.Store(&userID)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one line per request: never headers, query strings or
// bodies, which may hold secrets.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		lu := &logUser{}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), logUserKey{}, lu)))
		if !s.log.Enabled(r.Context(), slog.LevelInfo) {
			return
		}
		attrs := make([]slog.Attr, 0, 8)
		attrs = append(attrs,
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("request_id", requestID(r.Context())))
		if id := lu.id.Load(); id != nil {
			attrs = append(attrs, slog.String("user_id", *id))
		}
		msg := "request"
		if sw.status == statusClientClosed {
			msg = "request canceled by the client"
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, msg, attrs...)
	})
}

// recoverPanics turns a panic into a logged 500, so none reaches a client.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic serving request", "panic", v, "path", r.URL.Path)
				s.writeError(w, r, accountd.Internal(nil))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// authenticate reads "Authorization: Bearer TOKEN" and verifies the token.
func (s *Server) authenticate(ctx context.Context, r *http.Request) (accountd.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return accountd.Principal{}, accountd.Errorf(accountd.CodeUnauthorized,
			"an Authorization: Bearer token is required")
	}
	return s.svc.Authenticate(ctx, strings.TrimSpace(token))
}

// clientAddr is the caller's IP address, without the port.
func (s *Server) clientAddr(r *http.Request) string {
	if s.trustXFF {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
