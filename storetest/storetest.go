// Package storetest is the conformance suite every accountd.Store must
// pass. sqlite/ and postgres/ run it from their tests.
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

// Run checks the store open returns against the Store contract. open must
// return a fresh, empty store each time it is called; it is called once per
// subtest, subtests run in parallel, and Run closes each store when its
// subtest ends.
func Run(t *testing.T, open func(t *testing.T) accountd.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st accountd.Store)
	}{
		{"UserRoundTrip", testUserRoundTrip},
		{"UserByEmail", testUserByEmail},
		{"DuplicateEmail", testDuplicateEmail},
		{"UsersOrder", testUsersOrder},
		{"UpdateUser", testUpdateUser},
		{"DeleteUser", testDeleteUser},
		{"TokenRoundTrip", testTokenRoundTrip},
		{"UpdateToken", testUpdateToken},
		{"DeleteToken", testDeleteToken},
		{"NotFound", testNotFound},
		{"TokensList", testTokensList},
		{"CountTokens", testCountTokens},
		{"TouchTokens", testTouchTokens},
		{"DeleteExpiredTokens", testDeleteExpiredTokens},
		{"AuthEvents", testAuthEvents},
		{"InTx", testInTx},
		{"ConcurrentTx", testConcurrentTx},
		{"Ping", testPing},
	}
	tests = append(tests, securityTests...)
	tests = append(tests, orgTests...)
	tests = append(tests, lockTests...)
	tests = append(tests, usageTests...)
	tests = append(tests, lineageTests...)
	tests = append(tests, throttleTests...)
	tests = append(tests, sessionTests...)
	tests = append(tests, securityLogTests...)
	tests = append(tests, orgRoleTests...)
	tests = append(tests, queryTests...)
	tests = append(tests, appSummaryTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			t.Cleanup(func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, st)
		})
	}
}

// base is an instant with nanoseconds, in a zone other than UTC: stores
// must give back the same instant truncated to the millisecond, in UTC.
var base = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("UTC+2", 2*3600))

// fullUser returns a user with every field set.
func fullUser(email string) *accountd.User {
	return &accountd.User{
		ID:                accountd.NewID(base),
		Email:             email,
		FirstName:         "Ada",
		LastName:          "Lovelace",
		CompanyName:       "Analytical Engines",
		Title:             "Countess",
		PhoneNumber:       "+44 20 7946 0000",
		Location:          "London",
		URL:               "https://example.com/ada",
		PasswordHash:      "fake-hash-" + email,
		EmailVerified:     true,
		TokenCutoff:       base.Add(time.Hour),
		CreatedAt:         base,
		UpdatedAt:         base.Add(2 * time.Hour),
		PasswordUpdatedAt: base.Add(3 * time.Hour),
		TokenGen:          3,
	}
}

// fullToken returns an API token of userID with every field set.
func fullToken(userID string) *accountd.Token {
	return &accountd.Token{
		ID:          accountd.NewID(base),
		UserID:      userID,
		Kind:        accountd.KindAPI,
		Name:        "dashboard reader",
		Description: "reads the profile for the dashboard",
		Scope:       []string{"me.get", "userApiToken.*"},
		Status:      accountd.StatusActive,
		CreatorType: "user",
		CreatorID:   userID,
		CreatorName: "Ada Lovelace",
		ExpiresAt:   base.Add(24 * time.Hour),
		CreatedAt:   base,
		UpdatedAt:   base.Add(time.Minute),
		LastUsedAt:  base.Add(2 * time.Minute),
		ParentID:    accountd.NewID(base),
		UserGen:     3,

		ObtainedVia:       accountd.ViaRefresh,
		CreatedAddress:    "192.0.2.7",
		CreatedUserAgent:  "curl/8.5",
		LastUsedAddress:   "2001:db8::1",
		LastUsedUserAgent: "Mozilla/5.0 (X11; Linux) ünïcode",
	}
}

func createUser(t *testing.T, st accountd.Store, u *accountd.User) *accountd.User {
	t.Helper()
	if err := st.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", u.Email, err)
	}
	return u
}

func createToken(t *testing.T, st accountd.Store, tok *accountd.Token) *accountd.Token {
	t.Helper()
	if err := st.CreateToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateToken(%s): %v", tok.Name, err)
	}
	return tok
}

func getUser(t *testing.T, st accountd.Store, id string) *accountd.User {
	t.Helper()
	u, err := st.User(t.Context(), id)
	if err != nil {
		t.Fatalf("User(%s): %v", id, err)
	}
	return u
}

