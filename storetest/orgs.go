package storetest

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

// orgTests are the OrgStore cases; Run runs them with the rest.
var orgTests = []struct {
	name string
	fn   func(t *testing.T, st accountd.Store)
}{
	{"OrgRoundTrip", testOrgRoundTrip},
	{"Members", testMembers},
	{"MembersOf", testMembersOf},
	{"OrgsList", testOrgsList},
	{"Invites", testInvites},
	{"AnswerInviteRace", testAnswerInviteRace},
	{"OwnedResources", testOwnedResources},
	{"MoveOwned", testMoveOwned},
	{"DevicesAndFlows", testDevicesAndFlows},
	{"Counts", testCounts},
	{"RecentItems", testRecentItems},
	{"DeleteCascades", testDeleteCascades},
	{"ResourceFields", testResourceFields},
	{"ResourceFilters", testResourceFilters},
	{"FlowTriggerFilter", testFlowTriggerFilter},
}

func fullOrg(name string) *accountd.Org {
	return &accountd.Org{ID: accountd.NewID(base), Name: name, Description: "makers of engines", IconColor: "#336699",
		MFAMode: accountd.MFAAdminRequired, PlanID: "starter", BillingEmail: "billing@example.com", CreatedAt: base, UpdatedAt: base.Add(time.Minute)}
}

func createOrg(t *testing.T, st accountd.Store, name, adminID string) *accountd.Org {
	t.Helper()
	o := fullOrg(name)
	if err := st.CreateOrg(t.Context(), o, accountd.Member{UserID: adminID, Role: accountd.RoleAdmin, CreatedAt: base}); err != nil {
		t.Fatalf("CreateOrg(%s): %v", name, err)
	}
	return o
}

func addMember(t *testing.T, st accountd.Store, orgID, userID string, role accountd.Role, at time.Time) {
	t.Helper()
	if err := st.AddMember(t.Context(), accountd.Member{OrgID: orgID, UserID: userID, Role: role, CreatedAt: at}); err != nil {
		t.Fatalf("AddMember: %v", err)
	}
}

func owned(kind, ownerType, ownerID, name string) accountd.Owned {
	return accountd.Owned{ID: accountd.NewID(base), OwnerType: ownerType, OwnerID: ownerID, Name: name,
		Description: kind + " " + name, Data: []byte(`{"kept":"` + kind + `"}`), CreatedAt: base, UpdatedAt: base.Add(time.Second)}
}

func createApp(t *testing.T, st accountd.Store, ownerType, ownerID, name string) *accountd.Application {
	t.Helper()
	a := &accountd.Application{Owned: owned("application", ownerType, ownerID, name)}
	if err := st.CreateApplication(t.Context(), a); err != nil {
		t.Fatalf("CreateApplication: %v", err)
	}
	return a
}

func createDash(t *testing.T, st accountd.Store, ownerType, ownerID, name string) *accountd.Dashboard {
	t.Helper()
	d := &accountd.Dashboard{Owned: owned("dashboard", ownerType, ownerID, name)}
	if err := st.CreateDashboard(t.Context(), d); err != nil {
		t.Fatalf("CreateDashboard: %v", err)
	}
	return d
}

func createDevice(t *testing.T, st accountd.Store, appID, name string) *accountd.Device {
	t.Helper()
	d := &accountd.Device{ID: accountd.NewID(base), ApplicationID: appID, Name: name, Description: "a device",
		DeviceClass: "gateway", CreatedAt: base, UpdatedAt: base.Add(time.Second)}
	if err := st.CreateDevice(t.Context(), d); err != nil {
		t.Fatalf("CreateDevice: %v", err)
	}
	return d
}

func createFlow(t *testing.T, st accountd.Store, appID, name string) *accountd.Flow {
	t.Helper()
	f := &accountd.Flow{ID: accountd.NewID(base), ApplicationID: appID, Name: name, Description: "a flow",
		Enabled: true, FlowClass: "edge", Data: []byte(`{"triggers":[]}`), CreatedAt: base, UpdatedAt: base.Add(time.Second)}
	if err := st.CreateFlow(t.Context(), f); err != nil {
		t.Fatalf("CreateFlow: %v", err)
	}
	return f
}

