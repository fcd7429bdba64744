package secret

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// RecoveryCodeCount is how many recovery codes a set holds.
const RecoveryCodeCount = 10

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewRecoveryCodes returns a set of single-use recovery codes, each 80
// random bits shown as four groups of four base32 characters
// ("abcd-efgh-ijkl-mnop"), and their hashes, which are what is stored.
// 80 bits make guessing hopeless, so a fast hash is enough: these are not
// passwords a person chose.
func NewRecoveryCodes(random io.Reader) (codes, hashes []string, err error) {
	for range RecoveryCodeCount {
		var b [10]byte
		if _, err := io.ReadFull(random, b[:]); err != nil {
			return nil, nil, fmt.Errorf("secret: reading random: %w", err)
		}
		s := strings.ToLower(recoveryEncoding.EncodeToString(b[:]))
		code := s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
		codes = append(codes, code)
		hashes = append(hashes, HashRecoveryCode(code))
	}
	return codes, hashes, nil
}

// HashRecoveryCode hashes a recovery code as typed: case, spaces and
// dashes do not matter.
func HashRecoveryCode(code string) string {
	norm := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
	return HashToken(norm)
}

// NewLinkToken returns a random token for a link sent by mail (256 bits,
// base64url) and its hash, which is what is stored.
func NewLinkToken(random io.Reader) (token, hash string, err error) {
	var b [32]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", "", fmt.Errorf("secret: reading random: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken is the SHA-256 of a high-entropy token, hex-encoded. Lookups by
// this hash leak nothing useful: finding a row needs the token itself.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
