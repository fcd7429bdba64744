package httpapi_test

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"net/http"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/smtptest"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/mail"
	"github.com/accountd/accountd/service"
)

var linkPattern = regexp.MustCompile(`http://\S+/verify-email\?token=[A-Za-z0-9_-]+`)

// linkIn reads a delivered message: its recipient and its verification link.
func linkIn(t *testing.T, raw []byte) (to, link string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("reading message: %v", err)
	}
	var rd io.Reader = m.Body
	if m.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		rd = quotedprintable.NewReader(rd)
	}
	body, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	link = linkPattern.FindString(string(body))
	if link == "" {
		t.Fatalf("no link in %q", body)
	}
	if !strings.Contains(string(body), "24 hours") {
		t.Errorf("the message does not say how long the link works: %q", body)
	}
	return m.Header.Get("To"), link
}

// outbox returns the messages in env's outbox, oldest first.
func outbox(t *testing.T, env *testenv.Env) [][]byte {
	t.Helper()
	entries, err := os.ReadDir(env.Outbox)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out [][]byte
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(env.Outbox, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// browse opens a page as a browser would: GET, or POST of a form.
func browse(t *testing.T, method, link string, form url.Values) (int, string) {
	t.Helper()
	var (
		resp *http.Response
		err  error
	)
	if method == "GET" {
		resp, err = http.Get(link)
	} else {
		resp, err = http.PostForm(link, form)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s %s: Content-Type %q, want text/html", method, link, ct)
	}
	return resp.StatusCode, string(body)
}

// follow opens a verification link and presses its button.
func follow(t *testing.T, link string) (int, string) {
	t.Helper()
	status, page := browse(t, "GET", link, nil)
	if status != 200 {
		return status, page
	}
	u, _ := url.Parse(link)
	return browse(t, "POST", u.Scheme+"://"+u.Host+"/verify-email", url.Values{"token": {u.Query().Get("token")}})
}

func TestEmailVerification(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		clock := testenv.NewClock(time.Now())
		env := testenv.Start(t, backend, testenv.Options{Clock: clock.Now})
		if _, err := env.Service.CreateUser(ctx, service.NewUser{Email: "una@example.com", Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		a, err := env.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "una@example.com", Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		if !a.NeedsToVerifyEmail {
			t.Error("login: needsToVerifyEmail = false for an unverified user")
		}
		c := env.Client(t, a.Token)

		t.Run("unverified users are limited", func(t *testing.T) {
			me, err := c.Me.Get(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if me.EmailVerified || !me.NeedsToVerifyEmail {
				t.Errorf("me = %+v", me)
			}
			if _, err := c.Me.Patch(ctx, client.MePatch{Title: ptr("Unverified")}, nil); err != nil {
				t.Errorf("me.patch: %v", err)
			}
			_, err = c.UserAPITokens.Get(ctx, nil)
			wantError(t, err, 403, "email", "verified")
			_, err = c.Me.RefreshToken(ctx)
			wantError(t, err, 403, "verified")
			_, err = c.Me.GenerateTwoFactorAuth(ctx)
			wantError(t, err, 403, "verified")
		})

		if err := c.Me.VerifyEmail(ctx); err != nil {
			t.Fatal(err)
		}
		msgs := outbox(t, env)
		if len(msgs) != 1 {
			t.Fatalf("%d messages in the outbox, want 1", len(msgs))
		}
		to, link := linkIn(t, msgs[0])
		if to != "una@example.com" || !strings.HasPrefix(link, env.URL+"/verify-email?token=") {
			t.Errorf("message to %q with link %q", to, link)
		}

		t.Run("a newer link replaces the older", func(t *testing.T) {
			// one message a minute at most
			err := c.Me.VerifyEmail(ctx)
			wantError(t, err, 429, "verification messages are sent at most one a minute; try again in 60 seconds")
			if strings.Contains(err.Error(), "failed") {
				t.Errorf("resend limit answer %q speaks of failed attempts", err)
			}
			clock.Add(time.Minute)
			if err := c.Me.VerifyEmail(ctx); err != nil {
				t.Fatal(err)
			}
			status, page := follow(t, link)
			if status != 404 || !strings.Contains(page, "not valid") {
				t.Errorf("old link: %d %s", status, page)
			}
			_, link = linkIn(t, outbox(t, env)[1])
		})

		t.Run("opening the link does not use it", func(t *testing.T) {
			for range 2 {
				status, page := browse(t, "GET", link, nil)
				if status != 200 || !strings.Contains(page, "una@example.com") || !strings.Contains(page, `method="post"`) {
					t.Errorf("GET link: %d %s", status, page)
				}
			}
			if me, _ := c.Me.Get(ctx, nil); me.EmailVerified {
				t.Error("verified by merely opening the link")
			}
		})

		t.Run("bad links", func(t *testing.T) {
			for _, bad := range []string{env.URL + "/verify-email?token=nope", env.URL + "/verify-email"} {
				if status, _ := follow(t, bad); status != 404 {
					t.Errorf("%s: %d, want 404", bad, status)
				}
			}
			if status, _ := browse(t, "POST", env.URL+"/verify-email", url.Values{}); status != 404 {
				t.Errorf("POST without token: %d, want 404", status)
			}
		})

		status, page := follow(t, link)
		if status != 200 || !strings.Contains(page, "una@example.com is verified") {
			t.Fatalf("following the link: %d %s", status, page)
		}
		me, err := c.Me.Get(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !me.EmailVerified || me.NeedsToVerifyEmail {
			t.Errorf("after verifying: %+v", me)
		}
		// the same token, which the auth cache knew as unverified, now passes
		if _, err := c.UserAPITokens.Get(ctx, nil); err != nil {
			t.Errorf("after verifying: %v", err)
		}
		if status, _ := follow(t, link); status != 404 {
			t.Errorf("link used twice: %d, want 404", status)
		}
		wantError(t, c.Me.VerifyEmail(ctx), 400, "email", "already verified")

		t.Run("an email change needs verifying again", func(t *testing.T) {
			me, err := c.Me.Patch(ctx, client.MePatch{Email: ptr("una.new@example.com"), CurrentCredentials: &client.CurrentCredentials{Password: testenv.Password}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if me.EmailVerified || !me.NeedsToVerifyEmail {
				t.Errorf("after an email change: %+v", me)
			}
			_, err = c.UserAPITokens.Get(ctx, nil)
			wantError(t, err, 403, "verified")
			msgs := outbox(t, env)
			to, link := linkIn(t, msgs[len(msgs)-1])
			if to != "una.new@example.com" {
				t.Errorf("message to %q, want the new address", to)
			}
			status, _ := follow(t, link)
			if status != 200 {
				t.Errorf("following the link: %d", status)
			}
			if me, _ := c.Me.Get(ctx, nil); !me.EmailVerified {
				t.Error("not verified")
			}
		})

		t.Run("links expire", func(t *testing.T) {
			if _, err := c.Me.Patch(ctx, client.MePatch{Email: ptr("una@example.com"), CurrentCredentials: &client.CurrentCredentials{Password: testenv.Password}}, nil); err != nil {
				t.Fatal(err)
			}
			msgs := outbox(t, env)
			_, link := linkIn(t, msgs[len(msgs)-1])
			clock.Add(24 * time.Hour)
			status, page := follow(t, link)
			if status != 410 || !strings.Contains(page, "expired") {
				t.Errorf("expired link: %d %s", status, page)
			}
		})

		t.Run("a link for a replaced address", func(t *testing.T) {
			clock.Add(time.Minute)
			if err := c.Me.VerifyEmail(ctx); err != nil {
				t.Fatal(err)
			}
			msgs := outbox(t, env)
			_, link := linkIn(t, msgs[len(msgs)-1])
			// change the address behind the link's back, without a new message
			u, err := env.Store.UserByEmail(ctx, "una@example.com")
			if err != nil {
				t.Fatal(err)
			}
			u.Email = "una.other@example.com"
			if err := env.Store.UpdateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			status, page := follow(t, link)
			if status != 410 || !strings.Contains(page, "no longer uses") {
				t.Errorf("stale link: %d %s", status, page)
			}
		})
	})
}

// TestVerificationOverSMTP delivers through a real SMTP server in the test
// process and follows the link read back from it.
func TestVerificationOverSMTP(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{Username: "accountd", Password: "smtp-secret", StartTLS: true})
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, Username: "accountd", Password: "smtp-secret",
		TLS: mail.TLSStartTLS, From: "accountd <noreply@example.com>", TLSConfig: srv.ClientTLS})
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.Start(t, "sqlite", testenv.Options{Mailer: sender})
	if _, err := env.Service.CreateUser(ctx, service.NewUser{Email: "vic@example.com", Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	c := env.Login(t, "vic@example.com")
	if err := c.Me.VerifyEmail(ctx); err != nil {
		t.Fatal(err)
	}
	m := srv.Wait(t, 1)[0]
	if !slices.Equal(m.To, []string{"vic@example.com"}) || m.From != "noreply@example.com" {
		t.Errorf("envelope %s -> %v", m.From, m.To)
	}
	_, link := linkIn(t, m.Data)
	if status, _ := follow(t, link); status != 200 {
		t.Fatalf("following the link: %d", status)
	}
	if me, err := c.Me.Get(ctx, nil); err != nil || !me.EmailVerified {
		t.Errorf("me = %+v, %v", me, err)
	}
	if n := len(outbox(t, env)); n != 0 {
		t.Errorf("%d messages in the outbox with SMTP configured", n)
	}
}

// TestUnverifiedAllowed: with verification not required, unverified users
// may call everything.
func TestUnverifiedAllowed(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{AllowUnverifiedEmail: true})
	if _, err := env.Service.CreateUser(ctx, service.NewUser{Email: "wes@example.com", Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	c := env.Login(t, "wes@example.com")
	if _, err := c.UserAPITokens.Get(ctx, nil); err != nil {
		t.Error(err)
	}
}