func getToken(t *testing.T, st accountd.Store, id string) *accountd.Token {
	t.Helper()
	tok, err := st.Token(t.Context(), id)
	if err != nil {
		t.Fatalf("Token(%s): %v", id, err)
	}
	return tok
}

// checkSame fails t for every field of got (a pointer to a struct) that
// differs from want's. Times must be the same instant as want's truncated to
// the millisecond, and in UTC.
func checkSame(t *testing.T, got, want any) {
	t.Helper()
	g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range g.NumField() {
		name := g.Type().Field(i).Name
		gf, wf := g.Field(i).Interface(), w.Field(i).Interface()
		if gt, ok := gf.(time.Time); ok {
			wt := accountd.Millis(wf.(time.Time))
			if !gt.Equal(wt) || gt.Location() != time.UTC {
				t.Errorf("%s = %v, want %v in UTC", name, gt, wt.UTC())
			}
			continue
		}
		if !reflect.DeepEqual(gf, wf) {
			t.Errorf("%s = %#v, want %#v", name, gf, wf)
		}
	}
}

// requireAllSet guards a round trip against a fixture that leaves a field
// zero and so would not notice the store dropping it.
func requireAllSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Fatalf("fixture leaves %s zero", rv.Type().Field(i).Name)
		}
	}
}

// eventMarks holds, per store, the last event before the one a test checks
// (markEvents): creating fixtures records events of its own (an API token
// moves its user's summary).
var eventMarks sync.Map

func markEvents(t *testing.T, st accountd.Store) {
	t.Helper()
	seq, err := st.LastAuthEvent(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	eventMarks.Store(st, seq)
}

func checkEvents(t *testing.T, st accountd.Store, want ...accountd.AuthEvent) {
	t.Helper()
	after, _ := eventMarks.Load(st)
	from, _ := after.(int64)
	got, err := st.AuthEventsAfter(t.Context(), from, 1000)
	if err != nil {
		t.Fatalf("AuthEventsAfter: %v", err)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Errorf("AuthEvents not in seq order: %v", got)
		}
	}
	var plain []accountd.AuthEvent
	for _, e := range got {
		plain = append(plain, accountd.AuthEvent{UserID: e.UserID, TokenID: e.TokenID})
	}
	if !slices.Equal(plain, want) {
		t.Errorf("AuthEvents = %v, want %v", plain, want)
	}
}

func checkNotFound(t *testing.T, err error, what string) {
	t.Helper()
	var e *accountd.Error
	if !errors.Is(err, accountd.ErrNotFound) || !errors.As(err, &e) {
		t.Fatalf("err = %v, want NotFound(%q)", err, what)
	}
	if want := accountd.NotFound(what).Message; e.Message != want {
		t.Errorf("message = %q, want %q", e.Message, want)
	}
}

func testUserRoundTrip(t *testing.T, st accountd.Store) {
	sparse := &accountd.User{
		ID:           accountd.NewID(base),
		Email:        "sparse@example.com",
		PasswordHash: "fake-hash",
		CreatedAt:    base,
		UpdatedAt:    base,
	}
	for _, u := range []*accountd.User{fullUser("Ada@Example.com"), sparse} {
		t.Run(u.Email, func(t *testing.T) {
			if u != sparse {
				requireAllSet(t, u)
			}
			want := *u
			createUser(t, st, u)
			checkSame(t, getUser(t, st, u.ID), &want)
		})
	}
}

func testUserByEmail(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("Grace.Hopper@Example.com"))
	createUser(t, st, fullUser("other@example.com"))
	for _, email := range []string{"Grace.Hopper@Example.com", "grace.hopper@example.com", "GRACE.HOPPER@EXAMPLE.COM", " grace.hopper@example.com "} {
		t.Run(email, func(t *testing.T) {
			got, err := st.UserByEmail(t.Context(), email)
			if err != nil {
				t.Fatalf("UserByEmail: %v", err)
			}
			checkSame(t, got, u)
		})
	}
	_, err := st.UserByEmail(t.Context(), "grace@example.com")
	checkNotFound(t, err, "user")
}

func checkConflict(t *testing.T, err error) {
	t.Helper()
	var e *accountd.Error
	if !errors.Is(err, accountd.ErrConflict) || !errors.As(err, &e) {
		t.Fatalf("err = %v, want a conflict", err)
	}
	if e.Field != "email" || e.Message != "email: already in use by another account" {
		t.Errorf("conflict Field, Message = %q, %q, want email and \"email: already in use by another account\"", e.Field, e.Message)
	}
}

