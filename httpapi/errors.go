package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/accountd/accountd"
)

// errorBody is the wire form of every error: {"type": ..., "message": ...}.
type errorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// statusClientClosed is what logs and metrics record for a request whose
// client left before the answer (nginx's 499): nobody receives it, and it
// is not the server's failure, so it must not count as a 5xx.
const statusClientClosed = 499

// statusOf is the one map from domain error codes to HTTP statuses.
func statusOf(code accountd.Code) int {
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
		return statusClientClosed
	}
	return http.StatusInternalServerError
}

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
