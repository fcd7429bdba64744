package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/service"
)

func pageNames(p *client.Page[client.Owned]) []string { return ownedNames(p.Items) }

func roleList(roles ...client.ResourceRole) *[]client.ResourceRole { return &roles }

// TestPerResourceRoles is a member with role none and view on one
// application, then edit with view on one dashboard: what they list, read,
// change and find in their recent items follows.
func TestPerResourceRoles(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "ada@example.com")
		bobID := env.User(t, "bob@example.com")
		ada, bob := env.Login(t, "ada@example.com"), env.Login(t, "bob@example.com")
		org := must(ada.Orgs.Post(ctx, client.OrgPost{Name: "Engines"})).of(t)
		app1 := must(ada.Applications.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "app1"})).of(t)
		app2 := must(ada.Applications.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "app2"})).of(t)
		dash1 := must(ada.Dashboards.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "dash1"})).of(t)
		dash2 := must(ada.Dashboards.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "dash2"})).of(t)
		must(ada.Devices.Post(ctx, app1.ID, client.DevicePost{Name: "d1"})).of(t)
		must(ada.Devices.Post(ctx, app2.ID, client.DevicePost{Name: "d2"})).of(t)

		invites := must(ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "bob@example.com", Role: "none",
			ApplicationRoles: []client.ResourceRole{{ResourceID: app1.ID, Role: "view"}}})).of(t)
		if inv := invites[0]; inv.Role != "none" || !slices.Equal(inv.ApplicationRoles, []client.ResourceRole{{ResourceID: app1.ID, Role: "view"}}) {
			t.Errorf("invitation = %+v", inv)
		}
		must(bob.Me.RespondToInvite(ctx, invites[0].ID, "accept")).of(t)

		t.Run("none with view on one application", func(t *testing.T) {
			if got := pageNames(must(bob.Applications.Get(ctx, nil)).of(t)); !slices.Equal(got, []string{"app1"}) {
				t.Errorf("applications = %v, want [app1]", got)
			}
			if got := pageNames(must(bob.Applications.Get(ctx, &client.OwnedListParams{OrgID: org.ID})).of(t)); !slices.Equal(got, []string{"app1"}) {
				t.Errorf("applications of the organization = %v, want [app1]", got)
			}
			if got := pageNames(must(bob.Dashboards.Get(ctx, nil)).of(t)); len(got) != 0 {
				t.Errorf("dashboards = %v, want none", got)
			}
			must(bob.Application.Get(ctx, app1.ID)).of(t)
			if devices := must(bob.Devices.Get(ctx, app1.ID, nil)).of(t); devices.TotalCount != 1 {
				t.Errorf("devices of app1 = %+v", devices)
			}
			_, err := bob.Application.Get(ctx, app2.ID)
			wantError(t, err, 404, "application")
			_, err = bob.Devices.Get(ctx, app2.ID, nil)
			wantError(t, err, 404, "application")
			wantError(t, bob.Application.Delete(ctx, app1.ID), 403, "(view)", "delete resources")
			_, err = bob.Devices.Post(ctx, app1.ID, client.DevicePost{Name: "mine"})
			wantError(t, err, 403, "(view)")
			_, err = bob.Applications.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "mine"})
			wantError(t, err, 403, "(none)")
			_, err = bob.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "application", ItemID: app2.ID})
			wantError(t, err, 404, "application")
			must(bob.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "application", ItemID: app1.ID})).of(t)
			// the member sees the organization itself, and its members
			if got := must(bob.Org.Get(ctx, org.ID)).of(t); len(got.Members) != 2 {
				t.Errorf("organization as bob = %+v", got)
			}
			me := must(bob.Me.Get(ctx, nil)).of(t)
			if me.Summary["appCount"] != float64(1) || me.Summary["dashCount"] != float64(0) || me.Summary["deviceCount"] != float64(1) {
				t.Errorf("summary = %v, want 1 application, 0 dashboards, 1 device", me.Summary)
			}
		})

		t.Run("edit with view on one dashboard", func(t *testing.T) {
			edit := "edit"
			o := must(ada.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: bobID, Role: edit,
				DashboardRoles: roleList(client.ResourceRole{ResourceID: dash1.ID, Role: "view"})})).of(t)
			m := o.Members[1]
			if m.Role != "edit" || !slices.Equal(m.ApplicationRoles, []client.ResourceRole{{ResourceID: app1.ID, Role: "view"}}) ||
				!slices.Equal(m.DashboardRoles, []client.ResourceRole{{ResourceID: dash1.ID, Role: "view"}}) {
				t.Errorf("member = %+v", m)
			}
			if got := pageNames(must(bob.Dashboards.Get(ctx, nil)).of(t)); !slices.Equal(got, []string{"dash1", "dash2"}) {
				t.Errorf("dashboards = %v", got)
			}
			wantError(t, bob.Dashboard.Delete(ctx, dash1.ID), 403, "dashboard", "(view)")
			if err := bob.Dashboard.Delete(ctx, dash2.ID); err != nil {
				t.Errorf("deleting dash2 with edit: %v", err)
			}
			// the view on app1 still holds, app2 is editable
			wantError(t, bob.Application.Delete(ctx, app1.ID), 403, "(view)")
			must(bob.Devices.Post(ctx, app2.ID, client.DevicePost{Name: "bob's"})).of(t)
			must(bob.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "application", ItemID: app2.ID})).of(t)
		})

		t.Run("none on one application hides it, from recent items too", func(t *testing.T) {
			if me := must(bob.Me.Get(ctx, nil)).of(t); me.Summary["appCount"] != float64(2) {
				t.Errorf("summary as an editor = %v, want 2 applications", me.Summary)
			}
			must(ada.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: bobID,
				ApplicationRoles: roleList(client.ResourceRole{ResourceID: app1.ID, Role: "view"}, client.ResourceRole{ResourceID: app2.ID, Role: "none"})})).of(t)
			recent := must(bob.Me.FetchRecentItems(ctx, "application", "")).of(t)
			if got := recentIDs(recent); !slices.Equal(got, []string{app1.ID}) {
				t.Errorf("recent applications = %v, want only app1", got)
			}
			if got := pageNames(must(bob.Applications.Get(ctx, nil)).of(t)); !slices.Equal(got, []string{"app1"}) {
				t.Errorf("applications = %v, want [app1]", got)
			}
			_, err := bob.Application.Get(ctx, app2.ID)
			wantError(t, err, 404, "application")
			// bob's GET /me was cached before the change; its counts follow at once
			if me := must(bob.Me.Get(ctx, nil)).of(t); me.Summary["appCount"] != float64(1) || me.Summary["dashCount"] != float64(1) {
				t.Errorf("summary after the change = %v, want 1 application (app1) and 1 dashboard (dash1)", me.Summary)
			}
		})

		t.Run("refused roles", func(t *testing.T) {
			mine := must(bob.Applications.Post(ctx, client.OwnedPost{Name: "bob's own"})).of(t)
			for _, tc := range []struct {
				name  string
				patch client.OrgMemberPatch
				part  string
			}{
				{"not the organization's", client.OrgMemberPatch{UserID: bobID, ApplicationRoles: roleList(client.ResourceRole{ResourceID: mine.ID, Role: "view"})},
					"applicationRoles[0].resourceId"},
				{"a dashboard as an application", client.OrgMemberPatch{UserID: bobID, ApplicationRoles: roleList(client.ResourceRole{ResourceID: dash1.ID, Role: "view"})},
					"applicationRoles[0].resourceId"},
				{"twice", client.OrgMemberPatch{UserID: bobID, DashboardRoles: roleList(client.ResourceRole{ResourceID: dash1.ID, Role: "view"},
					client.ResourceRole{ResourceID: dash1.ID, Role: "none"})}, "dashboardRoles[1].resourceId"},
				{"edit on a resource", client.OrgMemberPatch{UserID: bobID, DashboardRoles: roleList(client.ResourceRole{ResourceID: dash1.ID, Role: "edit"})},
					"role"},
				{"nothing", client.OrgMemberPatch{UserID: bobID}, "role"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := ada.Org.ModifyMember(ctx, org.ID, tc.patch)
					wantError(t, err, 400, tc.part)
				})
			}
		})

		t.Run("deleting a resource drops the roles on it", func(t *testing.T) {
			if err := ada.Application.Delete(ctx, app2.ID); err != nil {
				t.Fatal(err)
			}
			o := must(ada.Org.Get(ctx, org.ID)).of(t)
			if got := o.Members[1].ApplicationRoles; !slices.Equal(got, []client.ResourceRole{{ResourceID: app1.ID, Role: "view"}}) {
				t.Errorf("applicationRoles after deleting app2 = %+v", got)
			}
		})
	})
}

