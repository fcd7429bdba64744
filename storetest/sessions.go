package storetest

import (
	"testing"
	"time"

	"github.com/accountd/accountd"
)

var sessionTests = []struct {
	name string
	fn   func(t *testing.T, st accountd.Store)
}{
	{"SessionTokens", testSessionTokens},
}

// testSessionTokens: a user's unexpired sessions, newest first, with what
// they recorded at issue; no API tokens, no other user's, none expired.
func testSessionTokens(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("sessions@example.com"))
	other := fullUser("other-sessions@example.com")
	other.ID = accountd.NewID(base)
	createUser(t, st, other)
	now := base.Add(10 * time.Hour)
	mk := func(userID string, kind accountd.TokenKind, created, expires time.Time, via string) *accountd.Token {
		tok := fullToken(userID)
		tok.ID = accountd.NewID(created)
		tok.Kind, tok.CreatedAt, tok.UpdatedAt, tok.ExpiresAt, tok.ObtainedVia = kind, created, created, expires, via
		return createToken(t, st, tok)
	}
	older := mk(u.ID, accountd.KindSession, now.Add(-2*time.Hour), now.Add(time.Hour), accountd.ViaPassword)
	newer := mk(u.ID, accountd.KindSession, now.Add(-time.Hour), time.Time{}, accountd.ViaConsole)
	sameTime := mk(u.ID, accountd.KindSession, now.Add(-time.Hour), now.Add(time.Millisecond), accountd.ViaGithub)
	mk(u.ID, accountd.KindSession, now.Add(-3*time.Hour), now, accountd.ViaPassword) // expires at now: gone
	mk(u.ID, accountd.KindAPI, now.Add(-time.Minute), time.Time{}, "")
	mk(other.ID, accountd.KindSession, now.Add(-time.Minute), time.Time{}, accountd.ViaPassword)

	got, err := st.SessionTokens(ctx, u.ID, now)
	if err != nil {
		t.Fatalf("SessionTokens: %v", err)
	}
	// created_at descending, then id descending
	first, second := newer, sameTime
	if sameTime.ID > newer.ID {
		first, second = sameTime, newer
	}
	want := []*accountd.Token{first, second, older}
	if len(got) != len(want) {
		t.Fatalf("SessionTokens gave %d sessions, want %d", len(got), len(want))
	}
	for i := range want {
		checkSame(t, got[i], want[i])
	}

	none, err := st.SessionTokens(ctx, accountd.NewID(base), now)
	if err != nil || len(none) != 0 {
		t.Errorf("SessionTokens(unknown user) = %d sessions, %v; want none", len(none), err)
	}
}
