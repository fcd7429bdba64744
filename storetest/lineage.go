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
	if err := st.DeleteToken(ctx, root.ID); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	for _, gone := range []*accountd.Token{root, child, grandchild} {
		_, err := st.Token(ctx, gone.ID)
		checkNotFound(t, err, "API token")
	}
	getToken(t, st, sibling.ID)
	getToken(t, st, other.ID)
	events, err := st.AuthEventsAfter(ctx, 0, 100)
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
