package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

// testResourceFields checks that what a resource keeps beyond its columns
// (its data object, a dashboard's link and password hash, a device's
// parent and gateway) reads back as written, alone and in lists.
func testResourceFields(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("fields@example.com"))
	app := &accountd.Application{Owned: owned("application", accountd.OwnerUser, u.ID, "with data")}
	app.Data = []byte(`{"endpointSlug":"my-app","globals":[{"key":"k","json":"1"}]}`)
	if err := st.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	gotApp, err := st.Application(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, &gotApp.Owned, &app.Owned)
	apps, _, err := st.Applications(ctx, accountd.Scope{UserID: u.ID}, accountd.ListQuery{})
	if err != nil || len(apps) != 1 {
		t.Fatalf("Applications = %v, %v", apps, err)
	}
	checkSame(t, &apps[0].Owned, &app.Owned)

	dash := &accountd.Dashboard{Owned: owned("dashboard", accountd.OwnerUser, u.ID, "linked"), ApplicationID: app.ID, PasswordHash: "$argon2id$hash"}
	dash.Data = []byte(`{"refreshRate":60,"public":true}`)
	if err := st.CreateDashboard(ctx, dash); err != nil {
		t.Fatal(err)
	}
	gotDash, err := st.Dashboard(ctx, dash.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, &gotDash.Owned, &dash.Owned)
	if gotDash.ApplicationID != dash.ApplicationID || gotDash.PasswordHash != dash.PasswordHash {
		t.Errorf("Dashboard = application %q, hash %q; want %q, %q", gotDash.ApplicationID, gotDash.PasswordHash, dash.ApplicationID, dash.PasswordHash)
	}
	dashes, _, err := st.Dashboards(ctx, accountd.Scope{UserID: u.ID}, accountd.ListQuery{})
	if err != nil || len(dashes) != 1 {
		t.Fatalf("Dashboards = %v, %v", dashes, err)
	}
	checkSame(t, &dashes[0].Owned, &dash.Owned)
	if dashes[0].ApplicationID != dash.ApplicationID || dashes[0].PasswordHash != dash.PasswordHash {
		t.Errorf("Dashboards[0] = application %q, hash %q; want %q, %q", dashes[0].ApplicationID, dashes[0].PasswordHash, dash.ApplicationID, dash.PasswordHash)
	}

	plain := createDevice(t, st, app.ID, "plain")
	if plain.Data != nil {
		t.Fatalf("a device without data read back %q", plain.Data)
	}
	dev := &accountd.Device{ID: accountd.NewID(base), ApplicationID: app.ID, Name: "child", DeviceClass: "peripheral",
		ParentID: plain.ID, GatewayID: plain.ID, Tags: []accountd.Tag{{Key: "floor", Value: "2"}, {Key: "floor", Value: "2"}},
		Data: []byte(`{"tags":[{"key":"floor","value":"2"},{"key":"floor","value":"2"}],"systemInterval":30}`), CreatedAt: base, UpdatedAt: base}
	if err := st.CreateDevice(ctx, dev); err != nil {
		t.Fatalf("CreateDevice with a repeated tag: %v", err)
	}
	gotDev, err := st.Device(ctx, app.ID, dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *dev
	want.Tags = nil // reads return the tags inside Data
	checkSame(t, gotDev, &want)
	if err := st.DeleteDevice(ctx, app.ID, plain.ID, base); err != nil {
		t.Fatal(err)
	}
	if gotDev, err = st.Device(ctx, app.ID, dev.ID); err != nil || gotDev.ParentID != "" || gotDev.GatewayID != "" {
		t.Errorf("device after its parent and gateway went = %+v, %v; want neither", gotDev, err)
	}

	flow := &accountd.Flow{ID: accountd.NewID(base), ApplicationID: app.ID, Name: "with nodes", FlowClass: "cloud",
		Data: []byte(`{"nodes":[],"triggers":[]}`), CreatedAt: base, UpdatedAt: base}
	if err := st.CreateFlow(ctx, flow); err != nil {
		t.Fatal(err)
	}
	gotFlow, err := st.Flow(ctx, app.ID, flow.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, gotFlow, flow)
}

