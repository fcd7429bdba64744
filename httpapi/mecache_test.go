package httpapi_test

import (
	"fmt"
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
				listsWithinASecond(t, changed, fmt.Sprintf("%s, query %d, the other instance", what, i), func() string { return names(cb, q) }, want[i])
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

// TestApplicationListAcrossInstances: GET /applications answers (without
// a summary) are kept with the user's state on each instance; an
// application created, deleted or moved, an organization's application
// created by another member, and leaving the organization all show within
// a second on the other instance (at once on the one the caller used), for
// each list query kept.
func TestApplicationListAcrossInstances(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		a := testenv.Start(t, backend, testenv.Options{})
		b := testenv.Start(t, backend, testenv.Options{Store: a.Store, Keys: a.Keys})
		a.User(t, "ann@example.com")
		a.User(t, "ben@example.com")
		annA := a.Login(t, "ann@example.com")
		annB := b.Client(t, annA.Token())
		benA := a.Login(t, "ben@example.com")
		org := joinOrg(t, benA, annA, "ann@example.com", "collaborate", client.OrgPost{Name: "Shop"})
		annID := must(annA.Me.Get(ctx, nil)).of(t).ID
		queries := []*client.OwnedListParams{nil, {ListParams: client.ListParams{SortField: "name", SortDirection: "desc"}},
			{ListParams: client.ListParams{FilterField: "name", Filter: "o*"}}, {Own: true}}
		names := func(c *client.Client, q *client.OwnedListParams) string {
			t.Helper()
			l := must(c.Applications.Get(ctx, q)).of(t)
			var out []string
			for _, app := range l.Items {
				out = append(out, app.Name)
			}
			if l.TotalCount != len(out) {
				t.Errorf("totalCount %d, %d items", l.TotalCount, len(out))
			}
			return strings.Join(out, ",")
		}
		check := func(what string, now *client.Client, want ...string) {
			t.Helper()
			if now != nil {
				for i, q := range queries {
					if got := names(now, q); got != want[i] {
						t.Errorf("%s: the instance of the change lists %q for query %d, want %q", what, got, i, want[i])
					}
				}
			}
			changed := time.Now()
			for _, c := range []*client.Client{annA, annB} {
				for i, q := range queries {
					listsWithinASecond(t, changed, fmt.Sprintf("%s, query %d", what, i), func() string { return names(c, q) }, want[i])
				}
			}
		}
		check("none", nil, "", "", "", "")
		own := must(annA.Applications.Post(ctx, client.OwnedPost{Name: "own"})).of(t)
		check("created", annA, "own", "own", "own", "own")
		// another member's application of the organization: an
		// organization event
		must(benA.Applications.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "orders"})).of(t)
		check("organization's application", nil, "orders,own", "own,orders", "orders,own", "own")
		// moved into the organization: still listed, now the organization's
		must(annB.Me.TransferResources(ctx, client.ResourceTransfer{DestinationID: org.ID, DestinationType: "organization", ApplicationIDs: []string{own.ID}})).of(t)
		check("moved", annB, "orders,own", "own,orders", "orders,own", "")
		if got := must(annB.Applications.Get(ctx, &client.OwnedListParams{ListParams: client.ListParams{FilterField: "name", Filter: "own"}})).of(t); len(got.Items) != 1 || got.Items[0].OwnerType != "organization" {
			t.Errorf("moved application listed as %+v", got.Items)
		}
		// leaving the organization through b takes both away
		if _, err := annB.Org.RemoveMember(ctx, org.ID, annID); err != nil {
			t.Fatal(err)
		}
		check("left", annB, "", "", "", "")
	})
}

// listsWithinASecond asks list until it answers want, failing if a second
// has passed since changed.
func listsWithinASecond(t *testing.T, changed time.Time, what string, list func() string, want string) {
	t.Helper()
	for {
		got := list()
		if got == want {
			return
		}
		if time.Since(changed) > time.Second {
			t.Fatalf("%s: still listed %q a second after the change, want %q", what, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
