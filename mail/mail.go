// Package mail delivers accountd's messages: through an SMTP server when
// one is configured, otherwise as .eml files in an outbox folder, so a
// single instance works with no mail server at all.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// compose renders one plain-text message (RFC 5322, UTF-8, quoted-printable).
func compose(from, to, subject, text string, now time.Time) ([]byte, error) {
	for _, a := range []string{from, to} {
		if _, err := mail.ParseAddress(a); err != nil {
			return nil, fmt.Errorf("mail: %q is not an address: %w", a, err)
		}
	}
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	domain := "accountd.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			domain = d
		}
	}
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from)
	hdr("To", to)
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `text/plain; charset="utf-8"`)
	body := strings.ReplaceAll(text, "\n", "\r\n")
	if plain7bit(body) {
		// Left readable as is, so an operator can take the link straight
		// from an outbox file.
		hdr("Content-Transfer-Encoding", "7bit")
		b.WriteString("\r\n")
		b.WriteString(body)
		return b.Bytes(), nil
	}
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// plain7bit reports whether body may be sent unencoded: ASCII only, and no
// line longer than SMTP allows.
func plain7bit(body string) bool {
	for _, line := range strings.Split(body, "\r\n") {
		if len(line) > 998 {
			return false
		}
		for i := 0; i < len(line); i++ {
			if c := line[i]; c >= 0x80 || c == 0 || c == '\r' || c == '\n' {
				return false
			}
		}
	}
	return true
}

// TLS modes of an SMTP connection.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS; refused if the server does not offer it
	TLSImplicit = "tls"      // TLS from the first byte (usually port 465)
	TLSNone     = "none"     // no encryption: only for a relay on the same host or network
)

// SMTPConfig is an SMTP relay to send through.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string // empty: no authentication
	Password string
	TLS      string // TLSStartTLS (default), TLSImplicit or TLSNone
	From     string
	// TLSConfig overrides the TLS settings (tests use it to trust their
	// own certificate); nil: verify the server as Host.
	TLSConfig *tls.Config
}

// SMTP sends each message over a new connection to the relay.
type SMTP struct {
	cfg SMTPConfig
	now func() time.Time
}

// NewSMTP checks cfg and returns a sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("mail: SMTP host is required")
	}
	if cfg.Port <= 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mail: SMTP port %d is out of range", cfg.Port)
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.TLS != TLSStartTLS && cfg.TLS != TLSImplicit && cfg.TLS != TLSNone {
		return nil, fmt.Errorf("mail: SMTP TLS mode %q is not starttls, tls or none", cfg.TLS)
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("mail: from address %q: %w", cfg.From, err)
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	}
	return &SMTP{cfg: cfg, now: time.Now}, nil
}

// Send delivers one message, within ctx's deadline (a minute at most).
func (s *SMTP) Send(ctx context.Context, to, subject, text string) error {
	msg, err := compose(s.cfg.From, to, subject, text, s.now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mail: connecting to %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if s.cfg.TLS == TLSImplicit {
		conn = tls.Client(conn, s.cfg.TLSConfig)
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("mail: greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("mail: %s does not offer STARTTLS; set the TLS mode to none to send in clear", addr)
		}
		if err := c.StartTLS(s.cfg.TLSConfig); err != nil {
			return fmt.Errorf("mail: STARTTLS with %s: %w", addr, err)
		}
	}
	if s.cfg.Username != "" {
		// PlainAuth refuses to send the password over an unencrypted
		// connection to anything but localhost.
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("mail: authenticating with %s: %w", addr, err)
		}
	}
	from, _ := mail.ParseAddress(s.cfg.From)
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("mail: recipient %q: %w", to, err)
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(rcpt.Address); err != nil {
		return fmt.Errorf("mail: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("mail: writing message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: ending message: %w", err)
	}
	return c.Quit()
}

// Outbox writes each message as an .eml file into a folder, for operators
// without a mail server: the log names each file, and any mail program
// opens it.
type Outbox struct {
	dir  string
	from string
	log  *slog.Logger
	now  func() time.Time
}

// NewOutbox creates dir (mode 0700: the messages hold live links) if needed.
func NewOutbox(dir, from string, log *slog.Logger) (*Outbox, error) {
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("mail: from address %q: %w", from, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: creating outbox: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Outbox{dir: dir, from: from, log: log, now: time.Now}, nil
}

// Dir is the outbox folder.
func (o *Outbox) Dir() string { return o.dir }

// Send writes the message to a new file, named by time so a listing sorts
// oldest first.
func (o *Outbox) Send(ctx context.Context, to, subject, text string) error {
	now := o.now()
	msg, err := compose(o.from, to, subject, text, now)
	if err != nil {
		return err
	}
	var suffix [4]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return err
	}
	name := now.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(suffix[:]) + ".eml"
	path := filepath.Join(o.dir, name)
	if err := os.WriteFile(path, msg, 0o600); err != nil {
		return fmt.Errorf("mail: writing %s: %w", path, err)
	}
	o.log.InfoContext(ctx, "message written to the outbox", "path", path, "subject", subject)
	return nil
}
