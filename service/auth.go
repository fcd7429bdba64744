package service

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/secret"
)

// The per-request token check verifies the signature, then looks the token
// and its user up in an in-memory cache instead of the database. Every
// change to a token or to a user's cut-off writes an auth event in the same
// transaction; this instance evicts the entry at once after its own changes,
// and polls the events of the last few seconds to evict what other
// instances changed. A generation counter keeps a load that raced an
// eviction from putting stale data back.

// cacheMaxAge bounds how long an entry is trusted even without an event.
const cacheMaxAge = 5 * time.Minute

// lastUsedGranularity is how stale a token's recorded last use may be; it
// keeps last-use bookkeeping off the hot path.
const lastUsedGranularity = time.Minute

type tokenEntry struct {
	userID    string
	kind      accountd.TokenKind
	scope     []string
	active    bool
	expiresAt time.Time
	createdAt time.Time
	missing   bool
	loadedAt  time.Time
	lastUsed  atomic.Int64 // unix ms of the last use recorded
}

type userEntry struct {
	cutoff        time.Time
	emailVerified bool
	missing       bool
	loadedAt      time.Time
}

type authCache struct {
	mu     sync.RWMutex
	gen    uint64
	tokens map[string]*tokenEntry
	users  map[string]*userEntry

	dirtyMu sync.Mutex
	dirty   map[string]time.Time // token id -> last use not yet written
}

// maxCacheEntries bounds memory; past it the cache starts over.
const maxCacheEntries = 200_000

func newAuthCache() *authCache {
	return &authCache{
		tokens: map[string]*tokenEntry{},
		users:  map[string]*userEntry{},
		dirty:  map[string]time.Time{},
	}
}

func (c *authCache) token(id string) (*tokenEntry, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.tokens[id], c.gen
}

func (c *authCache) user(id string) (*userEntry, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.users[id], c.gen
}

// putToken stores e unless an eviction happened since gen was read.
func (c *authCache) putToken(id string, e *tokenEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.tokens) >= maxCacheEntries {
		c.tokens = map[string]*tokenEntry{}
	}
	c.tokens[id] = e
}

func (c *authCache) putUser(id string, e *userEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.users) >= maxCacheEntries {
		c.users = map[string]*userEntry{}
	}
	c.users[id] = e
}

func (c *authCache) evict(events []accountd.AuthEvent) {
	if len(events) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, ev := range events {
		if ev.TokenID != "" {
			delete(c.tokens, ev.TokenID)
		} else {
			delete(c.users, ev.UserID)
		}
	}
}

func (c *authCache) markUsed(id string, e *tokenEntry, now time.Time) {
	last := e.lastUsed.Load()
	ms := now.UnixMilli()
	if ms-last < lastUsedGranularity.Milliseconds() || !e.lastUsed.CompareAndSwap(last, ms) {
		return
	}
	c.dirtyMu.Lock()
	c.dirty[id] = accountd.Millis(now)
	c.dirtyMu.Unlock()
}

func (c *authCache) takeDirty() map[string]time.Time {
	c.dirtyMu.Lock()
	defer c.dirtyMu.Unlock()
	d := c.dirty
	c.dirty = map[string]time.Time{}
	return d
}

var errBadToken = &accountd.Error{Code: accountd.CodeUnauthorized, Message: "the token is missing, malformed, expired or revoked"}

// Authenticate verifies a bearer token and returns who it acts for. Any
// failure is the same 401, so a caller learns nothing about why.
func (s *Service) Authenticate(ctx context.Context, token string) (accountd.Principal, error) {
	now := s.now()
	claims, err := s.verify(token, now)
	if err != nil {
		return accountd.Principal{}, errBadToken
	}
	te, err := s.tokenEntry(ctx, claims.TokenID, now)
	if err != nil {
		return accountd.Principal{}, err
	}
	if te.missing || !te.active || te.userID != claims.UserID ||
		(!te.expiresAt.IsZero() && !now.Before(te.expiresAt)) {
		return accountd.Principal{}, errBadToken
	}
	ue, err := s.userEntry(ctx, te.userID, now)
	if err != nil {
		return accountd.Principal{}, err
	}
	if ue.missing || !te.createdAt.After(ue.cutoff) {
		return accountd.Principal{}, errBadToken
	}
	s.cache.markUsed(claims.TokenID, te, now)
	return accountd.Principal{UserID: te.userID, TokenID: claims.TokenID, Kind: te.kind, Scope: te.scope, EmailVerified: ue.emailVerified}, nil
}

