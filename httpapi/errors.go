package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/httpx"
)

// errorBody is the wire form of every error: {"type": ..., "message": ...}.
type errorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// statusClientClosed and statusOf are the shared ones (internal/httpx).
const statusClientClosed = httpx.StatusClientClosed

func statusOf(code accountd.Code) int { return httpx.Status(code) }

// writeError answers with err's status and body. Internal errors are logged
// with the request id, which the caller sees in place of any detail. A
// request its client abandoned (whatever error that caused downstream: a
// canceled wait, an interrupted query) is recorded as 499 and logged at
// debug level, since nothing went wrong on our side.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *accountd.Error
	if !errors.As(err, &e) {
		e = accountd.Internal(err)
	}
	if errors.Is(r.Context().Err(), context.Canceled) && e.Code != accountd.CodeCanceled {
		e = accountd.Canceled(err)
	}
	status := statusOf(e.Code)
	body := errorBody{Type: string(e.Code), Message: e.Message}
	switch {
	case status == http.StatusInternalServerError:
		body = errorBody{Type: string(accountd.CodeInternal), Message: "internal error; quote request id " + requestID(r.Context()) + " to the operator"}
		s.log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", requestID(r.Context()))
	case status == statusClientClosed:
		s.log.DebugContext(r.Context(), "client left before the answer", "err", err, "request_id", requestID(r.Context()))
	case status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="accountd"`)
	case (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && e.RetryAfter > 0:
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(e.RetryAfter.Seconds()))))
	}
	if e.Message == "" {
		body.Message = http.StatusText(status)
	}
	writeJSON(w, status, body)
}
