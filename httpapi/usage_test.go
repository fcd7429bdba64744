package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/service"
)

// usageAPI sends raw requests through a checking client, so every answer is
// also held to the OpenAPI document (and the reference schemas).
type usageAPI struct {
	t   *testing.T
	env *testenv.Env
	hc  *http.Client
}

func (u usageAPI) do(method, path, token string, body any) (int, map[string]any) {
	u.t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.(string)
		if !ok {
			raw, err := json.Marshal(body)
			if err != nil {
				u.t.Fatal(err)
			}
			b = string(raw)
		}
		rd = strings.NewReader(b)
	}
	req, err := http.NewRequest(method, u.env.URL+path, rd)
	if err != nil {
		u.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := u.hc.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			u.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

// ok requires a 200 and returns the body.
func (u usageAPI) ok(method, path, token string, body any) map[string]any {
	u.t.Helper()
	status, out := u.do(method, path, token, body)
	if status != http.StatusOK && status != http.StatusCreated {
		u.t.Fatalf("%s %s = %d %v, want success", method, path, status, out)
	}
	return out
}

// fails requires status and a message containing each part.
func (u usageAPI) fails(status int, method, path, token string, body any, parts ...string) {
	u.t.Helper()
	got, out := u.do(method, path, token, body)
	msg, _ := out["message"].(string)
	if got != status || out["type"] == nil {
		u.t.Errorf("%s %s = %d %v, want %d with type and message", method, path, got, out, status)
		return
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			u.t.Errorf("%s %s: message %q does not contain %q", method, path, msg, p)
		}
	}
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// path walks nested objects by key.
func path(t *testing.T, m map[string]any, keys ...string) any {
	t.Helper()
	var cur any = m
	for _, k := range keys {
		obj, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%v: %v is not an object", keys, cur)
		}
		cur = obj[k]
	}
	return cur
}

func ms(t time.Time) string { return fmt.Sprint(t.UnixMilli()) }

func counts(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	list, ok := m["counts"].([]any)
	if !ok {
		t.Fatalf("counts missing: %v", m)
	}
	out := make([]map[string]any, len(list))
	for i, v := range list {
		out[i] = v.(map[string]any)
	}
	return out
}

