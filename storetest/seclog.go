package storetest

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

var securityLogTests = []struct {
	name string
	fn   func(t *testing.T, st accountd.Store)
}{
	{"SecurityLogRoundTrip", testSecurityLogRoundTrip},
	{"SecurityLogPaging", testSecurityLogPaging},
	{"SecurityLogFilter", testSecurityLogFilter},
	{"SecurityLogInTx", testSecurityLogInTx},
	{"SecurityLogSeen", testSecurityLogSeen},
	{"SecurityLogPrune", testSecurityLogPrune},
	{"SecurityLogGoesWithUser", testSecurityLogGoesWithUser},
	{"ClaimNotice", testClaimNotice},
	{"ClaimNoticeRace", testClaimNoticeRace},
	{"TokenReminders", testTokenReminders},
}

func secEvent(userID, kind string, at time.Time) *accountd.SecurityEvent {
	return &accountd.SecurityEvent{ID: accountd.NewID(at), UserID: userID, At: at, Kind: kind,
		Address: "192.0.2.7", UserAgent: "storetest/1.0", ObjectType: "apiToken", ObjectID: accountd.NewID(at),
		Detail: map[string]string{"name": "reader"}}
}

func addSec(t *testing.T, st accountd.Store, e *accountd.SecurityEvent) *accountd.SecurityEvent {
	t.Helper()
	if err := st.AddSecurityEvent(t.Context(), e); err != nil {
		t.Fatalf("AddSecurityEvent(%s): %v", e.Kind, err)
	}
	return e
}

func secPage(t *testing.T, st accountd.Store, userID string, q accountd.SecurityQuery) ([]*accountd.SecurityEvent, int) {
	t.Helper()
	evs, total, err := st.SecurityEvents(t.Context(), userID, q)
	if err != nil {
		t.Fatalf("SecurityEvents(%+v): %v", q, err)
	}
	return evs, total
}

func secIDs(evs []*accountd.SecurityEvent) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

func testSecurityLogRoundTrip(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("ada@example.com"))
	want := secEvent(u.ID, accountd.SecTokenCreated, t0)
	requireAllSet(t, want)
	addSec(t, st, want)
	bare := addSec(t, st, &accountd.SecurityEvent{ID: accountd.NewID(t0), UserID: u.ID, At: t0.Add(time.Second), Kind: accountd.SecLoginThrottled})
	got, total := secPage(t, st, u.ID, accountd.SecurityQuery{})
	if total != 2 || len(got) != 2 {
		t.Fatalf("got %d events, total %d; want 2, 2", len(got), total)
	}
	checkSame(t, got[0], bare)
	checkSame(t, got[1], want)
	if err := st.AddSecurityEvent(t.Context(), secEvent(accountd.NewID(t0), accountd.SecLoginFailed, t0)); err == nil {
		t.Error("AddSecurityEvent for an unknown user succeeded")
	} else {
		checkNotFound(t, err, "user")
	}
}

func testSecurityLogPaging(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("ada@example.com"))
	other := createUser(t, st, fullUser("bob@example.com"))
	var want []string // newest first
	for i := range 7 {
		e := addSec(t, st, secEvent(u.ID, accountd.SecLoginSucceeded, t0.Add(time.Duration(i)*time.Minute)))
		want = append([]string{e.ID}, want...)
	}
	// two at the same instant: the id breaks the tie, in the same order on every page
	same := t0.Add(10 * time.Minute)
	a, b := addSec(t, st, secEvent(u.ID, accountd.SecLoginFailed, same)), addSec(t, st, secEvent(u.ID, accountd.SecLoginFailed, same))
	first, second := a.ID, b.ID
	if first < second {
		first, second = second, first
	}
	want = append([]string{first, second}, want...)
	addSec(t, st, secEvent(other.ID, accountd.SecLoginSucceeded, t0))

	var got []string
	for page := 0; ; page++ {
		evs, total := secPage(t, st, u.ID, accountd.SecurityQuery{Page: page, PerPage: 4})
		if total != 9 {
			t.Fatalf("page %d: total %d, want 9", page, total)
		}
		if len(evs) == 0 {
			break
		}
		got = append(got, secIDs(evs)...)
	}
	sameList(t, got, want)
	if evs, total := secPage(t, st, u.ID, accountd.SecurityQuery{Page: 1 << 40, PerPage: 1000}); len(evs) != 0 || total != 9 {
		t.Errorf("page far past the end: %d events, total %d; want 0, 9", len(evs), total)
	}
	if evs, total := secPage(t, st, accountd.NewID(t0), accountd.SecurityQuery{}); len(evs) != 0 || total != 0 {
		t.Errorf("unknown user: %d events, total %d", len(evs), total)
	}
}