func testDuplicateEmail(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	first := createUser(t, st, fullUser("dup@example.com"))
	for _, email := range []string{"dup@example.com", "DUP@example.com", "Dup@Example.Com"} {
		t.Run("create "+email, func(t *testing.T) {
			checkConflict(t, st.CreateUser(ctx, fullUser(email)))
		})
	}
	t.Run("update", func(t *testing.T) {
		second := createUser(t, st, fullUser("second@example.com"))
		changed := *second
		changed.Email = "DUP@EXAMPLE.COM"
		checkConflict(t, st.UpdateUser(ctx, &changed))
		checkSame(t, getUser(t, st, second.ID), second)
		checkSame(t, getUser(t, st, first.ID), first)
		checkEvents(t, st) // the failed update records nothing
	})
}

func testUsersOrder(t *testing.T, st accountd.Store) {
	var want []*accountd.User
	for i, offset := range []time.Duration{2 * time.Hour, 0, time.Hour, time.Hour, -time.Hour} {
		u := fullUser(fmt.Sprintf("user%d@example.com", i))
		u.CreatedAt = base.Add(offset)
		want = append(want, createUser(t, st, u))
	}
	slices.SortFunc(want, func(a, b *accountd.User) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	got, err := st.Users(t.Context())
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Users returned %d users, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Errorf("Users()[%d] = %s (created %v), want %s (created %v)", i, got[i].ID, got[i].CreatedAt, want[i].ID, want[i].CreatedAt)
		}
	}
}

func testUpdateUser(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("before@example.com"))
	changed := &accountd.User{
		ID:                u.ID,
		Email:             "After@Example.com",
		FirstName:         "Augusta",
		LastName:          "King",
		CompanyName:       "Babbage & Co",
		Title:             "Enchantress of Numbers",
		PhoneNumber:       "+44 20 7946 0001",
		Location:          "Marylebone",
		URL:               "https://example.com/augusta",
		PasswordHash:      "fake-hash-2",
		EmailVerified:     false,
		TokenCutoff:       base.Add(10 * time.Hour),
		CreatedAt:         base.Add(-time.Hour),
		UpdatedAt:         base.Add(11 * time.Hour),
		PasswordUpdatedAt: base.Add(12 * time.Hour),
	}
	if err := st.UpdateUser(ctx, changed); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	checkSame(t, getUser(t, st, u.ID), changed)
	got, err := st.UserByEmail(ctx, "after@example.com")
	if err != nil || got.ID != u.ID {
		t.Errorf("UserByEmail(new email) = %v, %v", got, err)
	}
	_, err = st.UserByEmail(ctx, "before@example.com")
	checkNotFound(t, err, "user")
	createUser(t, st, fullUser("before@example.com")) // the old email is free again
	checkEvents(t, st, accountd.AuthEvent{UserID: u.ID})

	t.Run("zero times", func(t *testing.T) {
		changed.TokenCutoff, changed.PasswordUpdatedAt = time.Time{}, time.Time{}
		if err := st.UpdateUser(ctx, changed); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		checkSame(t, getUser(t, st, u.ID), changed)
	})
}

func testDeleteUser(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("leaving@example.com"))
	other := createUser(t, st, fullUser("staying@example.com"))
	api := createToken(t, st, fullToken(u.ID))
	session := fullToken(u.ID)
	session.Kind = accountd.KindSession
	createToken(t, st, session)
	kept := createToken(t, st, fullToken(other.ID))

	markEvents(t, st)
	if err := st.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := st.User(ctx, u.ID)
	checkNotFound(t, err, "user")
	for _, id := range []string{api.ID, session.ID} {
		_, err := st.Token(ctx, id)
		checkNotFound(t, err, "API token")
	}
	getUser(t, st, other.ID)
	getToken(t, st, kept.ID)
	checkEvents(t, st, accountd.AuthEvent{UserID: u.ID})
}

func testTokenRoundTrip(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("tokens@example.com"))
	full := fullToken(u.ID)
	requireAllSet(t, full)
	sparse := &accountd.Token{
		ID:        accountd.NewID(base),
		UserID:    u.ID,
		Kind:      accountd.KindSession,
		Scope:     []string{"all.User"},
		Status:    accountd.StatusActive,
		CreatedAt: base,
		UpdatedAt: base,
	}
	for _, tc := range []struct {
		name string
		tok  *accountd.Token
	}{{"every field", full}, {"no expiry", sparse}} {
		t.Run(tc.name, func(t *testing.T) {
			want := *tc.tok
			createToken(t, st, tc.tok)
			checkSame(t, getToken(t, st, tc.tok.ID), &want)
		})
	}
}

