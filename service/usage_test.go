package service

import (
	"bytes"
	"crypto/rand"
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
	for _, bad := range []string{key + "x", "", strings.TrimPrefix(key, usageKeyPrefix)} {
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
	if _, _, err := NewUsageKey(bytes.NewReader(nil), "broker"); err == nil {
		t.Error("NewUsageKey without randomness succeeded")
	}
}
