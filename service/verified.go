package service

import (
	"sync"
	"time"

	"github.com/accountd/accountd/secret"
)

// Checking a token's signature means decoding its header and claims and an
// HMAC: profiling GET /me put it at a quarter of the server's CPU. A token
// that verified once verifies the same way again until it expires (the
// keyring does not change while the process runs), so the result is kept,
// keyed by the exact token text. Revocation is unaffected: it is checked
// against the token's row on every request.
type verifiedCache struct {
	mu sync.RWMutex
	m  map[string]secret.Claims
}

// maxVerified bounds memory; past it the cache starts over.
const maxVerified = 100_000

func newVerifiedCache() *verifiedCache {
	return &verifiedCache{m: map[string]secret.Claims{}}
}

func (s *Service) verify(token string, now time.Time) (secret.Claims, error) {
	s.verified.mu.RLock()
	c, ok := s.verified.m[token]
	s.verified.mu.RUnlock()
	if ok {
		if !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
			return secret.Claims{}, secret.ErrInvalidToken
		}
		return c, nil
	}
	c, err := s.keys.Verify(token, now)
	if err != nil {
		return secret.Claims{}, err
	}
	s.verified.mu.Lock()
	if len(s.verified.m) >= maxVerified {
		clear(s.verified.m)
	}
	s.verified.m[token] = c
	s.verified.mu.Unlock()
	return c, nil
}
