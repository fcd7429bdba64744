package httpapi_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/service"
)

// must carries a call's two results to of, which fails the test on the
// error: must(c.Orgs.Post(ctx, o)).of(t).
func must[T any](v T, err error) result[T] { return result[T]{v, err} }

type result[T any] struct {
	v   T
	err error
}

func (r result[T]) of(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func recentIDs(l *client.RecentItemList) []string {
	var out []string
	for _, it := range l.Items {
		out = append(out, it.ID)
	}
	return out
}

func memberRoles(o *client.Org) map[string]string {
	out := map[string]string{}
	for _, m := range o.Members {
		out[m.Email] = m.Role
	}
	return out
}

// joinOrg makes an organization of owner's and brings member in with role,
// through an invitation.
func joinOrg(t *testing.T, owner, member *client.Client, memberEmail, role string, post client.OrgPost) *client.Org {
	t.Helper()
	org := must(owner.Orgs.Post(ctx, post)).of(t)
	inv := must(owner.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: memberEmail, Role: role})).of(t)
	must(member.Me.RespondToInvite(ctx, inv[len(inv)-1].ID, "accept")).of(t)
	return must(owner.Org.Get(ctx, org.ID)).of(t)
}

// TestTwoUsersShareAnOrganization is the scenario from end to end:
// two users make an organization, invite, accept, see each other, move an
// application and a dashboard into it, and find them in their recent items
// and summaries.
func TestTwoUsersShareAnOrganization(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "ada@example.com")
		env.User(t, "bob@example.com")
		env.User(t, "carol@example.com")
		ada, bob, carol := env.Login(t, "ada@example.com"), env.Login(t, "bob@example.com"), env.Login(t, "carol@example.com")

		org := must(ada.Orgs.Post(ctx, client.OrgPost{Name: "Engines", Description: "difference and analytical"})).of(t)
		if org.MFAMode != "notRequired" || len(org.Members) != 1 || org.Members[0].Role != "admin" {
			t.Fatalf("new org = %+v", org)
		}
		invites := must(ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "BOB@example.com", Role: "edit"})).of(t)
		if len(invites) != 1 || invites[0].HasExpired || invites[0].TTL != float64(service.InviteTTL.Milliseconds()) {
			t.Fatalf("invites = %+v", invites)
		}
		if got := must(ada.Org.PendingInvites(ctx, org.ID)).of(t); len(got) != 1 || got[0].ID != invites[0].ID {
			t.Errorf("pending = %+v", got)
		}

		mine := must(bob.Me.Invites(ctx)).of(t)
		if len(mine) != 1 || mine[0].OrgName != "Engines" || mine[0].Role != "edit" || mine[0].Expired || mine[0].InvitedBy.Email != "ada@example.com" {
			t.Fatalf("bob's invites = %+v", mine)
		}
		if one := must(bob.Me.Invite(ctx, mine[0].ID)).of(t); one.ID != mine[0].ID || one.RequiresMFA {
			t.Errorf("bob's invite = %+v", one)
		}
		if got := must(carol.Me.Invites(ctx)).of(t); len(got) != 0 {
			t.Errorf("carol sees %+v", got)
		}
		_, err := carol.Me.Invite(ctx, mine[0].ID)
		wantError(t, err, 404, "invitation")
		_, err = carol.Me.RespondToInvite(ctx, mine[0].ID, "accept")
		wantError(t, err, 404, "invitation")

		res := must(bob.Me.RespondToInvite(ctx, mine[0].ID, "accept")).of(t)
		if res.Result != "accepted" || res.OrgID != org.ID {
			t.Errorf("accept = %+v", res)
		}
		_, err = bob.Me.RespondToInvite(ctx, mine[0].ID, "accept")
		wantError(t, err, 400, "already answered")
		_, err = bob.Me.Invite(ctx, mine[0].ID)
		wantError(t, err, 404)
		for _, c := range []*client.Client{ada, bob} {
			got := must(c.Org.Get(ctx, org.ID)).of(t)
			if roles := memberRoles(got); roles["ada@example.com"] != "admin" || roles["bob@example.com"] != "edit" || len(roles) != 2 {
				t.Errorf("members = %v", roles)
			}
		}
		_, err = carol.Org.Get(ctx, org.ID)
		wantError(t, err, 404, "organization")

		app := must(ada.Applications.Post(ctx, client.OwnedPost{Name: "Mill", Description: "the store and the mill"})).of(t)
		dash := must(ada.Dashboards.Post(ctx, client.OwnedPost{Name: "Tables"})).of(t)
		dev := must(ada.Devices.Post(ctx, app.ID, client.DevicePost{Name: "Card reader"})).of(t)
		flow := must(ada.Flows.Post(ctx, app.ID, client.FlowPost{Name: "Bernoulli", Enabled: true})).of(t)
		if app.OwnerType != "user" || app.ApplicationID != app.ID || dev.DeviceClass != "standalone" || flow.FlowClass != "cloud" || !flow.Enabled {
			t.Errorf("created %+v %+v %+v", app, dev, flow)
		}
		_, err = bob.Application.Get(ctx, app.ID)
		wantError(t, err, 404, "application")
		must(ada.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "application", ItemID: app.ID})).of(t)
		must(ada.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "dashboard", ItemID: dash.ID})).of(t)

		out := must(ada.Me.TransferResources(ctx, client.ResourceTransfer{DestinationID: org.ID, DestinationType: "organization",
			ApplicationIDs: []string{app.ID}, DashboardIDs: []string{dash.ID}, Strict: true})).of(t)
		if !out.Success || out.NotTransferred != nil {
			t.Errorf("transfer = %+v", out)
		}
		got := must(bob.Application.Get(ctx, app.ID)).of(t)
		if got.ID != app.ID || got.OwnerType != "organization" || got.OwnerID != org.ID || got.OrganizationName != "Engines" {
			t.Errorf("moved app = %+v", got)
		}
		if d := must(bob.Dashboard.Get(ctx, dash.ID)).of(t); d.OwnerID != org.ID || d.DashboardID != dash.ID {
			t.Errorf("moved dashboard = %+v", d)
		}
		if l := must(bob.Applications.Get(ctx, &client.OwnedListParams{OrgID: org.ID})).of(t); l.TotalCount != 1 || l.Items[0].ID != app.ID {
			t.Errorf("bob's org applications = %+v", l)
		}
		if l := must(bob.Dashboards.Get(ctx, nil)).of(t); l.TotalCount != 1 || l.Items[0].ID != dash.ID {
			t.Errorf("bob's dashboards = %+v", l)
		}
		if l := must(bob.Devices.Get(ctx, app.ID, nil)).of(t); l.TotalCount != 1 || l.Items[0].ID != dev.ID {
			t.Errorf("bob's devices = %+v", l)
		}
		if l := must(bob.Flows.Get(ctx, app.ID, nil)).of(t); l.TotalCount != 1 || l.Items[0].ID != flow.ID {
			t.Errorf("bob's flows = %+v", l)
		}
		if d := must(bob.Device.Get(ctx, app.ID, dev.ID)).of(t); d.Name != "Card reader" {
			t.Errorf("device = %+v", d)
		}
		if f := must(bob.Flow.Get(ctx, app.ID, flow.ID)).of(t); f.Name != "Bernoulli" {
			t.Errorf("flow = %+v", f)
		}

		must(bob.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "organization", ItemID: org.ID})).of(t)
		must(bob.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "device", ParentID: app.ID, ItemID: dev.ID})).of(t)
		l := must(bob.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "application", ItemID: app.ID})).of(t)
		if !slices.Equal(recentIDs(l), []string{app.ID}) || l.Items[0].Name != "Mill" {
			t.Errorf("bob's recent applications = %+v", l)
		}
		if l := must(bob.Me.FetchRecentItems(ctx, "device", app.ID)).of(t); !slices.Equal(recentIDs(l), []string{dev.ID}) || l.ParentID != app.ID {
			t.Errorf("bob's recent devices = %+v", l)
		}
		for _, c := range []*client.Client{ada, bob} {
			me := must(c.Me.Get(ctx, &client.MeGetParams{IncludeRecent: true})).of(t)
			if me.RecentApplications == nil || !slices.Equal(recentIDs(me.RecentApplications), []string{app.ID}) {
				t.Errorf("%s recentApplications = %+v", me.Email, me.RecentApplications)
			}
			if me.RecentDashboards == nil || me.RecentOrganizations == nil {
				t.Errorf("%s: recent lists missing: %+v", me.Email, me)
			}
			want := map[string]any{"apiTokenCount": float64(0), "appCount": float64(1), "dashCount": float64(1),
				"deviceCount": float64(1), "flowCount": float64(1), "orgCount": float64(1)}
			for k, v := range want {
				if me.Summary[k] != v {
					t.Errorf("%s summary.%s = %v, want %v", me.Email, k, me.Summary[k], v)
				}
			}
		}
		me := must(bob.Me.Get(ctx, &client.MeGetParams{SummaryInclude: []string{"appCount", "webhookCount"}})).of(t)
		if len(me.Summary) != 1 || me.Summary["appCount"] != float64(1) || me.RecentApplications != nil {
			t.Errorf("summaryInclude=appCount: %+v, recent %v", me.Summary, me.RecentApplications)
		}
		me = must(bob.Me.Get(ctx, &client.MeGetParams{SummaryExclude: []string{"appCount", "dashCount"}})).of(t)
		if _, ok := me.Summary["appCount"]; ok || me.Summary["orgCount"] != float64(1) {
			t.Errorf("summaryExclude: %+v", me.Summary)
		}
		if l := must(carol.Me.FetchRecentItems(ctx, "application", "")).of(t); len(l.Items) != 0 {
			t.Errorf("carol's recent = %+v", l)
		}
		status, _, body := raw(t, env, "GET", "/me?includeRecent=maybe", bob.Token(), "", nil)
		if status != 400 {
			t.Errorf("includeRecent=maybe: %d %s", status, body)
		}
	})
}