func testSecurityLogFilter(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("ada@example.com"))
	kinds := []string{accountd.SecLoginSucceeded, accountd.SecLoginFailed, accountd.SecTokenCreated, accountd.SecPasswordChanged}
	byKind := map[string][]string{}
	for i := range 8 {
		k := kinds[i%len(kinds)]
		e := addSec(t, st, secEvent(u.ID, k, t0.Add(time.Duration(i)*time.Hour)))
		byKind[k] = append([]string{e.ID}, byKind[k]...)
	}
	evs, total := secPage(t, st, u.ID, accountd.SecurityQuery{Kinds: []string{accountd.SecLoginFailed}})
	if total != 2 {
		t.Errorf("one kind: total %d, want 2", total)
	}
	sameList(t, secIDs(evs), byKind[accountd.SecLoginFailed])
	_, total = secPage(t, st, u.ID, accountd.SecurityQuery{Kinds: []string{accountd.SecLoginFailed, accountd.SecTokenCreated}})
	if total != 4 {
		t.Errorf("two kinds: total %d, want 4", total)
	}
	// since is inclusive, until exclusive: hours 2, 3, 4
	evs, total = secPage(t, st, u.ID, accountd.SecurityQuery{Since: t0.Add(2 * time.Hour), Until: t0.Add(5 * time.Hour)})
	if total != 3 || len(evs) != 3 || !evs[0].At.Equal(t0.Add(4*time.Hour)) || !evs[2].At.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("time range: total %d, %d events %v", total, len(evs), secIDs(evs))
	}
	evs, total = secPage(t, st, u.ID, accountd.SecurityQuery{Kinds: []string{accountd.SecLoginSucceeded}, Since: t0.Add(time.Hour)})
	if total != 1 || len(evs) != 1 || !evs[0].At.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("kind and since: total %d, %d events", total, len(evs))
	}
}

