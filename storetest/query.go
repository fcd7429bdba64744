package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

var queryTests = []struct {
	name string
	fn   func(t *testing.T, st accountd.Store)
}{
	{"DeviceAdvancedQuery", testDeviceAdvancedQuery},
	{"FlowAdvancedQuery", testFlowAdvancedQuery},
}

// queryID is the id numbered n: ids in the order of n, so that ranges of
// ids select what the test expects.
func queryID(n int) string { return fmt.Sprintf("5f00000000000000000000%02x", n) }

// parseQuery parses a query of the table as the API would.
func parseQuery(t *testing.T, text string, fields map[string]accountd.QueryType) *accountd.Query {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("test query %s is not JSON: %v", text, err)
	}
	q, err := accountd.ParseQuery(doc, fields)
	if err != nil {
		t.Fatalf("ParseQuery(%s): %v", text, err)
	}
	return q
}

// checkQueried compares the ids a list call with query gave (in id order)
// and its total with the ids numbered want.
func checkQueried(t *testing.T, call, query string, got []string, total int, err error, want []int) {
	t.Helper()
	if err != nil {
		t.Errorf("%s(%s): %v", call, query, err)
		return
	}
	var ids []string
	for _, n := range want {
		ids = append(ids, queryID(n))
	}
	if !slices.Equal(got, ids) || total != len(ids) {
		t.Errorf("%s(%s) = %v (total %d), want %v", call, query, got, total, ids)
	}
}