func testUpdateToken(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("owner@example.com"))
	other := createUser(t, st, fullUser("other@example.com"))
	tok := createToken(t, st, fullToken(u.ID))
	want := *tok

	for _, tc := range []struct {
		name    string
		expires time.Time
	}{{"new expiry", base.Add(48 * time.Hour)}, {"no expiry", time.Time{}}} {
		if tc.name == "new expiry" {
			markEvents(t, st)
		}
		t.Run(tc.name, func(t *testing.T) {
			upd := *tok
			upd.Name, want.Name = "renamed "+tc.name, "renamed "+tc.name
			upd.Description, want.Description = "new description", "new description"
			upd.Status, want.Status = accountd.StatusInactive, accountd.StatusInactive
			upd.Scope, want.Scope = []string{"me.get"}, []string{"me.get"}
			upd.ExpiresAt, want.ExpiresAt = tc.expires, tc.expires
			upd.UpdatedAt, want.UpdatedAt = base.Add(5*time.Hour), base.Add(5*time.Hour)
			// UpdateToken writes only the fields above; the rest, the
			// owner included, must stay as stored.
			upd.UserID = other.ID
			upd.Kind = accountd.KindSession
			upd.CreatorName = "someone else"
			upd.CreatedAt = base.Add(-time.Hour)
			upd.LastUsedAt = base.Add(9 * time.Hour)
			if err := st.UpdateToken(ctx, &upd); err != nil {
				t.Fatalf("UpdateToken: %v", err)
			}
			checkSame(t, getToken(t, st, tok.ID), &want)
		})
	}
	ev := accountd.AuthEvent{UserID: u.ID, TokenID: tok.ID}
	checkEvents(t, st, ev, ev)
}

func testDeleteToken(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("owner@example.com"))
	gone := createToken(t, st, fullToken(u.ID))
	kept := createToken(t, st, fullToken(u.ID))
	markEvents(t, st)
	if err := st.DeleteToken(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	_, err := st.Token(ctx, gone.ID)
	checkNotFound(t, err, "API token")
	getToken(t, st, kept.ID)
	checkEvents(t, st, accountd.AuthEvent{UserID: u.ID, TokenID: gone.ID})
}

func testNotFound(t *testing.T, st accountd.Store) {
	u := createUser(t, st, fullUser("present@example.com"))
	missing := accountd.NewID(base)
	ghost := fullUser("ghost@example.com")
	ghost.ID = missing
	ghostToken := fullToken(u.ID)
	ghostToken.ID = missing
	for _, tc := range []struct {
		name string
		what string
		call func(ctx context.Context) error
	}{
		{"User", "user", func(ctx context.Context) error { _, err := st.User(ctx, missing); return err }},
		{"UserByEmail", "user", func(ctx context.Context) error { _, err := st.UserByEmail(ctx, ghost.Email); return err }},
		{"UpdateUser", "user", func(ctx context.Context) error { return st.UpdateUser(ctx, ghost) }},
		{"DeleteUser", "user", func(ctx context.Context) error { return st.DeleteUser(ctx, missing) }},
		{"CreateToken for a missing user", "user", func(ctx context.Context) error { return st.CreateToken(ctx, fullToken(missing)) }},
		{"Token", "API token", func(ctx context.Context) error { _, err := st.Token(ctx, missing); return err }},
		{"UpdateToken", "API token", func(ctx context.Context) error { return st.UpdateToken(ctx, ghostToken) }},
		{"DeleteToken", "API token", func(ctx context.Context) error { return st.DeleteToken(ctx, missing) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkNotFound(t, tc.call(t.Context()), tc.what)
		})
	}
	checkEvents(t, st) // failed changes record nothing
}

