package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

var lineageTests = []struct {
	name string
	fn   func(t *testing.T, st accountd.Store)
}{
	{"DeleteTokenCascades", testDeleteTokenCascades},
	{"UserForUpdate", testUserForUpdate},
	{"RehashPassword", testRehashPassword},
	{"EventsVisibleInOrder", testEventsVisibleInOrder},
	{"MeState", testMeState},
	{"SummaryEvents", testSummaryEvents},
	{"PrepareUnderLoad", testPrepareUnderLoad},
}

// testMeState: one read gives the user, the counts CountVisible gives, the
// two-factor and GitHub state and the organizations.
func testMeState(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	a := createUser(t, st, fullUser("state-a@example.com"))
	b := createUser(t, st, fullUser("state-b@example.com"))
	check := func(want accountd.MeState) {
		t.Helper()
		got, err := st.MeState(ctx, a.ID)
		if err != nil {
			t.Fatalf("MeState: %v", err)
		}
		checkSame(t, got.User, getUser(t, st, a.ID))
		slices.Sort(got.OrgIDs)
		slices.Sort(want.OrgIDs)
		got.User, want.User = nil, nil
		if fmt.Sprint(*got) != fmt.Sprint(want) {
			t.Errorf("MeState = %+v, want %+v", *got, want)
		}
	}
	check(accountd.MeState{})
	o1 := createOrg(t, st, "One", b.ID)
	o2 := createOrg(t, st, "Two", a.ID)
	addMember(t, st, o1.ID, a.ID, accountd.RoleView, base)
	app := createApp(t, st, accountd.OwnerUser, a.ID, "own")
	createDevice(t, st, app.ID, "d1")
	createFlow(t, st, app.ID, "f1")
	createDash(t, st, accountd.OwnerUser, a.ID, "own")
	orgApp := createApp(t, st, accountd.OwnerOrg, o1.ID, "org's")
	createDevice(t, st, orgApp.ID, "d2")
	createApp(t, st, accountd.OwnerUser, b.ID, "not a's")
	tok := fullToken(a.ID)
	createToken(t, st, tok)
	session := fullToken(a.ID)
	session.Kind = accountd.KindSession
	createToken(t, st, session)
	if err := st.PutTwoFactor(ctx, &accountd.TwoFactor{UserID: a.ID, Secret: "sealed", UpdatedAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := st.LinkGithub(ctx, &accountd.GithubLink{UserID: a.ID, GithubID: "42", Login: "ada", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	check(accountd.MeState{APITokens: 1, Apps: 2, Dashboards: 1, Devices: 2, Flows: 1, Orgs: 2, TwoFactor: true,
		GithubLogin: "ada", OrgIDs: []string{o1.ID, o2.ID}})
	if _, err := st.MeState(ctx, accountd.NewID(base)); !errors.Is(err, accountd.ErrNotFound) {
		t.Errorf("MeState(missing) = %v, want not found", err)
	}
}

// testSummaryEvents: every change that moves what GET /me shows records an
// event for whom it concerns: the owning user, or the organization (whose
// members see it).
func testSummaryEvents(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("moves@example.com"))
	admin := createUser(t, st, fullUser("admin@example.com"))
	o := createOrg(t, st, "Moving", admin.ID)
	userEv := accountd.AuthEvent{UserID: u.ID}
	orgEv := accountd.AuthEvent{OrgID: o.ID}
	for _, tc := range []struct {
		name string
		do   func() error
		want []accountd.AuthEvent
	}{
		{"own application", func() error {
			return st.CreateApplication(ctx, &accountd.Application{Owned: owned("application", accountd.OwnerUser, u.ID, "mine")})
		}, []accountd.AuthEvent{userEv}},
		{"organization's dashboard", func() error {
			return st.CreateDashboard(ctx, &accountd.Dashboard{Owned: owned("dashboard", accountd.OwnerOrg, o.ID, "ours")})
		}, []accountd.AuthEvent{orgEv}},
		{"membership", func() error {
			return st.AddMember(ctx, accountd.Member{OrgID: o.ID, UserID: u.ID, Role: accountd.RoleView, CreatedAt: base})
		}, []accountd.AuthEvent{userEv}},
		{"two-factor", func() error {
			return st.PutTwoFactor(ctx, &accountd.TwoFactor{UserID: u.ID, UpdatedAt: base})
		}, []accountd.AuthEvent{userEv}},
		{"leaving", func() error { return st.RemoveMember(ctx, o.ID, u.ID) }, []accountd.AuthEvent{userEv}},
		{"organization deleted", func() error { return st.DeleteOrg(ctx, o.ID) }, []accountd.AuthEvent{orgEv}},
	} {
		mark, err := st.LastAuthEvent(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.do(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		events, err := st.AuthEventsAfter(ctx, mark, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []accountd.AuthEvent
		for _, e := range events {
			got = append(got, accountd.AuthEvent{UserID: e.UserID, TokenID: e.TokenID, OrgID: e.OrgID})
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: events %v, want %v", tc.name, got, tc.want)
		}
	}
}

// testDeleteTokenCascades: a token obtained with another goes with it, at
// any depth, each with its event; unrelated tokens stay.
func testDeleteTokenCascades(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("lineage@example.com"))
	mk := func(parent string) *accountd.Token {
		tok := fullToken(u.ID)
		tok.ParentID = parent
		return createToken(t, st, tok)
	}
	root := mk("")
	child := mk(root.ID)
	grandchild := mk(child.ID)
	sibling := mk("")
	other := mk(sibling.ID)
	if got := getToken(t, st, grandchild.ID); got.ParentID != child.ID || got.UserGen != 3 {
		t.Fatalf("grandchild = parent %q gen %d; want %q, 3", got.ParentID, got.UserGen, child.ID)
	}
	mark, err := st.LastAuthEvent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteToken(ctx, root.ID); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	for _, gone := range []*accountd.Token{root, child, grandchild} {
		_, err := st.Token(ctx, gone.ID)
		checkNotFound(t, err, "API token")
	}
	getToken(t, st, sibling.ID)
	getToken(t, st, other.ID)
	events, err := st.AuthEventsAfter(ctx, mark, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		if e.UserID != u.ID {
			t.Errorf("event %v names another user", e)
		}
		got = append(got, e.TokenID)
	}
	want := []string{root.ID, child.ID, grandchild.ID}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("events for %v, want %v", got, want)
	}
}

// testUserForUpdate: the read is the user's row, it holds inside a
// transaction, and a missing user is NotFound.
func testUserForUpdate(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("locked@example.com"))
	err := st.InTx(ctx, func(tx accountd.Store) error {
		got, err := tx.UserForUpdate(ctx, u.ID)
		if err != nil {
			return err
		}
		checkSame(t, got, u)
		got.TokenGen++
		return tx.UpdateUser(ctx, got)
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if got := getUser(t, st, u.ID); got.TokenGen != u.TokenGen+1 {
		t.Errorf("TokenGen = %d, want %d", got.TokenGen, u.TokenGen+1)
	}
	_, err = st.UserForUpdate(ctx, accountd.NewID(base))
	checkNotFound(t, err, "user")

	// Two read-modify-write transactions on one user: with the row held,
	// neither increment is lost.
	const n = 8
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := st.InTx(ctx, func(tx accountd.Store) error {
				cur, err := tx.UserForUpdate(ctx, u.ID)
				if err != nil {
					return err
				}
				cur.TokenGen++
				return tx.UpdateUser(ctx, cur)
			})
			if err != nil {
				t.Errorf("InTx: %v", err)
			}
		})
	}
	wg.Wait()
	if got := getUser(t, st, u.ID); got.TokenGen != u.TokenGen+1+n {
		t.Errorf("TokenGen after %d concurrent increments = %d, want %d", n, got.TokenGen, u.TokenGen+1+n)
	}
}

func testRehashPassword(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("rehash@example.com"))
	if err := st.RehashPassword(ctx, u.ID, "not the hash", "new-hash"); err != nil {
		t.Fatal(err)
	}
	if got := getUser(t, st, u.ID); got.PasswordHash != u.PasswordHash {
		t.Errorf("hash changed over a stale one: %q", got.PasswordHash)
	}
	if err := st.RehashPassword(ctx, u.ID, u.PasswordHash, "new-hash"); err != nil {
		t.Fatal(err)
	}
	if got := getUser(t, st, u.ID); got.PasswordHash != "new-hash" {
		t.Errorf("hash = %q, want new-hash", got.PasswordHash)
	}
}

// testEventsVisibleInOrder is the promise instances follow events by:
// a reader that remembers only the last number it saw never misses an
// event, however many transactions commit at once.
func testEventsVisibleInOrder(t *testing.T, st accountd.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	u := createUser(t, st, fullUser("order@example.com"))
	const writers, each = 6, 25
	var tokens []*accountd.Token
	for range writers * each {
		tok := fullToken(u.ID)
		tok.ParentID = ""
		tokens = append(tokens, createToken(t, st, tok))
	}
	start, err := st.LastAuthEvent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				tok := tokens[w*each+i]
				// a transaction that does other work before its event,
				// so that transactions overlap
				err := st.InTx(ctx, func(tx accountd.Store) error {
					if _, err := tx.User(ctx, u.ID); err != nil {
						return err
					}
					tok.Name = fmt.Sprintf("renamed %d", i)
					return tx.UpdateToken(ctx, tok)
				})
				if err != nil {
					t.Errorf("UpdateToken: %v", err)
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()

	seen := map[string]int{}
	last := start
	read := func() {
		events, err := st.AuthEventsAfter(ctx, last, 1000)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("AuthEventsAfter: %v", err)
			}
			return
		}
		for _, e := range events {
			if e.Seq <= last {
				t.Errorf("event %d after %d", e.Seq, last)
			}
			last = e.Seq
			seen[e.TokenID]++
		}
	}
	for {
		select {
		case <-done:
			read()
			if len(seen) != writers*each {
				t.Errorf("a reader following by number saw %d of %d tokens' events", len(seen), writers*each)
			}
			for _, tok := range tokens {
				if seen[tok.ID] != 1 { // each token is renamed once
					t.Errorf("token %s: %d events", tok.ID, seen[tok.ID])
				}
			}
			return
		default:
			read()
		}
	}
}

// testPrepareUnderLoad: the first uses of statements (which prepare them)
// while transactions hold every pooled connection must not deadlock.
func testPrepareUnderLoad(t *testing.T, st accountd.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	u := createUser(t, st, fullUser("busy-pool@example.com"))
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				err = st.InTx(ctx, func(tx accountd.Store) error {
					if _, err := tx.UserForUpdate(ctx, u.ID); err != nil {
						return err
					}
					_, err := tx.MeState(ctx, u.ID)
					return err
				})
			} else {
				_, err = st.MeState(ctx, u.ID)
				if err == nil {
					_, err = st.CountTokens(ctx, u.ID, accountd.KindAPI)
				}
			}
			if err != nil {
				t.Errorf("%d: %v", i, err)
			}
		})
	}
	wg.Wait()
}
