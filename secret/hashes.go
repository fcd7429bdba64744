package secret

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Hashes imported from other systems are kept as they came, in PHC string
// form (bcrypt in its own $2b$ form, which PHC adopts), verified by
// VerifyPassword, and replaced by an argon2id hash at the next successful
// login because NeedsRehash says so for anything but argon2id under the
// current parameters:
//
//	$argon2id$v=19$m=M,t=T,p=P$<salt>$<hash>
//	$2a$, $2b$, $2y$                              bcrypt
//	$pbkdf2-sha256$i=N$<salt>$<hash>              PBKDF2-HMAC-SHA256
//	$scrypt$ln=L,r=R,p=P$<salt>$<hash>            scrypt, N = 2^L
//
// Salts and hashes are unpadded standard base64. ImportHash also takes
// Django's pbkdf2_sha256$N$salt$hash and turns it into the PHC form.

// Bounds on imported parameters: a hash is checked at every login, so a
// hostile file must not make one take minutes or gigabytes.
const (
	maxArgonMemory  = 1 << 20 // KiB: 1 GiB
	maxArgonTime    = 64
	maxArgonThreads = 16
	maxPBKDF2Iter   = 10_000_000
	maxScryptMemory = 1 << 30 // bytes: 128·r·N
	maxScryptP      = 16
	minSaltLen      = 8
	minKeyLen       = 16
)

// bcrypt cost bounds: the package refuses costs above 31; 4 is its least.
const maxBcryptCost = 16

// ImportHash checks a password hash brought in from another system and
// returns the form accountd stores. err says what is wrong with it, without
// repeating the hash.
func ImportHash(h string) (string, error) {
	switch {
	case strings.HasPrefix(h, "pbkdf2_sha256$"):
		return djangoToPHC(h)
	case strings.HasPrefix(h, "$argon2id$"):
		p, _, _, err := decodeHash(h)
		if err != nil {
			return "", errors.New("not a valid argon2id PHC string ($argon2id$v=19$m=M,t=T,p=P$salt$hash)")
		}
		if p.Memory > maxArgonMemory || p.Time > maxArgonTime || p.Threads > maxArgonThreads {
			return "", fmt.Errorf("argon2id parameters beyond m=%d,t=%d,p=%d", maxArgonMemory, maxArgonTime, maxArgonThreads)
		}
		return h, nil
	case isBcrypt(h):
		cost, err := bcrypt.Cost([]byte(h))
		if err != nil || len(h) != 60 {
			return "", errors.New("not a valid bcrypt hash ($2b$CC$ and 53 characters)")
		}
		if cost > maxBcryptCost {
			return "", fmt.Errorf("bcrypt cost %d is above %d", cost, maxBcryptCost)
		}
		return h, nil
	case strings.HasPrefix(h, "$pbkdf2-sha256$"):
		if _, _, _, err := decodePBKDF2(h); err != nil {
			return "", err
		}
		return h, nil
	case strings.HasPrefix(h, "$scrypt$"):
		if _, _, _, _, _, err := decodeScrypt(h); err != nil {
			return "", err
		}
		return h, nil
	}
	return "", errors.New("unknown hash format: want argon2id ($argon2id$), bcrypt ($2a$, $2b$, $2y$), PBKDF2-SHA256 ($pbkdf2-sha256$ or Django's pbkdf2_sha256$) or scrypt ($scrypt$)")
}

func isBcrypt(h string) bool {
	return strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$")
}