// testResourceFilters checks the list filters the reference documents:
// orgId given blank, a dashboard's application, a device's class, parent
// and tags, a flow's class.
func testResourceFilters(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("filters@example.com"))
	o := createOrg(t, st, "Filtered", u.ID)
	mine := createApp(t, st, accountd.OwnerUser, u.ID, "mine")
	createApp(t, st, accountd.OwnerOrg, o.ID, "ours")
	names := func(apps []*accountd.Application) []string {
		var out []string
		for _, a := range apps {
			out = append(out, a.Name)
		}
		return out
	}
	apps, total, err := st.Applications(ctx, accountd.Scope{UserID: u.ID, OwnOnly: true}, accountd.ListQuery{})
	if err != nil || total != 1 || !slices.Equal(names(apps), []string{"mine"}) {
		t.Errorf("Applications(own only) = %v, %d, %v; want [mine]", names(apps), total, err)
	}

	linked := &accountd.Dashboard{Owned: owned("dashboard", accountd.OwnerUser, u.ID, "linked"), ApplicationID: mine.ID}
	if err := st.CreateDashboard(ctx, linked); err != nil {
		t.Fatal(err)
	}
	unlinked := createDash(t, st, accountd.OwnerUser, u.ID, "unlinked")
	for _, tc := range []struct {
		name string
		sc   accountd.Scope
		want []string
	}{
		{"all", accountd.Scope{UserID: u.ID}, []string{"linked", "unlinked"}},
		{"linked to mine", accountd.Scope{UserID: u.ID, ApplicationID: mine.ID, HasApplication: true}, []string{"linked"}},
		{"linked to none", accountd.Scope{UserID: u.ID, HasApplication: true}, []string{"unlinked"}},
		{"linked to another", accountd.Scope{UserID: u.ID, ApplicationID: accountd.NewID(base), HasApplication: true}, nil},
	} {
		dashes, total, err := st.Dashboards(ctx, tc.sc, accountd.ListQuery{})
		var got []string
		for _, d := range dashes {
			got = append(got, d.Name)
		}
		if err != nil || total != len(tc.want) || !slices.Equal(got, tc.want) {
			t.Errorf("Dashboards(%s) = %v, %d, %v; want %v", tc.name, got, total, err, tc.want)
		}
	}
	dashes, _, err := st.Dashboards(ctx, accountd.Scope{UserID: u.ID}, accountd.ListQuery{SortField: "applicationId", SortDirection: "desc"})
	if err != nil || len(dashes) != 2 || dashes[0].ID != linked.ID || dashes[1].ID != unlinked.ID {
		t.Errorf("Dashboards by applicationId desc = %v, %v; want linked first", dashes, err)
	}

	gw := createDevice(t, st, mine.ID, "gateway")
	add := func(name, class, parent string, tags ...accountd.Tag) {
		t.Helper()
		d := &accountd.Device{ID: accountd.NewID(base), ApplicationID: mine.ID, Name: name, DeviceClass: class, ParentID: parent,
			Tags: tags, CreatedAt: base, UpdatedAt: base.Add(time.Second)}
		if err := st.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	add("a", "peripheral", gw.ID, accountd.Tag{Key: "floor", Value: "1"}, accountd.Tag{Key: "kind", Value: "temp"})
	add("b", "peripheral", gw.ID, accountd.Tag{Key: "floor", Value: "2"})
	add("c", "standalone", "", accountd.Tag{Key: "kind", Value: "temp"})
	for _, tc := range []struct {
		name string
		f    accountd.DeviceFilter
		want []string
	}{
		{"all", accountd.DeviceFilter{}, []string{"a", "b", "c", "gateway"}},
		{"one class", accountd.DeviceFilter{Classes: []string{"standalone"}}, []string{"c"}},
		{"two classes", accountd.DeviceFilter{Classes: []string{"standalone", "gateway"}}, []string{"c", "gateway"}},
		{"children", accountd.DeviceFilter{ParentID: gw.ID, HasParent: true}, []string{"a", "b"}},
		{"no parent", accountd.DeviceFilter{HasParent: true}, []string{"c", "gateway"}},
		{"tag pair", accountd.DeviceFilter{Tags: []accountd.TagFilter{{Key: "floor", Value: "1"}}}, []string{"a"}},
		{"tag key", accountd.DeviceFilter{Tags: []accountd.TagFilter{{Key: "floor"}}}, []string{"a", "b"}},
		{"tag value", accountd.DeviceFilter{Tags: []accountd.TagFilter{{Value: "temp"}}}, []string{"a", "c"}},
		{"every pair", accountd.DeviceFilter{Tags: []accountd.TagFilter{{Key: "kind", Value: "temp"}, {Key: "floor"}}}, []string{"a"}},
		{"all at once", accountd.DeviceFilter{Classes: []string{"peripheral"}, ParentID: gw.ID, HasParent: true,
			Tags: []accountd.TagFilter{{Key: "floor", Value: "2"}}}, []string{"b"}},
	} {
		tc.f.ApplicationID = mine.ID
		devs, total, err := st.Devices(ctx, tc.f, accountd.ListQuery{PerPage: 10})
		var got []string
		for _, d := range devs {
			got = append(got, d.Name)
		}
		if err != nil || total != len(tc.want) || !slices.Equal(got, tc.want) {
			t.Errorf("Devices(%s) = %v, total %d, %v; want %v", tc.name, got, total, err, tc.want)
		}
	}

	createFlow(t, st, mine.ID, "edge flow") // the helper makes edge flows
	cloud := &accountd.Flow{ID: accountd.NewID(base), ApplicationID: mine.ID, Name: "cloud flow", FlowClass: "cloud", CreatedAt: base, UpdatedAt: base}
	if err := st.CreateFlow(ctx, cloud); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		classes []string
		want    []string
	}{
		{nil, []string{"cloud flow", "edge flow"}},
		{[]string{"cloud"}, []string{"cloud flow"}},
		{[]string{"edge", "embedded"}, []string{"edge flow"}},
	} {
		flows, total, err := st.Flows(ctx, accountd.FlowFilter{ApplicationID: mine.ID, Classes: tc.classes}, accountd.ListQuery{})
		var got []string
		for _, f := range flows {
			got = append(got, f.Name)
		}
		if err != nil || total != len(tc.want) || !slices.Equal(got, tc.want) {
			t.Errorf("Flows(%v) = %v, total %d, %v; want %v", tc.classes, got, total, err, tc.want)
		}
	}
	// deleting a device clears it from the devices that named it
	if err := st.DeleteDevice(ctx, mine.ID, gw.ID, base); err != nil {
		t.Fatal(err)
	}
	devs, _, err := st.Devices(ctx, accountd.DeviceFilter{ApplicationID: mine.ID, HasParent: true}, accountd.ListQuery{})
	if err != nil || len(devs) != 3 {
		t.Errorf("devices without a parent after deleting theirs = %d, %v; want 3", len(devs), err)
	}
	// the tag rows go with their devices, and so with the application;
	// dashboards linked to it are linked to none
	if err := st.DeleteApplication(ctx, mine.ID, base); err != nil {
		t.Fatalf("DeleteApplication with tagged devices: %v", err)
	}
	got, err := st.Dashboard(ctx, linked.ID)
	if err != nil || got.ApplicationID != "" {
		t.Errorf("linked dashboard after its application went: %v, %v; want no application", got, err)
	}
}
