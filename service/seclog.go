package service

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/secret"
)

// The security log: every action that changes how an account can be
// reached (logins, credentials, tokens, links, memberships, transfers)
// writes one entry with the caller's address and user agent. An entry is
// written in the transaction of the change it records, so it exists exactly
// when the change does; a failure (a refused login) has no transaction and
// writes it at once. Once written, an entry is announced: one slog line, the
// observers (the HTTP layer's Prometheus counter), and for some kinds an
// email to the user (notifications), at most one of a kind per
// SecurityLogConfig.NoticeEvery per user, decided by the database so that it
// holds across instances. Entries hold no secret: names and categories only.

// SecurityLogConfig configures the security log and its notifications.
type SecurityLogConfig struct {
	// Retention is how long entries are kept (default 90 days);
	// housekeeping prunes older ones in batches of PruneBatch (default
	// 1000), at most 20 batches a minute.
	Retention  time.Duration
	PruneBatch int
	// NoticeEvery is the least time between two notifications of one kind
	// to one user (default 5 minutes).
	NoticeEvery time.Duration
	// NoNewAddressNotice turns off the notification of a login from an
	// address the user has not logged in from before (on by default).
	NoNewAddressNotice bool
	// ExpiryNotice is how long before an API token expires its owner is
	// reminded (default 7 days).
	ExpiryNotice time.Duration
}

func (c *SecurityLogConfig) defaults() {
	if c.Retention <= 0 {
		c.Retention = 90 * 24 * time.Hour
	}
	if c.PruneBatch <= 0 {
		c.PruneBatch = 1000
	}
	if c.NoticeEvery <= 0 {
		c.NoticeEvery = 5 * time.Minute
	}
	if c.ExpiryNotice <= 0 {
		c.ExpiryNotice = 7 * 24 * time.Hour
	}
}

// maxPruneBatches bounds one housekeeping run's pruning.
const maxPruneBatches = 20

// SecurityEntry is what a caller says about an event; the service adds the
// id, the time and the client (from ctx: accountd.ClientFrom).
type SecurityEntry struct {
	UserID     string
	Kind       string // one of accountd.SecurityKinds
	ObjectType string
	ObjectID   string
	Detail     map[string]string // names and categories only: never a secret
}

// RecordSecurityEvent writes an entry of the user's security log in st,
// which should be the transaction of the change the entry records (nil:
// the store, at once). Call the announce it returns once that transaction
// has committed: it logs the event, counts it and sends the notification
// its kind calls for.
func (s *Service) RecordSecurityEvent(ctx context.Context, st accountd.Store, e SecurityEntry) (announce func(), err error) {
	if !accountd.KnownSecurityKind(e.Kind) {
		return nil, accountd.Internal(fmt.Errorf("service: unknown security event kind %q", e.Kind))
	}
	if st == nil {
		st = s.store
	}
	c := accountd.ClientFrom(ctx)
	now := accountd.Millis(s.now())
	ev := &accountd.SecurityEvent{
		ID: accountd.NewID(now), UserID: e.UserID, At: now, Kind: e.Kind,
		Address: c.Address, UserAgent: printable(c.UserAgent), ObjectType: e.ObjectType, ObjectID: e.ObjectID, Detail: e.Detail,
	}
	if err := st.AddSecurityEvent(ctx, ev); err != nil {
		return nil, err
	}
	return func() { s.announce(ctx, ev) }, nil
}

// securityEvent records an event that has no transaction of its own (a
// failure, a code used up) at once. The change it follows has happened, so
// a failure to record is logged, not returned; a caller that left does
// not stop it.
func (s *Service) securityEvent(ctx context.Context, e SecurityEntry) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	announce, err := s.RecordSecurityEvent(ctx, nil, e)
	if err != nil {
		s.log.ErrorContext(ctx, "recording a security event", "kind", e.Kind, "user", e.UserID, "err", err)
		return
	}
	announce()
}

// announcements collects the announces of one transaction's entries.
type announcements []func()