// TestUsage is the scenario over real HTTP: a device's states,
// reported payloads and notebook runs show up in all four queries and the
// summary, retries count once, and bad input is refused whole.
func TestUsage(t *testing.T) {
	t.Parallel()
	for _, backend := range testenv.Backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 3, 15, 10, 20, 0, 0, time.UTC)
			clock := testenv.NewClock(now)
			env := testenv.Start(t, backend, testenv.Options{Clock: clock.Now})
			api := usageAPI{t: t, env: env, hc: env.HTTPClient(t)}
			env.User(t, "ada@example.com")
			env.User(t, "bob@example.com")
			ada := env.Login(t, "ada@example.com").Token()
			bob := env.Login(t, "bob@example.com").Token()

			app := api.ok("POST", "/applications", ada, map[string]any{"name": "Greenhouse"})["id"].(string)
			bobApp := api.ok("POST", "/applications", bob, map[string]any{"name": "Bob's"})["id"].(string)
			dev1 := api.ok("POST", "/applications/"+app+"/devices", ada, map[string]any{"name": "d1"})["id"].(string)
			dev2 := api.ok("POST", "/applications/"+app+"/devices", ada, map[string]any{"name": "d2"})["id"].(string)
			statePath := "/applications/" + app + "/devices/" + dev1 + "/state"

			// device.sendState: one state, then an array of two
			one := `{ "data": { "temp": 21.5 } }`
			if out := api.ok("POST", statePath, ada, one); out["success"] != true {
				t.Errorf("sendState = %v", out)
			}
			two := `[{"data":{"temp":22,"on":true},"time":1773569000000},{"data":{"s":"x"},"time":{"$date":"2026-03-15T10:00:00Z"},"meta":{"k":[1,2]}}]`
			api.ok("POST", statePath, ada, two)
			stateBytes := int64(len(`{"data":{"temp":21.5}}`) + len(`{"data":{"temp":22,"on":true},"time":1773569000000}`) +
				len(`{"data":{"s":"x"},"time":{"$date":"2026-03-15T10:00:00Z"},"meta":{"k":[1,2]}}`))

			// usage from platform services
			at := now.Add(-time.Hour).UnixMilli() // 09:20
			batch := map[string]any{"events": []any{
				map[string]any{"id": "broker:1", "kind": "payload", "time": at, "applicationId": app, "type": "mqttIn", "source": "mqtt", "count": 5, "bytes": 500},
				map[string]any{"id": "hooks:1", "kind": "payload", "time": at, "applicationId": app, "type": "webhook", "source": "webhook", "count": 2, "bytes": 64},
				map[string]any{"id": "broker:2", "kind": "payload", "time": at, "applicationId": app, "type": "deviceConnect", "source": "mqtt", "count": 4},
				map[string]any{"id": "nb:1", "kind": "notebookRun", "time": at, "applicationId": app, "minutes": 2.5, "status": "completed"},
				map[string]any{"id": "nb:2", "kind": "notebookRun", "time": at, "applicationId": app, "minutes": 1, "status": "errored"},
				map[string]any{"id": "bob:1", "kind": "payload", "time": at, "applicationId": bobApp, "type": "mqttIn", "source": "mqtt", "count": 1000},
			}}
			res := api.ok("POST", "/usage/events", env.UsageKey, batch)
			if num(t, res["received"]) != 6 || num(t, res["recorded"]) != 6 || num(t, res["duplicates"]) != 0 {
				t.Errorf("first report = %v", res)
			}
			res = api.ok("POST", "/usage/events", env.UsageKey, batch)
			if num(t, res["recorded"]) != 0 || num(t, res["duplicates"]) != 6 {
				t.Errorf("retried report = %v, want all duplicates", res)
			}

			// payload counts, by type and source
			pc := api.ok("GET", "/me/payloadCounts", ada, nil)
			if len(pc) != 19 {
				t.Errorf("payloadCounts has %d types, want all 19: %v", len(pc), pc)
			}
			for _, c := range []struct {
				typ, source string
				want        int64
			}{{"deviceState", "rest", 3}, {"mqttIn", "mqtt", 5}, {"webhook", "webhook", 2}, {"deviceConnect", "mqtt", 4}} {
				if got := num(t, path(t, pc, c.typ, c.source)); got != c.want {
					t.Errorf("payloadCounts %s.%s = %d, want %d", c.typ, c.source, got, c.want)
				}
			}
			if len(pc["timer"].(map[string]any)) != 0 {
				t.Errorf("timer = %v, want {}", pc["timer"])
			}
			pb := api.ok("GET", "/me/payloadCounts?asBytes=true", ada, nil)
			if got := num(t, path(t, pb, "deviceState", "rest")); got != stateBytes {
				t.Errorf("deviceState bytes = %d, want %d (the states' compact JSON)", got, stateBytes)
			}
			if got := num(t, path(t, pb, "mqttIn", "mqtt")); got != 500 {
				t.Errorf("mqttIn bytes = %d, want 500", got)
			}

			// breakdown: the month so far by default, billable only
			bd := api.ok("GET", "/me/payloadCountsBreakdown", ada, nil)
			days := counts(t, bd)
			if bd["start"] != "2026-03-01T00:00:00.000Z" || bd["end"] != "2026-03-15T23:59:59.999Z" || len(days) != 15 {
				t.Fatalf("default breakdown = %v .. %v, %d days", bd["start"], bd["end"], len(days))
			}
			if days[14]["date"] != "2026-03-15T00:00:00.000Z" || num(t, days[14]["value"]) != 3+5+2 || num(t, days[0]["value"]) != 0 {
				t.Errorf("breakdown days = %v", days)
			}
			bd = api.ok("GET", "/me/payloadCountsBreakdown?includeNonBillable=true", ada, nil)
			if got := num(t, counts(t, bd)[14]["value"]); got != 14 {
				t.Errorf("with non-billable = %d, want 14", got)
			}
			hourly := api.ok("GET", "/me/payloadCountsBreakdown?resolution=3600000&start="+ms(now.Add(-2*time.Hour))+"&end="+ms(now), ada, nil)
			hours := counts(t, hourly)
			if len(hours) != 3 || hours[0]["date"] != "2026-03-15T08:00:00.000Z" ||
				num(t, hours[0]["value"]) != 0 || num(t, hours[1]["value"]) != 7 || num(t, hours[2]["value"]) != 3 {
				t.Errorf("hourly breakdown = %v", hours)
			}

			// device counts: two created today, one deleted
			api.ok("DELETE", "/applications/"+app+"/devices/"+dev2, ada, nil)
			dc := counts(t, api.ok("GET", "/me/deviceCounts?start="+ms(now.Add(-48*time.Hour)), ada, nil))
			if len(dc) != 3 {
				t.Fatalf("deviceCounts = %v, want 3 days", dc)
			}
			if num(t, dc[0]["total"]) != 0 || num(t, dc[2]["created"]) != 2 || num(t, dc[2]["deleted"]) != 1 || num(t, dc[2]["total"]) != 1 {
				t.Errorf("deviceCounts = %v", dc)
			}

			// notebook minutes: 2.5 rounds up to 3
			nb := counts(t, api.ok("GET", "/me/notebookMinuteCounts", ada, nil))
			last := nb[len(nb)-1]
			if num(t, last["minutes"]) != 4 || num(t, last["completed"]) != 1 || num(t, last["errored"]) != 1 ||
				num(t, last["canceled"]) != 0 || num(t, last["timeout"]) != 0 {
				t.Errorf("notebookMinuteCounts today = %v", last)
			}

			// the summary, on request only
			me := api.ok("GET", "/me?summaryInclude=payloadCount,appCount", ada, nil)
			if got := num(t, path(t, me, "summary", "payloadCount", "deviceState", "rest")); got != 3 {
				t.Errorf("summary.payloadCount.deviceState.rest = %d, want 3", got)
			}
			// a report drops the owner's cached view: the summary shows it at once
			api.ok("POST", "/usage/events", env.UsageKey, map[string]any{"events": []any{
				map[string]any{"id": "broker:3", "kind": "payload", "time": at, "applicationId": app, "type": "mqttIn", "source": "mqtt"}}})
			me = api.ok("GET", "/me?summaryInclude=payloadCount,appCount", ada, nil)
			if got := num(t, path(t, me, "summary", "payloadCount", "mqttIn", "mqtt")); got != 6 {
				t.Errorf("summary right after a report: mqttIn.mqtt = %d, want 6", got)
			}
			if _, ok := path(t, api.ok("GET", "/me", ada, nil), "summary").(map[string]any)["payloadCount"]; ok {
				t.Error("GET /me without summaryInclude reports payloadCount")
			}

			// usage is per owner: Bob sees his own only
			if got := num(t, path(t, api.ok("GET", "/me/payloadCounts", bob, nil), "mqttIn", "mqtt")); got != 1000 {
				t.Errorf("bob mqttIn = %d, want 1000", got)
			}

			// bad queries
			api.fails(400, "GET", "/me/payloadCounts?start="+ms(now)+"&end="+ms(now.Add(-time.Hour)), ada, nil, "start", "after end")
			api.fails(400, "GET", "/me/payloadCountsBreakdown?resolution=1000", ada, nil, "resolution", "86400000")
			api.fails(400, "GET", "/me/payloadCountsBreakdown?resolution=3600000&start="+ms(now.Add(-5*365*24*time.Hour)), ada, nil, "end", "at most 40000 entries")
			api.fails(400, "GET", "/me/notebookMinuteCounts?start=yesterday", ada, nil, "start", "milliseconds")
			api.fails(400, "GET", "/me/payloadCounts?asBytes=maybe", ada, nil, "asBytes")

			// bad reports are refused whole
			api.fails(401, "POST", "/usage/events", "", batch, "usage key")
			api.fails(401, "POST", "/usage/events", ada, batch, "usage key")
			bad := func(i int, field string, v any) map[string]any {
				e := map[string]any{"id": fmt.Sprint("bad:", i), "kind": "payload", "time": at, "applicationId": app, "type": "timer", "source": "timer"}
				e[field] = v
				return map[string]any{"events": []any{
					map[string]any{"id": "ok:1", "kind": "payload", "time": at, "applicationId": app, "type": "timer", "source": "timer"}, e}}
			}
			api.fails(400, "POST", "/usage/events", env.UsageKey, bad(1, "type", "telepathy"), "events[1].type")
			api.fails(400, "POST", "/usage/events", env.UsageKey, bad(2, "applicationId", "5f0000000000000000000000"), "events[1].applicationId", "no application")
			api.fails(400, "POST", "/usage/events", env.UsageKey, bad(3, "time", now.Add(2*time.Hour).UnixMilli()), "events[1].time", "hour")
			api.fails(400, "POST", "/usage/events", env.UsageKey, bad(4, "count", 0), "count")
			negative := bad(8, "kind", "notebookRun")
			negative["events"].([]any)[1].(map[string]any)["status"] = "completed"
			negative["events"].([]any)[1].(map[string]any)["minutes"] = -0.5
			api.fails(400, "POST", "/usage/events", env.UsageKey, negative, "events[1].minutes")
			api.fails(400, "POST", "/usage/events", env.UsageKey, map[string]any{"events": []any{}}, "events")
			api.fails(400, "POST", "/usage/events", env.UsageKey, bad(5, "time", nil), "events[1].time", "required")
			api.fails(400, "POST", "/usage/events", env.UsageKey, bad(6, "count", "many"), "events[1]", "count has the wrong type")
			api.fails(400, "POST", "/usage/events", env.UsageKey, bad(7, "colour", "red"), "events[1]", "unknown field")
			api.fails(400, "POST", "/usage/events", env.UsageKey, map[string]any{"events": []any{42}}, "events[0]", "got number")
			api.fails(400, "POST", "/usage/events", env.UsageKey, `{"events": [], "extra": 1}`, "body")
			if got := path(t, api.ok("GET", "/me/payloadCounts", ada, nil), "timer").(map[string]any); len(got) != 0 {
				t.Errorf("a refused report recorded something: timer = %v", got)
			}

			// bad states
			api.fails(400, "POST", statePath, ada, `{"data":{"t":1},"time":"yesterday"}`, "time")
			api.fails(400, "POST", statePath, ada, `[{"data":{"t":1}},{"data":{"t":1},"time":"nope"}]`, "deviceState[1].time")
			api.fails(400, "POST", statePath, ada, `{"data":{"bad key!":1}}`, "data")
			api.fails(400, "POST", statePath, ada, `{"temp":1}`)
			api.fails(404, "POST", "/applications/"+app+"/devices/5f0000000000000000000000/state", ada, one, "device")
			api.fails(404, "POST", "/applications/"+bobApp+"/devices/"+dev1+"/state", ada, one, "application")
			if got := num(t, path(t, api.ok("GET", "/me/payloadCounts", ada, nil), "deviceState", "rest")); got != 3 {
				t.Errorf("refused states were counted: deviceState.rest = %d", got)
			}
		})
	}
}

