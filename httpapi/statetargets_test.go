package httpapi_test

import (
	"errors"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

// TestStateChecksFollowChanges: what a device state's checks decided is
// kept per instance (service/targets.go), so every change that would
// refuse a state must reach it: a device deleted, an application deleted,
// a member's role lowered (in the organization or on the application), a
// member removed.
// Each is refused at once on the instance the change was made through when
// the caller made it, and within a second on the other instance, which
// had the decision cached; refusals are never cached.
func TestStateChecksFollowChanges(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		a := testenv.Start(t, backend, testenv.Options{})
		b := testenv.Start(t, backend, testenv.Options{Store: a.Store, Keys: a.Keys})
		a.User(t, "owner@example.com")
		a.User(t, "member@example.com")
		ownerA := a.Login(t, "owner@example.com")
		ownerB := b.Client(t, ownerA.Token())
		memberA := a.Login(t, "member@example.com")
		memberB := b.Client(t, memberA.Token())
		state := client.DeviceState{Data: map[string]any{"t": 21.5}}

		// status sends a state and says how it was answered: 200 or the
		// error's status
		status := func(c *client.Client, app, dev string) int {
			t.Helper()
			err := c.Device.SendState(ctx, app, dev, state)
			if err == nil {
				return 200
			}
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("state: %v", err)
			}
			return e.StatusCode
		}
		accepted := func(what string, c *client.Client, app, dev string) {
			t.Helper()
			for range 3 { // the first reads and keeps, the others hit
				if got := status(c, app, dev); got != 200 {
					t.Fatalf("%s: state answered %d, want 200", what, got)
				}
			}
		}
		// refusedNow: the instance the caller changed things through
		// refuses at once; refusedSoon: the other within a second
		refusedNow := func(what string, c *client.Client, app, dev string, want int) {
			t.Helper()
			if got := status(c, app, dev); got != want {
				t.Errorf("%s: state answered %d at once on the instance of the change, want %d", what, got, want)
			}
		}
		refusedSoon := func(what string, c *client.Client, app, dev string, want int) {
			t.Helper()
			changed := time.Now()
			for {
				got := status(c, app, dev)
				if got == want {
					break
				}
				if got != 200 || time.Since(changed) > time.Second {
					t.Fatalf("%s: state answered %d %v after the change, want %d within a second", what, got, time.Since(changed), want)
				}
				time.Sleep(10 * time.Millisecond)
			}
			// and it stays refused: a refusal is not kept, a yes not restored
			if got := status(c, app, dev); got != want {
				t.Fatalf("%s: state answered %d after being refused, want %d", what, got, want)
			}
		}

		// the owner's own application: a device deleted, then the application
		app := must(ownerA.Applications.Post(ctx, client.OwnedPost{Name: "own"})).of(t)
		d1 := must(ownerA.Devices.Post(ctx, app.ID, client.DevicePost{Name: "d1"})).of(t)
		d2 := must(ownerA.Devices.Post(ctx, app.ID, client.DevicePost{Name: "d2"})).of(t)
		for _, c := range []*client.Client{ownerA, ownerB} {
			accepted("own device", c, app.ID, d1.ID)
			accepted("own device", c, app.ID, d2.ID)
		}
		if err := ownerA.Device.Delete(ctx, app.ID, d1.ID); err != nil {
			t.Fatal(err)
		}
		refusedNow("device deleted", ownerA, app.ID, d1.ID, 404)
		refusedSoon("device deleted", ownerB, app.ID, d1.ID, 404)
		accepted("the other device", ownerB, app.ID, d2.ID)
		if err := ownerA.Application.Delete(ctx, app.ID); err != nil {
			t.Fatal(err)
		}
		refusedNow("application deleted", ownerA, app.ID, d2.ID, 404)
		refusedSoon("application deleted", ownerB, app.ID, d2.ID, 404)

		// an organization's application and a member who may collaborate
		org := joinOrg(t, ownerA, memberA, "member@example.com", "collaborate", client.OrgPost{Name: "Fleet"})
		memberID := must(memberA.Me.Get(ctx, nil)).of(t).ID
		oapp := must(ownerA.Applications.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "fleet"})).of(t)
		od := must(ownerA.Devices.Post(ctx, oapp.ID, client.DevicePost{Name: "od"})).of(t)
		for _, c := range []*client.Client{memberA, memberB, ownerA, ownerB} {
			accepted("organization's device", c, oapp.ID, od.ID)
		}
		// lowered to view: the admin made the change, so the member's
		// decisions go with its event, on both instances
		if _, err := ownerA.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: memberID, Role: "view"}); err != nil {
			t.Fatal(err)
		}
		refusedSoon("role lowered", memberA, oapp.ID, od.ID, 403)
		refusedSoon("role lowered", memberB, oapp.ID, od.ID, 403)
		accepted("the admin", ownerB, oapp.ID, od.ID)
		if _, err := ownerA.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: memberID, Role: "collaborate"}); err != nil {
			t.Fatal(err)
		}
		accepted("role raised", memberA, oapp.ID, od.ID)
		accepted("role raised", memberB, oapp.ID, od.ID)
		// a view role on the one application replaces collaborate there
		viewOnly := []client.ResourceRole{{ResourceID: oapp.ID, Role: "view"}}
		if _, err := ownerA.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: memberID, ApplicationRoles: &viewOnly}); err != nil {
			t.Fatal(err)
		}
		refusedSoon("view role on the application", memberA, oapp.ID, od.ID, 403)
		refusedSoon("view role on the application", memberB, oapp.ID, od.ID, 403)
		none := []client.ResourceRole{}
		if _, err := ownerA.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: memberID, ApplicationRoles: &none}); err != nil {
			t.Fatal(err)
		}
		accepted("resource role cleared", memberA, oapp.ID, od.ID)
		accepted("resource role cleared", memberB, oapp.ID, od.ID)
		// the member leaves through b: refused at once there
		if _, err := memberB.Org.RemoveMember(ctx, org.ID, memberID); err != nil {
			t.Fatal(err)
		}
		refusedNow("member left", memberB, oapp.ID, od.ID, 404)
		refusedSoon("member left", memberA, oapp.ID, od.ID, 404)
		// the organization's application deleted: an event of the
		// organization
		if err := ownerA.Application.Delete(ctx, oapp.ID); err != nil {
			t.Fatal(err)
		}
		refusedNow("organization's application deleted", ownerA, oapp.ID, od.ID, 404)
		refusedSoon("organization's application deleted", ownerB, oapp.ID, od.ID, 404)
	})
}
