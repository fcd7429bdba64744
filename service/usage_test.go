package service

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestParseUsageKeys(t *testing.T) {
	key, line, err := NewUsageKey(rand.Reader, "broker")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseUsageKeys(strings.NewReader("# services\n\n" + line + "\n"))
	if err != nil || len(keys) != 1 || keys[0].Name != "broker" {
		t.Fatalf("ParseUsageKeys = %+v, %v", keys, err)
	}
	s := &Service{usageKeys: map[[32]byte]string{keys[0].Hash: "broker"}}
	if name, ok := s.UsageKeyName(key); !ok || name != "broker" {
		t.Errorf("UsageKeyName(key) = %q, %v", name, ok)
	}
	for _, bad := range []string{key + "x", "", strings.TrimPrefix(key, usageKeyPrefix)} { // the prefix is part of the key
		if _, ok := s.UsageKeyName(bad); ok {
			t.Errorf("UsageKeyName(%q) accepted", bad)
		}
	}
	for _, tc := range []struct{ file, want string }{
		{"broker\n", "line 1: want NAME SHA256HEX"},
		{"broker abc\n", "line 1: the hash must be 64 hex characters"},
		{"# c\nbad/name " + strings.Repeat("0", 64) + "\n", "line 2: the name must be"},
		{"a b c\n", "line 1: want NAME SHA256HEX"},
	} {
		if _, err := ParseUsageKeys(strings.NewReader(tc.file)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseUsageKeys(%q) = %v, want %q", tc.file, err, tc.want)
		}
	}
	// any key works whose SHA-256 is listed, not only keygen's
	plain := sha256.Sum256([]byte("plain-secret"))
	keys, err = ParseUsageKeys(strings.NewReader("legacy " + hex.EncodeToString(plain[:])))
	if err != nil {
		t.Fatal(err)
	}
	s = &Service{usageKeys: map[[32]byte]string{keys[0].Hash: keys[0].Name}}
	if name, ok := s.UsageKeyName("plain-secret"); !ok || name != "legacy" {
		t.Errorf("UsageKeyName(plain key) = %q, %v", name, ok)
	}
	if _, _, err := NewUsageKey(bytes.NewReader(nil), "broker"); err == nil {
		t.Error("NewUsageKey without randomness succeeded")
	}
}