// testDeviceAdvancedQuery runs a table of advanced queries, every operator
// and field kind among them, over a seeded application (and a device of
// another application that must never show), comparing the ids listed.
func testDeviceAdvancedQuery(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("devquery@example.com"))
	app := createApp(t, st, accountd.OwnerUser, u.ID, "queried")
	other := createApp(t, st, accountd.OwnerUser, u.ID, "elsewhere")
	at := func(n int) time.Time { return base.Truncate(time.Second).Add(time.Duration(n) * time.Second) }
	for _, d := range []struct {
		n                  int
		name, class        string
		parent, gateway    int
		tags               []accountd.Tag
		attrs              string
		anotherApplication bool
	}{
		{n: 1, name: "alpha", class: "standalone", tags: []accountd.Tag{{Key: "floor", Value: "2"}, {Key: "room", Value: "a"}}, attrs: `[{"name":"temp","dataType":"number"}]`},
		{n: 2, name: "Bravo", class: "gateway", tags: []accountd.Tag{{Key: "floor", Value: "3"}}, attrs: `[{"name":"temp","dataType":"number"},{"name":"hum","dataType":"number"}]`},
		{n: 3, name: "charlie", class: "peripheral", parent: 2, gateway: 2, tags: []accountd.Tag{{Key: "floor", Value: "2"}, {Key: "floor", Value: "4"}}},
		{n: 4, name: "delta_50%", class: "peripheral", parent: 3},
		{n: 5, name: "echo", class: "system", tags: []accountd.Tag{{Key: "team", Value: "x"}}},
		{n: 6, name: "alpha", class: "standalone", tags: []accountd.Tag{{Key: "floor", Value: "2"}}, anotherApplication: true},
	} {
		dev := &accountd.Device{ID: queryID(d.n), ApplicationID: app.ID, Name: d.name, DeviceClass: d.class, Tags: d.tags,
			CreatedAt: at(d.n), UpdatedAt: at(10 + d.n)}
		if d.anotherApplication {
			dev.ApplicationID = other.ID
		}
		if d.parent > 0 {
			dev.ParentID = queryID(d.parent)
		}
		if d.gateway > 0 {
			dev.GatewayID = queryID(d.gateway)
		}
		data := map[string]json.RawMessage{}
		if d.attrs != "" {
			data["attributes"] = json.RawMessage(d.attrs)
		}
		if len(data) > 0 {
			dev.Data, _ = json.Marshal(data)
		}
		if err := st.CreateDevice(ctx, dev); err != nil {
			t.Fatalf("CreateDevice(%s): %v", d.name, err)
		}
	}
	ms := func(n int) string { return fmt.Sprint(at(n).UnixMilli()) }
	for _, tc := range []struct {
		query string
		want  []int
	}{
		{`{}`, []int{1, 2, 3, 4, 5}},
		{`{"name":"alpha"}`, []int{1}},
		{`{"name":{"$eq":"alpha"}}`, []int{1}},
		{`{"name":{"$ne":"alpha"}}`, []int{2, 3, 4, 5}},
		{`{"name":{"$eq":"bravo"}}`, nil},
		{`{"name":{"$eq":"bravo","$ci":true}}`, []int{2}},
		{`{"name":{"$in":["alpha","echo","zulu"]}}`, []int{1, 5}},
		{`{"name":{"$in":["ALPHA"],"$ci":true}}`, []int{1}},
		{`{"name":{"$nin":["alpha","echo"]}}`, []int{2, 3, 4}},
		{`{"name":{"$in":[]}}`, nil},
		{`{"name":{"$nin":[]}}`, []int{1, 2, 3, 4, 5}},
		{`{"name":{"$startsWith":"b"}}`, nil},
		{`{"name":{"$startsWith":"b","$ci":true}}`, []int{2}},
		{`{"name":{"$endsWith":"lie"}}`, []int{3}},
		{`{"name":{"$endsWith":"LIE","$ci":true}}`, []int{3}},
		{`{"name":{"$endsWith":"a longer text than any name"}}`, nil},
		{`{"name":{"$contains":"ha"}}`, []int{1, 3}},
		{`{"name":{"$contains":"%"}}`, []int{4}},
		{`{"name":{"$contains":"_"}}`, []int{4}},
		{`{"name":{"$contains":"l%"}}`, nil},
		{`{"name":{"$startsWith":"_"}}`, nil},
		{`{"name":{"$contains":"\\"}}`, nil},
		{`{"name":{"$gt":"c","$lt":"e"}}`, []int{3, 4}},
		{`{"name":{"$gte":"echo"}}`, []int{5}},
		{`{"name":5}`, nil},
		{`{"name":null}`, nil},
		{`{"name":{"$ne":null}}`, []int{1, 2, 3, 4, 5}},
		{`{"deviceClass":{"$in":["peripheral","system"]}}`, []int{3, 4, 5}},
		{`{"id":"` + queryID(1) + `"}`, []int{1}},
		{`{"id":{"$in":["` + queryID(1) + `","` + strings.ToUpper(queryID(5)) + `"]}}`, []int{1, 5}},
		{`{"id":{"$nin":["` + queryID(1) + `"]}}`, []int{2, 3, 4, 5}},
		{`{"$and":[{"id":{"$gte":"` + queryID(2) + `"}},{"id":{"$lt":"` + queryID(4) + `"}}]}`, []int{2, 3}},
		{`{"id":{"$gt":"` + queryID(3) + `"}}`, []int{4, 5}},
		{`{"id":{"$lte":"` + queryID(1) + `"}}`, []int{1}},
		{`{"id":null}`, nil},
		{`{"parentId":null}`, []int{1, 2, 5}},
		{`{"parentId":"` + queryID(2) + `"}`, []int{3}},
		{`{"parentId":{"$ne":null}}`, []int{3, 4}},
		{`{"parentId":{"$lt":"` + queryID(3) + `"}}`, []int{3}},
		{`{"parentId":{"$nin":["` + queryID(2) + `"]}}`, []int{1, 2, 4, 5}},
		{`{"gatewayId":{"$ne":"` + queryID(2) + `"}}`, []int{1, 2, 4, 5}},
		{`{"ancestorId":"` + queryID(2) + `"}`, []int{3, 4}},
		{`{"ancestorId":{"$ne":"` + queryID(2) + `"}}`, []int{1, 2, 5}},
		{`{"ancestorId":{"$in":["` + queryID(3) + `","` + queryID(5) + `"]}}`, []int{4}},
		{`{"ancestorId":{"$nin":["` + queryID(3) + `"]}}`, []int{1, 2, 3, 5}},
		{`{"ancestorId":{"$gte":"` + queryID(3) + `"}}`, []int{4}},
		{`{"ancestorId":null}`, []int{1, 2, 5}},
		{`{"ancestorId":{"$ne":null}}`, []int{3, 4}},
		{`{"tags":{"floor":"2"}}`, []int{1, 3}},
		{`{"tags":{"floor":"2","room":"a"}}`, []int{1}},
		{`{"tags":{"floor":{"$in":["3","4"]}}}`, []int{2, 3}},
		{`{"tags":{"floor":{"$nin":["2"]}}}`, []int{2, 3}},
		{`{"tags":{"$tagKey":"team"}}`, []int{5}},
		{`{"tags":{"$tagValue":"2"}}`, []int{1, 3}},
		{`{"tags":{"$tagKey":"floor","$tagValue":"3"}}`, []int{2}},
		{`{"tags":{"$tagKey":{"$in":["team","room"]}}}`, []int{1, 5}},
		{`{"tags":{"$tagKey":{"$nin":["floor","room"]}}}`, []int{5}},
		{`{"tags":{"$eq":{"floor":"2","room":"a"}}}`, []int{1}},
		{`{"tags":{"$ne":{"floor":"2"}}}`, []int{2, 4, 5}},
		{`{"tags":{"$ne":{"$tagKey":"floor"}}}`, []int{4, 5}},
		{`{"tags":{"floor":"2' OR '1'='1"}}`, nil},
		{`{"attributeName":"hum"}`, []int{2}},
		{`{"attributeName":{"$ne":"temp"}}`, []int{3, 4, 5}},
		{`{"attributeName":{"$nin":["hum"]}}`, []int{1, 3, 4, 5}},
		{`{"attributeName":{"$startsWith":"te"}}`, []int{1, 2}},
		{`{"attributeName":{"$in":["HUM"],"$ci":true}}`, []int{2}},
		{`{"attributeName":null}`, []int{3, 4, 5}},
		{`{"creationDate":{"$gt":` + ms(2) + `}}`, []int{3, 4, 5}},
		{`{"creationDate":{"$lte":"` + at(2).UTC().Format(time.RFC3339Nano) + `"}}`, []int{1, 2}},
		{`{"creationDate":` + ms(4) + `}`, []int{4}},
		{`{"lastUpdated":{"$in":[` + ms(11) + `,` + ms(15) + `]}}`, []int{1, 5}},
		{`{"lastUpdated":{"$gte":"` + at(14).Format(time.RFC3339) + `"}}`, []int{4, 5}},
		{`{"deletedAt":null}`, []int{1, 2, 3, 4, 5}},
		{`{"deletedAt":{"$gt":0}}`, nil},
		{`{"connectionStatus":"connected"}`, nil},
		{`{"connectionStatus":{"$ne":"connected"}}`, []int{1, 2, 3, 4, 5}},
		{`{"connectionStatus":{"$contains":"conn"}}`, nil},
		{`{"experienceUserId":{"$in":["` + queryID(1) + `"]}}`, nil},
		{`{"experienceGroupId":{"$nin":["` + queryID(1) + `"]}}`, []int{1, 2, 3, 4, 5}},
		{`{"connectedAt":{"$gte":null}}`, []int{1, 2, 3, 4, 5}},
		{`{"disconnectedAt":{"$lt":null}}`, nil},
		{`{"$or":[{"name":"alpha"},{"deviceClass":"system"}]}`, []int{1, 5}},
		{`{"$nor":[{"name":"alpha"},{"tags":{"floor":"2"}}]}`, []int{2, 4, 5}},
		{`{"$and":[{"$or":[{"name":"alpha"},{"name":"echo"}]},{"$nor":[{"deviceClass":"system"}]}]}`, []int{1}},
		{`{"$or":[{"$and":[{"deviceClass":"peripheral"},{"parentId":"` + queryID(3) + `"}]},{"tags":{"team":"x"}}],"name":{"$ne":"echo"}}`, []int{4}},
		{`{"name":"zulu"}`, nil},
		{`{"name":"x' OR '1'='1"}`, nil},
		{`{"name":{"$contains":"'); DROP TABLE devices; --"}}`, nil},
		{`{"deviceClass":{"$startsWith":"per","$endsWith":"al"}}`, []int{3, 4}},
	} {
		q := parseQuery(t, tc.query, accountd.DeviceQueryFields)
		devices, total, err := st.Devices(ctx, accountd.DeviceFilter{ApplicationID: app.ID, Query: q}, accountd.ListQuery{SortField: "id"})
		var got []string
		for _, d := range devices {
			got = append(got, d.ID)
		}
		checkQueried(t, "Devices", tc.query, got, total, err, tc.want)
	}
	// the query goes with paging and sorting
	q := parseQuery(t, `{"deviceClass":"peripheral"}`, accountd.DeviceQueryFields)
	devices, total, err := st.Devices(ctx, accountd.DeviceFilter{ApplicationID: app.ID, Query: q}, accountd.ListQuery{SortField: "id", SortDirection: "desc", PerPage: 1, Page: 1})
	if err != nil || total != 2 || len(devices) != 1 || devices[0].ID != queryID(3) {
		t.Errorf("second page of peripherals, newest first = %v (total %d), %v; want charlie of 2", devices, total, err)
	}
	// and with the plain filters a caller may add
	devices, total, err = st.Devices(ctx, accountd.DeviceFilter{ApplicationID: app.ID, Classes: []string{"peripheral"}, Query: parseQuery(t, `{"name":{"$contains":"a"}}`, accountd.DeviceQueryFields)}, accountd.ListQuery{})
	if err != nil || total != 2 || len(devices) != 2 {
		t.Errorf("peripherals with an a = %d (total %d), %v; want 2", len(devices), total, err)
	}
	// the hostile values left every table as it was
	if _, total, err := st.Devices(ctx, accountd.DeviceFilter{ApplicationID: app.ID}, accountd.ListQuery{}); err != nil || total != 5 {
		t.Errorf("devices after the hostile queries = %d, %v; want 5", total, err)
	}
}

