package cli

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/accountd/accountd/mail"
	"github.com/accountd/accountd/service"
	"github.com/spf13/pflag"
)

// securityFlags configure mail, email verification, two-factor auth and
// the GitHub link.
type securityFlags struct {
	publicURL            string
	outbox               string
	mailFrom             string
	smtpHost             string
	smtpPort             int
	smtpUser             string
	smtpPassword         string
	smtpTLS              string
	requireVerifiedEmail bool
	verifyTTL            time.Duration
	githubClientID       string
	githubClientSecret   string
	githubAuthURL        string
	githubTokenURL       string
	githubAPIURL         string
}

func (f *securityFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.publicURL, "public-url", "", "base URL users reach the server at, for links in messages and the GitHub callback (default http://<listen address>)")
	fs.StringVar(&f.outbox, "outbox", "", "folder for .eml files when no SMTP host is set (default: outbox beside the SQLite file, ./outbox with PostgreSQL)")
	fs.StringVar(&f.mailFrom, "mail-from", "accountd <noreply@localhost>", "From address of messages")
	fs.StringVar(&f.smtpHost, "smtp-host", "", "SMTP relay to send messages through; empty: write them to --outbox")
	fs.IntVar(&f.smtpPort, "smtp-port", 587, "SMTP relay port")
	fs.StringVar(&f.smtpUser, "smtp-user", "", "SMTP user name; empty: no authentication")
	fs.StringVar(&f.smtpPassword, "smtp-password", "", "SMTP password (prefer the environment variable)")
	fs.StringVar(&f.smtpTLS, "smtp-tls", mail.TLSStartTLS, "starttls, tls (implicit, usually port 465) or none")
	fs.BoolVar(&f.requireVerifiedEmail, "require-verified-email", true, "let users whose email is unverified call only me.get, me.patch and me.verifyEmail")
	fs.DurationVar(&f.verifyTTL, "verify-ttl", 24*time.Hour, "how long an email verification link works")
	fs.StringVar(&f.githubClientID, "github-client-id", "", "GitHub OAuth app client id; empty: GitHub linking and sign-in are off")
	fs.StringVar(&f.githubClientSecret, "github-client-secret", "", "GitHub OAuth app client secret (prefer the environment variable)")
	fs.StringVar(&f.githubAuthURL, "github-auth-url", "https://github.com/login/oauth/authorize", "OAuth authorization URL")
	fs.StringVar(&f.githubTokenURL, "github-token-url", "https://github.com/login/oauth/access_token", "OAuth token URL")
	fs.StringVar(&f.githubAPIURL, "github-api-url", "https://api.github.com", "GitHub API base URL (GET /user)")
}

// config builds the service's security configuration: the mailer and the
// public URL, given the database and listen address.
func (f *securityFlags) config(db, addr string, log *slog.Logger) (service.SecurityConfig, error) {
	public := f.publicURL
	if public == "" {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return service.SecurityConfig{}, usageError{fmt.Errorf("--addr: %w", err)}
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		public = "http://" + net.JoinHostPort(host, port)
	}
	if u, err := url.Parse(public); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return service.SecurityConfig{}, usageError{fmt.Errorf("--public-url: %q must be http(s)://host[:port][/path]", public)}
	}
	if f.verifyTTL <= 0 {
		return service.SecurityConfig{}, usageError{fmt.Errorf("--verify-ttl: must be positive")}
	}
	var mailer service.Mailer
	if f.smtpHost != "" {
		m, err := mail.NewSMTP(mail.SMTPConfig{Host: f.smtpHost, Port: f.smtpPort, Username: f.smtpUser, Password: f.smtpPassword,
			TLS: f.smtpTLS, From: f.mailFrom})
		if err != nil {
			return service.SecurityConfig{}, usageError{err}
		}
		mailer = m
	} else {
		dir := f.outbox
		if dir == "" {
			dir = "outbox"
			if !isPostgres(db) {
				dir = filepath.Join(filepath.Dir(db), "outbox")
			}
		}
		o, err := mail.NewOutbox(dir, f.mailFrom, log)
		if err != nil {
			return service.SecurityConfig{}, usageError{err}
		}
		log.Info("no SMTP host: messages go to the outbox", "dir", dir)
		mailer = o
	}
	return service.SecurityConfig{
		Mailer: mailer, PublicURL: strings.TrimRight(public, "/"), VerifyTTL: f.verifyTTL,
		Github: service.GithubConfig{
			ClientID: f.githubClientID, ClientSecret: f.githubClientSecret,
			AuthURL: f.githubAuthURL, TokenURL: f.githubTokenURL, APIURL: f.githubAPIURL,
		},
	}, nil
}
