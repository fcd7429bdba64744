package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
)

// recorder is a server that keeps the last request and answers with a
// fixed body.
type recorder struct {
	mu     sync.Mutex
	method string
	path   string
	query  url.Values
	body   string
	answer string
}

func (r *recorder) start(t *testing.T) *client.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.method, r.path, r.query, r.body = req.Method, req.URL.Path, req.URL.Query(), string(b)
		answer := r.answer
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, client.WithToken("T"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	appID    = "575ec7417ae143cd83dc4a95"
	deviceID = "575ecf887ae143cd83dc4aa2"
)

func TestUsageQueryWire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 11, 23, 12, 30, 0, 123_456_789, time.UTC)
	rec := &recorder{}
	c := rec.start(t)

	tests := []struct {
		name      string
		call      func() error
		path      string
		wantQuery url.Values
	}{
		{"payloadCounts defaults", func() error { _, err := c.Me.PayloadCounts(ctx, client.UsageQuery{}); return err },
			"/me/payloadCounts", url.Values{}},
		{"payloadCounts range in ms, bytes", func() error {
			_, err := c.Me.PayloadCounts(ctx, client.UsageQuery{Start: start, End: end, AsBytes: true})
			return err
		}, "/me/payloadCounts", url.Values{"start": {"1793491200000"}, "end": {"1795437000123"}, "asBytes": {"true"}}},
		{"breakdown hourly", func() error {
			_, err := c.Me.PayloadCountsBreakdown(ctx, client.BreakdownQuery{Start: start, Resolution: time.Hour, IncludeNonBillable: true})
			return err
		}, "/me/payloadCountsBreakdown", url.Values{"start": {"1793491200000"}, "resolution": {"3600000"}, "includeNonBillable": {"true"}}},
		{"breakdown daily bytes", func() error {
			_, err := c.Me.PayloadCountsBreakdown(ctx, client.BreakdownQuery{End: end, Resolution: 24 * time.Hour, AsBytes: true})
			return err
		}, "/me/payloadCountsBreakdown", url.Values{"end": {"1795437000123"}, "resolution": {"86400000"}, "asBytes": {"true"}}},
		{"deviceCounts ignores asBytes", func() error {
			_, err := c.Me.DeviceCounts(ctx, client.UsageQuery{Start: start, AsBytes: true})
			return err
		}, "/me/deviceCounts", url.Values{"start": {"1793491200000"}}},
		{"notebookMinuteCounts", func() error {
			_, err := c.Me.NotebookMinuteCounts(ctx, client.UsageQuery{End: end})
			return err
		}, "/me/notebookMinuteCounts", url.Values{"end": {"1795437000123"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.mu.Lock()
			rec.answer = `{}`
			rec.mu.Unlock()
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if rec.method != "GET" || rec.path != tt.path {
				t.Errorf("request = %s %s, want GET %s", rec.method, rec.path, tt.path)
			}
			if got, want := rec.query.Encode(), tt.wantQuery.Encode(); got != want {
				t.Errorf("query = %q, want %q", got, want)
			}
		})
	}

	rec.mu.Lock()
	rec.answer = `{"start":"2026-11-01T00:00:00.000Z","end":"2026-11-23T23:59:59.999Z","counts":[{"date":"2026-11-01T00:00:00.000Z","value":7}]}`
	rec.mu.Unlock()
	b, err := c.Me.PayloadCountsBreakdown(ctx, client.BreakdownQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Start.Equal(start) || b.End.Sub(start) != 23*24*time.Hour-time.Millisecond || len(b.Counts) != 1 || b.Counts[0].Value != 7 || !b.Counts[0].Date.Equal(start) {
		t.Errorf("decoded breakdown = %+v", b)
	}
}

func TestPayloadStats(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: `{"deviceState":{"rest":3,"mqtt":2},"mqttIn":{"mqtt":4.5},"webhook":{}}`}
	c := rec.start(t)
	stats, err := c.Me.PayloadCounts(context.Background(), client.UsageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		typ  string
		want float64
	}{{"deviceState", 5}, {"mqttIn", 4.5}, {"webhook", 0}, {"timer", 0}, {"", 9.5}} {
		if got := stats.Total(tt.typ); got != tt.want {
			t.Errorf("Total(%q) = %v, want %v", tt.typ, got, tt.want)
		}
	}

	var me client.Me
	if err := json.Unmarshal([]byte(`{"id":"x","summary":{"appCount":2,"payloadCount":{"deviceState":{"rest":3}}}}`), &me); err != nil {
		t.Fatal(err)
	}
	if got := me.SummaryPayloadCount()["deviceState"]["rest"]; got != 3 {
		t.Errorf("SummaryPayloadCount deviceState.rest = %v, want 3", got)
	}
	if me.Summary["appCount"] != float64(2) {
		t.Errorf("summary.appCount = %v, the map is unchanged for existing callers", me.Summary["appCount"])
	}
	if got := (&client.Me{}).SummaryPayloadCount(); got != nil {
		t.Errorf("SummaryPayloadCount without one = %v, want nil", got)
	}
}

