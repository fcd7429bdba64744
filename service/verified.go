package service

import (
	"time"

	"github.com/accountd/accountd/internal/lru"
	"github.com/accountd/accountd/secret"
)

// Checking a token's signature means decoding its header and claims and an
// HMAC: profiling GET /me put it at a quarter of the server's CPU. A token
// that verified once verifies the same way again until it expires (the
// keyring does not change while the process runs), so the result is kept,
// keyed by the exact token text, within its share of the cache budget.
// Revocation is unaffected: it is checked against the token's row on every
// request (auth.go).
type verifiedCache struct {
	c *lru.Cache[string, secret.Claims]
}

func newVerifiedCache(budget int64) *verifiedCache {
	return &verifiedCache{c: lru.New[string, secret.Claims](budget)}
}

func (v *verifiedCache) prune(now time.Time) { v.c.Prune(now) }

func (s *Service) verify(token string, now time.Time) (secret.Claims, error) {
	if c, ok := s.verified.c.Get(token, now); ok {
		return c, nil
	}
	gen := s.verified.c.Generation()
	c, err := s.keys.Verify(token, now)
	if err != nil {
		return secret.Claims{}, err
	}
	// the key's text, the claims and their strings
	size := int64(len(token) + 104 + len(c.UserID) + len(c.TokenID))
	for _, sc := range c.Scope {
		size += int64(16 + len(sc))
	}
	s.verified.c.Put(token, c, size, c.ExpiresAt, gen)
	return c, nil
}
