package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/accountd/accountd"
)

func TestStatus(t *testing.T) {
	for code, want := range map[accountd.Code]int{
		accountd.CodeInvalid: 400, accountd.CodeConflict: 400, accountd.CodeUnauthorized: 401,
		accountd.CodeForbidden: 403, accountd.CodeNotFound: 404, accountd.CodeTooLarge: 413,
		accountd.CodeTooManyRequests: 429, accountd.CodeGone: 410, accountd.CodeUnavailable: 503,
		accountd.CodeCanceled: StatusClientClosed, accountd.CodeInternal: 500, "SomethingNew": 500,
	} {
		if got := Status(code); got != want {
			t.Errorf("Status(%s) = %d, want %d", code, got, want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header.Add("X-Forwarded-For", "198.51.100.1, 203.0.113.9")
	if got := ClientAddr(r, false); got != "192.0.2.7" {
		t.Errorf("untrusted: %q", got)
	}
	if got := ClientAddr(r, true); got != "203.0.113.9" {
		t.Errorf("trusted: %q", got)
	}
	r.Header.Set("X-Forwarded-For", "not an address")
	if got := ClientAddr(r, true); got != "192.0.2.7" {
		t.Errorf("bad header: %q", got)
	}
}

func TestBeforeAnswer(t *testing.T) {
	rec := httptest.NewRecorder()
	ran := 0
	w := &BeforeAnswer{ResponseWriter: rec, Fn: func() { ran++ }}
	w.Write([]byte("a"))
	w.WriteHeader(http.StatusTeapot)
	w.Write([]byte("b"))
	if ran != 1 || rec.Code != 200 || rec.Body.String() != "ab" {
		t.Errorf("ran %d times, status %d, body %q", ran, rec.Code, rec.Body.String())
	}
}
