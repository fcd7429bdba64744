package service

import (
	"crypto/sha256"
	"encoding/hex"
)

// Checking a token's signature means decoding its header and claims and an
// HMAC: profiling GET /me put it at a quarter of the server's CPU. A token
// that verified once verifies the same way again until it expires (the
// keyring does not change while the process runs), so a token's cache
// entry (auth.go) remembers the first 16 bytes of the SHA-256 of the exact
// text that verified when the entry was made, and the entry's expiry is no
// later than that text's. A request finds the entry by the token id its
// claims name, read without verifying (secret.UnverifiedTokenID), and
// skips the signature check only if its text has that digest. A forged
// text would have to share its digest's 128 bits with a token someone was
// given: a second preimage, about 2^128 tries less the bits the number of
// cached tokens gives (17 for 100,000); a collision between two texts of
// the attacker's choosing does not help, since one of them must carry a
// valid signature. Any other text is verified in full. Revocation is
// unaffected: it drops the entry (auth.go).
//
// One entry a token, instead of a row entry and a signature entry (each
// with its own key, slot and map share), is what lets 110,000 tokens fit
// the default budget.

// textDigest is the truncated SHA-256 of a token's text.
type textDigest [16]byte

func digestOf(token string) textDigest {
	sum := sha256.Sum256([]byte(token))
	return textDigest(sum[:16])
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
