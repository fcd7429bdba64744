package service

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/accountd/accountd/internal/lru"
)

// Checking a token's signature means decoding its header and claims and an
// HMAC: profiling GET /me put it at a quarter of the server's CPU. A token
// that verified once verifies the same way again until it expires (the
// keyring does not change while the process runs), so the result is kept
// within its share of the cache budget, keyed by the first 16 bytes of the
// SHA-256 of the exact token text, with only what the request path reads:
// the token's and its user's ids, packed into their 12 bytes. A forged
// text would have to share its digest's 128 bits with a token someone was
// given: a second preimage, about 2^128 tries less the bits the number of
// cached tokens gives (17 for 100,000); a collision between two texts of
// the attacker's choosing does not help, since one of them must carry a
// valid signature. Revocation is
// unaffected: it is checked against the token's row on every request
// (auth.go).
type verifiedCache struct {
	c *lru.Cache[verifiedKey, verifiedIDs]
}

// verifiedKey is the truncated SHA-256 of a token's text.
type verifiedKey [16]byte

func verifiedKeyOf(token string) verifiedKey {
	sum := sha256.Sum256([]byte(token))
	return verifiedKey(sum[:16])
}

// verifiedIDs are a verified token's ids, packed; no pointers, so the
// entry is one small object the collector need not scan.
type verifiedIDs struct {
	token, user packedID
}

// packedID is an id of 24 lower-case hex characters (accountd.NewID) as its
// 12 bytes.
type packedID [12]byte

// packID packs s if it is exactly what hex encoding its bytes gives back.
func packID(s string) (packedID, bool) {
	var p packedID
	if len(s) != 2*len(p) {
		return p, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return p, false
		}
	}
	hex.Decode(p[:], []byte(s))
	return p, true
}

func (p packedID) String() string { return hex.EncodeToString(p[:]) }

func newVerifiedCache(budget int64) *verifiedCache {
	return &verifiedCache{c: lru.New[verifiedKey, verifiedIDs](budget)}
}

func (v *verifiedCache) prune(now time.Time) { v.c.Prune(now) }

// verify checks the token's signature and returns the ids it names: from
// the cache when this exact text verified before and has not expired.
// Tokens whose ids are not in accountd's own form are checked every time.
func (s *Service) verify(token string, now time.Time) (tokenID, userID string, err error) {
	key := verifiedKeyOf(token)
	if ids, ok := s.verified.c.Get(key, now); ok {
		return ids.token.String(), ids.user.String(), nil
	}
	gen := s.verified.c.Generation()
	c, err := s.keys.Verify(token, now)
	if err != nil {
		return "", "", err
	}
	tok, ok1 := packID(c.TokenID)
	user, ok2 := packID(c.UserID)
	if ok1 && ok2 {
		s.verified.c.Put(key, verifiedIDs{token: tok, user: user}, 0, c.ExpiresAt, gen)
	}
	return c.TokenID, c.UserID, nil
}
