// Package httpx is the HTTP plumbing the API (httpapi) and the web console
// (console) share: the one map from domain error codes to statuses, the
// client's address, and a writer hook that runs just before an answer.
// Business rules stay in service; this package only speaks HTTP.
package httpx

import (
	"net"
	"net/http"
	"strings"

	"github.com/accountd/accountd"
)

// StatusClientClosed is what logs and metrics record for a request whose
// client left before the answer (nginx's 499): nobody receives it, and it
// is not the server's failure, so it must not count as a 5xx.
const StatusClientClosed = 499

// Status is the one map from domain error codes to HTTP statuses.
func Status(code accountd.Code) int {
	switch code {
	case accountd.CodeInvalid, accountd.CodeConflict:
		return http.StatusBadRequest
	case accountd.CodeUnauthorized:
		return http.StatusUnauthorized
	case accountd.CodeForbidden:
		return http.StatusForbidden
	case accountd.CodeNotFound:
		return http.StatusNotFound
	case accountd.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case accountd.CodeTooManyRequests:
		return http.StatusTooManyRequests
	case accountd.CodeGone:
		return http.StatusGone
	case accountd.CodeUnavailable:
		return http.StatusServiceUnavailable
	case accountd.CodeCanceled:
		return StatusClientClosed
	}
	return http.StatusInternalServerError
}

// ClientAddr is the caller's IP address, without the port: with trustXFF,
// the last address of X-Forwarded-For (the one the proxy in front of us
// added), otherwise the connection's peer.
func ClientAddr(r *http.Request, trustXFF bool) string {
	if trustXFF {
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

// BeforeAnswer runs Fn once, just before the status line is written.
type BeforeAnswer struct {
	http.ResponseWriter
	Fn   func()
	done bool
}

func (b *BeforeAnswer) WriteHeader(status int) {
	if !b.done {
		b.done = true
		b.Fn()
	}
	b.ResponseWriter.WriteHeader(status)
}

func (b *BeforeAnswer) Write(p []byte) (int, error) {
	if !b.done {
		b.WriteHeader(http.StatusOK)
	}
	return b.ResponseWriter.Write(p)
}

func (b *BeforeAnswer) Unwrap() http.ResponseWriter { return b.ResponseWriter }