// TestUsageBoundaries checks the edges of ranges over HTTP: events exactly
// at a day's first and last millisecond, the next day's first, and an empty
// range.
func TestUsageBoundaries(t *testing.T) {
	t.Parallel()
	for _, backend := range testenv.Backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			clock := testenv.NewClock(time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC))
			env := testenv.Start(t, backend, testenv.Options{Clock: clock.Now})
			api := usageAPI{t: t, env: env, hc: env.HTTPClient(t)}
			env.User(t, "ada@example.com")
			ada := env.Login(t, "ada@example.com").Token()
			app := api.ok("POST", "/applications", ada, map[string]any{"name": "Edges"})["id"].(string)
			day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
			ev := func(id string, at time.Time, n int) map[string]any {
				return map[string]any{"id": id, "kind": "payload", "time": at.UnixMilli(), "applicationId": app, "type": "timer", "source": "timer", "count": n}
			}
			api.ok("POST", "/usage/events", env.UsageKey, map[string]any{"events": []any{
				ev("first", day, 1), ev("last", day.Add(24*time.Hour-time.Millisecond), 10), ev("next", day.Add(24*time.Hour), 100),
				ev("before", day.Add(-time.Millisecond), 1000),
			}})
			endOfDay := day.Add(24*time.Hour - time.Millisecond)
			pc := api.ok("GET", "/me/payloadCounts?start="+ms(day)+"&end="+ms(endOfDay), ada, nil)
			if got := num(t, path(t, pc, "timer", "timer")); got != 11 {
				t.Errorf("one day = %d, want 11 (first and last millisecond in, neighbours out)", got)
			}
			bd := counts(t, api.ok("GET", "/me/payloadCountsBreakdown?start="+ms(day)+"&end="+ms(day.Add(24*time.Hour)), ada, nil))
			if len(bd) != 2 || num(t, bd[0]["value"]) != 11 || num(t, bd[1]["value"]) != 100 {
				t.Errorf("two days = %v, want 11 then 100", bd)
			}
			hr := counts(t, api.ok("GET", "/me/payloadCountsBreakdown?resolution=3600000&start="+ms(endOfDay)+"&end="+ms(day.Add(24*time.Hour)), ada, nil))
			if len(hr) != 2 || hr[0]["date"] != "2026-03-10T23:00:00.000Z" || num(t, hr[0]["value"]) != 10 || num(t, hr[1]["value"]) != 100 {
				t.Errorf("hours across midnight = %v", hr)
			}
			// an empty range: start equals end, on a day without usage
			empty := day.Add(-5 * 24 * time.Hour)
			pc = api.ok("GET", "/me/payloadCounts?start="+ms(empty)+"&end="+ms(empty), ada, nil)
			if len(path(t, pc, "timer").(map[string]any)) != 0 {
				t.Errorf("empty range = %v", pc["timer"])
			}
			bd = counts(t, api.ok("GET", "/me/payloadCountsBreakdown?start="+ms(empty)+"&end="+ms(empty), ada, nil))
			if len(bd) != 1 || num(t, bd[0]["value"]) != 0 {
				t.Errorf("empty range breakdown = %v", bd)
			}
			// a range of exactly MaxUsageBuckets days or hours is answered,
			// one bucket more is not
			for _, tc := range []struct {
				path string
				step time.Duration
			}{
				{"/me/deviceCounts?", 24 * time.Hour},
				{"/me/notebookMinuteCounts?", 24 * time.Hour},
				{"/me/payloadCountsBreakdown?", 24 * time.Hour},
				{"/me/payloadCountsBreakdown?resolution=3600000&", time.Hour},
			} {
				// from the epoch: 40,000 days back from now would be before it
				start := time.UnixMilli(0).UTC()
				last := start.Add((service.MaxUsageBuckets-1)*tc.step + tc.step - time.Millisecond)
				if n := len(counts(t, api.ok("GET", tc.path+"start="+ms(start)+"&end="+ms(last), ada, nil))); n != service.MaxUsageBuckets {
					t.Errorf("%s: %d entries, want %d", tc.path, n, service.MaxUsageBuckets)
				}
				api.fails(400, "GET", tc.path+"start="+ms(start)+"&end="+ms(last.Add(time.Millisecond)), ada, nil, "end", "40001", "at most 40000 entries")
			}
		})
	}
}