// testFlowAdvancedQuery runs advanced flow queries over flows whose
// triggers, nodes and customNodeSupports are kept as data.
func testFlowAdvancedQuery(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("flowquery@example.com"))
	app := createApp(t, st, accountd.OwnerUser, u.ID, "flowing")
	for _, f := range []struct {
		n           int
		name, class string
		enabled     bool
		data        string
	}{
		{1, "timer flow", "cloud", true, `{"triggers":[{"type":"timer","config":{"seconds":60,"label":"minute","on":true,"off":null}}],"nodes":[{"type":"DebugNode","config":{}}]}`},
		{2, "webhook", "edge", false, `{"triggers":[{"type":"webhook","key":"abc"}],"customNodeSupports":["cloud"]}`},
		{3, "plain", "cloud", true, ``},
		{4, "odd", "customNode", false, `{"triggers":["timer",{"type":"timer","config":"x"}],"nodes":{"type":"DebugNode"},"customNodeSupports":"cloud"}`},
	} {
		fl := &accountd.Flow{ID: queryID(f.n), ApplicationID: app.ID, Name: f.name, FlowClass: f.class, Enabled: f.enabled,
			CreatedAt: base, UpdatedAt: base}
		if f.data != "" {
			fl.Data = []byte(f.data)
		}
		if err := st.CreateFlow(ctx, fl); err != nil {
			t.Fatalf("CreateFlow(%s): %v", f.name, err)
		}
	}
	for _, tc := range []struct {
		query string
		want  []int
	}{
		{`{}`, []int{1, 2, 3, 4}},
		{`{"enabled":true}`, []int{1, 3}},
		{`{"enabled":"false"}`, []int{2, 4}},
		{`{"enabled":{"$ne":true}}`, []int{2, 4}},
		{`{"enabled":{"$in":[1]}}`, []int{1, 3}},
		{`{"flowClass":"edge"}`, []int{2}},
		{`{"flowClass":{"$in":["cloud","customNode"]},"name":{"$contains":" "}}`, []int{1}},
		{`{"triggers":{"type":"timer"}}`, []int{1, 4}},
		{`{"triggers":{"type":"webhook","key":"abc"}}`, []int{2}},
		{`{"triggers":{"type":"webhook","key":"abd"}}`, nil},
		{`{"triggers":{"$ne":{"type":"timer"}}}`, []int{2, 3}},
		{`{"triggers":{"$eq":{"type":"timer","config":{"seconds":60}}}}`, []int{1}},
		{`{"triggers":{"type":"timer","config":{"seconds":61}}}`, nil},
		{`{"triggers":{"type":"timer","config":{"seconds":"60"}}}`, nil},
		{`{"triggers":{"type":"timer","config":{"label":"minute","on":true,"off":null}}}`, []int{1}},
		{`{"triggers":{"type":"timer","config":{"on":false}}}`, nil},
		{`{"triggers":{"type":"timer","config":{"missing":null}}}`, nil},
		{`{"triggers":{"type":"timer","config":{"a b'\"":"x"}}}`, nil},
		{`{"nodes":{"type":"DebugNode"}}`, []int{1}},
		{`{"customNodeSupports":"cloud"}`, []int{2}},
		{`{"customNodeSupports":null}`, []int{1, 3, 4}},
		{`{"customNodeSupports":{"$ne":"edge"}}`, []int{1, 2, 3, 4}},
		{`{"defaultVersion":null}`, []int{1, 2, 3, 4}},
		{`{"defaultVersion":"` + queryID(1) + `"}`, nil},
		{`{"$or":[{"enabled":false},{"triggers":{"type":"timer"}}]}`, []int{1, 2, 4}},
	} {
		q := parseQuery(t, tc.query, accountd.FlowQueryFields)
		flows, total, err := st.Flows(ctx, accountd.FlowFilter{ApplicationID: app.ID, Query: q}, accountd.ListQuery{SortField: "id"})
		var got []string
		for _, f := range flows {
			got = append(got, f.ID)
		}
		checkQueried(t, "Flows", tc.query, got, total, err, tc.want)
	}
}