// TestDisallowTransfer: a member invited with disallowTransfer may not
// transfer their resources into the organization; others may.
func TestDisallowTransfer(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "ada@example.com")
		env.User(t, "bob@example.com")
		env.User(t, "carol@example.com")
		ada, bob, carol := env.Login(t, "ada@example.com"), env.Login(t, "bob@example.com"), env.Login(t, "carol@example.com")
		org := must(ada.Orgs.Post(ctx, client.OrgPost{Name: "Kept"})).of(t)
		for _, who := range []struct {
			c        *client.Client
			email    string
			disallow bool
		}{{bob, "bob@example.com", true}, {carol, "carol@example.com", false}} {
			invites := must(ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: who.email, Role: "collaborate", DisallowTransfer: who.disallow})).of(t)
			inv := invites[len(invites)-1]
			if inv.DisallowTransfer != who.disallow {
				t.Errorf("invitation of %s: disallowTransfer = %v", who.email, inv.DisallowTransfer)
			}
			must(who.c.Me.RespondToInvite(ctx, inv.ID, "accept")).of(t)
		}
		bobApp := must(bob.Applications.Post(ctx, client.OwnedPost{Name: "bob's"})).of(t)
		carolApp := must(carol.Applications.Post(ctx, client.OwnedPost{Name: "carol's"})).of(t)
		_, err := bob.Me.TransferResources(ctx, client.ResourceTransfer{DestinationID: org.ID, DestinationType: "organization", ApplicationIDs: []string{bobApp.ID}})
		wantError(t, err, 400, "destinationId", "disallowTransfer")
		if got := must(bob.Application.Get(ctx, bobApp.ID)).of(t); got.OwnerType != "user" {
			t.Errorf("refused transfer moved the application: %+v", got)
		}
		// bob may still create in the organization: only transfers are barred
		must(bob.Applications.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "made inside"})).of(t)
		must(carol.Me.TransferResources(ctx, client.ResourceTransfer{DestinationID: org.ID, DestinationType: "organization", ApplicationIDs: []string{carolApp.ID}})).of(t)
		if got := must(carol.Application.Get(ctx, carolApp.ID)).of(t); got.OwnerType != "organization" {
			t.Errorf("carol's transfer did not move: %+v", got)
		}
	})
}