// TestUsageMeExample: me.md's example range, start=0&end=1465790400000,
// works as written for every usage action.
func TestUsageMeExample(t *testing.T) {
	t.Parallel()
	for _, backend := range testenv.Backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := testenv.Start(t, backend, testenv.Options{})
			api := usageAPI{t: t, env: env, hc: env.HTTPClient(t)}
			env.User(t, "ada@example.com")
			ada := env.Login(t, "ada@example.com").Token()
			const q = "start=0&end=1465790400000"
			if pc := api.ok("GET", "/me/payloadCounts?"+q, ada, nil); pc["deviceState"] == nil {
				t.Errorf("payloadCounts = %v", pc)
			}
			// day 0 (1970-01-01) through 2016-06-13: 16,966 days
			for _, p := range []string{"/me/payloadCountsBreakdown?", "/me/deviceCounts?", "/me/notebookMinuteCounts?"} {
				body := api.ok("GET", p+q, ada, nil)
				if n := len(counts(t, body)); n != 16966 {
					t.Errorf("%s%s: %d entries, want 16966", p, q, n)
				}
				if body["start"] != "1970-01-01T00:00:00.000Z" || body["end"] != "2016-06-13T23:59:59.999Z" {
					t.Errorf("%s%s: start %v, end %v", p, q, body["start"], body["end"])
				}
			}
		})
	}
}