func (s *Service) tokenEntry(ctx context.Context, id string, now time.Time) (*tokenEntry, error) {
	e, gen := s.cache.token(id)
	if e != nil && now.Sub(e.loadedAt) < cacheMaxAge {
		return e, nil
	}
	t, err := s.store.Token(ctx, id)
	switch {
	case errors.Is(err, accountd.ErrNotFound):
		e = &tokenEntry{missing: true, loadedAt: now}
	case err != nil:
		return nil, err
	default:
		e = &tokenEntry{
			userID: t.UserID, kind: t.Kind, scope: slices.Clip(t.Scope), active: t.Status == accountd.StatusActive,
			expiresAt: t.ExpiresAt, createdAt: t.CreatedAt, loadedAt: now,
		}
		e.lastUsed.Store(t.LastUsedAt.UnixMilli())
	}
	s.cache.putToken(id, e, gen)
	return e, nil
}

func (s *Service) userEntry(ctx context.Context, id string, now time.Time) (*userEntry, error) {
	e, gen := s.cache.user(id)
	if e != nil && now.Sub(e.loadedAt) < cacheMaxAge {
		return e, nil
	}
	u, err := s.store.User(ctx, id)
	switch {
	case errors.Is(err, accountd.ErrNotFound):
		e = &userEntry{missing: true, loadedAt: now}
	case err != nil:
		return nil, err
	default:
		e = &userEntry{cutoff: u.TokenCutoff, emailVerified: u.EmailVerified, loadedAt: now}
	}
	s.cache.putUser(id, e, gen)
	return e, nil
}

// forgetToken and forgetUser evict after this instance's own changes, so
// they take effect here at once.
func (s *Service) forgetToken(userID, tokenID string) {
	s.cache.evict([]accountd.AuthEvent{{UserID: userID, TokenID: tokenID}})
	s.meViews.forget(userID)
}

func (s *Service) forgetUser(userID string) {
	s.cache.evict([]accountd.AuthEvent{{UserID: userID}})
	s.meViews.forget(userID)
}

func (s *Service) pollEvents(ctx context.Context) {
	events, err := s.store.AuthEvents(ctx, s.cfg.EventWindow)
	if err != nil {
		s.log.Error("polling auth events", "err", err)
		return
	}
	// Events stay in the window for a while and are evicted on every poll:
	// that is what repairs a load that read a row just before a change
	// committed, and a PostgreSQL sequence that commits out of order.
	s.cache.evict(events)
	if len(events) > 0 {
		users := make([]string, 0, len(events))
		for _, ev := range events {
			users = append(users, ev.UserID)
		}
		s.meViews.forget(users...)
	}
}

func (s *Service) flushLastUsed(ctx context.Context) {
	dirty := s.cache.takeDirty()
	if len(dirty) == 0 {
		return
	}
	if err := s.store.TouchTokens(ctx, dirty); err != nil {
		s.log.Error("recording token last use", "err", err, "tokens", len(dirty))
	}
}

// issue creates the row for a new token and signs it. The row is written
// first, so a signed token always has one.
func (s *Service) issue(ctx context.Context, st accountd.Store, t *accountd.Token) (string, error) {
	if err := t.Validate(); err != nil {
		return "", err
	}
	if err := st.CreateToken(ctx, t); err != nil {
		return "", err
	}
	signed, err := s.keys.Sign(secret.Claims{
		UserID: t.UserID, TokenID: t.ID, Scope: t.Scope, IssuedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
	})
	if err != nil {
		return "", accountd.Internal(err)
	}
	return signed, nil
}
