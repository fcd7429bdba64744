// Package secret holds the pure cryptographic pieces of accountd: password
// hashing, token signing and verification. No I/O beyond the random reader
// it is handed.
package secret

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultParams follow the OWASP password storage cheat sheet's first
// argon2id configuration: 19 MiB, 2 passes, 1 lane.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding

// HashPassword returns the PHC string form of password's argon2id hash with
// a fresh salt read from random:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(p Params, password string, random io.Reader) (string, error) {
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 {
		return "", errors.New("secret: argon2id parameters must be positive")
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", fmt.Errorf("secret: reading salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// ErrMalformedHash means a stored hash is not one HashPassword made.
var ErrMalformedHash = errors.New("secret: malformed password hash")

// VerifyPassword reports whether password matches the PHC-encoded hash,
// comparing in constant time. The parameters come from the hash itself, so
// hashes made under older parameters keep working, and so do the imported
// forms ImportHash accepts (bcrypt, PBKDF2-SHA256, scrypt).
func VerifyPassword(encoded, password string) (bool, error) {
	if ok, handled, err := verifyForeign(encoded, password); handled {
		return ok, err
	}
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash reports whether encoded is anything but an argon2id hash made
// with parameters p (an imported bcrypt, PBKDF2 or scrypt hash, or older
// parameters), so a successful login can upgrade it.
func NeedsRehash(encoded string, p Params) bool {
	got, _, _, err := decodeHash(encoded)
	return err != nil || got != p
}

// ParamsOf returns the parameters encoded was made with.
func ParamsOf(encoded string) (Params, error) {
	p, _, _, err := decodeHash(encoded)
	return p, err
}

// Cheaper reports whether encoded was made with parameters that take less
// work to check than p (memory times passes), so that checking it answers
// sooner than checking a hash made under p would. A malformed hash is not
// cheaper: it is not checked at all.
func Cheaper(encoded string, p Params) bool {
	got, _, _, err := decodeHash(encoded)
	return err == nil && uint64(got.Memory)*uint64(got.Time) < uint64(p.Memory)*uint64(p.Time)
}

func decodeHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, ErrMalformedHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory == 0 || p.Time == 0 || p.Threads == 0 {
		return p, nil, nil, ErrMalformedHash
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) == 0 {
		return p, nil, nil, ErrMalformedHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) == 0 {
		return p, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}
