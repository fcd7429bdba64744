package accountd

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies a domain error. httpapi/errors.go alone turns codes into
// HTTP statuses and wire types.
type Code string

const (
	CodeInvalid         Code = "Validation"      // the request breaks a rule
	CodeUnauthorized    Code = "Unauthorized"    // no, bad, expired or revoked credentials
	CodeForbidden       Code = "Forbidden"       // authenticated, but not allowed
	CodeNotFound        Code = "NotFound"        // no such thing (for this caller)
	CodeConflict        Code = "Conflict"        // a uniqueness rule; shown as Validation on the wire
	CodeTooLarge        Code = "PayloadTooLarge" // the body is over the limit
	CodeTooManyRequests Code = "TooManyRequests" // throttled; RetryAfter says for how long
	CodeGone            Code = "Gone"            // existed, but has expired
	CodeUnavailable     Code = "Unavailable"     // overloaded for now; RetryAfter says when to come back
	CodeCanceled        Code = "Canceled"        // the caller went away before the answer; nothing reaches it
	CodeInternal        Code = "Internal"        // our fault; details are logged, never sent
)

// Error is the one error type that crosses layers. Message is safe to show to
// the caller; Field names the offending input where there is one.
type Error struct {
	Code       Code
	Message    string
	Field      string
	RetryAfter time.Duration
	Err        error // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, accountd.ErrNotFound) match any error of that code.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code && t.Message == "" && t.Field == ""
	}
	return false
}

// Sentinels for errors.Is: they match any *Error of the same code.
var (
	ErrInvalid         = &Error{Code: CodeInvalid}
	ErrUnauthorized    = &Error{Code: CodeUnauthorized}
	ErrForbidden       = &Error{Code: CodeForbidden}
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrConflict        = &Error{Code: CodeConflict}
	ErrTooManyRequests = &Error{Code: CodeTooManyRequests}
	ErrGone            = &Error{Code: CodeGone}
	ErrUnavailable     = &Error{Code: CodeUnavailable}
	ErrCanceled        = &Error{Code: CodeCanceled}
	ErrInternal        = &Error{Code: CodeInternal}
)

// Errorf builds an *Error with a formatted, caller-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports a broken rule on one input field: "field: rule".
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	return &Error{Code: CodeInvalid, Field: field, Message: msg}
}

// NotFound reports that a kind of thing does not exist, e.g. NotFound("API token").
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " was not found"}
}

// Internal wraps an unexpected failure; its cause is logged, never shown.
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}

// Canceled reports that the caller's context ended (err is its Err())
// before the work was done: the caller is gone, so this is neither the
// caller's fault nor ours.
func Canceled(err error) *Error {
	return &Error{Code: CodeCanceled, Message: "request canceled", Err: err}
}

// ErrorCode returns the code of err, CodeInternal for foreign errors and ""
// for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
