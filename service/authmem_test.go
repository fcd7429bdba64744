package service

import (
	"math"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

// TestTokenEntryTimes: an entry keeps the validity rule of the row's
// times, including an expiry past what unix nanoseconds hold and a zero
// cut-off.
func TestTokenEntryTimes(t *testing.T) {
	t.Parallel()
	now := accountd.Millis(time.Now())
	created := now.Add(-time.Hour)
	var scopes scopeSets
	for _, tc := range []struct {
		name    string
		expires time.Time
		cutoff  time.Time
		want    bool
	}{
		{"no expiry, no cut-off", time.Time{}, time.Time{}, true},
		{"expired", now.Add(-time.Millisecond), time.Time{}, false},
		{"expires now", now, time.Time{}, false},
		{"expires later", now.Add(time.Millisecond), time.Time{}, true},
		{"expires in the year 9999", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}, true},
		{"cut off at its creation", time.Time{}, created, false},
		{"cut off before", time.Time{}, created.Add(-time.Millisecond), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := &accountd.Token{ID: accountd.NewID(now), UserID: accountd.NewID(now), Kind: accountd.KindAPI, Scope: []string{"all.User"},
				Status: accountd.StatusActive, CreatedAt: created, ExpiresAt: tc.expires}
			e := newTokenEntry(tok, &scopes)
			if got := e.valid(tok.UserID, &userEntry{cutoff: tc.cutoff}, now); got != tc.want {
				t.Errorf("valid = %v; want %v", got, tc.want)
			}
		})
	}
	if got := unixNano(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); got != math.MaxInt64 {
		t.Errorf("unixNano(9999) = %d; want MaxInt64", got)
	}
}

// TestScopeSetsBounded: equal scope sets share one copy, and past the
// bound a set is not shared (its entry pays for it).
func TestScopeSetsBounded(t *testing.T) {
	t.Parallel()
	var s scopeSets
	a, shared := s.intern([]string{"all.User", "all.Application"})
	b, _ := s.intern([]string{"all.User", "all.Application"})
	if !shared || &a[0] != &b[0] {
		t.Error("equal scope sets are not shared")
	}
	for i := range maxScopeSets {
		s.intern([]string{"x" + string(rune('a'+i%26)) + time.Duration(i).String()})
	}
	if _, shared := s.intern([]string{"one.too.many"}); shared {
		t.Errorf("a set past %d was interned", maxScopeSets)
	}
	if len(s.sets) > maxScopeSets || s.bytes > maxScopeBytes {
		t.Errorf("%d sets, %d bytes: past the bound", len(s.sets), s.bytes)
	}
}
