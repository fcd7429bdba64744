package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

func TestNewRejectsBadURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "localhost:8080", "ftp://x", "http://"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}

// TestOptions checks what the options put on the wire, against a recording
// server.
func TestOptions(t *testing.T) {
	t.Parallel()
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		if strings.HasPrefix(r.URL.Path, "/slow") {
			time.Sleep(200 * time.Millisecond)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"575ec7417ae143cd83dc4a95","email":"a@example.com"}`))
	}))
	defer srv.Close()
	c, err := client.New(srv.URL+"/", client.WithToken("T1"), client.WithUserAgent("ua/1"), client.WithDomain("example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me.Get(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"Authorization": "Bearer T1", "User-Agent": "ua/1", "Losantdomain": "example.com", "Accept-Version": "^1.28.3"} {
		if got.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, got.Get(k), want)
		}
	}
	c.SetToken("T2")
	c.Me.Get(context.Background(), nil)
	if got.Get("Authorization") != "Bearer T2" {
		t.Errorf("after SetToken: Authorization = %q", got.Get("Authorization"))
	}
	slow, _ := client.New(srv.URL+"/slow", client.WithTimeout(50*time.Millisecond))
	if _, err := slow.Me.Get(context.Background(), nil); err == nil {
		t.Error("WithTimeout did not time out")
	}
}

// TestErrors checks that server errors cross the wire as typed errors.
func TestErrors(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "sdk@example.com")
	c := env.Login(t, "sdk@example.com")
	_, err := c.UserAPIToken.Get(context.Background(), "575ec7417ae143cd83dc4a95")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != 404 || ce.Type != "NotFound" || ce.Message == "" {
		t.Errorf("err = %#v, want a 404 client.Error", err)
	}
	if !errors.Is(err, accountd.ErrNotFound) {
		t.Error("errors.Is(err, accountd.ErrNotFound) = false")
	}
	var de *accountd.Error
	if !errors.As(err, &de) || de.Code != accountd.CodeNotFound {
		t.Errorf("errors.As(*accountd.Error) = %v", de)
	}
	_, err = c.UserAPIToken.Get(context.Background(), "bad")
	if !errors.Is(err, accountd.ErrInvalid) {
		t.Errorf("a malformed id: err = %v, want ErrInvalid before any request", err)
	}
	_, err = env.Client(t, "nope").Me.Get(context.Background(), nil)
	if !errors.Is(err, accountd.ErrUnauthorized) {
		t.Errorf("a bad token: err = %v, want ErrUnauthorized", err)
	}
}