func TestSendStateWire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := &recorder{answer: `{"success":true}`}
	c := rec.start(t)
	at := time.Date(2026, 11, 23, 12, 0, 0, 250_000_000, time.UTC)
	tests := []struct {
		name   string
		states []client.DeviceState
		want   string
	}{
		{"one state is an object", []client.DeviceState{{Data: map[string]any{"temp": 21.5}}}, `{"data":{"temp":21.5}}`},
		{"time in ms, meta, flow version", []client.DeviceState{{Time: at, Data: map[string]any{"on": true}, Meta: map[string]any{"by": "test"}, FlowVersion: "v1"}},
			`{"time":1795435200250,"data":{"on":true},"meta":{"by":"test"},"flowVersion":"v1"}`},
		{"no data is an empty object", []client.DeviceState{{}}, `{"data":{}}`},
		{"several are an array", []client.DeviceState{{Data: map[string]any{"a": 1}}, {Data: map[string]any{"b": "x"}}}, `[{"data":{"a":1}},{"data":{"b":"x"}}]`},
		{"none is an empty array", nil, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Device.SendState(ctx, appID, deviceID, tt.states...); err != nil {
				t.Fatal(err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if want := "/applications/" + appID + "/devices/" + deviceID + "/state"; rec.method != "POST" || rec.path != want {
				t.Errorf("request = %s %s, want POST %s", rec.method, rec.path, want)
			}
			if rec.body != tt.want {
				t.Errorf("body = %s, want %s", rec.body, tt.want)
			}
		})
	}
	if err := c.Device.SendState(ctx, "nope", deviceID, client.DeviceState{}); !errors.Is(err, accountd.ErrInvalid) {
		t.Errorf("a malformed application id: err = %v, want ErrInvalid", err)
	}
	if err := c.Device.SendState(ctx, appID, "nope", client.DeviceState{}); !errors.Is(err, accountd.ErrInvalid) {
		t.Errorf("a malformed device id: err = %v, want ErrInvalid", err)
	}
}

func TestDeviceStateUnmarshal(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 23, 12, 0, 0, 250_000_000, time.UTC)
	for _, tt := range []struct {
		name, in string
		time     time.Time
		wantErr  bool
	}{
		{"ms", `{"data":{"a":1},"time":1795435200250}`, want, false},
		{"string", `{"data":{"a":1},"time":"2026-11-23T12:00:00.250Z"}`, want, false},
		{"$date", `{"data":{"a":1},"time":{"$date":"2026-11-23T13:00:00.250+01:00"}}`, want, false},
		{"no time", `{"data":{"a":1}}`, time.Time{}, false},
		{"bad string", `{"data":{"a":1},"time":"yesterday"}`, time.Time{}, true},
		{"bad object", `{"data":{"a":1},"time":{"date":"x"}}`, time.Time{}, true},
		{"unknown field", `{"dat":{"a":1}}`, time.Time{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var s client.DeviceState
			err := json.Unmarshal([]byte(tt.in), &s)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !s.Time.Equal(tt.time) {
				t.Errorf("time = %v, want %v", s.Time, tt.time)
			}
		})
	}
	// numbers keep their text on the way back out
	var s client.DeviceState
	if err := json.Unmarshal([]byte(`{"data":{"big":12345678901234567890,"x":1.50}}`), &s); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(s)
	if got, want := string(out), `{"data":{"big":12345678901234567890,"x":1.50}}`; got != want {
		t.Errorf("round trip = %s, want %s", got, want)
	}
}

func TestUsageRecordWire(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: `{"received":2,"recorded":1,"duplicates":1}`}
	c := rec.start(t)
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r, err := c.Usage.Record(context.Background(), []client.UsageEvent{
		{ID: "p1", Kind: client.UsageKindPayload, Time: at, ApplicationID: appID, Type: "mqttIn", Source: "mqtt"},
		{ID: "p2", Kind: client.UsageKindPayload, Time: at, ApplicationID: appID, Type: "mqttIn", Source: "mqtt", Count: 5, Bytes: 300},
		{ID: "n1", Kind: client.UsageKindNotebookRun, Time: at, ApplicationID: appID, Status: "completed"},
		{ID: "n2", Kind: client.UsageKindNotebookRun, Time: at, ApplicationID: appID, Minutes: 2.5, Status: "timeout"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if *r != (client.UsageRecordResult{Received: 2, Recorded: 1, Duplicates: 1}) {
		t.Errorf("result = %+v", r)
	}
	want := `{"events":[` +
		`{"id":"p1","kind":"payload","time":1795435200000,"applicationId":"575ec7417ae143cd83dc4a95","type":"mqttIn","source":"mqtt"},` +
		`{"id":"p2","kind":"payload","time":1795435200000,"applicationId":"575ec7417ae143cd83dc4a95","type":"mqttIn","source":"mqtt","count":5,"bytes":300},` +
		`{"id":"n1","kind":"notebookRun","time":1795435200000,"applicationId":"575ec7417ae143cd83dc4a95","minutes":0,"status":"completed"},` +
		`{"id":"n2","kind":"notebookRun","time":1795435200000,"applicationId":"575ec7417ae143cd83dc4a95","minutes":2.5,"status":"timeout"}]}`
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.method != "POST" || rec.path != "/usage/events" || rec.body != want {
		t.Errorf("request = %s %s\n%s\nwant POST /usage/events\n%s", rec.method, rec.path, rec.body, want)
	}
}