// TestOrgBody: every documented property of orgPost round-trips (cardToken
// aside, which is never kept), and the summary counts what the
// organization has.
func TestOrgBody(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "ada@example.com")
		env.User(t, "bob@example.com")
		ada, bob := env.Login(t, "ada@example.com"), env.Login(t, "bob@example.com")
		post := client.OrgPost{Name: "Full", Description: "every field", IconColor: "#123456", MFAMode: "notRequired",
			PlanID: "enterprise", BillingEmail: "billing@example.com", CardToken: "tok_visa"}
		org := must(ada.Orgs.Post(ctx, post)).of(t)
		if org.Name != post.Name || org.Description != post.Description || org.IconColor != post.IconColor || org.MFAMode != post.MFAMode ||
			org.PlanID != post.PlanID || org.BillingEmail != post.BillingEmail {
			t.Errorf("created = %+v, want %+v", org, post)
		}
		if org.Summary != (client.OrgSummary{MemberCount: 1}) || org.Limits == nil || len(org.Limits) != 0 {
			t.Errorf("new organization: summary %+v, limits %v", org.Summary, org.Limits)
		}
		_, status, body := rawGet(t, env, "/orgs/"+org.ID, ada)
		if status != 200 || !strings.Contains(body, `"whitelistedEmailDomains":[]`) || strings.Contains(body, "tok_visa") {
			t.Errorf("GET /orgs/{id} = %d %s", status, body)
		}
		app := must(ada.Applications.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "a"})).of(t)
		must(ada.Applications.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "b"})).of(t)
		must(ada.Applications.Post(ctx, client.OwnedPost{Name: "ada's own"})).of(t)
		must(ada.Devices.Post(ctx, app.ID, client.DevicePost{Name: "d"})).of(t)
		must(ada.Flows.Post(ctx, app.ID, client.FlowPost{Name: "f"})).of(t)
		must(ada.Dashboards.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "dash"})).of(t)
		must(ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "carol@example.com", Role: "view"})).of(t)
		joinOrgInvite(t, ada, bob, org.ID, "bob@example.com")
		want := client.OrgSummary{AppCount: 2, DashCount: 1, DeviceCount: 1, FlowCount: 1, MemberCount: 2, PendingInviteCount: 1}
		if got := must(ada.Org.Get(ctx, org.ID)).of(t).Summary; got != want {
			t.Errorf("summary = %+v, want %+v", got, want)
		}
		page := must(bob.Orgs.Get(ctx, nil)).of(t)
		if len(page.Items) != 1 || page.Items[0].Summary != want {
			t.Errorf("GET /orgs = %+v, want one organization with summary %+v", page.Items, want)
		}
		_, err := ada.Orgs.Post(ctx, client.OrgPost{Name: "x", BillingEmail: "not an email"})
		wantError(t, err, 400, "billingEmail")

		// summaryInclude and summaryExclude shape the summary of every
		// organization action
		for _, tc := range []struct {
			path   string
			status int
			want   string
		}{
			{"/orgs/" + org.ID + "?summaryInclude=appCount,flowCount", 200, `"summary":{"appCount":2,"flowCount":1}`},
			{"/orgs/" + org.ID + "?summaryExclude=payloadCount,appCount,dashCount,deviceCount,flowCount", 200, `"summary":{"memberCount":2,"pendingInviteCount":1}`},
			{"/orgs?summaryInclude=memberCount", 200, `"summary":{"memberCount":2}`},
			{"/orgs/" + org.ID + "?summaryInclude=notAField", 400, `summaryInclude: \"notAField\" is not a summary field`},
		} {
			if _, status, body := rawGet(t, env, tc.path, ada); status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("GET %s = %d %s, want %d with %s", tc.path, status, body, tc.status, tc.want)
			}
		}
	})
}