func TestInvitationRules(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		clock := testenv.NewClock(time.Now())
		// unverified users are let through to the service, whose own
		// rule about unverified addresses is under test too
		env := testenv.Start(t, backend, testenv.Options{Clock: clock.Now, AllowUnverifiedEmail: true})
		adaID := env.User(t, "ada@example.com")
		env.User(t, "bob@example.com")
		env.User(t, "carol@example.com")
		ada, bob, carol := env.Login(t, "ada@example.com"), env.Login(t, "bob@example.com"), env.Login(t, "carol@example.com")
		_, err := bob.Orgs.Post(ctx, client.OrgPost{Name: "Mine", MFAMode: "adminRequired"})
		wantError(t, err, 400, "two-factor", "its admins")
		// ada has two-factor auth, bob does not
		if err := env.Store.PutTwoFactor(ctx, &accountd.TwoFactor{UserID: adaID, Secret: "sealed", UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		org := must(ada.Orgs.Post(ctx, client.OrgPost{Name: "Strict", MFAMode: "required"})).of(t)

		t.Run("validation", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				in   client.OrgInvitePost
				part string
			}{
				{"bad email", client.OrgInvitePost{Email: "nope", Role: "view"}, "email"},
				{"unknown role", client.OrgInvitePost{Email: "x@example.com", Role: "owner"}, "role"},
				{"role on no resource of the org", client.OrgInvitePost{Email: "x@example.com", Role: "none",
					ApplicationRoles: []client.ResourceRole{{ResourceID: "5f0000000000000000000000", Role: "view"}}}, "applicationRoles[0].resourceId"},
				{"member", client.OrgInvitePost{Email: "Ada@example.com", Role: "view"}, "already belongs to a member"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := ada.Org.InviteMember(ctx, org.ID, tc.in)
					wantError(t, err, 400, tc.part)
				})
			}
		})
		inv := must(ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "bob@example.com", Role: "view"})).of(t)[0]
		_, err = ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "bob@example.com", Role: "edit"})
		wantError(t, err, 400, "pending invitation")
		_, err = carol.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "carol@example.com", Role: "admin"})
		wantError(t, err, 404, "organization")

		mine := must(bob.Me.Invite(ctx, inv.ID)).of(t)
		if !mine.RequiresMFA {
			t.Errorf("requiresMFA = false for an mfaMode required org")
		}
		_, err = bob.Me.RespondToInvite(ctx, inv.ID, "accept")
		wantError(t, err, 400, "requires two-factor authentication of every member", "enable it")
		if must(ada.Org.Get(ctx, org.ID)).of(t); len(must(ada.Org.Get(ctx, org.ID)).of(t).Members) != 1 {
			t.Error("a refused acceptance made a member")
		}
		// the refusal did not use the invitation up: rejecting still works
		if r := must(bob.Me.RespondToInvite(ctx, inv.ID, "reject")).of(t); r.Result != "rejected" {
			t.Errorf("reject = %+v", r)
		}
		_, err = bob.Me.RespondToInvite(ctx, inv.ID, "accept")
		wantError(t, err, 400, "already answered")

		// expiry: a fresh invitation to carol, answered after its ttl
		inv = must(ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "carol@example.com", Role: "view"})).of(t)[0]
		clock.Add(service.InviteTTL)
		if got := must(carol.Me.Invites(ctx)).of(t); len(got) != 1 || !got[0].Expired {
			t.Errorf("after the ttl: %+v", got)
		}
		if got := must(ada.Org.PendingInvites(ctx, org.ID)).of(t); len(got) != 1 || !got[0].HasExpired {
			t.Errorf("pending after the ttl: %+v", got)
		}
		_, err = carol.Me.RespondToInvite(ctx, inv.ID, "dismiss")
		wantError(t, err, 410, "expired")
		// an expired invitation can be replaced, and revoked
		inv2 := must(ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "carol@example.com", Role: "view"})).of(t)
		if len(inv2) != 2 {
			t.Fatalf("pending = %+v", inv2)
		}
		left := must(ada.Org.RevokeInvite(ctx, org.ID, inv.ID)).of(t)
		if len(left) != 1 || left[0].ID == inv.ID {
			t.Errorf("after revoking: %+v", left)
		}
		_, err = ada.Org.RevokeInvite(ctx, org.ID, inv.ID)
		wantError(t, err, 404, "invitation")
		_, err = carol.Me.RespondToInvite(ctx, inv.ID, "accept")
		wantError(t, err, 404)

		// an unverified address receives nothing
		if _, err := env.Service.CreateUser(ctx, service.NewUser{Email: "dan@example.com", Password: testenv.Password, FirstName: "Dan"}); err != nil {
			t.Fatal(err)
		}
		dan := env.Login(t, "dan@example.com")
		open := must(ada.Orgs.Post(ctx, client.OrgPost{Name: "Open"})).of(t)
		inv = must(ada.Org.InviteMember(ctx, open.ID, client.OrgInvitePost{Email: "dan@example.com", Role: "view"})).of(t)[0]
		if got := must(dan.Me.Invites(ctx)).of(t); len(got) != 0 {
			t.Errorf("unverified dan sees %+v", got)
		}
		_, err = dan.Me.RespondToInvite(ctx, inv.ID, "accept")
		wantError(t, err, 400, "verified")

		status, _, body := raw(t, env, "POST", "/me/invites/"+inv.ID, dan.Token(), `{"action":"maybe"}`, nil)
		if status != 400 {
			t.Errorf("action maybe: %d %s", status, body)
		}
	})
}

