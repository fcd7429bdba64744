package storetest

import (
	"fmt"
	"testing"

	"github.com/accountd/accountd"
)

var appSummaryTests = []struct {
	name string
	fn   func(t *testing.T, st accountd.Store)
}{
	{"AppSummaries", testAppSummaries},
}

// testAppSummaries counts each application's devices, flows and linked
// dashboards, and leaves out ids that name no application.
func testAppSummaries(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("appsum@example.com"))
	busy := createApp(t, st, accountd.OwnerUser, u.ID, "busy")
	idle := createApp(t, st, accountd.OwnerUser, u.ID, "idle")
	for i := range 3 {
		if err := st.CreateDevice(ctx, &accountd.Device{ID: accountd.NewID(base), ApplicationID: busy.ID, Name: fmt.Sprint("d", i), DeviceClass: "standalone", CreatedAt: base, UpdatedAt: base}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateFlow(ctx, &accountd.Flow{ID: accountd.NewID(base), ApplicationID: busy.ID, Name: "f", FlowClass: "cloud", CreatedAt: base, UpdatedAt: base}); err != nil {
		t.Fatal(err)
	}
	d := &accountd.Dashboard{Owned: owned("dashboard", accountd.OwnerUser, u.ID, "linked"), ApplicationID: busy.ID}
	if err := st.CreateDashboard(ctx, d); err != nil {
		t.Fatal(err)
	}
	createDash(t, st, accountd.OwnerUser, u.ID, "unlinked")
	got, err := st.AppSummaries(ctx, []string{busy.ID, idle.ID, queryID(99)})
	want := map[string]accountd.AppSummary{busy.ID: {Devices: 3, Flows: 1, Dashboards: 1}, idle.ID: {}}
	if err != nil || len(got) != len(want) || got[busy.ID] != want[busy.ID] || got[idle.ID] != want[idle.ID] {
		t.Errorf("AppSummaries = %v, %v; want %v", got, err, want)
	}
	if got, err := st.AppSummaries(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("AppSummaries(none) = %v, %v; want nothing", got, err)
	}
}