// TestDeviceStatesDurable checks that a device state answered 200 is in
// the database already: another instance, which shares only the database,
// reads it at once, and so does the store itself; deleting the account
// drops it with the rest of the account's usage.
func TestDeviceStatesDurable(t *testing.T) {
	t.Parallel()
	for _, backend := range testenv.Backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			a := testenv.Start(t, backend, testenv.Options{})
			b := testenv.Start(t, backend, testenv.Options{Store: a.Store, Keys: a.Keys})
			api := usageAPI{t: t, env: a, hc: a.HTTPClient(t)}
			a.User(t, "ada@example.com")
			ada := a.Login(t, "ada@example.com").Token()
			app := api.ok("POST", "/applications", ada, map[string]any{"name": "Durable"})["id"].(string)
			dev := api.ok("POST", "/applications/"+app+"/devices", ada, map[string]any{"name": "d"})["id"].(string)
			statePath := "/applications/" + app + "/devices/" + dev + "/state"
			onB := usageAPI{t: t, env: b, hc: b.HTTPClient(t)}
			owner := accountd.OwnerRef{Type: accountd.OwnerUser, ID: principalID(t, onB, ada)}
			now := time.Now()
			stored := func() int64 {
				t.Helper()
				totals, err := a.Store.PayloadTotals(ctx, owner, now.Add(-time.Hour), now.Add(time.Hour))
				if err != nil || len(totals) > 1 {
					t.Fatalf("payload totals = %+v, %v", totals, err)
				}
				if len(totals) == 0 {
					return 0
				}
				return totals[0].Count
			}
			for i := range 5 {
				api.ok("POST", statePath, ada, `{"data":{"t":1}}`)
				if got := stored(); got != int64(i+1) {
					t.Fatalf("after %d states answered 200 the store holds %d", i+1, got)
				}
			}
			api.ok("POST", statePath, ada, `[{"data":{"t":1}},{"data":{"t":2}}]`)
			if got := num(t, path(t, onB.ok("GET", "/me/payloadCounts", ada, nil), "deviceState").(map[string]any)["rest"]); got != 7 {
				t.Errorf("instance b sees deviceState.rest = %v at once, want 7", got)
			}
			// after Close an instance refuses states rather than taking
			// what it would not write
			a.Service.Close()
			api.fails(500, "POST", statePath, ada, `{"data":{"t":1}}`, "internal error")
			if got := stored(); got != 7 {
				t.Errorf("after a refused state the store holds %d, want 7", got)
			}

			// deleting the account drops its usage
			onB.ok("POST", statePath, ada, `{"data":{"t":3}}`)
			onB.ok("DELETE", "/applications/"+app, ada, nil)
			onB.ok("POST", "/me/delete", ada, map[string]any{"email": "ada@example.com", "password": testenv.Password})
			if got := stored(); got != 0 {
				t.Errorf("after deleting the account the store holds %d deviceState payloads: want nothing", got)
			}
		})
	}
}

// principalID is the id of the user the token belongs to.
func principalID(t *testing.T, api usageAPI, token string) string {
	t.Helper()
	return api.ok("GET", "/me", token, nil)["id"].(string)
}