func testOrgRoundTrip(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("admin@example.com"))
	o := createOrg(t, st, "Engines", u.ID)
	requireAllSet(t, o)
	got, err := st.Org(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, o)
	_, err = st.Org(ctx, accountd.NewID(base))
	checkNotFound(t, err, "organization")
	role, err := st.MemberRole(ctx, o.ID, u.ID)
	if err != nil || role != accountd.RoleAdmin {
		t.Errorf("MemberRole = %q, %v; want admin", role, err)
	}
	_, err = st.MemberRole(ctx, o.ID, accountd.NewID(base))
	checkNotFound(t, err, "member")
}

func testMembers(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	a := createUser(t, st, fullUser("a@example.com"))
	b := createUser(t, st, fullUser("b@example.com"))
	o := createOrg(t, st, "Guild", a.ID)
	addMember(t, st, o.ID, b.ID, accountd.RoleView, base.Add(time.Hour))
	if err := st.AddMember(ctx, accountd.Member{OrgID: o.ID, UserID: b.ID, Role: accountd.RoleEdit, CreatedAt: base}); !errors.Is(err, accountd.ErrConflict) {
		t.Errorf("second AddMember = %v, want a conflict", err)
	}
	err := st.AddMember(ctx, accountd.Member{OrgID: accountd.NewID(base), UserID: b.ID, Role: accountd.RoleEdit, CreatedAt: base})
	if !errors.Is(err, accountd.ErrNotFound) {
		t.Errorf("AddMember to no org = %v, want NotFound", err)
	}
	members, err := st.Members(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []accountd.Member{
		{OrgID: o.ID, UserID: a.ID, Role: accountd.RoleAdmin, Email: a.Email, FirstName: a.FirstName, LastName: a.LastName, CreatedAt: base.UTC().Truncate(time.Millisecond)},
		{OrgID: o.ID, UserID: b.ID, Role: accountd.RoleView, Email: b.Email, FirstName: b.FirstName, LastName: b.LastName, CreatedAt: base.Add(time.Hour).UTC().Truncate(time.Millisecond)},
	}
	if len(members) != 2 {
		t.Fatalf("Members = %+v", members)
	}
	for i := range want {
		checkSame(t, &members[i], &want[i])
	}
	if sole, err := st.SoleAdminOrgs(ctx, a.ID); err != nil || len(sole) != 1 || sole[0].ID != o.ID {
		t.Errorf("SoleAdminOrgs(a) = %v, %v", sole, err)
	}
	if err := st.SetMemberRole(ctx, o.ID, b.ID, accountd.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if sole, err := st.SoleAdminOrgs(ctx, a.ID); err != nil || len(sole) != 0 {
		t.Errorf("SoleAdminOrgs(a) with two admins = %v, %v", sole, err)
	}
	checkNotFound(t, st.SetMemberRole(ctx, o.ID, accountd.NewID(base), accountd.RoleView), "member")
	if err := st.RemoveMember(ctx, o.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	checkNotFound(t, st.RemoveMember(ctx, o.ID, a.ID), "member")
	if sole, err := st.SoleAdminOrgs(ctx, b.ID); err != nil || len(sole) != 1 {
		t.Errorf("SoleAdminOrgs(b) = %v, %v", sole, err)
	}
}

// testMembersOf checks the members of many organizations at once against
// Members of each, for page sizes on either side of the padding's powers
// of two, with an unknown id and a repeated one.
func testMembersOf(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	users := make([]*accountd.User, 3)
	for i := range users {
		users[i] = createUser(t, st, fullUser(fmt.Sprintf("m%d@example.com", i)))
	}
	var orgs []string
	for i := range 5 {
		o := createOrg(t, st, fmt.Sprintf("org %d", i), users[i%3].ID)
		// org i has i%3+1 members, joined in a known order
		for j := 1; j <= i%3; j++ {
			addMember(t, st, o.ID, users[(i+j)%3].ID, accountd.RoleView, base.Add(time.Duration(j)*time.Hour))
		}
		orgs = append(orgs, o.ID)
	}
	unknown := accountd.NewID(base)
	for _, ids := range [][]string{nil, orgs[:1], orgs[:2], orgs[:3], orgs, {orgs[4], unknown, orgs[0], orgs[4]}} {
		t.Run(fmt.Sprint(len(ids)), func(t *testing.T) {
			got, err := st.MembersOf(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]accountd.Member{}
			for _, id := range ids {
				if id == unknown {
					continue
				}
				m, err := st.Members(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				want[id] = m
			}
			if len(got) != len(want) {
				t.Errorf("MembersOf has %d organizations, want %d", len(got), len(want))
			}
			for id, w := range want {
				if g := got[id]; !reflect.DeepEqual(g, w) {
					t.Errorf("members of %s:\n got %+v\nwant %+v", id, g, w)
				}
			}
		})
	}
}

func testOrgsList(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("lister@example.com"))
	other := createUser(t, st, fullUser("other@example.com"))
	for _, n := range []string{"beta", "Alpha", "gamma", "alps"} {
		createOrg(t, st, n, u.ID)
	}
	createOrg(t, st, "not mine", other.ID)
	orgNames := func(q accountd.ListQuery) ([]string, int) {
		t.Helper()
		orgs, total, err := st.Orgs(ctx, u.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range orgs {
			out = append(out, o.Name)
		}
		return out, total
	}
	for _, tc := range []struct {
		q     accountd.ListQuery
		want  []string
		total int
	}{
		{accountd.ListQuery{}, []string{"Alpha", "alps", "beta", "gamma"}, 4},
		{accountd.ListQuery{SortDirection: "desc", PerPage: 2}, []string{"gamma", "beta"}, 4},
		{accountd.ListQuery{PerPage: 3, Page: 1}, []string{"gamma"}, 4},
		{accountd.ListQuery{FilterField: "name", Filter: "AL*"}, []string{"Alpha", "alps"}, 2},
		{accountd.ListQuery{PerPage: 2, Page: 5}, nil, 4},
		{accountd.ListQuery{PerPage: 4}, []string{"Alpha", "alps", "beta", "gamma"}, 4}, // exactly perPage
		{accountd.ListQuery{PerPage: 4, Page: 1}, nil, 4},                               // just past the end
		{accountd.ListQuery{PerPage: 2, Page: 1}, []string{"beta", "gamma"}, 4},         // a later full page
		{accountd.ListQuery{FilterField: "name", Filter: "AL*", PerPage: 2}, []string{"Alpha", "alps"}, 2},
		{accountd.ListQuery{FilterField: "name", Filter: "AL*", PerPage: 2, Page: 1}, nil, 2},
		{accountd.ListQuery{FilterField: "name", Filter: "zz*"}, nil, 0},
	} {
		t.Run(fmt.Sprintf("%+v", tc.q), func(t *testing.T) {
			got, total := orgNames(tc.q)
			if !slices.Equal(got, tc.want) || total != tc.total {
				t.Errorf("names = %v (%d), want %v (%d)", got, total, tc.want, tc.total)
			}
		})
	}
	if _, _, err := st.Orgs(ctx, u.ID, accountd.ListQuery{SortField: "status"}); !errors.Is(err, accountd.ErrInvalid) {
		t.Errorf("unknown sort field: %v", err)
	}
	if _, _, err := st.Orgs(ctx, u.ID, accountd.ListQuery{FilterField: "status", Filter: "x"}); !errors.Is(err, accountd.ErrInvalid) {
		t.Errorf("unknown filter field: %v", err)
	}
}

func testInvites(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("inviter@example.com"))
	o := createOrg(t, st, "Inviting", u.ID)
	inv := &accountd.Invite{ID: accountd.NewID(base), OrgID: o.ID, OrgName: o.Name, OrgMFAMode: o.MFAMode, Email: "New.Member@Example.com",
		Role: accountd.RoleEdit, InvitedByName: "Ada", InvitedByEmail: u.Email, CreatedAt: base, ExpiresAt: base.Add(time.Hour),
		ResourceRoles: []accountd.ResourceRole{{Kind: accountd.KindApplication, ResourceID: accountd.NewID(base), Role: accountd.RoleView},
			{Kind: accountd.KindDashboard, ResourceID: accountd.NewID(base), Role: accountd.RoleNone}},
		DisallowTransfer: true}
	if err := st.CreateInvite(ctx, inv); err != nil {
		t.Fatal(err)
	}
	got, err := st.Invite(ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, inv)
	err = st.CreateInvite(ctx, &accountd.Invite{ID: accountd.NewID(base), OrgID: accountd.NewID(base), Email: "x@example.com",
		Role: accountd.RoleView, CreatedAt: base, ExpiresAt: base})
	checkNotFound(t, err, "organization")
	for _, tc := range []struct{ orgID, email string }{{o.ID, ""}, {"", "new.member@example.COM"}} {
		list, err := st.PendingInvites(ctx, tc.orgID, tc.email)
		if err != nil || len(list) != 1 || list[0].ID != inv.ID {
			t.Errorf("PendingInvites(%q, %q) = %v, %v", tc.orgID, tc.email, list, err)
		}
	}
	if list, err := st.PendingInvites(ctx, "", "someone@example.com"); err != nil || len(list) != 0 {
		t.Errorf("PendingInvites(someone) = %v, %v", list, err)
	}
	won, err := st.AnswerInvite(ctx, inv.ID, accountd.InviteRejected)
	if err != nil || !won {
		t.Fatalf("AnswerInvite = %v, %v", won, err)
	}
	if won, err := st.AnswerInvite(ctx, inv.ID, accountd.InviteAccepted); err != nil || won {
		t.Errorf("second AnswerInvite = %v, %v; want false", won, err)
	}
	if got, _ := st.Invite(ctx, inv.ID); got == nil || got.Answer != accountd.InviteRejected {
		t.Errorf("answer = %+v", got)
	}
	if list, _ := st.PendingInvites(ctx, o.ID, ""); len(list) != 0 {
		t.Errorf("answered invitation still pending: %v", list)
	}
	if err := st.DeleteInvite(ctx, inv.ID); err != nil {
		t.Fatal(err)
	}
	checkNotFound(t, st.DeleteInvite(ctx, inv.ID), "invitation")
	_, err = st.Invite(ctx, inv.ID)
	checkNotFound(t, err, "invitation")
}

// testAnswerInviteRace answers one invitation from many goroutines at once:
// exactly one answer may win.
func testAnswerInviteRace(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("racer@example.com"))
	o := createOrg(t, st, "Race", u.ID)
	inv := &accountd.Invite{ID: accountd.NewID(base), OrgID: o.ID, Email: "x@example.com", Role: accountd.RoleView, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if err := st.CreateInvite(ctx, inv); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			won, err := st.AnswerInvite(ctx, inv.ID, accountd.InviteAccepted)
			if err != nil {
				t.Error(err)
				return
			}
			if won {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d answers won, want 1", wins)
	}
}

func testOwnedResources(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	a := createUser(t, st, fullUser("a@example.com"))
	b := createUser(t, st, fullUser("b@example.com"))
	o := createOrg(t, st, "Shared", a.ID)
	createApp(t, st, accountd.OwnerUser, a.ID, "mine")
	createApp(t, st, accountd.OwnerUser, b.ID, "theirs")
	shared := createApp(t, st, accountd.OwnerOrg, o.ID, "shared")
	got, err := st.Application(ctx, shared.ID)
	if err != nil {
		t.Fatal(err)
	}
	shared.OrgName = o.Name // read from the organization
	requireAllSet(t, &shared.Owned)
	checkSame(t, &got.Owned, &shared.Owned)
	d := createDash(t, st, accountd.OwnerOrg, o.ID, "board")
	gotD, err := st.Dashboard(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	d.OrgName = o.Name
	checkSame(t, &gotD.Owned, &d.Owned)
	_, err = st.Application(ctx, accountd.NewID(base))
	checkNotFound(t, err, "application")
	_, err = st.Dashboard(ctx, accountd.NewID(base))
	checkNotFound(t, err, "dashboard")

	list := func(sc accountd.Scope) []string {
		t.Helper()
		apps, total, err := st.Applications(ctx, sc, accountd.ListQuery{SortField: "name"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range apps {
			out = append(out, a.Name)
		}
		if total != len(out) {
			t.Errorf("total %d for %v", total, out)
		}
		return out
	}
	if got := list(accountd.Scope{UserID: a.ID}); !slices.Equal(got, []string{"mine", "shared"}) {
		t.Errorf("a sees %v", got)
	}
	if got := list(accountd.Scope{UserID: b.ID}); !slices.Equal(got, []string{"theirs"}) {
		t.Errorf("b sees %v", got)
	}
	if got := list(accountd.Scope{UserID: a.ID, OrgID: o.ID}); !slices.Equal(got, []string{"shared"}) {
		t.Errorf("org lists %v", got)
	}
	addMember(t, st, o.ID, b.ID, accountd.RoleView, base)
	if got := list(accountd.Scope{UserID: b.ID}); !slices.Equal(got, []string{"shared", "theirs"}) {
		t.Errorf("b as a member sees %v", got)
	}
	// pages of what b sees through the organization and as the owner
	for _, tc := range []struct {
		page, perPage int
		want          []string
	}{
		{0, 2, []string{"shared", "theirs"}}, // exactly perPage
		{0, 3, []string{"shared", "theirs"}}, // fewer
		{1, 1, []string{"theirs"}},           // a later page
		{2, 1, nil},                          // just past the end
		{1, 2, nil},
	} {
		apps, total, err := st.Applications(ctx, accountd.Scope{UserID: b.ID}, accountd.ListQuery{Page: tc.page, PerPage: tc.perPage})
		var got []string
		for _, a := range apps {
			got = append(got, a.Name)
		}
		if err != nil || !slices.Equal(got, tc.want) || total != 2 {
			t.Errorf("Applications page %d of %d = %v, total %d, %v; want %v, total 2", tc.page, tc.perPage, got, total, err, tc.want)
		}
	}
	dashes, total, err := st.Dashboards(ctx, accountd.Scope{UserID: b.ID}, accountd.ListQuery{SortField: "ownerId"})
	if err != nil || total != 1 || dashes[0].ID != d.ID {
		t.Errorf("Dashboards = %v, %d, %v", dashes, total, err)
	}
}

func testMoveOwned(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	a := createUser(t, st, fullUser("a@example.com"))
	b := createUser(t, st, fullUser("b@example.com"))
	o := createOrg(t, st, "Dest", a.ID)
	app := createApp(t, st, accountd.OwnerUser, a.ID, "app")
	dash := createDash(t, st, accountd.OwnerUser, a.ID, "dash")
	at := base.Add(time.Hour)
	for _, tc := range []struct {
		name, kind, id, from string
		want                 bool
	}{
		{"not the owner", accountd.KindApplication, app.ID, b.ID, false},
		{"unknown", accountd.KindApplication, accountd.NewID(base), a.ID, false},
		{"wrong kind", accountd.KindDashboard, app.ID, a.ID, false},
		{"app", accountd.KindApplication, app.ID, a.ID, true},
		{"again", accountd.KindApplication, app.ID, a.ID, false},
		{"dashboard", accountd.KindDashboard, dash.ID, a.ID, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			moved, err := st.MoveOwned(ctx, tc.kind, tc.id, tc.from, accountd.OwnerOrg, o.ID, at)
			if err != nil || moved != tc.want {
				t.Errorf("MoveOwned = %v, %v; want %v", moved, err, tc.want)
			}
		})
	}
	got, err := st.Application(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.OwnerType != accountd.OwnerOrg || got.OwnerID != o.ID || !got.UpdatedAt.Equal(accountd.Millis(at)) || got.OrgName != o.Name {
		t.Errorf("moved application = %+v", got)
	}
	// moving happens inside a transaction with the rest of a transfer
	errStop := errors.New("stop")
	err = st.InTx(ctx, func(tx accountd.Store) error {
		if _, err := tx.MoveOwned(ctx, accountd.KindDashboard, dash.ID, o.ID, accountd.OwnerUser, b.ID, at); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	if d, _ := st.Dashboard(ctx, dash.ID); d == nil || d.OwnerID != o.ID {
		t.Errorf("rolled-back move changed the dashboard: %+v", d)
	}
}

func testDevicesAndFlows(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("maker@example.com"))
	app := createApp(t, st, accountd.OwnerUser, u.ID, "app")
	other := createApp(t, st, accountd.OwnerUser, u.ID, "other")
	// the store keeps a parent and gateway as given: the service checks them
	dev := &accountd.Device{ID: accountd.NewID(base), ApplicationID: app.ID, Name: "sensor", Description: "a device",
		DeviceClass: "peripheral", ParentID: accountd.NewID(base), GatewayID: accountd.NewID(base),
		Tags: []accountd.Tag{{Key: "k", Value: "v"}}, Data: []byte(`{"tags":[{"key":"k","value":"v"}]}`),
		CreatedAt: base, UpdatedAt: base.Add(time.Second)}
	if err := st.CreateDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	flow := createFlow(t, st, app.ID, "alarm")
	requireAllSet(t, dev)
	requireAllSet(t, flow)
	dev.Tags = nil // reads return the tags inside Data
	gotDev, err := st.Device(ctx, app.ID, dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, gotDev, dev)
	gotFlow, err := st.Flow(ctx, app.ID, flow.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, gotFlow, flow)
	_, err = st.Device(ctx, other.ID, dev.ID)
	checkNotFound(t, err, "device")
	_, err = st.Flow(ctx, other.ID, flow.ID)
	checkNotFound(t, err, "flow")
	checkNotFound(t, st.DeleteDevice(ctx, other.ID, dev.ID, time.Now()), "device")
	checkNotFound(t, st.CreateDevice(ctx, &accountd.Device{ID: accountd.NewID(base), ApplicationID: accountd.NewID(base), Name: "x", DeviceClass: "standalone", CreatedAt: base, UpdatedAt: base}), "application")
	checkNotFound(t, st.CreateFlow(ctx, &accountd.Flow{ID: accountd.NewID(base), ApplicationID: accountd.NewID(base), Name: "x", FlowClass: "cloud", CreatedAt: base, UpdatedAt: base}), "application")
	createDevice(t, st, app.ID, "actuator")
	createDevice(t, st, other.ID, "elsewhere")
	devs, total, err := st.Devices(ctx, accountd.DeviceFilter{ApplicationID: app.ID}, accountd.ListQuery{SortField: "name", SortDirection: "desc"})
	if err != nil || total != 2 || devs[0].Name != "sensor" || devs[1].Name != "actuator" {
		t.Errorf("Devices = %v, %d, %v", devs, total, err)
	}
	for _, tc := range []struct {
		page, perPage int
		want          []string
	}{
		{1, 1, []string{"actuator"}},
		{0, 2, []string{"sensor", "actuator"}},
		{1, 2, nil},
	} {
		devs, total, err := st.Devices(ctx, accountd.DeviceFilter{ApplicationID: app.ID}, accountd.ListQuery{SortField: "name", SortDirection: "desc", Page: tc.page, PerPage: tc.perPage})
		var got []string
		for _, d := range devs {
			got = append(got, d.Name)
		}
		if err != nil || !slices.Equal(got, tc.want) || total != 2 {
			t.Errorf("Devices page %d of %d = %v, total %d, %v; want %v, total 2", tc.page, tc.perPage, got, total, err, tc.want)
		}
	}
	flows, total, err := st.Flows(ctx, accountd.FlowFilter{ApplicationID: app.ID}, accountd.ListQuery{FilterField: "name", Filter: "AL*"})
	if err != nil || total != 1 || flows[0].ID != flow.ID {
		t.Errorf("Flows = %v, %d, %v", flows, total, err)
	}
	if err := st.DeleteFlow(ctx, app.ID, flow.ID); err != nil {
		t.Fatal(err)
	}
	checkNotFound(t, st.DeleteFlow(ctx, app.ID, flow.ID), "flow")
}

func testCounts(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	a := createUser(t, st, fullUser("a@example.com"))
	b := createUser(t, st, fullUser("b@example.com"))
	o := createOrg(t, st, "Counted", b.ID)
	app := createApp(t, st, accountd.OwnerUser, a.ID, "own")
	createDevice(t, st, app.ID, "d1")
	createFlow(t, st, app.ID, "f1")
	createDash(t, st, accountd.OwnerUser, a.ID, "own")
	orgApp := createApp(t, st, accountd.OwnerOrg, o.ID, "org's")
	createDevice(t, st, orgApp.ID, "d2")
	createDash(t, st, accountd.OwnerOrg, o.ID, "org's")
	check := func(userID string, want map[string]int) {
		t.Helper()
		if got := visibleCounts(t, st, userID); !maps.Equal(got, want) {
			t.Errorf("MeState counts = %v, want %v", got, want)
		}
	}
	check(a.ID, map[string]int{accountd.KindApplication: 1, accountd.KindDashboard: 1, accountd.KindDevice: 1, accountd.KindFlow: 1, accountd.KindOrganization: 0})
	addMember(t, st, o.ID, a.ID, accountd.RoleView, base)
	check(a.ID, map[string]int{accountd.KindApplication: 2, accountd.KindDashboard: 2, accountd.KindDevice: 2, accountd.KindFlow: 1, accountd.KindOrganization: 1})
	apps, dashes, err := st.CountOwned(ctx, accountd.OwnerUser, a.ID)
	if err != nil || apps != 1 || dashes != 1 {
		t.Errorf("CountOwned(a) = %d, %d, %v", apps, dashes, err)
	}
	apps, dashes, err = st.CountOwned(ctx, accountd.OwnerOrg, o.ID)
	if err != nil || apps != 1 || dashes != 1 {
		t.Errorf("CountOwned(org) = %d, %d, %v", apps, dashes, err)
	}
}

// visibleCounts is what the user can see of each kind (their own and their
// organizations'), as MeState counts it.
func visibleCounts(t *testing.T, st accountd.Store, userID string) map[string]int {
	t.Helper()
	ms, err := st.MeState(t.Context(), userID)
	if err != nil {
		t.Fatalf("MeState: %v", err)
	}
	return map[string]int{accountd.KindApplication: ms.Apps, accountd.KindDashboard: ms.Dashboards,
		accountd.KindDevice: ms.Devices, accountd.KindFlow: ms.Flows, accountd.KindOrganization: ms.Orgs}
}

func recentNames(t *testing.T, st accountd.Store, userID, itemType, parentID string) []string {
	t.Helper()
	items, err := st.RecentItems(t.Context(), userID, itemType, parentID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func testRecentItems(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("recent@example.com"))
	other := createUser(t, st, fullUser("other@example.com"))
	var apps []*accountd.Application
	for i := range 5 {
		apps = append(apps, createApp(t, st, accountd.OwnerUser, u.ID, fmt.Sprintf("app%d", i)))
	}
	add := func(r accountd.RecentItem) {
		t.Helper()
		if err := st.AddRecentItem(ctx, r, 3); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{0, 1, 2, 1, 3} {
		add(accountd.RecentItem{UserID: u.ID, ItemType: accountd.KindApplication, ItemID: apps[i].ID})
	}
	if got := recentNames(t, st, u.ID, accountd.KindApplication, ""); !slices.Equal(got, []string{"app3", "app1", "app2"}) {
		t.Errorf("recent = %v", got)
	}
	// a list of another type, parent or user is separate
	dev := createDevice(t, st, apps[0].ID, "dev")
	add(accountd.RecentItem{UserID: u.ID, ItemType: accountd.KindDevice, ParentID: apps[0].ID, ItemID: dev.ID})
	if got := recentNames(t, st, u.ID, accountd.KindDevice, apps[0].ID); !slices.Equal(got, []string{"dev"}) {
		t.Errorf("devices = %v", got)
	}
	if got := recentNames(t, st, u.ID, accountd.KindDevice, apps[1].ID); len(got) != 0 {
		t.Errorf("devices of app1 = %v", got)
	}
	if got := recentNames(t, st, u.ID, accountd.KindApplication, ""); len(got) != 3 {
		t.Errorf("the device list trimmed the application list: %v", got)
	}
	// an item the user can no longer see drops out at read time
	add(accountd.RecentItem{UserID: other.ID, ItemType: accountd.KindApplication, ItemID: apps[3].ID})
	if got := recentNames(t, st, other.ID, accountd.KindApplication, ""); len(got) != 0 {
		t.Errorf("other sees %v", got)
	}
	if moved, err := st.MoveOwned(ctx, accountd.KindApplication, apps[3].ID, u.ID, accountd.OwnerUser, other.ID, base); err != nil || !moved {
		t.Fatal(moved, err)
	}
	if got := recentNames(t, st, u.ID, accountd.KindApplication, ""); !slices.Equal(got, []string{"app1", "app2"}) {
		t.Errorf("after the move u sees %v", got)
	}
	if got := recentNames(t, st, other.ID, accountd.KindApplication, ""); !slices.Equal(got, []string{"app3"}) {
		t.Errorf("after the move other sees %v", got)
	}
	// organizations: only while a member
	o := createOrg(t, st, "Org", other.ID)
	add(accountd.RecentItem{UserID: u.ID, ItemType: accountd.KindOrganization, ItemID: o.ID})
	if got := recentNames(t, st, u.ID, accountd.KindOrganization, ""); len(got) != 0 {
		t.Errorf("non-member sees %v", got)
	}
	addMember(t, st, o.ID, u.ID, accountd.RoleView, base)
	if got := recentNames(t, st, u.ID, accountd.KindOrganization, ""); !slices.Equal(got, []string{"Org"}) {
		t.Errorf("member sees %v", got)
	}
	if _, err := st.RecentItems(ctx, u.ID, "widget", ""); !errors.Is(err, accountd.ErrInvalid) {
		t.Errorf("unknown type: %v", err)
	}
	err := st.AddRecentItem(ctx, accountd.RecentItem{UserID: accountd.NewID(base), ItemType: accountd.KindApplication, ItemID: apps[0].ID}, 3)
	checkNotFound(t, err, "user")
}

// testDeleteCascades checks what goes with a deleted application,
// organization or user.
func testDeleteCascades(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("owner@example.com"))
	m := createUser(t, st, fullUser("member@example.com"))
	o := createOrg(t, st, "Going", u.ID)
	addMember(t, st, o.ID, m.ID, accountd.RoleEdit, base)
	app := createApp(t, st, accountd.OwnerUser, u.ID, "app")
	dev := createDevice(t, st, app.ID, "dev")
	flow := createFlow(t, st, app.ID, "flow")
	for _, r := range []accountd.RecentItem{
		{UserID: u.ID, ItemType: accountd.KindApplication, ItemID: app.ID},
		{UserID: u.ID, ItemType: accountd.KindDevice, ParentID: app.ID, ItemID: dev.ID},
		{UserID: u.ID, ItemType: accountd.KindFlow, ParentID: app.ID, ItemID: flow.ID},
		{UserID: m.ID, ItemType: accountd.KindOrganization, ItemID: o.ID},
	} {
		if err := st.AddRecentItem(ctx, r, 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateInvite(ctx, &accountd.Invite{ID: accountd.NewID(base), OrgID: o.ID, Email: "x@example.com", Role: accountd.RoleView, CreatedAt: base, ExpiresAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteApplication(ctx, app.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	checkNotFound(t, st.DeleteApplication(ctx, app.ID, time.Now()), "application")
	_, err := st.Device(ctx, app.ID, dev.ID)
	checkNotFound(t, err, "device")
	_, err = st.Flow(ctx, app.ID, flow.ID)
	checkNotFound(t, err, "flow")
	if n := visibleCounts(t, st, u.ID); n[accountd.KindApplication]+n[accountd.KindDevice]+n[accountd.KindFlow] != 0 {
		t.Errorf("MeState counts = %v", n)
	}
	if err := st.DeleteOrg(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	checkNotFound(t, st.DeleteOrg(ctx, o.ID), "organization")
	if _, err := st.MemberRole(ctx, o.ID, m.ID); !errors.Is(err, accountd.ErrNotFound) {
		t.Errorf("membership outlived the organization: %v", err)
	}
	if list, err := st.PendingInvites(ctx, o.ID, ""); err != nil || len(list) != 0 {
		t.Errorf("invitations outlived the organization: %v, %v", list, err)
	}
	o2 := createOrg(t, st, "Stays", u.ID)
	addMember(t, st, o2.ID, m.ID, accountd.RoleView, base)
	if err := st.DeleteUser(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if members, err := st.Members(ctx, o2.ID); err != nil || len(members) != 1 {
		t.Errorf("members after deleting one = %v, %v", members, err)
	}
}