// record writes e in tx and keeps its announce for run.
func (a *announcements) record(ctx context.Context, s *Service, tx accountd.Store, e SecurityEntry) error {
	f, err := s.RecordSecurityEvent(ctx, tx, e)
	if err != nil {
		return err
	}
	*a = append(*a, f)
	return nil
}

func (a announcements) run() {
	for _, f := range a {
		f()
	}
}

// ObserveSecurityEvents calls f with the kind of every security event
// recorded from now on (the HTTP layer counts them for Prometheus). f must
// be quick and safe for concurrent use.
func (s *Service) ObserveSecurityEvents(f func(kind string)) {
	s.secObservers.mu.Lock()
	defer s.secObservers.mu.Unlock()
	next := append(slices.Clone(s.secObservers.load()), f)
	s.secObservers.fns.Store(&next)
}

type secObservers struct {
	mu  sync.Mutex // writers; readers load fns
	fns atomic.Pointer[[]func(string)]
}

func (o *secObservers) load() []func(string) {
	if p := o.fns.Load(); p != nil {
		return *p
	}
	return nil
}

// announce logs the event on one line with stable field names (for a
// SIEM), tells the observers and sends its notification.
func (s *Service) announce(ctx context.Context, e *accountd.SecurityEvent) {
	attrs := []slog.Attr{
		slog.String("kind", e.Kind), slog.String("user", e.UserID), slog.String("event", e.ID),
		slog.String("addr", e.Address), slog.String("agent", e.UserAgent),
		slog.String("object_type", e.ObjectType), slog.String("object", e.ObjectID),
	}
	if len(e.Detail) > 0 {
		keys := make([]string, 0, len(e.Detail))
		for k := range e.Detail {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		detail := make([]any, 0, len(keys))
		for _, k := range keys {
			detail = append(detail, slog.String(k, e.Detail[k]))
		}
		attrs = append(attrs, slog.Group("detail", detail...))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "security event", attrs...)
	for _, f := range s.secObservers.load() {
		f(e.Kind)
	}
	s.notify(ctx, e)
}

// SecurityPage is one page of a user's security log, with the query as
// applied (defaults filled in).
type SecurityPage struct {
	Events []*accountd.SecurityEvent
	Total  int
	Query  accountd.SecurityQuery
}

// SecurityLog returns a page of the caller's own security log, newest
// first.
func (s *Service) SecurityLog(ctx context.Context, p accountd.Principal, q accountd.SecurityQuery) (SecurityPage, error) {
	for _, k := range q.Kinds {
		if !accountd.KnownSecurityKind(k) {
			if len(k) > 64 {
				k = k[:64] + "..."
			}
			return SecurityPage{}, accountd.Invalid("kind", "%q is not a security event kind; the kinds are %s", k, strings.Join(accountd.SecurityKinds, ", "))
		}
	}
	slices.Sort(q.Kinds)
	q.Kinds = slices.Compact(q.Kinds)
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return SecurityPage{}, accountd.Invalid("until", "must be after since")
	}
	dir := "desc"
	if err := checkPaging(&dir, &q.Page, &q.PerPage); err != nil {
		return SecurityPage{}, err
	}
	events, total, err := s.store.SecurityEvents(ctx, p.UserID, q)
	if err != nil {
		return SecurityPage{}, err
	}
	return SecurityPage{Events: events, Total: total, Query: q}, nil
}

// pruneSecurityLog removes entries older than the retention, a bounded
// batch at a time.
func (s *Service) pruneSecurityLog(ctx context.Context, now time.Time) {
	cfg := s.cfg.SecurityLog
	before := now.Add(-cfg.Retention)
	total := 0
	for range maxPruneBatches {
		n, err := s.store.PruneSecurityEvents(ctx, before, cfg.PruneBatch)
		if err != nil {
			s.log.ErrorContext(ctx, "pruning the security log", "err", err)
			return
		}
		total += n
		if n < cfg.PruneBatch {
			break
		}
	}
	if total > 0 {
		s.log.DebugContext(ctx, "pruned the security log", "count", total)
	}
}