// listFixture creates the tokens testTokensList queries: API tokens of
// owner whose names exercise glob escaping and case, with ties in every sort
// field but id, plus tokens of another kind and another user that must
// never show.
func listFixture(t *testing.T, st accountd.Store) (owner string, api []*accountd.Token) {
	t.Helper()
	owner = createUser(t, st, fullUser("lister@example.com")).ID
	other := createUser(t, st, fullUser("bystander@example.com")).ID
	for i, f := range []struct {
		name, status              string
		created, updated, expires int // hours, hours, days after base; 0 expires: never
	}{
		{"alpha", accountd.StatusActive, 3, 1, 0},
		{"Alpha", accountd.StatusInactive, 1, 1, 5},
		{"alphabet", accountd.StatusActive, 2, 4, 5},
		{"Beta", accountd.StatusActive, 2, 2, 0},
		{"gamma_1", accountd.StatusInactive, 5, 3, 2},
		{"gammaX1", accountd.StatusActive, 4, 3, 9},
		{"100% sure", accountd.StatusActive, 6, 5, 1},
		{`back\slash`, accountd.StatusInactive, 6, 6, 3},
	} {
		tok := fullToken(owner)
		tok.Name, tok.Status = f.name, f.status
		tok.Description = fmt.Sprint(i)
		tok.CreatedAt = base.Add(time.Duration(f.created) * time.Hour)
		tok.UpdatedAt = base.Add(time.Duration(f.updated) * time.Hour)
		tok.ExpiresAt = time.Time{}
		if f.expires != 0 {
			tok.ExpiresAt = base.Add(time.Duration(f.expires) * 24 * time.Hour)
		}
		api = append(api, createToken(t, st, tok))
	}
	session := fullToken(owner)
	session.Kind, session.Name = accountd.KindSession, "alpha"
	createToken(t, st, session)
	stranger := fullToken(other)
	stranger.Name = "alpha"
	createToken(t, st, stranger)
	return owner, api
}

// sortKey gives the value a sort field orders by, for computing what a
// store must return.
func sortKey(field string) func(a, b *accountd.Token) int {
	switch field {
	case "name":
		return func(a, b *accountd.Token) int { return strings.Compare(a.Name, b.Name) }
	case "status":
		return func(a, b *accountd.Token) int { return strings.Compare(a.Status, b.Status) }
	case "id":
		return func(a, b *accountd.Token) int { return 0 }
	case "creationDate":
		return func(a, b *accountd.Token) int { return a.CreatedAt.Compare(b.CreatedAt) }
	case "lastUpdated":
		return func(a, b *accountd.Token) int { return a.UpdatedAt.Compare(b.UpdatedAt) }
	case "expirationDate":
		// never (zero) sorts first
		return func(a, b *accountd.Token) int { return a.ExpiresAt.Compare(b.ExpiresAt) }
	}
	panic("storetest: no sort key for " + field)
}

func sorted(tokens []*accountd.Token, field, direction string) []string {
	key := sortKey(field)
	tokens = slices.Clone(tokens)
	slices.SortFunc(tokens, func(a, b *accountd.Token) int {
		return cmp.Or(key(a, b), strings.Compare(a.ID, b.ID))
	})
	if direction == "desc" {
		slices.Reverse(tokens)
	}
	return ids(tokens)
}

func ids(tokens []*accountd.Token) []string {
	out := make([]string, len(tokens))
	for i, tok := range tokens {
		out[i] = tok.ID
	}
	return out
}

func names(tokens []*accountd.Token) []string {
	out := make([]string, len(tokens))
	for i, tok := range tokens {
		out[i] = tok.Name
	}
	return out
}

func listTokens(t *testing.T, st accountd.Store, owner string, q accountd.TokenQuery) ([]*accountd.Token, int) {
	t.Helper()
	got, total, err := st.Tokens(t.Context(), owner, accountd.KindAPI, q)
	if err != nil {
		t.Fatalf("Tokens(%+v): %v", q, err)
	}
	return got, total
}

