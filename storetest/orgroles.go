package storetest

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

// orgRoleTests are the cases of per-resource roles, organization summaries
// and the counts limits are checked against.
var orgRoleTests = []struct {
	name string
	fn   func(t *testing.T, st accountd.Store)
}{
	{"ResourceRoles", testResourceRoles},
	{"ResourceRoleVisibility", testResourceRoleVisibility},
	{"ResourceRolesGoWithResource", testResourceRolesGoWithResource},
	{"OrgSummaries", testOrgSummaries},
	{"OwnerCounts", testOwnerCounts},
}

func testResourceRoles(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	a := createUser(t, st, fullUser("admin@example.com"))
	b := createUser(t, st, fullUser("member@example.com"))
	o := createOrg(t, st, "Roles", a.ID)
	app := createApp(t, st, accountd.OwnerOrg, o.ID, "app")
	dash := createDash(t, st, accountd.OwnerOrg, o.ID, "dash")
	roles := []accountd.ResourceRole{
		{Kind: accountd.KindApplication, ResourceID: app.ID, Role: accountd.RoleView},
		{Kind: accountd.KindDashboard, ResourceID: dash.ID, Role: accountd.RoleCollaborate},
	}
	if err := st.AddMember(ctx, accountd.Member{OrgID: o.ID, UserID: b.ID, Role: accountd.RoleNone, CreatedAt: base,
		ResourceRoles: roles[:1], DisallowTransfer: true}); err != nil {
		t.Fatal(err)
	}
	member := func() accountd.Member {
		t.Helper()
		members, err := st.Members(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := memberOf(members, b.ID)
		if !ok {
			t.Fatalf("Members lacks %s: %+v", b.ID, members)
		}
		return m
	}
	if m := member(); !slices.Equal(m.ResourceRoles, roles[:1]) || !m.DisallowTransfer || m.Role != accountd.RoleNone {
		t.Errorf("member after AddMember = %+v", m)
	}
	markEvents(t, st)
	if err := st.SetResourceRoles(ctx, o.ID, b.ID, roles); err != nil {
		t.Fatal(err)
	}
	checkEvents(t, st, accountd.AuthEvent{UserID: b.ID})
	if m := member(); !slices.Equal(m.ResourceRoles, roles) {
		t.Errorf("ResourceRoles = %+v, want %+v", m.ResourceRoles, roles)
	}
	byOrg, err := st.MembersOf(ctx, []string{o.ID})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := memberOf(byOrg[o.ID], b.ID); !slices.Equal(m.ResourceRoles, roles) {
		t.Errorf("MembersOf ResourceRoles = %+v, want %+v", m.ResourceRoles, roles)
	}
	for _, tc := range []struct {
		user, resource string
		role, resRole  accountd.Role
	}{
		{b.ID, app.ID, accountd.RoleNone, accountd.RoleView},
		{b.ID, dash.ID, accountd.RoleNone, accountd.RoleCollaborate},
		{a.ID, app.ID, accountd.RoleAdmin, ""},
	} {
		role, resRole, err := st.MemberAccess(ctx, o.ID, tc.user, tc.resource)
		if err != nil || role != tc.role || resRole != tc.resRole {
			t.Errorf("MemberAccess(%s) = %q, %q, %v; want %q, %q", tc.resource, role, resRole, err, tc.role, tc.resRole)
		}
	}
	_, _, err = st.MemberAccess(ctx, o.ID, accountd.NewID(base), app.ID)
	checkNotFound(t, err, "member")

	err = st.SetResourceRoles(ctx, o.ID, b.ID, []accountd.ResourceRole{roles[0], roles[0]})
	if !errors.Is(err, accountd.ErrInvalid) {
		t.Errorf("SetResourceRoles naming a resource twice = %v, want invalid", err)
	}
	if m := member(); !slices.Equal(m.ResourceRoles, roles) {
		t.Errorf("a refused SetResourceRoles changed the roles: %+v", m.ResourceRoles)
	}
	checkNotFound(t, st.SetResourceRoles(ctx, o.ID, accountd.NewID(base), roles), "member")

	markEvents(t, st)
	if err := st.SetMemberRole(ctx, o.ID, b.ID, accountd.RoleView); err != nil {
		t.Fatal(err)
	}
	checkEvents(t, st, accountd.AuthEvent{UserID: b.ID})
	if err := st.SetResourceRoles(ctx, o.ID, b.ID, nil); err != nil {
		t.Fatal(err)
	}
	if m := member(); len(m.ResourceRoles) != 0 || m.Role != accountd.RoleView {
		t.Errorf("member after clearing = %+v", m)
	}
}

func memberOf(members []accountd.Member, userID string) (accountd.Member, bool) {
	for _, m := range members {
		if m.UserID == userID {
			return m, true
		}
	}
	return accountd.Member{}, false
}

// testResourceRoleVisibility checks that lists, counts and recent items
// show an organization's resources by the member's role and their roles on
// single resources.
func testResourceRoleVisibility(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	a := createUser(t, st, fullUser("admin@example.com"))
	b := createUser(t, st, fullUser("member@example.com"))
	o := createOrg(t, st, "Seen", a.ID)
	app1 := createApp(t, st, accountd.OwnerOrg, o.ID, "app1")
	app2 := createApp(t, st, accountd.OwnerOrg, o.ID, "app2")
	createDevice(t, st, app1.ID, "d1")
	createDevice(t, st, app2.ID, "d2")
	dash1 := createDash(t, st, accountd.OwnerOrg, o.ID, "dash1")
	createDash(t, st, accountd.OwnerOrg, o.ID, "dash2")
	own := createApp(t, st, accountd.OwnerUser, b.ID, "own")
	for _, it := range []accountd.RecentItem{{ItemType: accountd.KindApplication, ItemID: app1.ID}, {ItemType: accountd.KindApplication, ItemID: app2.ID},
		{ItemType: accountd.KindApplication, ItemID: own.ID}} {
		it.UserID = b.ID
		if err := st.AddRecentItem(ctx, it, 20); err != nil {
			t.Fatal(err)
		}
	}
	addMember(t, st, o.ID, b.ID, accountd.RoleNone, base)
	names := func(sc accountd.Scope, kind string) []string {
		t.Helper()
		var out []string
		if kind == accountd.KindApplication {
			items, _, err := st.Applications(ctx, sc, accountd.ListQuery{PerPage: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range items {
				out = append(out, x.Name)
			}
		} else {
			items, _, err := st.Dashboards(ctx, sc, accountd.ListQuery{PerPage: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range items {
				out = append(out, x.Name)
			}
		}
		return out
	}
	check := func(step string, apps, orgApps, dashes []string, counts map[string]int, recent []string) {
		t.Helper()
		if got := names(accountd.Scope{UserID: b.ID}, accountd.KindApplication); !slices.Equal(got, apps) {
			t.Errorf("%s: Applications = %v, want %v", step, got, apps)
		}
		if got := names(accountd.Scope{UserID: b.ID, OrgID: o.ID}, accountd.KindApplication); !slices.Equal(got, orgApps) {
			t.Errorf("%s: Applications of the organization = %v, want %v", step, got, orgApps)
		}
		if got := names(accountd.Scope{UserID: b.ID}, accountd.KindDashboard); !slices.Equal(got, dashes) {
			t.Errorf("%s: Dashboards = %v, want %v", step, got, dashes)
		}
		if got := visibleCounts(t, st, b.ID); !maps.Equal(got, counts) {
			t.Errorf("%s: MeState counts = %v, want %v", step, got, counts)
		}
		if got := recentNames(t, st, b.ID, accountd.KindApplication, ""); !slices.Equal(got, recent) {
			t.Errorf("%s: RecentItems = %v, want %v", step, got, recent)
		}
	}
	counts := func(apps, dashes, devices int) map[string]int {
		return map[string]int{accountd.KindApplication: apps, accountd.KindDashboard: dashes, accountd.KindDevice: devices,
			accountd.KindFlow: 0, accountd.KindOrganization: 1}
	}
	check("none", []string{"own"}, nil, nil, counts(1, 0, 0), []string{"own"})

	setRoles(t, st, o.ID, b.ID, accountd.ResourceRole{Kind: accountd.KindApplication, ResourceID: app1.ID, Role: accountd.RoleView},
		accountd.ResourceRole{Kind: accountd.KindDashboard, ResourceID: dash1.ID, Role: accountd.RoleCollaborate})
	check("none, view on app1", []string{"app1", "own"}, []string{"app1"}, []string{"dash1"}, counts(2, 1, 1), []string{"own", "app1"})

	if err := st.SetMemberRole(ctx, o.ID, b.ID, accountd.RoleView); err != nil {
		t.Fatal(err)
	}
	setRoles(t, st, o.ID, b.ID, accountd.ResourceRole{Kind: accountd.KindApplication, ResourceID: app1.ID, Role: accountd.RoleNone})
	check("view, none on app1", []string{"app2", "own"}, []string{"app2"}, []string{"dash1", "dash2"}, counts(2, 2, 1), []string{"own", "app2"})

	if err := st.SetMemberRole(ctx, o.ID, b.ID, accountd.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	check("admin, none on app1", []string{"app1", "app2", "own"}, []string{"app1", "app2"}, []string{"dash1", "dash2"}, counts(3, 2, 2),
		[]string{"own", "app2", "app1"})
}

func setRoles(t *testing.T, st accountd.Store, orgID, userID string, roles ...accountd.ResourceRole) {
	t.Helper()
	if err := st.SetResourceRoles(t.Context(), orgID, userID, roles); err != nil {
		t.Fatalf("SetResourceRoles: %v", err)
	}
}

// testResourceRolesGoWithResource deletes a resource and a member: their
// per-resource roles go with them.
func testResourceRolesGoWithResource(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	a := createUser(t, st, fullUser("admin@example.com"))
	b := createUser(t, st, fullUser("member@example.com"))
	o := createOrg(t, st, "Going", a.ID)
	app := createApp(t, st, accountd.OwnerOrg, o.ID, "app")
	dash := createDash(t, st, accountd.OwnerOrg, o.ID, "dash")
	addMember(t, st, o.ID, b.ID, accountd.RoleNone, base)
	setRoles(t, st, o.ID, b.ID, accountd.ResourceRole{Kind: accountd.KindApplication, ResourceID: app.ID, Role: accountd.RoleView},
		accountd.ResourceRole{Kind: accountd.KindDashboard, ResourceID: dash.ID, Role: accountd.RoleView})
	if err := st.DeleteApplication(ctx, app.ID, base); err != nil {
		t.Fatal(err)
	}
	members, err := st.Members(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := memberOf(members, b.ID)
	want := []accountd.ResourceRole{{Kind: accountd.KindDashboard, ResourceID: dash.ID, Role: accountd.RoleView}}
	if !slices.Equal(m.ResourceRoles, want) {
		t.Errorf("ResourceRoles after deleting the application = %+v, want %+v", m.ResourceRoles, want)
	}
	if err := st.RemoveMember(ctx, o.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	addMember(t, st, o.ID, b.ID, accountd.RoleNone, base)
	if _, resRole, err := st.MemberAccess(ctx, o.ID, b.ID, dash.ID); err != nil || resRole != "" {
		t.Errorf("MemberAccess after leaving and joining again = %q, %v; want no role on the dashboard", resRole, err)
	}
}

func testOrgSummaries(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	a := createUser(t, st, fullUser("a@example.com"))
	b := createUser(t, st, fullUser("b@example.com"))
	o1 := createOrg(t, st, "One", a.ID)
	o2 := createOrg(t, st, "Two", a.ID)
	addMember(t, st, o1.ID, b.ID, accountd.RoleView, base)
	app := createApp(t, st, accountd.OwnerOrg, o1.ID, "app")
	createApp(t, st, accountd.OwnerOrg, o1.ID, "app2")
	createApp(t, st, accountd.OwnerUser, a.ID, "not the org's")
	createDevice(t, st, app.ID, "d1")
	createDevice(t, st, app.ID, "d2")
	createFlow(t, st, app.ID, "f")
	createDash(t, st, accountd.OwnerOrg, o1.ID, "dash")
	for _, email := range []string{"x@example.com", "y@example.com"} {
		if err := st.CreateInvite(ctx, &accountd.Invite{ID: accountd.NewID(base), OrgID: o1.ID, Email: email, Role: accountd.RoleView,
			CreatedAt: base, ExpiresAt: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.OrgSummaries(ctx, []string{o1.ID, o2.ID, accountd.NewID(base)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]accountd.OrgSummary{
		o1.ID: {OwnerCounts: accountd.OwnerCounts{Apps: 2, Dashboards: 1, Devices: 2, Flows: 1}, Members: 2, PendingInvites: 2},
		o2.ID: {Members: 1},
	}
	if !maps.Equal(got, want) {
		t.Errorf("OrgSummaries = %+v, want %+v", got, want)
	}
	if got, err := st.OrgSummaries(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("OrgSummaries(nil) = %v, %v", got, err)
	}
}

func testOwnerCounts(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	a := createUser(t, st, fullUser("a@example.com"))
	o := createOrg(t, st, "Counting", a.ID)
	createOrg(t, st, "Counting too", a.ID)
	app := createApp(t, st, accountd.OwnerUser, a.ID, "mine")
	createDevice(t, st, app.ID, "d")
	createFlow(t, st, app.ID, "f")
	createFlow(t, st, app.ID, "g")
	createDash(t, st, accountd.OwnerUser, a.ID, "mine")
	createApp(t, st, accountd.OwnerOrg, o.ID, "the org's")
	for _, tc := range []struct {
		ownerType, ownerID string
		want               accountd.OwnerCounts
	}{
		{accountd.OwnerUser, a.ID, accountd.OwnerCounts{Apps: 1, Dashboards: 1, Devices: 1, Flows: 2}},
		{accountd.OwnerOrg, o.ID, accountd.OwnerCounts{Apps: 1}},
		{accountd.OwnerUser, accountd.NewID(base), accountd.OwnerCounts{}},
	} {
		if got, err := st.OwnerCounts(ctx, tc.ownerType, tc.ownerID); err != nil || got != tc.want {
			t.Errorf("OwnerCounts(%s %s) = %+v, %v; want %+v", tc.ownerType, tc.ownerID, got, err, tc.want)
		}
	}
	if n, err := st.CountOrgs(ctx, a.ID); err != nil || n != 2 {
		t.Errorf("CountOrgs = %d, %v; want 2", n, err)
	}
}
