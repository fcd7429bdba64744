package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

// TestDeviceAndFlowListParameters drives the list parameters of devices
// and flows that follow from what accountd keeps: sorting devices by
// connectionStatus or deletedAt (every device ties: the id decides),
// queryDeleted (none is kept), excludeConnectionInfo, includeCustomNodes
// and allVersions (accepted, the same page), and triggerFilter against the
// triggers kept as data, hostile values included.
func TestDeviceAndFlowListParameters(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "lin@example.com")
		c := env.Login(t, "lin@example.com")
		app := must(c.Applications.Post(ctx, client.OwnedPost{Name: "lists"})).of(t)
		hc := env.HTTPClient(t)
		get := func(t *testing.T, path string, out any) (int, string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, env.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+c.Token())
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				var e struct{ Type, Message string }
				_ = json.NewDecoder(resp.Body).Decode(&e)
				return resp.StatusCode, e.Message
			}
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatal(err)
			}
			return resp.StatusCode, ""
		}

		t.Run("devices", func(t *testing.T) {
			var ids []string
			for _, name := range []string{"charlie", "alpha", "bravo"} {
				ids = append(ids, must(c.Devices.Post(ctx, app.ID, client.DevicePost{Name: name})).of(t).ID)
			}
			byID := slices.Sorted(slices.Values(ids))
			for _, tc := range []struct {
				p    client.ListParams
				want []string
			}{
				{client.ListParams{SortField: "connectionStatus"}, byID},
				{client.ListParams{SortField: "deletedAt"}, byID},
				{client.ListParams{SortField: "connectionStatus", SortDirection: "desc"}, reversed(byID)},
				{client.ListParams{SortField: "deletedAt", SortDirection: "desc", PerPage: 1, Page: 1}, reversed(byID)[1:2]},
			} {
				page := must(c.Devices.GetFiltered(ctx, app.ID, &client.DeviceListParams{ListParams: tc.p})).of(t)
				var got []string
				for _, d := range page.Items {
					got = append(got, d.ID)
				}
				if !slices.Equal(got, tc.want) || page.TotalCount != 3 || page.SortField != tc.p.SortField {
					t.Errorf("devices by %s %s = %v (total %d, sortField %q), want %v", tc.p.SortField, tc.p.SortDirection, got, page.TotalCount, page.SortField, tc.want)
				}
			}
			deleted := must(c.Devices.GetFiltered(ctx, app.ID, &client.DeviceListParams{QueryDeleted: true})).of(t)
			if len(deleted.Items) != 0 || deleted.TotalCount != 0 || deleted.Count != 0 {
				t.Errorf("deleted devices = %d items, total %d; want none: accountd keeps no deleted device", len(deleted.Items), deleted.TotalCount)
			}
			var page struct {
				Items []struct{ ID string }
			}
			if code, msg := get(t, "/applications/"+app.ID+"/devices?excludeConnectionInfo=true&sortField=name", &page); code != http.StatusOK || len(page.Items) != 3 {
				t.Errorf("excludeConnectionInfo=true = %d %q, %d items; want the 3 devices", code, msg, len(page.Items))
			}
			// queryDeleted still needs an application the caller can see
			env.User(t, "stranger2@example.com")
			stranger := env.Login(t, "stranger2@example.com")
			_, err := stranger.Devices.GetFiltered(ctx, app.ID, &client.DeviceListParams{QueryDeleted: true})
			wantError(t, err, http.StatusNotFound)
		})

		t.Run("flows", func(t *testing.T) {
			post := func(name, triggers string) {
				d := client.Data{}
				if triggers != "" {
					d["triggers"] = json.RawMessage(triggers)
				}
				must(c.Flows.Post(ctx, app.ID, client.FlowPost{Name: name, Data: d})).of(t)
			}
			post("on a timer", `[{"type":"timer","config":{"seconds":60}}]`)
			post("on a webhook", `[{"type":"webhook","key":"5f0c1a2b3c4d5e6f7a8b9c0d"},{"type":"deviceId","key":"5f0c1a2b3c4d5e6f7a8b9c0e"}]`)
			post("untriggered", `[]`)
			post("no triggers", "")
			for _, tc := range []struct {
				pairs []client.TriggerFilter
				want  []string
			}{
				{nil, []string{"no triggers", "on a timer", "on a webhook", "untriggered"}},
				{[]client.TriggerFilter{{Type: "timer"}}, []string{"on a timer"}},
				{[]client.TriggerFilter{{Type: "timer"}, {Key: "5f0c1a2b3c4d5e6f7a8b9c0e"}}, []string{"on a timer", "on a webhook"}},
				{[]client.TriggerFilter{{Type: "deviceId", Key: "5f0c1a2b3c4d5e6f7a8b9c0e"}}, []string{"on a webhook"}},
				{[]client.TriggerFilter{{Type: "webhook", Key: "5f0c1a2b3c4d5e6f7a8b9c0e"}}, nil},
				{[]client.TriggerFilter{{Type: "timer' OR 1=1 --"}}, nil},
				{[]client.TriggerFilter{{Key: `x") OR 1=1; DROP TABLE flows; --`}}, nil},
			} {
				page := must(c.Flows.GetFiltered(ctx, app.ID, &client.FlowListParams{TriggerFilter: tc.pairs})).of(t)
				var got []string
				for _, f := range page.Items {
					got = append(got, f.Name)
				}
				if !slices.Equal(got, tc.want) || page.TotalCount != len(tc.want) {
					t.Errorf("flows with triggers %v = %v (total %d), want %v", tc.pairs, got, page.TotalCount, tc.want)
				}
			}
			var page struct {
				Items []struct{ Name string }
			}
			q := url.Values{"triggerFilter": {`[{"type":"timer"},{"type":"webhook"}]`}, "includeCustomNodes": {"true"}, "allVersions": {"true"}}
			if code, msg := get(t, "/applications/"+app.ID+"/flows?"+q.Encode(), &page); code != http.StatusOK || len(page.Items) != 2 {
				t.Errorf("triggerFilter as JSON with includeCustomNodes and allVersions = %d %q, %v; want the timer and webhook flows", code, msg, page.Items)
			}
			// the table is still there after the injection attempts
			if got := must(c.Flows.GetFiltered(ctx, app.ID, nil)).of(t); got.TotalCount != 4 {
				t.Errorf("flows after hostile filters = %d, want 4", got.TotalCount)
			}
		})

		t.Run("bad values are named", func(t *testing.T) {
			many := make([]string, 101)
			for i := range many {
				many[i] = `{"type":"timer"}`
			}
			for _, tc := range []struct{ path, field string }{
				{"/devices?queryDeleted=perhaps", "queryDeleted"},
				{"/devices?sortField=connectionState", "sortField"},
				{"/devices?attributesAsObject=perhaps", "attributesAsObject"},
				{"/flows?includeCustomNodes=perhaps", "includeCustomNodes"},
				{"/flows?allVersions=perhaps", "allVersions"},
				{"/flows?triggerFilter[0][color]=red", "triggerFilter"},
				{"/flows?triggerFilter[0]=timer", "triggerFilter"},
				{"/flows?triggerFilter=timer", "triggerFilter"},
				{"/flows?triggerFilter=" + url.QueryEscape(`[{"type":5}]`), "triggerFilter"},
				{"/flows?triggerFilter=" + url.QueryEscape(`[{"type":"timer","sql":"1=1"}]`), "triggerFilter"},
				{"/flows?triggerFilter=" + url.QueryEscape(`[{}]`), "triggerFilter"},
				{"/flows?triggerFilter=" + url.QueryEscape(`[{"key":"`+strings.Repeat("k", 1025)+`"}]`), "triggerFilter"},
				{"/flows?triggerFilter=" + url.QueryEscape("["+strings.Join(many, ",")+"]"), "triggerFilter"},
				{"/flows?query=" + url.QueryEscape(`{"name":{"$where":"x' OR 1=1 --"}}`), "query"},
				// U+0000 in any list parameter is named, on PostgreSQL too
				{"/devices?filterField=name&filter=a%00b", "filter"},
				{"/devices?tagFilter[0][key]=floor&tagFilter[0][value]=a%00b", "tagFilter[0][value]"},
				{"/flows?triggerFilter[0][type]=a%00b", "triggerFilter[0][type]"},
			} {
				code, msg := get(t, "/applications/"+app.ID+tc.path, &struct{}{})
				if code != http.StatusBadRequest || !strings.HasPrefix(msg, tc.field) {
					t.Errorf("GET %s = %d %q, want a 400 naming %s", tc.path, code, msg, tc.field)
				}
			}
		})
	})
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
