package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

// TestAdvancedQueries drives the query parameter of the device and flow
// lists over real HTTP: it is read as the official clients send it (JSON
// text), overrides the plain filters as the reference says, goes with
// paging and the caller's access, and hostile or malformed queries are
// answered 400 naming the place and the rule, never 5xx. Every answer is
// held to the API document (and the reference, when at hand).
func TestAdvancedQueries(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "quinn@example.com")
		c := env.Login(t, "quinn@example.com")
		app := must(c.Applications.Post(ctx, client.OwnedPost{Name: "queries"})).of(t)
		get := func(t *testing.T, path, token string) (int, map[string]any) {
			t.Helper()
			return fidelitySend(t, env, http.MethodGet, path, token, nil)
		}
		names := func(body map[string]any) []string {
			var out []string
			items, _ := body["items"].([]any)
			for _, it := range items {
				out = append(out, it.(map[string]any)["name"].(string))
			}
			return out
		}
		gw := must(c.Devices.Post(ctx, app.ID, client.DevicePost{Name: "gateway-1", DeviceClass: "gateway",
			Tags: []client.Tag{{Key: "floor", Value: "2"}, {Key: "floor", Value: "3"}},
			Data: client.Data{"attributes": json.RawMessage(`[{"name":"temp","dataType":"number"},{"name":"hum","dataType":"number"}]`)}})).of(t)
		must(c.Devices.Post(ctx, app.ID, client.DevicePost{Name: "probe_100%", DeviceClass: "peripheral", ParentID: gw.ID,
			Tags: []client.Tag{{Key: "floor", Value: "2"}}})).of(t)
		must(c.Devices.Post(ctx, app.ID, client.DevicePost{Name: "sensor-2", DeviceClass: "peripheral"})).of(t)
		must(c.Flows.Post(ctx, app.ID, client.FlowPost{Name: "edge timer", FlowClass: "edge",
			Data: client.Data{"triggers": json.RawMessage(`[{"type":"timer","config":{"seconds":60}}]`)}})).of(t)
		must(c.Flows.Post(ctx, app.ID, client.FlowPost{Name: "cloud hook", Data: client.Data{"triggers": json.RawMessage(`[{"type":"webhook","key":"abc"}]`)}})).of(t)
		devices, flows := "/applications/"+app.ID+"/devices", "/applications/"+app.ID+"/flows"
		q := func(list, query string, more ...string) string {
			return list + "?" + strings.Join(append([]string{"query=" + url.QueryEscape(query)}, more...), "&")
		}

		t.Run("answers", func(t *testing.T) {
			for _, tc := range []struct {
				path string
				want []string
			}{
				{q(devices, `{"name":{"$contains":"%"}}`), []string{"probe_100%"}},
				{q(devices, `{"name":{"$contains":"_"}}`), []string{"probe_100%"}},
				{q(devices, `{"name":{"$startsWith":"PROBE","$ci":true}}`), []string{"probe_100%"}},
				{q(devices, `{"ancestorId":"`+gw.ID+`"}`), []string{"probe_100%"}},
				{q(devices, `{"tags":{"$tagKey":"floor","$tagValue":{"$in":["3"]}}}`), []string{"gateway-1"}},
				{q(devices, `{"$or":[{"attributeName":"hum"},{"parentId":null,"deviceClass":"peripheral"}]}`), []string{"gateway-1", "sensor-2"}},
				// the query overrides filter, deviceClass, tagFilter and parentId
				{q(devices, `{"deviceClass":"peripheral"}`, "deviceClass=gateway", "filterField=name", "filter=gate*", "parentId="+gw.ID, "tagFilter[0][key]=nothere"), []string{"probe_100%", "sensor-2"}},
				// and goes with sorting and paging
				{q(devices, `{"deviceClass":"peripheral"}`, "sortField=name", "sortDirection=desc", "perPage=1", "page=1"), []string{"probe_100%"}},
				{q(devices, ` `), []string{"gateway-1", "probe_100%", "sensor-2"}},
				// flowClass (and its default, cloud) is overridden too
				{q(flows, `{}`), []string{"cloud hook", "edge timer"}},
				{q(flows, `{"triggers":{"type":"timer","config":{"seconds":60}}}`, "flowClass=cloud", "allVersions=true"), []string{"edge timer"}},
				{q(flows, `{"triggers":{"$ne":{"type":"timer"}},"flowClass":{"$in":["cloud","edge"]}}`), []string{"cloud hook"}},
				{q(flows, `{"name":{"$eq":"x' OR 1=1 --"}}`), nil},
			} {
				code, body := get(t, tc.path, c.Token())
				if code != http.StatusOK || !slices.Equal(names(body), tc.want) {
					t.Errorf("GET %s = %d %v, want %v", tc.path, code, body, tc.want)
				}
			}
			code, body := get(t, q(devices, `{"deviceClass":"peripheral"}`, "perPage=1"), c.Token())
			if code != http.StatusOK || body["totalCount"] != float64(2) || body["filter"] != nil {
				t.Errorf("a query's page = %d %v, want totalCount 2 and no filter echoed", code, body)
			}
		})

		t.Run("access", func(t *testing.T) {
			env.User(t, "stranger-q@example.com")
			stranger := env.Login(t, "stranger-q@example.com")
			if code, body := get(t, q(devices, `{}`), stranger.Token()); code != http.StatusNotFound {
				t.Errorf("a stranger's query = %d %v, want 404", code, body)
			}
		})

		t.Run("refused", func(t *testing.T) {
			deep := `{"name":"x"}`
			for range 5 {
				deep = `{"$and":[` + deep + `]}`
			}
			many := make([]string, 101)
			for i := range many {
				many[i] = fmt.Sprintf(`{"name":"n%d"}`, i)
			}
			conds := make([]string, 100)
			for i := range conds {
				conds[i] = fmt.Sprintf(`{"name":{"$ne":"n%d"}}`, i)
			}
			values := make([]string, 100)
			for i := range values {
				values[i] = fmt.Sprintf(`"v%d"`, i)
			}
			sixHundred := `{"$or":[` + strings.Repeat(`{"name":{"$in":[`+strings.Join(values, ",")+`]}},`, 5) + `{"name":{"$in":["x"]}}]}`
			for _, tc := range []struct{ path, prefix string }{
				{q(devices, `{"name":{"$regex":"^a"}}`), "query.name.$regex: is not an operator of name"},
				{q(devices, `{"colour":"red"}`), "query.colour: is not a field of the query"},
				{q(devices, `{"name":{"$startsWith":""}}`), "query.name.$startsWith: must be a string of at least 1 character"},
				{q(devices, `{"id":"not-an-id"}`), "query.id: must be 24 hex characters or null"},
				{q(devices, `{"id":{"$gt":"`+gw.ID+`","$lt":"`+gw.ID+`"}}`), "query.id: must have exactly 1 operator"},
				{q(devices, `{"creationDate":{"$gt":"yesterday"}}`), "query.creationDate.$gt: must be a date"},
				{q(devices, `{"creationDate":{"$contains":"2024"}}`), "query.creationDate.$contains: applies to text fields only"},
				{q(devices, `{"$or":[]}`), "query.$or: must not be empty"},
				{q(devices, `{"$or":{"name":"x"}}`), "query.$or: must be an array"},
				{q(devices, `{"$or":[`+strings.Join(many, ",")+`]}`), "query.$or: must have at most 100 items"},
				{q(devices, deep), "query.$and[0].$and[0].$and[0].$and[0].$and: nests $and, $or and $nor more than 4 deep"},
				{q(devices, `{"$and":[`+strings.Join(conds, ",")+`],"name":"y"}`), "query.name: makes the query hold more than 100 conditions"},
				{q(devices, sixHundred), "query.$or[5].name.$in: makes the query hold more than 500 values"},
				{q(devices, `{"tags":{"floor":{"$all":["2"]}}}`), "query.tags.floor.$all: is not allowed"},
				{q(devices, `{"tags":"floor"}`), "query.tags: must be a JSON object"},
				{q(devices, `[{"name":"x"}]`), "query: must be a JSON object"},
				{q(devices, `{"name":"x"} {"name":"y"}`), "query: must be one JSON object"},
				{q(devices, `{"name":`), "query: must be a JSON object"},
				{q(devices, strings.Repeat(`{"a":`, 40)+`1`+strings.Repeat(`}`, 40)), "query: must nest at most"},
				{q(devices, `{"name":"`+strings.Repeat("x", 17000)+`"}`), "query: must be at most 16384 bytes"},
				{devices + "?query[name]=x", "query: must be one JSON object sent as JSON text"},
				{q(devices, `{}`) + "&query=" + url.QueryEscape(`{}`), "query: must be given once"},
				{q(flows, `{"enabled":"maybe"}`), "query.enabled: must be true or false"},
				{q(flows, `{"triggers":{"key":"abc"}}`), "query.triggers.type: is required"},
				{q(flows, `{"nodes":{"type":"x","key":"abc"}}`), "query.nodes.key: is not an allowed property"},
				{q(flows, `{"deviceClass":"gateway"}`), "query.deviceClass: is not a field of the query"},
				{devices + "?tagsAsObject=perhaps", "tagsAsObject: must be true or false"},
				{q(devices, `{"name":{"$contains":"a\u0000b"}}`), "query.name.$contains: must not contain the character U+0000"},
				{q(devices, `{"tags":{"floor\u0000":"2"}}`), "query.tags: must not have a property name with the character U+0000"},
				{q(flows, `{"triggers":{"type":"timer","config":{"k":"\u0000"}}}`), "query.triggers.config.k: must not contain the character U+0000"},
			} {
				code, body := get(t, tc.path, c.Token())
				msg, _ := body["message"].(string)
				if code != http.StatusBadRequest || !strings.HasPrefix(msg, tc.prefix) {
					t.Errorf("GET %.120s = %d %q, want 400 starting %q", tc.path, code, msg, tc.prefix)
				}
			}
		})

		t.Run("as objects", func(t *testing.T) {
			code, body := get(t, q(devices, `{"id":"`+gw.ID+`"}`, "tagsAsObject=true", "attributesAsObject=true"), c.Token())
			items, _ := body["items"].([]any)
			if code != http.StatusOK || len(items) != 1 {
				t.Fatalf("GET with both flags = %d %v", code, body)
			}
			for _, dev := range []any{items[0], func() any {
				_, one := get(t, devices+"/"+gw.ID+"?tagsAsObject=1&attributesAsObject=1", c.Token())
				return one
			}()} {
				d := dev.(map[string]any)
				if got := jsonOf(d["tags"]); got != `{"floor":["2","3"]}` {
					t.Errorf("tags as an object = %s", got)
				}
				attrs, _ := d["attributes"].(map[string]any)
				if hum, _ := attrs["hum"].(map[string]any); hum["dataType"] != "number" || len(attrs) != 2 {
					t.Errorf("attributes as an object = %s", jsonOf(d["attributes"]))
				}
			}
			_, plain := get(t, devices+"/"+gw.ID+"?tagsAsObject=false", c.Token())
			if got := jsonOf(plain["tags"]); got != `[{"key":"floor","value":"2"},{"key":"floor","value":"3"}]` {
				t.Errorf("tags without the flag = %s, want the array as sent", got)
			}
		})

		t.Run("application summary", func(t *testing.T) {
			must(c.Dashboards.Post(ctx, client.OwnedPost{Name: "linked", ApplicationID: app.ID})).of(t)
			code, body := get(t, "/applications/"+app.ID, c.Token())
			if got := jsonOf(body["summary"]); code != http.StatusOK || got != `{"dashCount":1,"deviceCount":3,"flowCount":2}` {
				t.Errorf("GET application = %d, summary %s", code, got)
			}
			code, body = get(t, "/applications/"+app.ID+"?summaryInclude=deviceCount,payloadCount,deviceCount&summaryExclude=flowCount", c.Token())
			if got := jsonOf(body["summary"]); code != http.StatusOK || got != `{"deviceCount":3}` {
				t.Errorf("GET application with include and exclude = %d, summary %s", code, got)
			}
			code, body = get(t, "/applications?summaryExclude=dashCount", c.Token())
			items, _ := body["items"].([]any)
			if code != http.StatusOK || len(items) != 1 || jsonOf(items[0].(map[string]any)["summary"]) != `{"deviceCount":3,"flowCount":2}` {
				t.Errorf("GET applications with summaryExclude = %d %v", code, body)
			}
			if _, body = get(t, "/applications", c.Token()); body["items"].([]any)[0].(map[string]any)["summary"] != nil {
				t.Errorf("GET applications without summary parameters answered summaries: %v", body)
			}
			for _, p := range []string{"/applications/" + app.ID + "?summaryInclude=memberCount", "/applications?summaryExclude=deviceCount,bogus"} {
				code, body := get(t, p, c.Token())
				if msg, _ := body["message"].(string); code != http.StatusBadRequest || !strings.Contains(msg, "is not a summary field") {
					t.Errorf("GET %s = %d %v, want a 400 naming the field", p, code, body)
				}
			}
		})
	})
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