func TestMembers(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		ids := map[string]string{}
		for _, e := range []string{"ada@example.com", "bob@example.com", "carol@example.com"} {
			ids[e] = env.User(t, e)
		}
		ada, bob, carol := env.Login(t, "ada@example.com"), env.Login(t, "bob@example.com"), env.Login(t, "carol@example.com")
		org := joinOrg(t, ada, bob, "bob@example.com", "view", client.OrgPost{Name: "Guild"})
		inv := must(ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "carol@example.com", Role: "collaborate"})).of(t)
		must(carol.Me.RespondToInvite(ctx, inv[0].ID, "accept")).of(t)

		_, err := bob.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: ids["carol@example.com"], Role: "view"})
		wantError(t, err, 403, "view", "administer")
		_, err = ada.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: ids["ada@example.com"], Role: "edit"})
		wantError(t, err, 400, "only admin")
		_, err = ada.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: ids["carol@example.com"]})
		wantError(t, err, 400, "role", "required")
		_, err = ada.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: "5f0000000000000000000000", Role: "view"})
		wantError(t, err, 404, "member")
		got := must(ada.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: ids["bob@example.com"], Role: "admin"})).of(t)
		if memberRoles(got)["bob@example.com"] != "admin" {
			t.Errorf("members = %v", memberRoles(got))
		}
		// two admins: ada may now step down, then bob is the only one
		must(ada.Org.ModifyMember(ctx, org.ID, client.OrgMemberPatch{UserID: ids["ada@example.com"], Role: "view"})).of(t)
		_, err = bob.Org.RemoveMember(ctx, org.ID, ids["bob@example.com"])
		wantError(t, err, 400, "only admin")
		_, err = ada.Org.RemoveMember(ctx, org.ID, ids["carol@example.com"])
		wantError(t, err, 403)
		// any member may leave
		left := must(carol.Org.RemoveMember(ctx, org.ID, ids["carol@example.com"])).of(t)
		if _, ok := memberRoles(left)["carol@example.com"]; ok {
			t.Errorf("carol still listed: %v", memberRoles(left))
		}
		_, err = carol.Org.Get(ctx, org.ID)
		wantError(t, err, 404)
		got = must(bob.Org.RemoveMember(ctx, org.ID, ids["ada@example.com"])).of(t)
		if len(got.Members) != 1 {
			t.Errorf("members = %v", memberRoles(got))
		}

		orgs := must(bob.Orgs.Get(ctx, &client.ListParams{FilterField: "name", Filter: "gu*"})).of(t)
		if orgs.TotalCount != 1 || orgs.Items[0].ID != org.ID || orgs.FilterField != "name" {
			t.Errorf("orgs = %+v", orgs)
		}
		_, err = bob.Orgs.Get(ctx, &client.ListParams{SortField: "status"})
		wantError(t, err, 400, "sortField")

		// an organization that owns something cannot be deleted
		app := must(bob.Applications.Post(ctx, client.OwnedPost{Name: "Shared", OrgID: org.ID})).of(t)
		err = bob.Org.Delete(ctx, org.ID)
		wantError(t, err, 400, "1 application", "delete them first")
		must(bob.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "organization", ItemID: org.ID})).of(t)
		if err := bob.Application.Delete(ctx, app.ID); err != nil {
			t.Fatal(err)
		}
		if err := bob.Org.Delete(ctx, org.ID); err != nil {
			t.Fatal(err)
		}
		_, err = bob.Org.Get(ctx, org.ID)
		wantError(t, err, 404)
		if l := must(bob.Me.FetchRecentItems(ctx, "organization", "")).of(t); len(l.Items) != 0 {
			t.Errorf("deleted org still recent: %+v", l)
		}
	})
}

