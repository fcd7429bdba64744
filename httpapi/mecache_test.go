package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

// TestMeCountsAcrossInstances: a change made through one instance to what
// another instance's cached user sees (the user's new organization, an
// organization's new application, a new API token) shows there within a
// second, carried by events alone (the state has no expiry).
func TestMeCountsAcrossInstances(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		a := testenv.Start(t, backend, testenv.Options{})
		b := testenv.Start(t, backend, testenv.Options{Store: a.Store, Keys: a.Keys})
		a.User(t, "sam@example.com")
		ca := a.Login(t, "sam@example.com")
		org, err := ca.Orgs.Post(ctx, client.OrgPost{Name: "Shared"})
		if err != nil {
			t.Fatal(err)
		}
		cb := b.Client(t, ca.Token())
		waitFor := func(what string, ok func(*client.Me) bool) {
			t.Helper()
			changed := time.Now()
			for {
				me, err := cb.Me.Get(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if ok(me) {
					return
				}
				if time.Since(changed) > time.Second {
					t.Fatalf("%s: the other instance still shows %v a second later", what, me.Summary)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		waitFor("org", func(me *client.Me) bool { return me.Summary["orgCount"] == float64(1) })
		// an application of the organization: an organization event
		if _, err := ca.Applications.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "org app"}); err != nil {
			t.Fatal(err)
		}
		waitFor("org application", func(me *client.Me) bool { return me.Summary["appCount"] == float64(1) })
		if _, err := ca.UserAPITokens.Post(ctx, client.APITokenPost{Name: "counted"}); err != nil {
			t.Fatal(err)
		}
		waitFor("API token", func(me *client.Me) bool { return me.Summary["apiTokenCount"] == float64(1) })
	})
}

// TestTokenListAcrossInstances: GET /me/tokens answers are kept with the
// user's state on each instance; a token created, renamed, deactivated or
// deleted through one instance shows at once there (the caller reads their
// own writes) and within a second on the other, carried by events alone,
// whichever list query each instance keeps.
func TestTokenListAcrossInstances(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		a := testenv.Start(t, backend, testenv.Options{})
		b := testenv.Start(t, backend, testenv.Options{Store: a.Store, Keys: a.Keys})
		a.User(t, "lee@example.com")
		ca := a.Login(t, "lee@example.com")
		cb := b.Client(t, ca.Token())
		first, err := ca.UserAPITokens.Post(ctx, client.APITokenPost{Name: "first"})
		if err != nil {
			t.Fatal(err)
		}
		queries := []*client.ListParams{nil, {SortField: "name", SortDirection: "desc"}, {FilterField: "name", Filter: "f*"}}
		names := func(c *client.Client, q *client.ListParams) string {
			t.Helper()
			l, err := c.UserAPITokens.Get(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, tok := range l.Items {
				out = append(out, tok.Name+"/"+tok.Status)
			}
			if l.TotalCount != len(out) {
				t.Errorf("totalCount %d, %d items", l.TotalCount, len(out))
			}
			return strings.Join(out, ",")
		}
		// each instance keeps an answer to every query, then a change
		// through a must show on a at once and on b within a second
		check := func(what string, want ...string) {
			t.Helper()
			for i, q := range queries {
				if got := names(ca, q); got != want[i] {
					t.Errorf("%s: the instance that made it lists %q for query %d, want %q", what, got, i, want[i])
				}
			}
			changed := time.Now()
			for i, q := range queries {
				for {
					got := names(cb, q)
					if got == want[i] {
						break
					}
					if time.Since(changed) > time.Second {
						t.Fatalf("%s: the other instance still lists %q for query %d a second later, want %q", what, got, i, want[i])
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		}
		check("first token", "first/active", "first/active", "first/active")
		second, err := ca.UserAPITokens.Post(ctx, client.APITokenPost{Name: "second"})
		if err != nil {
			t.Fatal(err)
		}
		check("created", "first/active,second/active", "second/active,first/active", "first/active")
		renamed := "fresh"
		if _, err := ca.UserAPIToken.Patch(ctx, second.ID, client.APITokenPatch{Name: &renamed}); err != nil {
			t.Fatal(err)
		}
		check("renamed", "first/active,fresh/active", "fresh/active,first/active", "first/active,fresh/active")
		inactive := "inactive"
		if _, err := ca.UserAPIToken.Patch(ctx, first.ID, client.APITokenPatch{Status: &inactive}); err != nil {
			t.Fatal(err)
		}
		check("deactivated", "first/inactive,fresh/active", "fresh/active,first/inactive", "first/inactive,fresh/active")
		if err := ca.UserAPIToken.Delete(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		check("deleted", "fresh/active", "fresh/active", "fresh/active")
	})
}

// TestTokenListLastUsed: lastUsed moves without an event, so a kept list
// answer lasts at most listAnswerMaxAge (10s): a use written to the
// database shows in the list once that has passed, on the server's clock.
func TestTokenListLastUsed(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(time.Now().UTC())
	env := testenv.Start(t, "sqlite", testenv.Options{Clock: clock.Now})
	env.User(t, "uma@example.com")
	c := env.Login(t, "uma@example.com")
	tok, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "used"})
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() *time.Time {
		l, err := c.UserAPITokens.Get(ctx, nil)
		if err != nil || len(l.Items) != 1 {
			t.Fatalf("list: %v, %+v", err, l)
		}
		return l.Items[0].LastUsed
	}
	if lu := lastUsed(); lu != nil {
		t.Fatalf("a new token lists lastUsed %v", lu)
	}
	if _, err := env.Client(t, tok.Token).Me.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for { // written every 50ms here (testenv's LastUsedFlush)
		got, err := c.UserAPIToken.Get(ctx, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastUsed != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lastUsed not written within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	clock.Add(10 * time.Second)
	if lu := lastUsed(); lu == nil {
		t.Error("the list still shows no lastUsed 10s (listAnswerMaxAge) after the use was written")
	}
}
