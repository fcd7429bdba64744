package httpapi_test

import (
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
