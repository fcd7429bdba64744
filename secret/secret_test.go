package secret

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := HashPassword(cheap, "Correct-horse-1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not in PHC form", h)
	}
	h2, _ := HashPassword(cheap, "Correct-horse-1", rand.Reader)
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		name, password string
		want           bool
	}{
		{"right", "Correct-horse-1", true},
		{"wrong", "Correct-horse-2", false},
		{"empty", "", false},
		{"case", "correct-horse-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyPassword(h, tt.password)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("VerifyPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPasswordMalformed(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=64,t=1,p=1$!!$a2V5", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$"} {
		if _, err := VerifyPassword(h, "x"); err != ErrMalformedHash {
			t.Errorf("VerifyPassword(%q) error = %v, want ErrMalformedHash", h, err)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	t.Parallel()
	h, _ := HashPassword(cheap, "pw", rand.Reader)
	if NeedsRehash(h, cheap) {
		t.Error("NeedsRehash with the same parameters = true")
	}
	if !NeedsRehash(h, DefaultParams) {
		t.Error("NeedsRehash with other parameters = false")
	}
}

func TestCheaperAndParamsOf(t *testing.T) {
	t.Parallel()
	h, _ := HashPassword(cheap, "pw", rand.Reader)
	if got, err := ParamsOf(h); err != nil || got != cheap {
		t.Errorf("ParamsOf = %+v, %v; want %+v", got, err, cheap)
	}
	if _, err := ParamsOf("garbage"); err != ErrMalformedHash {
		t.Errorf("ParamsOf(garbage) error = %v, want ErrMalformedHash", err)
	}
	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"same", cheap, false},
		{"more memory", Params{Memory: cheap.Memory * 2, Time: cheap.Time, Threads: 1}, true},
		{"more passes", Params{Memory: cheap.Memory, Time: cheap.Time + 1, Threads: 1}, true},
		{"less work", Params{Memory: cheap.Memory / 2, Time: cheap.Time, Threads: 1}, false},
		{"more lanes only", Params{Memory: cheap.Memory, Time: cheap.Time, Threads: 4}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Cheaper(h, tt.p); got != tt.want {
				t.Errorf("Cheaper(%+v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
	if Cheaper("garbage", DefaultParams) {
		t.Error("Cheaper(garbage) = true")
	}
}

func key(t *testing.T, id string) Key {
	t.Helper()
	return Key{ID: id, Secret: bytes.Repeat([]byte(id[:1]), 32)}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	kr, err := NewKeyring(key(t, "a1"))
	if err != nil {
		t.Fatal(err)
	}
	c := Claims{UserID: "u1", TokenID: "t1", Scope: []string{"all.User"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	tok, err := kr.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := kr.Verify(tok, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != "u1" || got.TokenID != "t1" || len(got.Scope) != 1 || !got.IssuedAt.Equal(now) || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Errorf("Verify = %+v, want %+v", got, c)
	}

	t.Run("expired", func(t *testing.T) {
		if _, err := kr.Verify(tok, now.Add(2*time.Hour)); err != ErrInvalidToken {
			t.Errorf("err = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("no expiry", func(t *testing.T) {
		tok, _ := kr.Sign(Claims{UserID: "u", TokenID: "t", IssuedAt: now})
		if _, err := kr.Verify(tok, now.AddDate(10, 0, 0)); err != nil {
			t.Errorf("err = %v, want none", err)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		parts := strings.Split(tok, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		payload = bytes.Replace(payload, []byte("u1"), []byte("u2"), 1)
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		if _, err := kr.Verify(strings.Join(parts, "."), now); err != ErrInvalidToken {
			t.Errorf("err = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("other key", func(t *testing.T) {
		other, _ := NewKeyring(Key{ID: "a1", Secret: bytes.Repeat([]byte("z"), 32)})
		if _, err := other.Verify(tok, now); err != ErrInvalidToken {
			t.Errorf("err = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("alg none", func(t *testing.T) {
		none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "u1", "jti": "t1", "iss": Issuer})
		s, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if _, err := kr.Verify(s, now); err != ErrInvalidToken {
			t.Errorf("err = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		for _, s := range []string{"", "a.b.c", "not a token"} {
			if _, err := kr.Verify(s, now); err != ErrInvalidToken {
				t.Errorf("Verify(%q) err = %v, want ErrInvalidToken", s, err)
			}
		}
	})
	t.Run("rotation", func(t *testing.T) {
		rotated, _ := NewKeyring(key(t, "b2"), key(t, "a1"))
		if _, err := rotated.Verify(tok, now); err != nil {
			t.Errorf("old token after rotation: %v", err)
		}
		fresh, _ := rotated.Sign(c)
		if _, err := kr.Verify(fresh, now); err != ErrInvalidToken {
			t.Errorf("new-key token on old keyring: err = %v, want ErrInvalidToken", err)
		}
	})
}

func TestKeys(t *testing.T) {
	t.Parallel()
	k, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseKeys("# comment, with a comma: and a colon\n" + k.String() + "\n\n")
	if err != nil || len(keys) != 1 || keys[0].ID != k.ID || !bytes.Equal(keys[0].Secret, k.Secret) {
		t.Fatalf("ParseKeys(String()) = %v, %v", keys, err)
	}
	bad := []struct {
		name string
		keys []Key
	}{
		{"none", nil},
		{"short", []Key{{ID: "a", Secret: []byte("short")}}},
		{"empty id", []Key{{ID: "", Secret: bytes.Repeat([]byte("x"), 32)}}},
		{"twice", []Key{key(t, "a1"), key(t, "a1")}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewKeyring(tt.keys...); err == nil {
				t.Error("NewKeyring accepted bad keys")
			}
		})
	}
	if _, err := ParseKeys("no-colon"); err == nil {
		t.Error("ParseKeys accepted a key without an id")
	}
	if _, err := ParseKeys("id:***"); err == nil {
		t.Error("ParseKeys accepted a bad secret")
	}
}

// TestUnverifiedTokenID: the id a token's claims name is read without
// verifying anything, and any text without readable claims gives "".
func TestUnverifiedTokenID(t *testing.T) {
	t.Parallel()
	key, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := NewKeyring(key)
	tok, err := kr.Sign(Claims{UserID: "u1", TokenID: "0123456789abcdef01234567", IssuedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	for _, tc := range []struct{ name, text, want string }{
		{"signed", tok, "0123456789abcdef01234567"},
		{"bad signature", parts[0] + "." + parts[1] + ".AAAA", "0123456789abcdef01234567"}, // not checked here
		{"empty", "", ""},
		{"one part", parts[1], ""},
		{"two parts", parts[0] + "." + parts[1], ""},
		{"claims not base64", parts[0] + ".!!!." + parts[2], ""},
		{"claims not JSON", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[2], ""},
		{"no jti", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u1"}`)) + "." + parts[2], ""},
		{"jti in another form", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"jti": "ab"}`)) + "." + parts[2], ""},
		{"jti with an escape", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"a\u0062"}`)) + "." + parts[2], ""},
		{"jti in a string", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"\"jti\":\"ab"}`)) + "." + parts[2], ""},
		{"claims too long", parts[0] + "." + strings.Repeat("A", 8<<10) + "." + parts[2], ""},
	} {
		if got := UnverifiedTokenID(tc.text); got != tc.want {
			t.Errorf("%s: UnverifiedTokenID = %q, want %q", tc.name, got, tc.want)
		}
	}
}