func testTokensList(t *testing.T, st accountd.Store) {
	owner, api := listFixture(t, st)

	t.Run("round trip", func(t *testing.T) {
		got, _ := listTokens(t, st, owner, accountd.TokenQuery{SortField: "id"})
		want := slices.Clone(api)
		slices.SortFunc(want, func(a, b *accountd.Token) int { return strings.Compare(a.ID, b.ID) })
		for i := range got {
			checkSame(t, got[i], want[i])
		}
	})

	t.Run("kinds", func(t *testing.T) {
		got, total, err := st.Tokens(t.Context(), owner, accountd.KindSession, accountd.TokenQuery{})
		if err != nil {
			t.Fatalf("Tokens(session): %v", err)
		}
		if total != 1 || len(got) != 1 || got[0].Kind != accountd.KindSession {
			t.Errorf("Tokens(session) = %v, total %d; want the one session", names(got), total)
		}
	})

	t.Run("filter", func(t *testing.T) {
		everything := names(api)
		for _, tc := range []struct {
			field, filter string
			want          []string // names, in any order
		}{
			{"", "", everything},
			{"name", "", everything},
			{"name", "alpha", []string{"Alpha", "alpha"}},
			{"name", "ALPHA*", []string{"Alpha", "alpha", "alphabet"}},
			{"name", "*BET*", []string{"Beta", "alphabet"}},
			{"name", "gamma_*", []string{"gamma_1"}},
			{"name", "*%*", []string{"100% sure"}},
			{"name", "100%", nil},
			{"name", `*\*`, []string{`back\slash`}},
			{"name", "*a*a*", []string{"Alpha", "alpha", "alphabet", "gammaX1", "gamma_1", `back\slash`}},
			{"name", "*", everything},
			{"name", "nothing*", nil},
			{"status", "active", []string{"100% sure", "Beta", "alpha", "alphabet", "gammaX1"}},
			{"status", "INACT*", []string{"Alpha", `back\slash`, "gamma_1"}},
		} {
			t.Run(tc.field+"="+tc.filter, func(t *testing.T) {
				got, total := listTokens(t, st, owner, accountd.TokenQuery{FilterField: tc.field, Filter: tc.filter})
				// by name ascending, by default: bytewise, so upper case first
				want := slices.Sorted(slices.Values(tc.want))
				if !slices.Equal(names(got), want) || total != len(want) {
					t.Errorf("got %q, total %d; want %q, total %d", names(got), total, want, len(want))
				}
			})
		}
	})

	t.Run("sort", func(t *testing.T) {
		for _, field := range accountd.TokenSortFields {
			for _, dir := range []string{"asc", "desc"} {
				t.Run(field+" "+dir, func(t *testing.T) {
					got, total := listTokens(t, st, owner, accountd.TokenQuery{SortField: field, SortDirection: dir})
					if want := sorted(api, field, dir); !slices.Equal(ids(got), want) || total != len(api) {
						t.Errorf("got %q (%q), total %d; want %q", ids(got), names(got), total, want)
					}
				})
			}
		}
		t.Run("defaults", func(t *testing.T) {
			got, _ := listTokens(t, st, owner, accountd.TokenQuery{})
			if want := sorted(api, "name", "asc"); !slices.Equal(ids(got), want) {
				t.Errorf("got %q, want name ascending", names(got))
			}
		})
	})

	t.Run("paging", func(t *testing.T) {
		all := sorted(api, "creationDate", "desc")
		for _, tc := range []struct {
			page, perPage int
			want          []string
		}{
			{0, 3, all[0:3]},
			{1, 3, all[3:6]},
			{2, 3, all[6:]},
			{3, 3, nil},
			{0, 0, all},            // 0: the default page size
			{0, len(all), all},     // page 0, exactly perPage rows
			{0, len(all) + 1, all}, // page 0, fewer rows than perPage
			{1, len(all), nil},     // just past the end
			{0, len(all) - 1, all[:len(all)-1]},
			{1, len(all) - 1, all[len(all)-1:]}, // a later page of one row
			{1, len(all) / 2, all[len(all)/2 : len(all)/2*2]},
			{100, 3, nil},             // far past the end
			{math.MaxInt / 2, 3, nil}, // page × perPage would overflow
		} {
			t.Run(fmt.Sprintf("page %d of %d", tc.page, tc.perPage), func(t *testing.T) {
				got, total := listTokens(t, st, owner, accountd.TokenQuery{SortField: "creationDate", SortDirection: "desc", Page: tc.page, PerPage: tc.perPage})
				if !slices.Equal(ids(got), tc.want) || total != len(all) {
					t.Errorf("got %q, total %d; want %q, total %d", ids(got), total, tc.want, len(all))
				}
			})
		}
		t.Run("filtered", func(t *testing.T) {
			for _, tc := range []struct {
				filter        string
				page, perPage int
				want          []string
				total         int
			}{
				{"alpha*", 1, 2, []string{"alphabet"}, 3},
				{"alpha*", 0, 3, []string{"Alpha", "alpha", "alphabet"}, 3}, // exactly perPage
				{"alpha*", 0, 4, []string{"Alpha", "alpha", "alphabet"}, 3}, // fewer
				{"alpha*", 1, 3, nil, 3},                                    // past the end
				{"nothing*", 0, 3, nil, 0},
				{"nothing*", 2, 3, nil, 0},
			} {
				t.Run(fmt.Sprintf("%s page %d of %d", tc.filter, tc.page, tc.perPage), func(t *testing.T) {
					got, total := listTokens(t, st, owner, accountd.TokenQuery{FilterField: "name", Filter: tc.filter, Page: tc.page, PerPage: tc.perPage})
					if !slices.Equal(names(got), tc.want) || total != tc.total {
						t.Errorf("got %q, total %d; want %q, total %d", names(got), total, tc.want, tc.total)
					}
				})
			}
		})
	})
}