// djangoToPHC turns pbkdf2_sha256$N$salt$base64(hash) (the salt is used as
// its bytes) into $pbkdf2-sha256$i=N$<salt>$<hash>.
func djangoToPHC(h string) (string, error) {
	parts := strings.Split(h, "$")
	bad := errors.New("not a valid Django PBKDF2 hash (pbkdf2_sha256$iterations$salt$hash)")
	if len(parts) != 4 || parts[2] == "" {
		return "", bad
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 {
		return "", bad
	}
	key, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil {
		return "", bad
	}
	phc := fmt.Sprintf("$pbkdf2-sha256$i=%d$%s$%s", iter, b64.EncodeToString([]byte(parts[2])), b64.EncodeToString(key))
	if _, _, _, err := decodePBKDF2(phc); err != nil {
		return "", err
	}
	return phc, nil
}

func decodePBKDF2(h string) (iter int, salt, key []byte, err error) {
	bad := errors.New("not a valid PBKDF2-SHA256 PHC string ($pbkdf2-sha256$i=N$salt$hash)")
	parts := strings.Split(h, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "pbkdf2-sha256" {
		return 0, nil, nil, bad
	}
	if _, err := fmt.Sscanf(parts[2], "i=%d", &iter); err != nil || "i="+strconv.Itoa(iter) != parts[2] || iter < 1 {
		return 0, nil, nil, bad
	}
	if iter > maxPBKDF2Iter {
		return 0, nil, nil, fmt.Errorf("PBKDF2 iterations %d are above %d", iter, maxPBKDF2Iter)
	}
	if salt, err = b64.DecodeString(parts[3]); err != nil || len(salt) < minSaltLen {
		return 0, nil, nil, bad
	}
	if key, err = b64.DecodeString(parts[4]); err != nil || len(key) < minKeyLen || len(key) > 64 {
		return 0, nil, nil, bad
	}
	return iter, salt, key, nil
}

func decodeScrypt(h string) (n, r, p int, salt, key []byte, err error) {
	bad := errors.New("not a valid scrypt PHC string ($scrypt$ln=L,r=R,p=P$salt$hash)")
	parts := strings.Split(h, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "scrypt" {
		return 0, 0, 0, nil, nil, bad
	}
	var ln int
	if _, err := fmt.Sscanf(parts[2], "ln=%d,r=%d,p=%d", &ln, &r, &p); err != nil ||
		fmt.Sprintf("ln=%d,r=%d,p=%d", ln, r, p) != parts[2] || ln < 1 || ln > 30 || r < 1 || p < 1 {
		return 0, 0, 0, nil, nil, bad
	}
	n = 1 << ln
	if int64(128)*int64(r)*int64(n) > maxScryptMemory || p > maxScryptP {
		return 0, 0, 0, nil, nil, fmt.Errorf("scrypt parameters need more than %d MiB or p above %d", maxScryptMemory>>20, maxScryptP)
	}
	if salt, err = b64.DecodeString(parts[3]); err != nil || len(salt) < minSaltLen {
		return 0, 0, 0, nil, nil, bad
	}
	if key, err = b64.DecodeString(parts[4]); err != nil || len(key) < minKeyLen || len(key) > 64 {
		return 0, 0, 0, nil, nil, bad
	}
	return n, r, p, salt, key, nil
}

// verifyForeign checks password against a hash of another algorithm.
// handled is false when h is of no known form.
func verifyForeign(h, password string) (ok, handled bool, err error) {
	switch {
	case isBcrypt(h):
		err := bcrypt.CompareHashAndPassword([]byte(h), []byte(password))
		switch {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, true, nil
		}
		return false, true, ErrMalformedHash
	case strings.HasPrefix(h, "$pbkdf2-sha256$"):
		iter, salt, want, err := decodePBKDF2(h)
		if err != nil {
			return false, true, ErrMalformedHash
		}
		got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
		if err != nil {
			return false, true, ErrMalformedHash
		}
		return subtle.ConstantTimeCompare(got, want) == 1, true, nil
	case strings.HasPrefix(h, "$scrypt$"):
		n, r, p, salt, want, err := decodeScrypt(h)
		if err != nil {
			return false, true, ErrMalformedHash
		}
		got, err := scrypt.Key([]byte(password), salt, n, r, p, len(want))
		if err != nil {
			return false, true, ErrMalformedHash
		}
		return subtle.ConstantTimeCompare(got, want) == 1, true, nil
	}
	return false, false, nil
}