func TestResourceRoles(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		for _, e := range []string{"ada@example.com", "vic@example.com", "col@example.com", "eve@example.com"} {
			env.User(t, e)
		}
		ada, vic, col, eve := env.Login(t, "ada@example.com"), env.Login(t, "vic@example.com"), env.Login(t, "col@example.com"), env.Login(t, "eve@example.com")
		org := joinOrg(t, ada, vic, "vic@example.com", "view", client.OrgPost{Name: "Works"})
		inv := must(ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "col@example.com", Role: "collaborate"})).of(t)
		must(col.Me.RespondToInvite(ctx, inv[0].ID, "accept")).of(t)
		app := must(ada.Applications.Post(ctx, client.OwnedPost{Name: "Plant", OrgID: org.ID})).of(t)
		dash := must(ada.Dashboards.Post(ctx, client.OwnedPost{Name: "Board", OrgID: org.ID})).of(t)

		_, err := vic.Applications.Post(ctx, client.OwnedPost{Name: "No", OrgID: org.ID})
		wantError(t, err, 403, "view")
		_, err = vic.Devices.Post(ctx, app.ID, client.DevicePost{Name: "No"})
		wantError(t, err, 403)
		_, err = eve.Applications.Post(ctx, client.OwnedPost{Name: "No", OrgID: org.ID})
		wantError(t, err, 400, "orgId")
		_, err = eve.Applications.Get(ctx, &client.OwnedListParams{OrgID: org.ID})
		wantError(t, err, 404, "organization")
		for _, c := range []*client.Client{vic, col} {
			must(c.Application.Get(ctx, app.ID)).of(t)
			must(c.Dashboard.Get(ctx, dash.ID)).of(t)
		}
		_, err = eve.Dashboard.Get(ctx, dash.ID)
		wantError(t, err, 404, "dashboard")
		_, err = eve.Devices.Get(ctx, app.ID, nil)
		wantError(t, err, 404, "application")

		dev := must(col.Devices.Post(ctx, app.ID, client.DevicePost{Name: "Sensor", DeviceClass: "gateway"})).of(t)
		flow := must(col.Flows.Post(ctx, app.ID, client.FlowPost{Name: "Alarm", FlowClass: "edge"})).of(t)
		err = col.Application.Delete(ctx, app.ID)
		wantError(t, err, 403, "collaborate", "delete")
		err = col.Dashboard.Delete(ctx, dash.ID)
		wantError(t, err, 403)
		err = vic.Device.Delete(ctx, app.ID, dev.ID)
		wantError(t, err, 403)
		spare := must(col.Devices.Post(ctx, app.ID, client.DevicePost{Name: "Spare"})).of(t)
		if err := col.Device.Delete(ctx, app.ID, spare.ID); err != nil {
			t.Fatal(err)
		}
		err = col.Device.Delete(ctx, app.ID, spare.ID)
		wantError(t, err, 404, "device")
		_, err = col.Device.Get(ctx, app.ID, "5f0000000000000000000000")
		wantError(t, err, 404, "device")
		_, err = col.Flow.Get(ctx, app.ID, "5f0000000000000000000000")
		wantError(t, err, 404, "flow")

		// deleting an application removes its devices, flows and their
		// recent-item entries
		must(vic.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "device", ParentID: app.ID, ItemID: dev.ID})).of(t)
		must(vic.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "flow", ParentID: app.ID, ItemID: flow.ID})).of(t)
		if err := col.Flow.Delete(ctx, app.ID, flow.ID); err != nil {
			t.Fatal(err)
		}
		if l := must(vic.Me.FetchRecentItems(ctx, "flow", app.ID)).of(t); len(l.Items) != 0 {
			t.Errorf("deleted flow still recent: %+v", l)
		}
		if err := ada.Application.Delete(ctx, app.ID); err != nil {
			t.Fatal(err)
		}
		_, err = col.Device.Get(ctx, app.ID, dev.ID)
		wantError(t, err, 404)
		if l := must(vic.Me.FetchRecentItems(ctx, "device", app.ID)).of(t); len(l.Items) != 0 {
			t.Errorf("device of a deleted application still recent: %+v", l)
		}
		if err := ada.Dashboard.Delete(ctx, dash.ID); err != nil {
			t.Fatal(err)
		}
		err = ada.Dashboard.Delete(ctx, dash.ID)
		wantError(t, err, 404)
		me := must(vic.Me.Get(ctx, nil)).of(t)
		if me.Summary["appCount"] != float64(0) || me.Summary["deviceCount"] != float64(0) {
			t.Errorf("summary after deletes = %v", me.Summary)
		}
	})
}