func testCountTokens(t *testing.T, st accountd.Store) {
	owner, api := listFixture(t, st)
	for _, tc := range []struct {
		name   string
		userID string
		kind   accountd.TokenKind
		want   int
	}{
		{"api", owner, accountd.KindAPI, len(api)},
		{"session", owner, accountd.KindSession, 1},
		{"unknown user", accountd.NewID(base), accountd.KindAPI, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := st.CountTokens(t.Context(), tc.userID, tc.kind)
			if err != nil || n != tc.want {
				t.Errorf("CountTokens = %d, %v; want %d", n, err, tc.want)
			}
		})
	}
}

func testTouchTokens(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("toucher@example.com"))
	var toks []*accountd.Token
	for range 3 {
		tok := fullToken(u.ID)
		tok.LastUsedAt, tok.LastUsedAddress, tok.LastUsedUserAgent = time.Time{}, "", ""
		toks = append(toks, createToken(t, st, tok))
	}
	a, b, c := toks[0], toks[1], toks[2]
	ua := accountd.TokenUse{At: base.Add(time.Hour), Address: "198.51.100.4", UserAgent: "accountd-cli/1.0"}
	ub := accountd.TokenUse{At: base.Add(2 * time.Hour), Address: "::1", UserAgent: ""}
	markEvents(t, st)
	if err := st.TouchTokens(ctx, map[string]accountd.TokenUse{a.ID: ua, b.ID: ub, accountd.NewID(base): ub}); err != nil {
		t.Fatalf("TouchTokens: %v", err)
	}
	if err := st.TouchTokens(ctx, nil); err != nil {
		t.Fatalf("TouchTokens(nil): %v", err)
	}
	// An older use, as a slower instance may flush, does not go back,
	// address and user agent included.
	if err := st.TouchTokens(ctx, map[string]accountd.TokenUse{a.ID: {At: base, Address: "203.0.113.9", UserAgent: "old"}}); err != nil {
		t.Fatalf("TouchTokens: %v", err)
	}
	for _, tc := range []struct {
		tok  *accountd.Token
		want accountd.TokenUse
	}{{a, ua}, {b, ub}, {c, accountd.TokenUse{}}} {
		want := *tc.tok
		want.LastUsedAt, want.LastUsedAddress, want.LastUsedUserAgent = tc.want.At, tc.want.Address, tc.want.UserAgent
		checkSame(t, getToken(t, st, tc.tok.ID), &want)
	}
	checkEvents(t, st) // last use is no reason to reload a token
}

func testDeleteExpiredTokens(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("expiring@example.com"))
	now := base.Add(10 * time.Hour)
	mk := func(kind accountd.TokenKind, expires time.Time) *accountd.Token {
		tok := fullToken(u.ID)
		tok.Kind, tok.ExpiresAt = kind, expires
		return createToken(t, st, tok)
	}
	gone := []*accountd.Token{
		mk(accountd.KindSession, now.Add(-time.Hour)),
		mk(accountd.KindSession, now), // at the instant: expired
	}
	kept := []*accountd.Token{
		mk(accountd.KindSession, now.Add(time.Millisecond)),
		mk(accountd.KindSession, time.Time{}),     // never expires
		mk(accountd.KindAPI, now.Add(-time.Hour)), // another kind
	}
	n, err := st.DeleteExpiredTokens(ctx, accountd.KindSession, now)
	if err != nil || n != len(gone) {
		t.Fatalf("DeleteExpiredTokens = %d, %v; want %d", n, err, len(gone))
	}
	for _, tok := range gone {
		_, err := st.Token(ctx, tok.ID)
		checkNotFound(t, err, "API token")
	}
	for _, tok := range kept {
		getToken(t, st, tok.ID)
	}
	if n, err := st.DeleteExpiredTokens(ctx, accountd.KindSession, now); err != nil || n != 0 {
		t.Errorf("second DeleteExpiredTokens = %d, %v; want 0", n, err)
	}
}

