package cli

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/mail"
)

func TestSecurityConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	log := slog.New(slog.DiscardHandler)
	defaults := func() securityFlags {
		return securityFlags{mailFrom: "accountd <noreply@localhost>", smtpPort: 587, smtpTLS: mail.TLSStartTLS, verifyTTL: 24 * time.Hour}
	}

	t.Run("defaults: outbox beside the database, URL from the address", func(t *testing.T) {
		f := defaults()
		cfg, err := f.config(db, "0.0.0.0:8080", log)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.PublicURL != "http://127.0.0.1:8080" {
			t.Errorf("PublicURL = %q", cfg.PublicURL)
		}
		if o, ok := cfg.Mailer.(*mail.Outbox); !ok || o.Dir() != filepath.Join(dir, "outbox") {
			t.Errorf("Mailer = %#v, want the outbox beside %s", cfg.Mailer, db)
		}
		if fi, err := os.Stat(filepath.Join(dir, "outbox")); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("outbox: %v, %v", fi, err)
		}
		if cfg.Github.ClientID != "" {
			t.Error("GitHub on without a client id")
		}
	})
	t.Run("SMTP and GitHub", func(t *testing.T) {
		f := defaults()
		f.smtpHost, f.publicURL, f.githubClientID, f.githubAuthURL = "mail.example.com", "https://accounts.example.com/", "id", "http://fake/auth"
		cfg, err := f.config(db, "127.0.0.1:8080", log)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := cfg.Mailer.(*mail.SMTP); !ok || cfg.PublicURL != "https://accounts.example.com" ||
			cfg.Github.ClientID != "id" || cfg.Github.AuthURL != "http://fake/auth" {
			t.Errorf("config = %+v", cfg)
		}
	})
	for _, tc := range []struct {
		name string
		set  func(*securityFlags)
		want string
	}{
		{"bad public URL", func(f *securityFlags) { f.publicURL = "ftp://x" }, "--public-url"},
		{"bad TLS mode", func(f *securityFlags) { f.smtpHost, f.smtpTLS = "h", "ssl" }, "starttls, tls or none"},
		{"bad from", func(f *securityFlags) { f.mailFrom = "nobody" }, "from address"},
		{"bad ttl", func(f *securityFlags) { f.verifyTTL = 0 }, "--verify-ttl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := defaults()
			tc.set(&f)
			_, err := f.config(db, "127.0.0.1:8080", log)
			if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a usage error about %s", err, tc.want)
			}
		})
	}
}

func TestServeSecurityFlagsFromEnv(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "env.db")
	code, _, errOut := run(t, []string{"ACCOUNTD_DB=" + db, "ACCOUNTD_SMTP_HOST=mail.example.com", "ACCOUNTD_SMTP_TLS=ssl"}, "serve", "--addr", "127.0.0.1:0")
	if code != ExitUsage || !strings.Contains(errOut, "ssl") {
		t.Errorf("serve with a bad ACCOUNTD_SMTP_TLS = %d %q", code, errOut)
	}
	_, out, _ := run(t, nil, "serve", "--help")
	for _, flag := range []string{"--public-url", "--outbox", "--smtp-host", "--require-verified-email", "--github-client-id", "ACCOUNTD_SMTP_PASSWORD"} {
		if !strings.Contains(out, flag) {
			t.Errorf("serve --help lacks %s", flag)
		}
	}
}