func TestResourceLists(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "ada@example.com")
		ada := env.Login(t, "ada@example.com")
		app := must(ada.Applications.Post(ctx, client.OwnedPost{Name: "base"})).of(t)
		var names []string
		for i := range 5 {
			name := fmt.Sprintf("Item-%d", i)
			names = append(names, name)
			must(ada.Applications.Post(ctx, client.OwnedPost{Name: name})).of(t)
			must(ada.Dashboards.Post(ctx, client.OwnedPost{Name: name})).of(t)
			must(ada.Devices.Post(ctx, app.ID, client.DevicePost{Name: name})).of(t)
			must(ada.Flows.Post(ctx, app.ID, client.FlowPost{Name: name})).of(t)
		}
		p := &client.ListParams{FilterField: "name", Filter: "item-*", SortDirection: "desc", PerPage: 2, Page: 1}
		apps := must(ada.Applications.Get(ctx, &client.OwnedListParams{ListParams: *p})).of(t)
		dashes := must(ada.Dashboards.Get(ctx, &client.OwnedListParams{ListParams: *p})).of(t)
		devs := must(ada.Devices.Get(ctx, app.ID, p)).of(t)
		flows := must(ada.Flows.Get(ctx, app.ID, p)).of(t)
		want := []string{names[2], names[1]}
		for what, got := range map[string][]string{
			"applications": ownedNames(apps.Items), "dashboards": ownedNames(dashes.Items),
			"devices": deviceNames(devs.Items), "flows": flowNames(flows.Items),
		} {
			if !slices.Equal(got, want) {
				t.Errorf("%s page = %v, want %v", what, got, want)
			}
		}
		if apps.TotalCount != 5 || apps.Count != 2 || apps.SortDirection != "desc" || devs.TotalCount != 5 {
			t.Errorf("apps = %+v", apps)
		}
		for _, tc := range []struct {
			name string
			err  error
			part string
		}{
			{"app sort", second(ada.Applications.Get(ctx, &client.OwnedListParams{ListParams: client.ListParams{SortField: "status"}})), "sortField"},
			{"device filter", second(ada.Devices.Get(ctx, app.ID, &client.ListParams{FilterField: "status", Filter: "x"})), "filterField"},
			{"flow perPage", second(ada.Flows.Get(ctx, app.ID, &client.ListParams{PerPage: 5000})), "perPage"},
			{"dashboard direction", second(ada.Dashboards.Get(ctx, &client.OwnedListParams{ListParams: client.ListParams{SortDirection: "up"}})), "sortDirection"},
			{"empty name", second(ada.Applications.Post(ctx, client.OwnedPost{Name: ""})), "name"},
			{"device class", second(ada.Devices.Post(ctx, app.ID, client.DevicePost{Name: "x", DeviceClass: "toaster"})), "deviceClass"},
			{"flow class", second(ada.Flows.Post(ctx, app.ID, client.FlowPost{Name: "x", FlowClass: "toaster"})), "flowClass"},
			{"org name", second(ada.Orgs.Post(ctx, client.OrgPost{Name: ""})), "name"},
			{"mfa mode", second(ada.Orgs.Post(ctx, client.OrgPost{Name: "x", MFAMode: "sometimes"})), "mfaMode"},
		} {
			t.Run(tc.name, func(t *testing.T) { wantError(t, tc.err, 400, tc.part) })
		}
		for _, tc := range []struct{ method, path, body, part string }{
			{"POST", "/applications", `{"name":"x","blocks":[]}`, "blocks"},
			{"GET", "/applications/xyz", "", "applicationId"},
			{"GET", "/applications/" + app.ID + "/devices/xyz", "", "deviceId"},
			{"GET", "/applications?orgId=zz", "", "orgId"},
			{"DELETE", "/orgs/" + app.ID + "/member", "", "userId"},
			{"DELETE", "/orgs/" + app.ID + "/invites?inviteId=1", "", "inviteId"},
		} {
			status, _, body := raw(t, env, tc.method, tc.path, ada.Token(), tc.body, nil)
			if status != 400 || !strings.Contains(string(body), tc.part) {
				t.Errorf("%s %s = %d %s, want 400 naming %s", tc.method, tc.path, status, body, tc.part)
			}
		}
	})
}

