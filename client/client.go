// Package client is the Go SDK for accountd, and for any server that speaks
// the Losant platform's user-account wire format: Auth, Me, UserAPIToken and
// UserAPITokens, with methods named after the reference actions.
//
// Errors from the server come back as *Error, which carries the status,
// type and message and unwraps to an *accountd.Error, so
// errors.Is(err, accountd.ErrNotFound) works on this side of the wire too.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/accountd/accountd"
)

// Client talks to one server. It is safe for concurrent use.
type Client struct {
	Auth          *AuthService
	Me            *MeService
	UserAPIToken  *UserAPITokenService
	UserAPITokens *UserAPITokensService

	// organizations and resources (orgs.go)
	Orgs         *OrgsService
	Org          *OrgService
	Applications *ApplicationsService
	Application  *ApplicationService
	Dashboards   *DashboardsService
	Dashboard    *DashboardService
	Devices      *DevicesService
	Device       *DeviceService
	Flows        *FlowsService
	Flow         *FlowService

	// Usage reports usage for platform services; it needs a usage key as
	// the token (usage.go).
	Usage *UsageService

	base      *url.URL
	http      *http.Client
	userAgent string
	domain    string

	mu    sync.RWMutex
	token string
}

// Option configures a Client.
type Option func(*Client)

// WithToken sets the bearer token sent with every request.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient sets the *http.Client requests go through.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout bounds each request (on a copy of the HTTP client).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		h := *c.http
		h.Timeout = d
		c.http = &h
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithDomain sends the losantdomain header, the reference's "domain scope of
// request", with every request.
func WithDomain(domain string) Option { return func(c *Client) { c.domain = domain } }

// DefaultUserAgent identifies the SDK.
const DefaultUserAgent = "accountd-go-client"

// New returns a client for the server at baseURL (e.g. http://127.0.0.1:8080).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q must be http(s)://host[:port][/path]", baseURL)
	}
	c := &Client{base: u, http: &http.Client{Timeout: 30 * time.Second}, userAgent: DefaultUserAgent}
	for _, o := range opts {
		o(c)
	}
	c.Auth = &AuthService{c}
	c.Me = &MeService{c}
	c.UserAPIToken = &UserAPITokenService{c}
	c.UserAPITokens = &UserAPITokensService{c}
	c.initResources()
	c.Usage = &UsageService{c}
	return c, nil
}

// SetToken replaces the bearer token, e.g. after AuthenticateUser.
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
}

// Token returns the bearer token in use.
func (c *Client) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// Error is an error response from the server.
type Error struct {
	StatusCode int
	Type       string
	Message    string
	RetryAfter time.Duration // from Retry-After on 429
}

func (e *Error) Error() string {
	return fmt.Sprintf("accountd: %d %s: %s", e.StatusCode, e.Type, e.Message)
}

// Unwrap rebuilds the domain error, so errors.Is and errors.As with
// accountd's errors work on the client side.
func (e *Error) Unwrap() error {
	code := accountd.Code(e.Type)
	switch e.StatusCode {
	case http.StatusUnauthorized:
		code = accountd.CodeUnauthorized
	case http.StatusForbidden:
		code = accountd.CodeForbidden
	case http.StatusNotFound:
		code = accountd.CodeNotFound
	case http.StatusTooManyRequests:
		code = accountd.CodeTooManyRequests
	case http.StatusGone:
		code = accountd.CodeGone
	case http.StatusRequestEntityTooLarge:
		code = accountd.CodeTooLarge
	}
	return &accountd.Error{Code: code, Message: e.Message, RetryAfter: e.RetryAfter}
}

// do sends one request; body (if not nil) is sent as JSON and a 2xx answer
// is decoded into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := *c.base
	u.Path += path
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("client: encoding request: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Version", "^1.28.3")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if t := c.Token(); t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	if c.domain != "" {
		req.Header.Set("losantdomain", c.domain)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{StatusCode: resp.StatusCode}
		var eb struct{ Type, Message string }
		if json.Unmarshal(raw, &eb) == nil && eb.Type != "" {
			e.Type, e.Message = eb.Type, eb.Message
		} else {
			e.Type, e.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(raw))
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("client: decoding %s %s response: %w", method, path, err)
	}
	return nil
}

// Success is the reference's {"success": true}.
type Success struct {
	Success bool `json:"success"`
}

func checkID(name, id string) error {
	if !accountd.ValidID(id) {
		return &accountd.Error{Code: accountd.CodeInvalid, Field: name, Message: name + ": must be 24 hex characters"}
	}
	return nil
}