// PruneSecurityLog runs the security log's pruning now, as housekeeping
// does every minute (operators and tests).
func (s *Service) PruneSecurityLog(ctx context.Context) { s.pruneSecurityLog(ctx, s.now()) }

// throttledSeen remembers, per account and address, until when a throttled
// login was last logged, so that a flood of refused attempts writes one
// entry per window and instance, not one per request.
type throttledSeen struct {
	mu    sync.Mutex
	until *boundedMap[time.Time]
}

func newThrottledSeen() *throttledSeen {
	return &throttledSeen{until: newBoundedMap[time.Time](1 << 20)}
}

// first reports whether key is not marked at now, and marks it until until.
func (t *throttledSeen) first(key string, now, until time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Before(t.until.m[key]) {
		return false
	}
	t.until.makeRoom(key, func(u time.Time) bool { return !now.Before(u) }, nil)
	t.until.set(key, until)
	return true
}

func (t *throttledSeen) prune(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, u := range t.until.m {
		if !now.Before(u) {
			t.until.del(k)
		}
	}
}

// loginThrottled logs a login refused by the throttle in the log of the
// account it was aimed at, if there is one, once per window per address.
func (s *Service) loginThrottled(ctx context.Context, email string, now time.Time) {
	key := throttleKey("seclog", accountd.EmailKey(email), accountd.ClientAddrFrom(ctx))
	if !s.throttledSeen.first(key, now, now.Add(s.cfg.Throttle.Window)) {
		return
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		return // no such account (or no answer): nobody's log
	}
	s.securityEvent(ctx, SecurityEntry{UserID: u.ID, Kind: accountd.SecLoginThrottled})
}

// loginFailed logs a login refused for a wrong secret (reason: password,
// twoFactorCode or recoveryCode).
func (s *Service) loginFailed(ctx context.Context, u *accountd.User, method, reason string) {
	s.securityEvent(ctx, SecurityEntry{UserID: u.ID, Kind: accountd.SecLoginFailed,
		Detail: map[string]string{"method": method, "reason": reason}})
}

// loginSession issues a login session for u and records the login in the
// same transaction. detail.newAddress says the address was never seen to
// log in to the account before, when the account had logged in before
// from elsewhere.
func (s *Service) loginSession(ctx context.Context, u *accountd.User, scope []string, ttl time.Duration, method string) (AuthedUser, error) {
	detail := map[string]string{"method": method}
	if addr := accountd.ClientAddrFrom(ctx); addr != "" {
		seen, err := s.store.SecurityEventSeen(ctx, u.ID, accountd.SecLoginSucceeded, addr)
		if err != nil {
			return AuthedUser{}, err
		}
		if !seen {
			before, err := s.store.SecurityEventSeen(ctx, u.ID, accountd.SecLoginSucceeded, "")
			if err != nil {
				return AuthedUser{}, err
			}
			if before {
				detail["newAddress"] = "true"
			}
		}
	}
	var (
		out AuthedUser
		ann announcements
	)
	err := s.store.InTx(ctx, func(tx accountd.Store) error {
		t := s.sessionToken(ctx, u, scope, ttl, userCreator(u), method)
		signed, err := s.issue(ctx, tx, t, passwordBasis(u))
		if err != nil {
			return err
		}
		out = AuthedUser{UserID: u.ID, Token: signed, NeedsToVerifyEmail: !u.EmailVerified}
		return ann.record(ctx, s, tx, SecurityEntry{UserID: u.ID, Kind: accountd.SecLoginSucceeded,
			ObjectType: "session", ObjectID: t.ID, Detail: detail})
	})
	if err != nil {
		return AuthedUser{}, err
	}
	ann.run()
	return out, nil
}

// codeReason names what kind of second factor code was given, for a
// failure's reason.
func codeReason(code string) string {
	if len(code) == secret.TOTPDigits {
		return "twoFactorCode"
	}
	return "recoveryCode"
}

// printable makes a caller's text safe to store and show: valid UTF-8 (a
// header may hold any bytes, and may have been cut inside a character)
// without control characters, which PostgreSQL's text refuses or a log
// reader could be fooled by.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