func second[T any](_ T, err error) error { return err }

func ownedNames(items []client.Owned) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func deviceNames(items []client.Device) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func flowNames(items []client.Flow) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func TestRecentItems(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "ada@example.com")
		ada := env.Login(t, "ada@example.com")
		var apps []string
		for i := range service.RecentItemsKept + 3 {
			apps = append(apps, must(ada.Applications.Post(ctx, client.OwnedPost{Name: fmt.Sprintf("app %02d", i)})).of(t).ID)
		}
		for _, id := range apps {
			must(ada.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "application", ItemID: id})).of(t)
		}
		// using one again moves it to the front without repeating it
		l := must(ada.Me.AddRecentItem(ctx, client.RecentItem{ItemType: "application", ItemID: apps[5]})).of(t)
		want := []string{apps[5]}
		for i := len(apps) - 1; len(want) < service.RecentItemsKept; i-- {
			if i != 5 {
				want = append(want, apps[i])
			}
		}
		if got := recentIDs(l); !slices.Equal(got, want) {
			t.Errorf("recent = %v\nwant     %v", got, want)
		}
		if l.Items[0].Name != "app 05" {
			t.Errorf("name = %q", l.Items[0].Name)
		}
		// names are read at read time; deleted items drop out
		if err := ada.Application.Delete(ctx, apps[5]); err != nil {
			t.Fatal(err)
		}
		if got := recentIDs(must(ada.Me.FetchRecentItems(ctx, "application", "")).of(t)); len(got) != service.RecentItemsKept-1 || got[0] != apps[len(apps)-1] {
			t.Errorf("after delete: %v", got)
		}
		dev := must(ada.Devices.Post(ctx, apps[0], client.DevicePost{Name: "d"})).of(t)
		for _, tc := range []struct {
			name string
			item client.RecentItem
			st   int
			part string
		}{
			{"device without parent", client.RecentItem{ItemType: "device", ItemID: dev.ID}, 400, "parentId"},
			{"app with parent", client.RecentItem{ItemType: "application", ParentID: apps[0], ItemID: apps[1]}, 400, "parentId"},
			{"device of another app", client.RecentItem{ItemType: "device", ParentID: apps[1], ItemID: dev.ID}, 404, "device"},
			{"unknown app", client.RecentItem{ItemType: "application", ItemID: "5f0000000000000000000000"}, 404, "application"},
			{"unknown type", client.RecentItem{ItemType: "widget", ItemID: apps[0]}, 400, "itemType"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := ada.Me.AddRecentItem(ctx, tc.item)
				wantError(t, err, tc.st, tc.part)
			})
		}
		_, err := ada.Me.FetchRecentItems(ctx, "flow", "")
		wantError(t, err, 400, "parentId")
		status, _, body := raw(t, env, "GET", "/me/recentItems", ada.Token(), "", nil)
		if status != 400 || !strings.Contains(string(body), "itemType") {
			t.Errorf("no itemType: %d %s", status, body)
		}
	})
}

