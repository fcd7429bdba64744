package storetest

import (
	"slices"
	"testing"

	"github.com/accountd/accountd"
)

// testFlowTriggerFilter checks a flows list's triggerFilter against the
// triggers kept in the flows' data: a flow is listed when one of its
// triggers matches one of the pairs, a blank key or type matching any;
// flows without triggers, or with data that is not what the schema
// describes, match none; the pairs' words are parameters, never SQL.
func testFlowTriggerFilter(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("triggers@example.com"))
	app := createApp(t, st, accountd.OwnerUser, u.ID, "triggered")
	other := createApp(t, st, accountd.OwnerUser, u.ID, "elsewhere")
	for _, f := range []struct{ app, name, data string }{
		{app.ID, "timer", `{"triggers":[{"type":"timer","config":{"seconds":60}}]}`},
		{app.ID, "device", `{"triggers":[{"key":"5f0c1a2b3c4d5e6f7a8b9c0d","type":"deviceId"},{"type":"webhook","key":"abc"}]}`},
		{app.ID, "none", `{"triggers":[]}`},
		{app.ID, "no data", ``},
		{app.ID, "odd data", `{"triggers":{"type":"timer"}}`},
		{other.ID, "other timer", `{"triggers":[{"type":"timer"}]}`},
	} {
		fl := &accountd.Flow{ID: accountd.NewID(base), ApplicationID: f.app, Name: f.name, FlowClass: "cloud",
			Data: []byte(f.data), CreatedAt: base, UpdatedAt: base}
		if f.data == "" {
			fl.Data = nil
		}
		if err := st.CreateFlow(ctx, fl); err != nil {
			t.Fatalf("CreateFlow(%s): %v", f.name, err)
		}
	}
	for _, tc := range []struct {
		pairs []accountd.TriggerFilter
		want  []string
	}{
		{nil, []string{"device", "no data", "none", "odd data", "timer"}},
		{[]accountd.TriggerFilter{{Type: "timer"}}, []string{"timer"}},
		{[]accountd.TriggerFilter{{Key: "abc"}}, []string{"device"}},
		{[]accountd.TriggerFilter{{Key: "abc", Type: "webhook"}}, []string{"device"}},
		// key and type must match the same trigger
		{[]accountd.TriggerFilter{{Key: "abc", Type: "deviceId"}}, nil},
		{[]accountd.TriggerFilter{{Type: "timer"}, {Type: "deviceId"}}, []string{"device", "timer"}},
		{[]accountd.TriggerFilter{{Type: "mqttTopic"}}, nil},
		{[]accountd.TriggerFilter{{Type: "timer' OR 1=1 --"}}, nil},
		{[]accountd.TriggerFilter{{Key: `") OR 1=1 --`, Type: "timer"}}, nil},
	} {
		flows, total, err := st.Flows(ctx, accountd.FlowFilter{ApplicationID: app.ID, Triggers: tc.pairs}, accountd.ListQuery{})
		var got []string
		for _, f := range flows {
			got = append(got, f.Name)
		}
		if err != nil || total != len(tc.want) || !slices.Equal(got, tc.want) {
			t.Errorf("Flows(triggers %v) = %v, total %d, %v; want %v", tc.pairs, got, total, err, tc.want)
		}
	}
	// the filter goes with the others: a class and a page
	flows, total, err := st.Flows(ctx, accountd.FlowFilter{ApplicationID: app.ID, Classes: []string{"edge"}, Triggers: []accountd.TriggerFilter{{Type: "timer"}}}, accountd.ListQuery{})
	if err != nil || total != 0 || len(flows) != 0 {
		t.Errorf("edge flows with a timer = %d (total %d), %v; want none", len(flows), total, err)
	}
	flows, total, err = st.Flows(ctx, accountd.FlowFilter{ApplicationID: app.ID, Triggers: []accountd.TriggerFilter{{Type: "timer"}, {Type: "webhook"}}}, accountd.ListQuery{PerPage: 1, Page: 1})
	if err != nil || total != 2 || len(flows) != 1 || flows[0].Name != "timer" {
		t.Errorf("second page of flows with a timer or webhook = %v (total %d), %v; want timer of 2", flows, total, err)
	}
}
