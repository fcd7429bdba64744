package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

// TestResourceFieldsAndFilters drives the documented fields and list
// parameters of applications, dashboards, devices and flows through the
// SDK: what is kept as data comes back, parents and gateways must be
// devices of the same application, and each filter selects what it says.
func TestResourceFieldsAndFilters(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "ida@example.com")
		c := env.Login(t, "ida@example.com")
		org := must(c.Orgs.Post(ctx, client.OrgPost{Name: "Ida's"})).of(t)

		globals := json.RawMessage(`[{"key":"limit","json":"5"}]`)
		app := must(c.Applications.Post(ctx, client.OwnedPost{Name: "mine", Data: client.Data{"globals": globals, "endpointSlug": json.RawMessage(`"ida-app"`)}})).of(t)
		if got := must(c.Application.Get(ctx, app.ID)).of(t); string(got.Data["globals"]) != string(globals) || string(got.Data["endpointSlug"]) != `"ida-app"` {
			t.Errorf("application data = %v, want the globals and slug sent", got.Data)
		}
		other := must(c.Applications.Post(ctx, client.OwnedPost{Name: "ours", OrgID: org.ID})).of(t)
		t.Run("orgId blank lists the user's own", func(t *testing.T) {
			if got := ownedNames(must(c.Applications.Get(ctx, &client.OwnedListParams{Own: true})).of(t).Items); !slices.Equal(got, []string{"mine"}) {
				t.Errorf("own applications = %v, want [mine]", got)
			}
			if got := ownedNames(must(c.Applications.Get(ctx, nil)).of(t).Items); !slices.Equal(got, []string{"mine", "ours"}) {
				t.Errorf("all applications = %v, want [mine ours]", got)
			}
		})

		t.Run("dashboards", func(t *testing.T) {
			pw := "Dashb0ard-secret!"
			linked := must(c.Dashboards.Post(ctx, client.OwnedPost{Name: "linked", ApplicationID: app.ID, Password: &pw,
				Data: client.Data{"refreshRate": json.RawMessage(`60`)}})).of(t)
			if linked.IsPasswordProtected == nil || !*linked.IsPasswordProtected || linked.ApplicationID != app.ID || string(linked.Data["refreshRate"]) != "60" {
				t.Errorf("dashboard = protected %v, application %q, data %v", linked.IsPasswordProtected, linked.ApplicationID, linked.Data)
			}
			must(c.Dashboards.Post(ctx, client.OwnedPost{Name: "unlinked"})).of(t)
			none, appID := "", app.ID
			for _, tc := range []struct {
				name string
				p    *client.OwnedListParams
				want []string
			}{
				{"all", nil, []string{"linked", "unlinked"}},
				{"linked to the application", &client.OwnedListParams{ApplicationID: &appID}, []string{"linked"}},
				{"linked to none", &client.OwnedListParams{ApplicationID: &none}, []string{"unlinked"}},
				{"by application, descending", &client.OwnedListParams{ListParams: client.ListParams{SortField: "applicationId", SortDirection: "desc"}}, []string{"linked", "unlinked"}},
			} {
				if got := ownedNames(must(c.Dashboards.Get(ctx, tc.p)).of(t).Items); !slices.Equal(got, tc.want) {
					t.Errorf("%s: dashboards = %v, want %v", tc.name, got, tc.want)
				}
			}
			env.User(t, "stranger@example.com")
			stranger := env.Login(t, "stranger@example.com")
			_, err := stranger.Dashboards.Post(ctx, client.OwnedPost{Name: "theirs", ApplicationID: app.ID})
			wantError(t, err, http.StatusBadRequest, "applicationId", "is not an application you can see")
		})

		t.Run("devices", func(t *testing.T) {
			gw := must(c.Devices.Post(ctx, app.ID, client.DevicePost{Name: "gw", DeviceClass: "gateway"})).of(t)
			attrs := json.RawMessage(`[{"name":"temp","dataType":"number"}]`)
			child := must(c.Devices.Post(ctx, app.ID, client.DevicePost{Name: "child", DeviceClass: "peripheral", ParentID: gw.ID, GatewayID: gw.ID,
				Tags: []client.Tag{{Key: "floor", Value: "2"}}, Data: client.Data{"attributes": attrs}})).of(t)
			got := must(c.Device.Get(ctx, app.ID, child.ID)).of(t)
			if got.ParentID != gw.ID || got.GatewayID != gw.ID || !slices.Equal(got.Tags, []client.Tag{{Key: "floor", Value: "2"}}) || string(got.Data["attributes"]) != string(attrs) {
				t.Errorf("device = parent %q gateway %q tags %v data %v", got.ParentID, got.GatewayID, got.Tags, got.Data)
			}
			must(c.Devices.Post(ctx, app.ID, client.DevicePost{Name: "loner", Tags: []client.Tag{{Key: "floor", Value: "1"}}})).of(t)
			elsewhere := must(c.Devices.Post(ctx, other.ID, client.DevicePost{Name: "elsewhere"})).of(t)
			_, err := c.Devices.Post(ctx, app.ID, client.DevicePost{Name: "x", ParentID: elsewhere.ID})
			wantError(t, err, http.StatusBadRequest, "parentId", "is not a device of this application")
			_, err = c.Devices.Post(ctx, app.ID, client.DevicePost{Name: "x", GatewayID: app.ID})
			wantError(t, err, http.StatusBadRequest, "gatewayId", "is not a device of this application")

			none := ""
			for _, tc := range []struct {
				name string
				p    *client.DeviceListParams
				want []string
			}{
				{"all", nil, []string{"child", "gw", "loner"}},
				{"class", &client.DeviceListParams{DeviceClass: []string{"gateway", "peripheral"}}, []string{"child", "gw"}},
				{"children", &client.DeviceListParams{ParentID: &gw.ID}, []string{"child"}},
				{"no parent", &client.DeviceListParams{ParentID: &none}, []string{"gw", "loner"}},
				{"tag", &client.DeviceListParams{TagFilter: []client.TagFilter{{Key: "floor", Value: "1"}}}, []string{"loner"}},
				{"tag key", &client.DeviceListParams{TagFilter: []client.TagFilter{{Key: "floor"}}}, []string{"child", "loner"}},
			} {
				var names []string
				for _, d := range must(c.Devices.GetFiltered(ctx, app.ID, tc.p)).of(t).Items {
					names = append(names, d.Name)
				}
				if !slices.Equal(names, tc.want) {
					t.Errorf("%s: devices = %v, want %v", tc.name, names, tc.want)
				}
			}
		})

		t.Run("flows list the cloud class unless asked", func(t *testing.T) {
			must(c.Flows.Post(ctx, app.ID, client.FlowPost{Name: "in the cloud", Data: client.Data{"triggers": json.RawMessage(`[]`)}})).of(t)
			must(c.Flows.Post(ctx, app.ID, client.FlowPost{Name: "at the edge", FlowClass: "edge"})).of(t)
			for _, tc := range []struct {
				p    *client.FlowListParams
				want []string
			}{
				{nil, []string{"in the cloud"}},
				{&client.FlowListParams{FlowClass: []string{"edge"}}, []string{"at the edge"}},
				{&client.FlowListParams{FlowClass: []string{"edge", "cloud"}}, []string{"at the edge", "in the cloud"}},
			} {
				var names []string
				for _, f := range must(c.Flows.GetFiltered(ctx, app.ID, tc.p)).of(t).Items {
					names = append(names, f.Name)
				}
				if !slices.Equal(names, tc.want) {
					t.Errorf("flowClass %v: flows = %v, want %v", tc.p, names, tc.want)
				}
			}
		})

		t.Run("bad parameters are named", func(t *testing.T) {
			hc := env.HTTPClient(t)
			for _, tc := range []struct{ path, field string }{
				{"/applications?orgId=nope", "orgId"},
				{"/applications?filterField=name&filter=a%00b", "filter"},
				{"/dashboards?applicationId=nope", "applicationId"},
				{"/dashboards?sortField=color", "sortField"},
				{"/applications/" + app.ID + "/devices?deviceClass=toaster", "deviceClass"},
				{"/applications/" + app.ID + "/devices?tagFilter[0][key]=no%20spaces", "tagFilter"},
				{"/applications/" + app.ID + "/devices?tagFilter=notjson", "tagFilter"},
				{"/applications/" + app.ID + "/devices?parentId=nope", "parentId"},
				{"/applications/" + app.ID + "/devices?tagsAsObject=yes", "tagsAsObject"},
				{"/applications/" + app.ID + "/devices?excludeConnectionInfo=perhaps", "excludeConnectionInfo"},
				{"/applications/" + app.ID + "/devices?query=%7B%22color%22%3A1%7D", "query"},
				{"/applications/" + app.ID + "/flows?flowClass=lava", "flowClass"},
				{"/applications/" + app.ID + "/flows?triggerFilter[0][kind]=timer", "triggerFilter"},
			} {
				req, _ := http.NewRequest(http.MethodGet, env.URL+tc.path, nil)
				req.Header.Set("Authorization", "Bearer "+c.Token())
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var e struct{ Type, Message string }
				_ = json.NewDecoder(resp.Body).Decode(&e)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || len(e.Message) < len(tc.field) || e.Message[:len(tc.field)] != tc.field {
					t.Errorf("GET %s = %d %q, want a 400 naming %s", tc.path, resp.StatusCode, e.Message, tc.field)
				}
			}
		})
	})
}