func TestTransferResources(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		ids := map[string]string{}
		for _, e := range []string{"ada@example.com", "bob@example.com", "vic@example.com"} {
			ids[e] = env.User(t, e)
		}
		ada, bob, vic := env.Login(t, "ada@example.com"), env.Login(t, "bob@example.com"), env.Login(t, "vic@example.com")
		viewOnly := joinOrg(t, bob, ada, "ada@example.com", "view", client.OrgPost{Name: "Look only"})
		a1 := must(ada.Applications.Post(ctx, client.OwnedPost{Name: "one"})).of(t)
		a2 := must(ada.Applications.Post(ctx, client.OwnedPost{Name: "two"})).of(t)
		d1 := must(ada.Dashboards.Post(ctx, client.OwnedPost{Name: "dash"})).of(t)
		theirs := must(bob.Applications.Post(ctx, client.OwnedPost{Name: "bob's"})).of(t)
		unknown := "5f0000000000000000000000"

		for _, tc := range []struct {
			name string
			in   client.ResourceTransfer
			part string
		}{
			{"to self", client.ResourceTransfer{DestinationID: ids["ada@example.com"], DestinationType: "user", ApplicationIDs: []string{a1.ID}}, "yours already"},
			{"no such user", client.ResourceTransfer{DestinationID: unknown, DestinationType: "user", ApplicationIDs: []string{a1.ID}}, "no user"},
			{"not a member", client.ResourceTransfer{DestinationID: unknown, DestinationType: "organization", ApplicationIDs: []string{a1.ID}}, "not an organization"},
			{"view role", client.ResourceTransfer{DestinationID: viewOnly.ID, DestinationType: "organization", ApplicationIDs: []string{a1.ID}}, "view"},
			{"bad type", client.ResourceTransfer{DestinationID: unknown, DestinationType: "planet"}, "destinationType"},
			{"strict", client.ResourceTransfer{DestinationID: ids["bob@example.com"], DestinationType: "user",
				ApplicationIDs: []string{a1.ID, theirs.ID}, Strict: true}, "applicationIds[1]"},
			{"strict dashboard", client.ResourceTransfer{DestinationID: ids["bob@example.com"], DestinationType: "user",
				ApplicationIDs: []string{a1.ID}, DashboardIDs: []string{unknown}, Strict: true}, "dashboardIds[0]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := ada.Me.TransferResources(ctx, tc.in)
				wantError(t, err, 400, tc.part)
			})
		}
		// a failed strict transfer moved nothing
		if got := must(ada.Application.Get(ctx, a1.ID)).of(t); got.OwnerID != ids["ada@example.com"] {
			t.Fatalf("a1 moved by a failed transfer: %+v", got)
		}
		out := must(ada.Me.TransferResources(ctx, client.ResourceTransfer{DestinationID: ids["bob@example.com"], DestinationType: "user",
			ApplicationIDs: []string{a1.ID, theirs.ID, a1.ID}, DashboardIDs: []string{d1.ID, unknown}})).of(t)
		if out.NotTransferred == nil || !slices.Equal(out.NotTransferred.ApplicationIDs, []string{theirs.ID}) || !slices.Equal(out.NotTransferred.DashboardIDs, []string{unknown}) {
			t.Errorf("not transferred = %+v", out.NotTransferred)
		}
		if got := must(bob.Application.Get(ctx, a1.ID)).of(t); got.OwnerID != ids["bob@example.com"] || got.OwnerType != "user" {
			t.Errorf("a1 = %+v", got)
		}
		must(bob.Dashboard.Get(ctx, d1.ID)).of(t)
		_, err := ada.Application.Get(ctx, a1.ID)
		wantError(t, err, 404)
		_, err = vic.Me.TransferResources(ctx, client.ResourceTransfer{DestinationID: ids["ada@example.com"], DestinationType: "user", ApplicationIDs: []string{a2.ID}, Strict: true})
		wantError(t, err, 400, "not an application you own")

		// deleting an account that still owns something, or is an only admin
		creds := client.UserCredentials{Email: "ada@example.com", Password: testenv.Password}
		err = ada.Me.Delete(ctx, creds)
		wantError(t, err, 400, "1 application and 0 dashboards", "transferResources")
		if err := ada.Application.Delete(ctx, a2.ID); err != nil {
			t.Fatal(err)
		}
		must(ada.Orgs.Post(ctx, client.OrgPost{Name: "Solo"})).of(t)
		err = ada.Me.Delete(ctx, creds)
		wantError(t, err, 400, `only admin of organization "Solo"`)
		if _, err := ada.Me.Get(ctx, nil); err != nil {
			t.Errorf("refused deletion still deleted: %v", err)
		}
		err = bob.Me.Delete(ctx, client.UserCredentials{Email: "bob@example.com", Password: testenv.Password})
		wantError(t, err, 400, "application")
		if !errors.Is(err, accountd.ErrInvalid) {
			t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
		}
	})
}

// TestAcceptOnce answers one invitation twice at the same moment: one
// answer wins, the other is refused, and there is one membership.
func TestAcceptOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "ada@example.com")
		env.User(t, "bob@example.com")
		ada, bob := env.Login(t, "ada@example.com"), env.Login(t, "bob@example.com")
		org := must(ada.Orgs.Post(ctx, client.OrgPost{Name: "Once"})).of(t)
		inv := must(ada.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: "bob@example.com", Role: "edit"})).of(t)[0]
		errs := make(chan error, 2)
		for _, action := range []string{"accept", "accept"} {
			go func() {
				_, err := bob.Me.RespondToInvite(ctx, inv.ID, action)
				errs <- err
			}()
		}
		var failed []error
		for range 2 {
			if err := <-errs; err != nil {
				failed = append(failed, err)
			}
		}
		if len(failed) != 1 {
			t.Fatalf("failures = %v, want exactly one", failed)
		}
		wantError(t, failed[0], 400, "already answered")
		if got := must(ada.Org.Get(ctx, org.ID)).of(t); len(got.Members) != 2 {
			t.Errorf("members = %v", memberRoles(got))
		}
	})
}
