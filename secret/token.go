package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Key is one HMAC-SHA256 signing key and the id (JWT "kid") that names it.
type Key struct {
	ID     string
	Secret []byte
}

// MinKeyLen is the shortest secret accepted: HS256 wants at least 256 bits.
const MinKeyLen = 32

// Keyring signs with its first key and verifies with any of them, so keys
// can rotate: put a new key first, keep the old ones until the tokens they
// signed are no longer wanted.
type Keyring struct {
	keys []Key
}

// NewKeyring checks the keys and builds a keyring; the first key signs.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("secret: no signing keys")
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if k.ID == "" || strings.ContainsAny(k.ID, ":, \t\n") {
			return nil, fmt.Errorf("secret: key id %q must be non-empty without ':', ',' or spaces", k.ID)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("secret: key id %q appears twice", k.ID)
		}
		if len(k.Secret) < MinKeyLen {
			return nil, fmt.Errorf("secret: key %q is %d bytes; at least %d are needed", k.ID, len(k.Secret), MinKeyLen)
		}
		seen[k.ID] = true
	}
	return &Keyring{keys: keys}, nil
}

// GenerateKey makes a fresh 32-byte key with a random id.
func GenerateKey(random io.Reader) (Key, error) {
	var id [6]byte
	secret := make([]byte, 32)
	if _, err := io.ReadFull(random, id[:]); err != nil {
		return Key{}, err
	}
	if _, err := io.ReadFull(random, secret); err != nil {
		return Key{}, err
	}
	return Key{ID: fmt.Sprintf("%x", id), Secret: secret}, nil
}

// String renders k as "id:base64url-secret", the form ParseKeys reads.
func (k Key) String() string {
	return k.ID + ":" + base64.RawURLEncoding.EncodeToString(k.Secret)
}

// ParseKeys reads keys written as "id:base64url-secret", separated by commas
// or new lines; blank lines and lines starting with # are skipped.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, field := range strings.Split(line, ",") {
			if field = strings.TrimSpace(field); field == "" {
				continue
			}
			id, enc, ok := strings.Cut(field, ":")
			if !ok {
				return nil, errors.New("secret: a key must be written id:base64url-secret")
			}
			raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "="))
			if err != nil {
				return nil, fmt.Errorf("secret: key %q: secret is not base64url", id)
			}
			keys = append(keys, Key{ID: id, Secret: raw})
		}
	}
	return keys, nil
}

// Claims are what a signed token carries. ID ties the token to its row.
type Claims struct {
	UserID    string
	TokenID   string
	Scope     []string
	IssuedAt  time.Time
	ExpiresAt time.Time // zero: no expiry
}

type jwtClaims struct {
	Scope []string `json:"scope,omitempty"`
	jwt.RegisteredClaims
}

// Issuer names accountd in the tokens it signs.
const Issuer = "accountd"

// Sign returns c as a compact HS256 JWT signed with the first key.
func (kr *Keyring) Sign(c Claims) (string, error) {
	jc := jwtClaims{
		Scope: c.Scope,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:   Issuer,
			Subject:  c.UserID,
			ID:       c.TokenID,
			IssuedAt: jwt.NewNumericDate(c.IssuedAt),
		},
	}
	if !c.ExpiresAt.IsZero() {
		jc.ExpiresAt = jwt.NewNumericDate(c.ExpiresAt)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jc)
	t.Header["kid"] = kr.keys[0].ID
	return t.SignedString(kr.keys[0].Secret)
}

// ErrInvalidToken covers every way a token can fail verification; callers
// need not know which.
var ErrInvalidToken = errors.New("secret: invalid token")

// Verify checks signature, algorithm, issuer and expiry (against now) and
// returns the claims.
func (kr *Keyring) Verify(token string, now time.Time) (Claims, error) {
	var jc jwtClaims
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	_, err := parser.ParseWithClaims(token, &jc, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		for _, k := range kr.keys {
			if k.ID == kid {
				return k.Secret, nil
			}
		}
		return nil, ErrInvalidToken
	})
	if err != nil || jc.Subject == "" || jc.ID == "" {
		return Claims{}, ErrInvalidToken
	}
	c := Claims{UserID: jc.Subject, TokenID: jc.ID, Scope: jc.Scope}
	if jc.IssuedAt != nil {
		c.IssuedAt = jc.IssuedAt.Time
	}
	if jc.ExpiresAt != nil {
		c.ExpiresAt = jc.ExpiresAt.Time
	}
	return c, nil
}

// UnverifiedTokenID returns the token id (the "jti" claim) a compact JWT
// says it carries, without checking anything: not its signature, not its
// expiry, not even that it is well formed beyond its claims. It is for
// finding what an earlier Verify of the very same text established, never
// for trusting the id itself. It returns "" when no id can be read.
func UnverifiedTokenID(token string) string {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok || base64.RawURLEncoding.DecodedLen(len(payload)) > maxClaimsLen {
		return ""
	}
	claims, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ""
	}
	// Sign's claims are compact JSON with the id as a plain string: find it
	// without decoding the rest. Any other form gives "" (the caller then
	// verifies in full); a text that fools this search only misses.
	_, id, ok := bytes.Cut(claims, []byte(`"jti":"`))
	if !ok {
		return ""
	}
	id, _, ok = bytes.Cut(id, []byte(`"`))
	if !ok || bytes.IndexByte(id, '\\') >= 0 {
		return ""
	}
	return string(id)
}

// maxClaimsLen bounds the claims UnverifiedTokenID reads: accountd's are
// a few hundred bytes, with a scope of every catalog entry under 2 KiB.
const maxClaimsLen = 4 << 10
