package secret

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	old, _ := NewKeyring(key(t, "a1"))
	rotated, _ := NewKeyring(key(t, "b2"), key(t, "a1"))
	other, _ := NewKeyring(key(t, "c3"))
	sealed, err := old.Seal([]byte("the secret"), "totp:u1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "the secret") || !strings.HasPrefix(sealed, "a1:") {
		t.Fatalf("sealed = %q", sealed)
	}
	tampered := []byte(sealed)
	tampered[len(tampered)-2] ^= 1
	for _, tc := range []struct {
		name    string
		kr      *Keyring
		sealed  string
		context string
		want    string // "" = ErrOpen
	}{
		{"same key", old, sealed, "totp:u1", "the secret"},
		{"after rotation", rotated, sealed, "totp:u1", "the secret"},
		{"wrong context", old, sealed, "totp:u2", ""},
		{"unknown key", other, sealed, "totp:u1", ""},
		{"tampered", old, string(tampered), "totp:u1", ""},
		{"no key id", old, strings.TrimPrefix(sealed, "a1:"), "totp:u1", ""},
		{"not base64", old, "a1:***", "totp:u1", ""},
		{"too short", old, "a1:AAAA", "totp:u1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.kr.Open(tc.sealed, tc.context)
			if tc.want == "" {
				if !errors.Is(err, ErrOpen) {
					t.Errorf("Open = %q, %v; want ErrOpen", got, err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("Open = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	t.Run("new seals use the first key", func(t *testing.T) {
		s, err := rotated.Seal([]byte("x"), "c", rand.Reader)
		if err != nil || !strings.HasPrefix(s, "b2:") {
			t.Errorf("Seal = %q, %v; want key b2", s, err)
		}
	})
}

func TestTOTP(t *testing.T) {
	t.Parallel()
	k, err := GenerateTOTP("accountd", "ada@example.com", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Secret) != 52 {
		t.Errorf("secret has %d characters, want 52", len(k.Secret))
	}
	if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(k.Secret); err != nil || len(raw) != 32 {
		t.Errorf("secret decodes to %d bytes, %v; want 32", len(raw), err)
	}
	u, err := url.Parse(k.URI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != k.Secret ||
		u.Query().Get("issuer") != "accountd" || u.Path != "/accountd:ada@example.com" {
		t.Errorf("URI = %q", k.URI)
	}

	// RFC 6238 appendix B, SHA-1, truncated to six digits.
	rfc := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	for _, tc := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		if got, err := TOTPCode(rfc, time.Unix(tc.unix, 0)); err != nil || got != tc.want {
			t.Errorf("code at %d = %q, %v; want %s", tc.unix, got, err, tc.want)
		}
	}

	now := time.Unix(1_800_000_015, 0)
	step := TOTPStep(now)
	code := func(s int64) string {
		c, err := TOTPCode(k.Secret, time.Unix(s*TOTPPeriod, 0))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name     string
		code     string
		after    int64
		wantStep int64
		wantOK   bool
	}{
		{"current", code(step), 0, step, true},
		{"one step behind", code(step - 1), 0, step - 1, true},
		{"one step ahead", code(step + 1), 0, step + 1, true},
		{"two steps behind", code(step - 2), 0, 0, false},
		{"two steps ahead", code(step + 2), 0, 0, false},
		{"replayed", code(step), step, 0, false},
		{"older than the last accepted", code(step - 1), step, 0, false},
		{"newer than the last accepted", code(step + 1), step, step + 1, true},
		{"not six digits", "12345", 0, 0, false},
		{"empty", "", 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := MatchTOTP(k.Secret, tc.code, now, tc.after)
			if ok != tc.wantOK || got != tc.wantStep {
				t.Errorf("MatchTOTP = %d, %v; want %d, %v", got, ok, tc.wantStep, tc.wantOK)
			}
		})
	}
}

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	codes, hashes, err := NewRecoveryCodes(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 19 || seen[c] {
			t.Errorf("code %q: malformed or repeated", c)
		}
		seen[c] = true
		if HashRecoveryCode(c) != hashes[i] {
			t.Errorf("hash of %q does not match", c)
		}
		typed := " " + strings.ToUpper(strings.ReplaceAll(c, "-", "")) + " "
		if HashRecoveryCode(typed) != hashes[i] {
			t.Errorf("%q typed as %q hashes differently", c, typed)
		}
	}
}

func TestLinkToken(t *testing.T) {
	t.Parallel()
	tok, hash, err := NewLinkToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 || HashToken(tok) != hash || strings.Contains(hash, tok) {
		t.Errorf("token %q hash %q", tok, hash)
	}
}
