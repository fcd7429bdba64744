package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeMountsConsole checks that serve answers the web console beside
// the API on the same listener.
func TestServeMountsConsole(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "console.db")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw2 := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--hash-memory", "64", "--hash-time", "1"},
			[]string{"ACCOUNTD_DB=" + db}, strings.NewReader(""), io.Discard, pw2)
		pw2.Close()
		done <- code
	}()
	defer func() {
		cancel()
		<-done
	}()
	lines := bufio.NewScanner(pr)
	addr := ""
	for addr == "" && lines.Scan() {
		var entry struct{ Msg, Addr string }
		if json.Unmarshal(lines.Bytes(), &entry) == nil && entry.Msg == "listening" {
			addr = entry.Addr
		}
	}
	if addr == "" {
		t.Fatal("serve never logged its address")
	}
	go io.Copy(io.Discard, pr)

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + addr + "/account/tokens")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/login?next=%2Faccount%2Ftokens" {
		t.Fatalf("GET /account/tokens signed out = %d to %q, want 303 to the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = http.Get("http://" + addr + "/account/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		!strings.Contains(string(body), `action="/account/login"`) {
		t.Fatalf("GET /account/login = %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	resp, err = http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz beside the console = %v, %v", resp, err)
	}
	resp.Body.Close()
}
