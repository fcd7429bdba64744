package mail_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accountd/accountd/internal/smtptest"
	"github.com/accountd/accountd/mail"
)

const text = "Hello Ada,\n\nfollow https://example.com/verify?token=abc to verify — thank you.\n"

// readBack parses a delivered message and decodes its body.
func readBack(t *testing.T, raw []byte) (*netmail.Message, string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("reading message: %v\n%s", err, raw)
	}
	var rd io.Reader = m.Body
	if m.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		rd = quotedprintable.NewReader(rd)
	}
	body, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return m, strings.ReplaceAll(string(body), "\r\n", "\n")
}

func checkMessage(t *testing.T, raw []byte) {
	t.Helper()
	m, body := readBack(t, raw)
	var dec mime.WordDecoder
	if got, err := dec.DecodeHeader(m.Header.Get("Subject")); err != nil || got != "Verify your email — accountd" {
		t.Errorf("Subject = %q, %v", got, err)
	}
	if m.Header.Get("To") != "ada@example.com" || m.Header.Get("From") != "accountd <noreply@example.com>" ||
		m.Header.Get("Message-ID") == "" || m.Header.Get("Date") == "" {
		t.Errorf("headers = %v", m.Header)
	}
	if body != text {
		t.Errorf("body = %q, want %q", body, text)
	}
}

func TestSMTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		opts    smtptest.Options
		tls     string
		user    string
		pass    string
		wantErr string
	}{
		{name: "plain", opts: smtptest.Options{}, tls: mail.TLSNone},
		{name: "auth", opts: smtptest.Options{Username: "u", Password: "p"}, tls: mail.TLSNone, user: "u", pass: "p"},
		{name: "starttls and auth", opts: smtptest.Options{Username: "u", Password: "p", StartTLS: true}, tls: mail.TLSStartTLS, user: "u", pass: "p"},
		{name: "wrong password", opts: smtptest.Options{Username: "u", Password: "p"}, tls: mail.TLSNone, user: "u", pass: "x", wantErr: "authenticating"},
		{name: "no auth given", opts: smtptest.Options{Username: "u", Password: "p"}, tls: mail.TLSNone, wantErr: "MAIL FROM"},
		{name: "starttls not offered", opts: smtptest.Options{}, tls: mail.TLSStartTLS, wantErr: "does not offer STARTTLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, tc.opts)
			s, err := mail.NewSMTP(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, Username: tc.user, Password: tc.pass,
				TLS: tc.tls, From: "accountd <noreply@example.com>", TLSConfig: srv.ClientTLS})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), "ada@example.com", "Verify your email — accountd", text)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Send = %v, want an error about %s", err, tc.wantErr)
				}
				if n := len(srv.Messages()); n != 0 {
					t.Errorf("%d messages arrived", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := srv.Wait(t, 1)[0]
			if got.From != "noreply@example.com" || len(got.To) != 1 || got.To[0] != "ada@example.com" {
				t.Errorf("envelope = %s -> %v", got.From, got.To)
			}
			checkMessage(t, got.Data)
		})
	}
}

func TestSMTPConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  mail.SMTPConfig
	}{
		{"no host", mail.SMTPConfig{Port: 25, From: "a@example.com"}},
		{"bad port", mail.SMTPConfig{Host: "h", Port: 0, From: "a@example.com"}},
		{"bad tls", mail.SMTPConfig{Host: "h", Port: 25, TLS: "ssl", From: "a@example.com"}},
		{"bad from", mail.SMTPConfig{Host: "h", Port: 25, From: "nobody"}},
	} {
		if _, err := mail.NewSMTP(tc.cfg); err == nil {
			t.Errorf("%s: NewSMTP accepted %+v", tc.name, tc.cfg)
		}
	}
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "outbox")
	o, err := mail.NewOutbox(dir, "accountd <noreply@example.com>", nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := o.Send(context.Background(), "ada@example.com", "Verify your email — accountd", text); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d files in the outbox, want 2", len(entries))
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".eml") {
			t.Errorf("file %s is not .eml", e.Name())
		}
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		checkMessage(t, raw)
	}
	t.Run("ASCII stays readable", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "ascii")
		o, err := mail.NewOutbox(dir, "noreply@example.com", nil)
		if err != nil {
			t.Fatal(err)
		}
		link := "https://example.com/verify-email?token=abc=def_0123456789"
		if err := o.Send(context.Background(), "ada@example.com", "Verify", "Open\n"+link+"\n"); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("%d files", len(entries))
		}
		raw, _ := os.ReadFile(filepath.Join(dir, entries[0].Name()))
		if !strings.Contains(string(raw), "Content-Transfer-Encoding: 7bit\r\n") || !strings.Contains(string(raw), "\r\n"+link+"\r\n") {
			t.Errorf("message not plain:\n%s", raw)
		}
	})
	if err := o.Send(context.Background(), "not an address", "s", "t"); err == nil {
		t.Error("Send accepted a malformed recipient")
	}
}