func testSecurityLogInTx(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("ada@example.com"))
	boom := errors.New("boom")
	err := st.InTx(t.Context(), func(tx accountd.Store) error {
		addSec(t, tx, secEvent(u.ID, accountd.SecPasswordChanged, t0))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	if _, total := secPage(t, st, u.ID, accountd.SecurityQuery{}); total != 0 {
		t.Errorf("rolled-back entry is there: total %d", total)
	}
	err = st.InTx(t.Context(), func(tx accountd.Store) error {
		addSec(t, tx, secEvent(u.ID, accountd.SecPasswordChanged, t0))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, total := secPage(t, st, u.ID, accountd.SecurityQuery{}); total != 1 {
		t.Errorf("committed entry: total %d, want 1", total)
	}
}

func testSecurityLogSeen(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("ada@example.com"))
	other := createUser(t, st, fullUser("bob@example.com"))
	seen := func(userID, kind, address string) bool {
		t.Helper()
		ok, err := st.SecurityEventSeen(t.Context(), userID, kind, address)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if seen(u.ID, accountd.SecLoginSucceeded, "") {
		t.Error("seen in an empty log")
	}
	e := addSec(t, st, secEvent(u.ID, accountd.SecLoginSucceeded, t0))
	addSec(t, st, &accountd.SecurityEvent{ID: accountd.NewID(t0), UserID: u.ID, At: t0, Kind: accountd.SecLoginFailed, Address: "198.51.100.1"})
	for _, tc := range []struct {
		name                string
		user, kind, address string
		want                bool
	}{
		{"same address", u.ID, accountd.SecLoginSucceeded, e.Address, true},
		{"any address", u.ID, accountd.SecLoginSucceeded, "", true},
		{"other address", u.ID, accountd.SecLoginSucceeded, "198.51.100.1", false},
		{"other kind there", u.ID, accountd.SecLoginFailed, "198.51.100.1", true},
		{"other user", other.ID, accountd.SecLoginSucceeded, e.Address, false},
	} {
		if got := seen(tc.user, tc.kind, tc.address); got != tc.want {
			t.Errorf("%s: seen %v, want %v", tc.name, got, tc.want)
		}
	}
}

func testSecurityLogPrune(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("ada@example.com"))
	var kept []string
	for i := range 10 {
		e := addSec(t, st, secEvent(u.ID, accountd.SecLoginSucceeded, t0.Add(time.Duration(i)*time.Hour)))
		if i >= 7 {
			kept = append([]string{e.ID}, kept...)
		}
	}
	cut := t0.Add(7 * time.Hour) // hours 0..6 go
	for _, want := range []int{3, 3, 1, 0} {
		n, err := st.PruneSecurityEvents(t.Context(), cut, 3)
		if err != nil || n != want {
			t.Fatalf("PruneSecurityEvents = %d, %v; want %d", n, err, want)
		}
	}
	evs, total := secPage(t, st, u.ID, accountd.SecurityQuery{})
	if total != 3 {
		t.Errorf("after pruning: total %d, want 3", total)
	}
	sameList(t, secIDs(evs), kept)
}

func testSecurityLogGoesWithUser(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("ada@example.com"))
	tok := createToken(t, st, fullToken(u.ID))
	addSec(t, st, secEvent(u.ID, accountd.SecLoginSucceeded, t0))
	if ok, err := st.ClaimNotice(t.Context(), u.ID, accountd.SecPasswordChanged, t0, time.Minute); err != nil || !ok {
		t.Fatalf("ClaimNotice = %v, %v", ok, err)
	}
	if ok, err := st.MarkTokenReminded(t.Context(), tok.ID, t0); err != nil || !ok {
		t.Fatalf("MarkTokenReminded = %v, %v", ok, err)
	}
	if err := st.DeleteUser(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	if _, total := secPage(t, st, u.ID, accountd.SecurityQuery{}); total != 0 {
		t.Errorf("log of a deleted user: %d entries", total)
	}
	// a new user with the same id starts afresh: nothing of the old one is claimed
	u2 := fullUser("ada2@example.com")
	u2.ID = u.ID
	createUser(t, st, u2)
	if ok, err := st.ClaimNotice(t.Context(), u.ID, accountd.SecPasswordChanged, t0, time.Minute); err != nil || !ok {
		t.Errorf("ClaimNotice after the user went = %v, %v; want true", ok, err)
	}
}

func testClaimNotice(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("ada@example.com"))
	every := 5 * time.Minute
	for _, tc := range []struct {
		name string
		kind string
		at   time.Time
		want bool
	}{
		{"first", accountd.SecPasswordChanged, t0, true},
		{"again at once", accountd.SecPasswordChanged, t0, false},
		{"within the interval", accountd.SecPasswordChanged, t0.Add(every - time.Millisecond), false},
		{"another kind", accountd.SecTokenCreated, t0.Add(time.Second), true},
		{"interval over", accountd.SecPasswordChanged, t0.Add(every), true},
		{"counted from the last one sent", accountd.SecPasswordChanged, t0.Add(every + time.Minute), false},
	} {
		got, err := st.ClaimNotice(t.Context(), u.ID, tc.kind, tc.at, every)
		if err != nil || got != tc.want {
			t.Errorf("%s: ClaimNotice = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := st.ClaimNotice(t.Context(), accountd.NewID(t0), accountd.SecPasswordChanged, t0, every); err == nil {
		t.Error("ClaimNotice for an unknown user succeeded")
	}
}

// testClaimNoticeRace: of many claims at once, exactly one wins.
func testClaimNoticeRace(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("ada@example.com"))
	var (
		wg   sync.WaitGroup
		won  atomic.Int32
		errs = make(chan error, 16)
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := st.ClaimNotice(t.Context(), u.ID, accountd.SecEmailChanged, t0, time.Minute)
			if err != nil {
				errs <- err
				return
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("ClaimNotice: %v", err)
	}
	if n := won.Load(); n != 1 {
		t.Errorf("%d claims won, want 1", n)
	}
}

func testTokenReminders(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("ada@example.com"))
	mk := func(name string, kind accountd.TokenKind, expires time.Time, status string) *accountd.Token {
		tok := fullToken(u.ID)
		tok.ID, tok.Name, tok.Kind, tok.ExpiresAt, tok.Status = accountd.NewID(t0), name, kind, expires, status
		tok.CreatedAt, tok.UpdatedAt, tok.LastUsedAt = t0.Add(-time.Hour), t0.Add(-time.Hour), time.Time{}
		return createToken(t, st, tok)
	}
	week := 7 * 24 * time.Hour
	soon := mk("soon", accountd.KindAPI, t0.Add(24*time.Hour), accountd.StatusActive)
	sooner := mk("sooner", accountd.KindAPI, t0.Add(time.Hour), accountd.StatusActive)
	edge := mk("edge", accountd.KindAPI, t0.Add(week), accountd.StatusActive)
	mk("later", accountd.KindAPI, t0.Add(week+time.Millisecond), accountd.StatusActive)
	mk("expired", accountd.KindAPI, t0, accountd.StatusActive)
	mk("never", accountd.KindAPI, time.Time{}, accountd.StatusActive)
	mk("inactive", accountd.KindAPI, t0.Add(time.Hour), accountd.StatusInactive)
	mk("session", accountd.KindSession, t0.Add(time.Hour), accountd.StatusActive)

	names := func(limit int) []string {
		t.Helper()
		toks, err := st.ExpiringTokens(t.Context(), accountd.KindAPI, t0, t0.Add(week), limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tok := range toks {
			out = append(out, tok.Name)
		}
		return out
	}
	sameList(t, names(10), []string{sooner.Name, soon.Name, edge.Name})
	sameList(t, names(1), []string{sooner.Name})

	if ok, err := st.MarkTokenReminded(t.Context(), sooner.ID, t0); err != nil || !ok {
		t.Fatalf("MarkTokenReminded = %v, %v", ok, err)
	}
	if ok, err := st.MarkTokenReminded(t.Context(), sooner.ID, t0.Add(time.Minute)); err != nil || ok {
		t.Errorf("second MarkTokenReminded = %v, %v; want false", ok, err)
	}
	sameList(t, names(10), []string{soon.Name, edge.Name})
	if err := st.UnmarkTokenReminded(t.Context(), sooner.ID); err != nil {
		t.Fatal(err)
	}
	sameList(t, names(10), []string{sooner.Name, soon.Name, edge.Name})
	if _, err := st.MarkTokenReminded(t.Context(), accountd.NewID(t0), t0); err == nil {
		t.Error("MarkTokenReminded of an unknown token succeeded")
	}
	// a reminded token that goes takes its mark with it
	if ok, err := st.MarkTokenReminded(t.Context(), soon.ID, t0); err != nil || !ok {
		t.Fatalf("MarkTokenReminded = %v, %v", ok, err)
	}
	if err := st.DeleteToken(t.Context(), soon.ID); err != nil {
		t.Fatal(err)
	}
	sameList(t, names(10), []string{sooner.Name, edge.Name})
}

func sameList(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
