package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

// BenchmarkAdvancedQueries serves device lists of one application of 1,000
// devices in process (no network), on each backend, a page of 20: with no
// filter, with the plain filters and with advanced queries selecting the
// same devices, a richer query, an ancestor lookup, and the object forms
// of tags and attributes; and an application get (with its summary)
// against a dashboard get (none). hello-world on the same path is the
// baseline. cpu-ns/op is the process's CPU time per request.
//
//	ACCOUNTD_TEST_POSTGRES=... go test ./httpapi -run '^$' -bench AdvancedQueries -benchmem -count 3
func BenchmarkAdvancedQueries(b *testing.B) {
	for _, backend := range testenv.Backends() {
		b.Run(backend, func(b *testing.B) { benchAdvancedQueries(b, backend) })
	}
}

func benchAdvancedQueries(b *testing.B, backend string) {
	env := testenv.Start(b, backend, testenv.Options{})
	env.User(b, "bench@example.com")
	c := env.Login(b, "bench@example.com")
	app, err := c.Applications.Post(ctx, client.OwnedPost{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	dash, err := c.Dashboards.Post(ctx, client.OwnedPost{Name: "bench", ApplicationID: app.ID})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	classes := []string{"standalone", "gateway", "peripheral", "system"}
	var parent string
	for i := range 1000 {
		d := &accountd.Device{ID: accountd.NewID(now), ApplicationID: app.ID, Name: fmt.Sprintf("device-%04d", i), DeviceClass: classes[i%4],
			Tags:      []accountd.Tag{{Key: "floor", Value: fmt.Sprint(i % 5)}, {Key: "room", Value: string(rune('a' + i%3))}},
			CreatedAt: now, UpdatedAt: now}
		d.Data = []byte(fmt.Sprintf(`{"tags":[{"key":"floor","value":"%d"},{"key":"room","value":"%c"}],"attributes":[{"name":"temp","dataType":"number"}%s]}`,
			i%5, 'a'+i%3, map[bool]string{true: `,{"name":"hum","dataType":"number"}`}[i%7 == 0]))
		if i%10 == 0 {
			parent = d.ID
		} else {
			d.ParentID = parent
		}
		if err := env.Store.CreateDevice(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
	list := "/applications/" + app.ID + "/devices?perPage=20&"
	query := func(q string) string { return list + "query=" + url.QueryEscape(q) }
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("Hello, world!\n")) })
	for _, tc := range []struct {
		name string
		h    http.Handler
		path string
	}{
		{"hello", hello, "/"},
		{"devices", env.API, list},
		{"devices.deviceClass", env.API, list + "deviceClass=peripheral"},
		{"devices.query.deviceClass", env.API, query(`{"deviceClass":"peripheral"}`)},
		{"devices.tagFilter", env.API, list + "tagFilter[0][key]=floor&tagFilter[0][value]=2"},
		{"devices.query.tags", env.API, query(`{"tags":{"floor":"2"}}`)},
		{"devices.query.rich", env.API, query(`{"$or":[{"name":{"$startsWith":"DEVICE-05","$ci":true}},{"tags":{"$tagKey":"room","$tagValue":{"$in":["a","b"]}}},{"attributeName":"hum"}],"deviceClass":{"$nin":["system"]},"creationDate":{"$gt":0}}`)},
		{"devices.query.ancestorId", env.API, query(`{"ancestorId":{"$ne":null}}`)},
		{"devices.asObjects", env.API, list + "tagsAsObject=true&attributesAsObject=true"},
		{"dashboard.get", env.API, "/dashboards/" + dash.ID},
		{"application.get", env.API, "/applications/" + app.ID},
	} {
		b.Run(tc.name, func(b *testing.B) { benchGet(b, tc.h, tc.path, c.Token()) })
	}
}

// benchGet serves GET path with token through h in a loop, and reports
// the process's CPU time per request as well as the wall time: on a shared
// machine the wall time counts waiting for a core.
func benchGet(b *testing.B, h http.Handler, path, token string) {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	cpu0 := processCPU()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s = %d %s", path, rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}
