package accountd

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Principal is who a request acts as: the user and the token that
// authenticated it, with that token's scope.
type Principal struct {
	UserID  string
	TokenID string
	Kind    TokenKind
	Scope   []string
	// EmailVerified is whether the user has verified their email, as the
	// service's auth cache knows it (no database round trip per request).
	EmailVerified bool
	// Bound is whether tokens obtained with this one are bound to it: it is
	// a personal API token or was obtained with one. ExpiresAt is when the
	// token or the first of its ancestors expires (zero: never), and Depth
	// how many ancestors it has.
	Bound     bool
	ExpiresAt time.Time
	Depth     int
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx carries, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

type clientKey struct{}

// Client is what a request says about where it comes from: the caller's
// network address (without port), which password throttling keys on, and
// its User-Agent header. Sessions and the security log record both.
type Client struct {
	Address   string
	UserAgent string
	// Console is set when the request came through the web console, so a
	// session it signs in is recorded as obtained there.
	Console bool
}

// ClientSource says who is calling when asked, for a caller that would
// rather not work it out on every request: authentication asks only when
// it records a token's use (about once a minute per token).
type ClientSource interface {
	Client() Client
}

// maxUserAgent bounds the user agent a request carries into the service
// (and so into the database and the security log).
const maxUserAgent = 256

// WithClient returns ctx carrying c, its user agent cut to 256 bytes.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c.Clipped())
}

// Clipped returns c with its user agent cut to at most 256 bytes at a
// character boundary, and made valid UTF-8 (PostgreSQL stores nothing
// else).
func (c Client) Clipped() Client {
	ua := c.UserAgent
	if len(ua) > maxUserAgent {
		n := maxUserAgent
		for n > 0 && !utf8.RuneStart(ua[n]) {
			n--
		}
		ua = ua[:n]
	}
	if !utf8.ValidString(ua) {
		ua = strings.ToValidUTF8(ua, "\uFFFD")
	}
	c.UserAgent = ua
	return c
}

// ClientFrom returns what ctx carries about the caller (zero if nothing).
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// ClientAddrFrom returns the caller's address, or "" if none is known.
func ClientAddrFrom(ctx context.Context) string {
	return ClientFrom(ctx).Address
}