func testAuthEvents(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	checkEvents(t, st)
	u := createUser(t, st, fullUser("events@example.com"))
	tok := createToken(t, st, fullToken(u.ID))
	checkEvents(t, st, accountd.AuthEvent{UserID: u.ID}) // an API token counts in the user's summary
	markEvents(t, st)
	if err := st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	all := []accountd.AuthEvent{{UserID: u.ID}, {UserID: u.ID, TokenID: tok.ID}, {UserID: u.ID, TokenID: tok.ID}}
	checkEvents(t, st, all...)
	lastSeq := lastEvent(t, st).Seq

	if got, err := st.LastAuthEvent(ctx); err != nil || got != lastSeq {
		t.Errorf("LastAuthEvent = %d, %v; want %d", got, err, lastSeq)
	}
	if got, err := st.AuthEventsAfter(ctx, lastSeq, 10); err != nil || len(got) != 0 {
		t.Errorf("AuthEventsAfter(last) = %v, %v; want none", got, err)
	}
	if got, err := st.AuthEventsAfter(ctx, 0, 2); err != nil || len(got) != 2 {
		t.Errorf("AuthEventsAfter(0, limit 2) = %v, %v; want 2", got, err)
	}
	// The age is measured on the database's clock, which has moved on by
	// now.
	time.Sleep(20 * time.Millisecond)
	if err := st.PruneAuthEvents(ctx, time.Hour); err != nil {
		t.Fatalf("PruneAuthEvents(1h): %v", err)
	}
	checkEvents(t, st, all...)
	if err := st.PruneAuthEvents(ctx, 0); err != nil {
		t.Fatalf("PruneAuthEvents(0): %v", err)
	}
	checkEvents(t, st)

	// Pollers may remember the last seq they saw, so a pruned one must
	// never come back.
	if err := st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if seq := lastEvent(t, st).Seq; seq <= lastSeq {
		t.Errorf("seq after prune = %d, want more than %d", seq, lastSeq)
	}
}

func lastEvent(t *testing.T, st accountd.Store) accountd.AuthEvent {
	t.Helper()
	events, err := st.AuthEventsAfter(t.Context(), 0, 1000)
	if err != nil || len(events) == 0 {
		t.Fatalf("AuthEventsAfter = %v, %v; want some", events, err)
	}
	return events[len(events)-1]
}

func testInTx(t *testing.T, st accountd.Store) {
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		fail    error
		nested  bool
		wantErr error
	}{
		{"commit", nil, false, nil},
		{"commit nested", nil, true, nil},
		{"rollback", errBoom, false, errBoom},
		{"rollback nested", errBoom, true, errBoom},
		{"domain error", accountd.Invalid("x", "bad"), false, accountd.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			email := strings.ReplaceAll(tc.name, " ", ".") + "@example.com"
			u, tok := fullUser(email), fullToken("")
			tok.UserID = u.ID
			gone := fullToken(u.ID)
			write := func(tx accountd.Store) error {
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				if err := tx.UpdateUser(ctx, u); err != nil {
					return err
				}
				for _, tk := range []*accountd.Token{tok, gone} {
					if err := tx.CreateToken(ctx, tk); err != nil {
						return err
					}
				}
				if err := tx.DeleteToken(ctx, gone.ID); err != nil {
					return err
				}
				// the transaction sees its own writes
				if _, err := tx.User(ctx, u.ID); err != nil {
					return err
				}
				return nil
			}
			err := st.InTx(ctx, func(tx accountd.Store) error {
				if tc.nested {
					if err := tx.InTx(ctx, write); err != nil {
						return err
					}
				} else if err := write(tx); err != nil {
					return err
				}
				return tc.fail
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("InTx = %v, want %v", err, tc.wantErr)
			}
			events, evErr := st.AuthEventsAfter(ctx, 0, 1000)
			if evErr != nil {
				t.Fatal(evErr)
			}
			var mine int
			for _, e := range events {
				if e.UserID == u.ID {
					mine++
				}
			}
			if tc.wantErr != nil {
				_, err := st.User(ctx, u.ID)
				checkNotFound(t, err, "user")
				_, err = st.Token(ctx, tok.ID)
				checkNotFound(t, err, "API token")
				if mine != 0 {
					t.Errorf("rolled-back transaction left %d events", mine)
				}
				return
			}
			checkSame(t, getUser(t, st, u.ID), u)
			checkSame(t, getToken(t, st, tok.ID), tok)
			_, err = st.Token(ctx, gone.ID)
			checkNotFound(t, err, "API token")
			if mine != 2 {
				t.Errorf("committed transaction left %d events of the user, want 2", mine)
			}
		})
	}
}

// testConcurrentTx runs transactions that read and then write at once, the
// pattern that deadlocks SQLite's default deferred transactions.
func testConcurrentTx(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("busy@example.com"))
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- st.InTx(ctx, func(tx accountd.Store) error {
				cur, err := tx.User(ctx, u.ID)
				if err != nil {
					return err
				}
				cur.Title = fmt.Sprintf("title %d", i)
				if err := tx.UpdateUser(ctx, cur); err != nil {
					return err
				}
				return tx.CreateToken(ctx, fullToken(u.ID))
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("InTx: %v", err)
		}
	}
	if got, err := st.CountTokens(ctx, u.ID, accountd.KindAPI); err != nil || got != n {
		t.Errorf("CountTokens = %d, %v; want %d", got, err, n)
	}
}

func testPing(t *testing.T, st accountd.Store) {
	if err := st.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