func joinOrgInvite(t *testing.T, owner, member *client.Client, orgID, email string) {
	t.Helper()
	inv := must(owner.Org.InviteMember(ctx, orgID, client.OrgInvitePost{Email: email, Role: "view"})).of(t)
	must(member.Me.RespondToInvite(ctx, inv[len(inv)-1].ID, "accept")).of(t)
}

func rawGet(t *testing.T, env *testenv.Env, path string, c *client.Client) (string, int, string) {
	t.Helper()
	status, _, body := raw(t, env, "GET", path, c.Token(), "", nil)
	return path, status, string(body)
}

// TestLimits: the operator's limits are shown in me and org, and one more
// of a kind answers 400 naming the limit; creations at once never pass it.
func TestLimits(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		limits := service.LimitsConfig{
			User: service.Limits{Applications: 3, Dashboards: 1, Devices: 2, Organizations: 1, APITokens: 1},
			Org:  service.Limits{Applications: 1, Dashboards: 2, Devices: 1},
		}
		env := testenv.Start(t, backend, testenv.Options{Configure: func(c *service.Config) { c.Limits = limits }})
		env.User(t, "ada@example.com")
		env.User(t, "bob@example.com")
		ada, bob := env.Login(t, "ada@example.com"), env.Login(t, "bob@example.com")

		me := must(ada.Me.Get(ctx, nil)).of(t)
		wantLimits := map[string]int{"application": 3, "dashboard": 1, "device": 2, "apitoken": 1}
		if fmt.Sprint(me.Limits) != fmt.Sprint(wantLimits) {
			t.Errorf("me limits = %v, want %v", me.Limits, wantLimits)
		}

		t.Run("applications at once", func(t *testing.T) {
			const tries = 12
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				made int
				errs []error
			)
			for i := range tries {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := ada.Applications.Post(ctx, client.OwnedPost{Name: fmt.Sprintf("app%d", i)})
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						made++
					} else {
						errs = append(errs, err)
					}
				}()
			}
			wg.Wait()
			if made != 3 {
				t.Errorf("%d applications made at once under a limit of 3", made)
			}
			for _, err := range errs {
				wantError(t, err, 400, "applications limit of 3 reached")
			}
			if n := must(ada.Applications.Get(ctx, nil)).of(t).TotalCount; n != 3 {
				t.Errorf("applications listed = %d, want 3", n)
			}
		})

		t.Run("each kind", func(t *testing.T) {
			must(ada.Dashboards.Post(ctx, client.OwnedPost{Name: "d"})).of(t)
			_, err := ada.Dashboards.Post(ctx, client.OwnedPost{Name: "d2"})
			wantError(t, err, 400, "dashboards limit of 1 reached")
			app := must(bob.Applications.Post(ctx, client.OwnedPost{Name: "bob's"})).of(t)
			app2 := must(bob.Applications.Post(ctx, client.OwnedPost{Name: "bob's too"})).of(t)
			must(bob.Devices.Post(ctx, app.ID, client.DevicePost{Name: "1"})).of(t)
			must(bob.Devices.Post(ctx, app2.ID, client.DevicePost{Name: "2"})).of(t)
			_, err = bob.Devices.Post(ctx, app.ID, client.DevicePost{Name: "3"})
			wantError(t, err, 400, "devices limit of 2 reached")
			must(ada.UserAPITokens.Post(ctx, client.APITokenPost{Name: "t1"})).of(t)
			_, err = ada.UserAPITokens.Post(ctx, client.APITokenPost{Name: "t2"})
			wantError(t, err, 400, "API tokens limit of 1 reached")
		})

		t.Run("organizations", func(t *testing.T) {
			org := must(ada.Orgs.Post(ctx, client.OrgPost{Name: "one"})).of(t)
			if fmt.Sprint(org.Limits) != fmt.Sprint(map[string]int{"application": 1, "dashboard": 2, "device": 1}) {
				t.Errorf("org limits = %v", org.Limits)
			}
			_, err := ada.Orgs.Post(ctx, client.OrgPost{Name: "two"})
			wantError(t, err, 400, "organizations limit of 1 reached")
			// bob is in none yet, but the org limits its own resources
			must(bob.Orgs.Post(ctx, client.OrgPost{Name: "bob's"})).of(t)
			inv := must(ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "bob@example.com", Role: "edit"})).of(t)
			_, err = bob.Me.RespondToInvite(ctx, inv[0].ID, "accept")
			wantError(t, err, 400, "organizations limit of 1 reached")
			_, err = ada.Applications.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "org app"})
			if err != nil {
				t.Fatalf("first organization application: %v", err)
			}
			_, err = ada.Applications.Post(ctx, client.OwnedPost{OrgID: org.ID, Name: "org app 2"})
			wantError(t, err, 400, "applications limit of 1 reached", "the organization")
			// nor may a transfer carry the organization past it
			mine := must(ada.Applications.Get(ctx, &client.OwnedListParams{ListParams: client.ListParams{FilterField: "name", Filter: "app*"}})).of(t).Items[0]
			_, err = ada.Me.TransferResources(ctx, client.ResourceTransfer{DestinationID: org.ID, DestinationType: "organization", ApplicationIDs: []string{mine.ID}})
			wantError(t, err, 400, "applications limit of 1 reached", "would have 2", "nothing was transferred")
			if got := must(ada.Application.Get(ctx, mine.ID)).of(t); got.OwnerType != "user" {
				t.Errorf("a transfer past the limit moved the application: %+v", got)
			}
		})
	})
}

// TestMeAvatar: the me body carries avatarUrl, the Gravatar of the email.
func TestMeAvatar(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "Ada@Example.com")
	me := must(env.Login(t, "ada@example.com").Me.Get(ctx, nil)).of(t)
	if want := service.AvatarURL("ada@example.com", ""); me.AvatarURL != want || !strings.HasPrefix(want, "https://www.gravatar.com/avatar/") {
		t.Errorf("avatarUrl = %q, want %q", me.AvatarURL, want)
	}
}
