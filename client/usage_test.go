package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

// newFakeClock is the server's clock, moved by hand: half an hour before
// the current hour, so that a test never straddles an hour or a day.
func newFakeClock() *testenv.Clock {
	return testenv.NewClock(time.Now().UTC().Truncate(time.Hour).Add(-30 * time.Minute))
}

func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// wantStatus checks that err is a *client.Error with the status, whose
// message holds msg, and that it unwraps to the domain error.
func wantStatus(t *testing.T, err error, status int, domain error, msg string) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != status || !strings.Contains(ce.Message, msg) {
		t.Errorf("err = %v, want %d with %q", err, status, msg)
		return
	}
	if !errors.Is(err, domain) {
		t.Errorf("errors.Is(%v, %v) = false", err, domain)
	}
}

// setup starts a server with a user owning an application with a device.
func setup(t *testing.T, backend string) (env *testenv.Env, clock *testenv.Clock, c *client.Client, appID, deviceID string) {
	t.Helper()
	ctx := context.Background()
	clock = newFakeClock()
	env = testenv.Start(t, backend, testenv.Options{Clock: clock.Now})
	env.User(t, "meter@example.com")
	c = env.Login(t, "meter@example.com")
	app, err := c.Applications.Post(ctx, client.OwnedPost{Name: "Greenhouse"})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := c.Devices.Post(ctx, app.ID, client.DevicePost{Name: "sensor"})
	if err != nil {
		t.Fatal(err)
	}
	return env, clock, c, app.ID, dev.ID
}

// TestPayloadUsage sends device states and reads them back through every
// payload query.
func TestPayloadUsage(t *testing.T) {
	t.Parallel()
	for _, backend := range testenv.Backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			env, clock, c, appID, deviceID := setup(t, backend)
			now := clock.Now()

			states := []client.DeviceState{
				{Data: map[string]any{"temp": 21.5}},
				{Time: now.Add(-time.Minute), Data: map[string]any{"on": true, "name": "pump"}},
				{Data: map[string]any{"n": 3}, Meta: map[string]any{"k": "v"}, FlowVersion: "v1"},
			}
			var wantBytes float64
			for _, s := range states {
				raw, _ := json.Marshal(s)
				wantBytes += float64(len(raw))
			}
			if err := c.Device.SendState(ctx, appID, deviceID, states[0]); err != nil {
				t.Fatalf("SendState(one) = %v", err)
			}
			if err := c.Device.SendState(ctx, appID, deviceID, states[1:]...); err != nil {
				t.Fatalf("SendState(two) = %v", err)
			}

			stats, err := c.Me.PayloadCounts(ctx, client.UsageQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(stats) != len(accountd.PayloadTypes) {
				t.Errorf("payloadCounts has %d types, want %d", len(stats), len(accountd.PayloadTypes))
			}
			for _, typ := range accountd.PayloadTypes {
				if m, ok := stats[typ]; !ok || (typ != "deviceState" && len(m) != 0) {
					t.Errorf("payloadCounts[%s] = %v (present %v), want {}", typ, m, ok)
				}
			}
			if got := stats["deviceState"]; len(got) != 1 || got["rest"] != 3 {
				t.Errorf("payloadCounts.deviceState = %v, want {rest: 3}", got)
			}
			b, err := c.Me.PayloadCounts(ctx, client.UsageQuery{AsBytes: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := b["deviceState"]["rest"]; got != wantBytes {
				t.Errorf("payloadCounts?asBytes deviceState.rest = %v, want %v (the compact JSON of the states)", got, wantBytes)
			}
			// whole hours: a range ending in the previous hour misses them,
			// one starting at the last millisecond of it does too, one
			// inside this hour catches them
			for _, tt := range []struct {
				name       string
				start, end time.Time
				want       float64
			}{
				{"the hours before", now.Add(-3 * time.Hour), now.Add(-time.Hour), 0},
				{"this hour", now.Truncate(time.Hour).Add(time.Minute), now.Truncate(time.Hour).Add(2 * time.Minute), 3},
				{"a month back", now.Add(-30 * 24 * time.Hour), now, 3},
			} {
				s, err := c.Me.PayloadCounts(ctx, client.UsageQuery{Start: tt.start, End: tt.end})
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				if got := s.Total(""); got != tt.want {
					t.Errorf("%s: total = %v, want %v", tt.name, got, tt.want)
				}
			}

			// the default breakdown: every day of this month so far
			bd, err := c.Me.PayloadCountsBreakdown(ctx, client.BreakdownQuery{})
			if err != nil {
				t.Fatal(err)
			}
			first, today := monthStart(now), day(now)
			wantDays := int(today.Sub(first)/(24*time.Hour)) + 1
			if !bd.Start.Equal(first) || !bd.End.Equal(today.Add(24*time.Hour-time.Millisecond)) || len(bd.Counts) != wantDays {
				t.Fatalf("breakdown = %s .. %s with %d days, want %s .. end of %s with %d", bd.Start, bd.End, len(bd.Counts), first, today, wantDays)
			}
			for i, n := range bd.Counts {
				want := int64(0)
				if i == wantDays-1 {
					want = 3
				}
				if !n.Date.Equal(first.AddDate(0, 0, i)) || n.Value != want {
					t.Errorf("breakdown day %d = %s %d, want %s %d", i, n.Date, n.Value, first.AddDate(0, 0, i), want)
				}
			}
			// hourly, in bytes: three hours, the states in the last
			hb, err := c.Me.PayloadCountsBreakdown(ctx, client.BreakdownQuery{Start: now.Add(-2 * time.Hour), End: now, Resolution: time.Hour, AsBytes: true})
			if err != nil {
				t.Fatal(err)
			}
			hour := now.Truncate(time.Hour)
			if len(hb.Counts) != 3 || !hb.Start.Equal(hour.Add(-2*time.Hour)) || !hb.End.Equal(hour.Add(time.Hour-time.Millisecond)) {
				t.Fatalf("hourly breakdown = %+v", hb)
			}
			for i, want := range []int64{0, 0, int64(wantBytes)} {
				if n := hb.Counts[i]; !n.Date.Equal(hour.Add(time.Duration(i-2)*time.Hour)) || n.Value != want {
					t.Errorf("hourly breakdown[%d] = %s %d, want %d", i, n.Date, n.Value, want)
				}
			}

			me, err := c.Me.Get(ctx, &client.MeGetParams{SummaryInclude: []string{"payloadCount", "appCount"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := me.SummaryPayloadCount(); got["deviceState"]["rest"] != 3 || got.Total("") != 3 {
				t.Errorf("summary.payloadCount = %v, want deviceState.rest 3", got)
			}
			if me.Summary["appCount"] != float64(1) {
				t.Errorf("summary.appCount = %v, want 1", me.Summary["appCount"])
			}
			if me, _ := c.Me.Get(ctx, nil); me.SummaryPayloadCount() != nil {
				t.Errorf("summary.payloadCount without summaryInclude = %v, want none", me.SummaryPayloadCount())
			}

			// another user sees none of it, and cannot send to the application
			env.User(t, "other@example.com")
			other := env.Login(t, "other@example.com")
			if s, err := other.Me.PayloadCounts(ctx, client.UsageQuery{}); err != nil || s.Total("") != 0 {
				t.Errorf("another user's payloadCounts = %v, %v; want all zero", s, err)
			}
			wantStatus(t, other.Device.SendState(ctx, appID, deviceID, states[0]), 404, accountd.ErrNotFound, "")
			if s, _ := c.Me.PayloadCounts(ctx, client.UsageQuery{}); s.Total("") != 3 {
				t.Errorf("after a refused send, total = %v, want 3", s.Total(""))
			}
		})
	}
}

// TestUsageErrors checks that refused queries and states come back as typed
// errors, and that a refused state is not counted.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, clock, c, appID, deviceID := setup(t, "sqlite")
	now := clock.Now()
	query := func(q client.UsageQuery) error { _, err := c.Me.PayloadCounts(ctx, q); return err }
	breakdown := func(q client.BreakdownQuery) error { _, err := c.Me.PayloadCountsBreakdown(ctx, q); return err }
	tests := []struct {
		name   string
		err    error
		status int
		domain error
		msg    string
	}{
		{"start after end", query(client.UsageQuery{Start: now, End: now.Add(-time.Hour)}), 400, accountd.ErrInvalid, "start: must not be after end"},
		{"start after end (devices)", func() error {
			_, err := c.Me.DeviceCounts(ctx, client.UsageQuery{Start: now, End: now.Add(-time.Hour)})
			return err
		}(), 400, accountd.ErrInvalid, "start: must not be after end"},
		{"start after end (notebooks)", func() error {
			_, err := c.Me.NotebookMinuteCounts(ctx, client.UsageQuery{Start: now, End: now.Add(-time.Hour)})
			return err
		}(), 400, accountd.ErrInvalid, "start: must not be after end"},
		{"over 366 days is fine", query(client.UsageQuery{Start: now.Add(-367 * 24 * time.Hour), End: now}), 0, nil, ""},
		{"hourly over 40,000 hours", breakdown(client.BreakdownQuery{Start: now.Add(-40_001 * time.Hour), End: now, Resolution: time.Hour}), 400, accountd.ErrInvalid, "end: the range holds"},
		{"hourly over 31 days is fine", breakdown(client.BreakdownQuery{Start: now.Add(-32 * 24 * time.Hour), End: now, Resolution: time.Hour}), 0, nil, ""},
		{"a two-hour resolution", breakdown(client.BreakdownQuery{Resolution: 2 * time.Hour}), 400, accountd.ErrInvalid, "resolution: must be 86400000"},
		{"an unknown device", c.Device.SendState(ctx, appID, "575ecf887ae143cd83dc4aa2", client.DeviceState{Data: map[string]any{"a": 1}}), 404, accountd.ErrNotFound, ""},
		{"an unknown application", c.Device.SendState(ctx, "575ec7417ae143cd83dc4a95", deviceID, client.DeviceState{Data: map[string]any{"a": 1}}), 404, accountd.ErrNotFound, ""},
		{"a bad attribute name", c.Device.SendState(ctx, appID, deviceID, client.DeviceState{Data: map[string]any{"bad key!": 1}}), 400, accountd.ErrInvalid, ""},
		{"an attribute that is an object", c.Device.SendState(ctx, appID, deviceID, client.DeviceState{Data: map[string]any{"a": map[string]any{}}}), 400, accountd.ErrInvalid, ""},
		{"no states", c.Device.SendState(ctx, appID, deviceID), 400, accountd.ErrInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.status == 0 {
				if tt.err != nil {
					t.Errorf("err = %v, want none", tt.err)
				}
				return
			}
			wantStatus(t, tt.err, tt.status, tt.domain, tt.msg)
		})
	}
	if s, err := c.Me.PayloadCounts(ctx, client.UsageQuery{}); err != nil || s.Total("") != 0 {
		t.Errorf("after refused states: %v, %v; want nothing counted", s, err)
	}
	// a user token cannot report usage: only usage keys carry usage.record
	_, err := c.Usage.Record(ctx, []client.UsageEvent{{ID: "x", Kind: client.UsageKindPayload, Time: now, ApplicationID: appID, Type: "mqttIn", Source: "mqtt"}})
	wantStatus(t, err, 401, accountd.ErrUnauthorized, "")
}

// TestDeviceCounts follows devices over three days.
func TestDeviceCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, clock, c, appID, _ := setup(t, "sqlite")
	start := clock.Now()
	second, err := c.Devices.Post(ctx, appID, client.DevicePost{Name: "second"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(24 * time.Hour)
	if err := c.Device.Delete(ctx, appID, second.ID); err != nil {
		t.Fatal(err)
	}
	d, err := c.Me.DeviceCounts(ctx, client.UsageQuery{Start: start.Add(-24 * time.Hour), End: clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	first := day(start).Add(-24 * time.Hour)
	if !d.Start.Equal(first) || !d.End.Equal(first.Add(3*24*time.Hour-time.Millisecond)) {
		t.Errorf("range = %s .. %s, want the three days from %s", d.Start, d.End, first)
	}
	want := []client.DeviceCount{
		{Date: first},
		{Date: first.Add(24 * time.Hour), Created: 2, Total: 2},
		{Date: first.Add(48 * time.Hour), Deleted: 1, Total: 1},
	}
	if len(d.Counts) != len(want) {
		t.Fatalf("counts = %+v, want %+v", d.Counts, want)
	}
	for i := range want {
		if g := d.Counts[i]; !g.Date.Equal(want[i].Date) || g.Created != want[i].Created || g.Deleted != want[i].Deleted || g.Total != want[i].Total {
			t.Errorf("day %d = %+v, want %+v", i, g, want[i])
		}
	}
	// without usage, notebook minutes are all zero, one row a day
	nb, err := c.Me.NotebookMinuteCounts(ctx, client.UsageQuery{Start: start.Add(-24 * time.Hour), End: clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(nb.Counts) != 3 || !nb.Counts[2].Date.Equal(first.Add(48*time.Hour)) {
		t.Fatalf("notebook counts = %+v, want three days", nb.Counts)
	}
	for _, n := range nb.Counts {
		if n.Minutes != 0 || n.Completed+n.Canceled+n.Errored+n.Timeout != 0 {
			t.Errorf("notebook day %s = %+v, want zeros", n.Date, n)
		}
	}
}

// TestUsageRecord reports usage as a platform service would, with a usage
// key, and reads it back as the application's owner.
func TestUsageRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env, clock, c, appID, _ := setup(t, "sqlite")
	now := clock.Now()
	svc := env.Client(t, env.UsageKey)

	org, err := c.Orgs.Post(ctx, client.OrgPost{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	orgApp, err := c.Applications.Post(ctx, client.OwnedPost{Name: "Shared", OrgID: org.ID})
	if err != nil {
		t.Fatal(err)
	}
	events := []client.UsageEvent{
		{ID: "p1", Kind: client.UsageKindPayload, Time: now, ApplicationID: appID, Type: "mqttIn", Source: "mqtt", Count: 5, Bytes: 300},
		{ID: "p2", Kind: client.UsageKindPayload, Time: now, ApplicationID: appID, Type: "mqttIn", Source: "mqtt"}, // count 1
		{ID: "p3", Kind: client.UsageKindPayload, Time: now, ApplicationID: appID, Type: "deviceConnect", Source: "mqtt", Count: 2},
		{ID: "p4", Kind: client.UsageKindPayload, Time: now.Add(-2 * time.Hour), ApplicationID: appID, Type: "webhook", Source: "http", Count: 4},
		{ID: "n1", Kind: client.UsageKindNotebookRun, Time: now, ApplicationID: appID, Minutes: 2.5, Status: "completed"},
		{ID: "n2", Kind: client.UsageKindNotebookRun, Time: now, ApplicationID: appID, Status: "canceled"}, // 0 minutes
		{ID: "o1", Kind: client.UsageKindPayload, Time: now, ApplicationID: orgApp.ID, Type: "mqttIn", Source: "mqtt", Count: 100},
	}
	r, err := svc.Usage.Record(ctx, events)
	if err != nil {
		t.Fatal(err)
	}
	if *r != (client.UsageRecordResult{Received: 7, Recorded: 7}) {
		t.Errorf("first report = %+v, want 7 recorded", r)
	}
	r, err = svc.Usage.Record(ctx, events)
	if err != nil {
		t.Fatal(err)
	}
	if *r != (client.UsageRecordResult{Received: 7, Recorded: 0, Duplicates: 7}) {
		t.Errorf("the same report again = %+v, want 7 duplicates", r)
	}

	// refused reports record nothing, not even their valid events
	fresh := client.UsageEvent{ID: "p5", Kind: client.UsageKindPayload, Time: now, ApplicationID: appID, Type: "mqttIn", Source: "mqtt", Count: 1000}
	for _, tt := range []struct {
		name   string
		events []client.UsageEvent
		status int
		domain error
		msg    string
	}{
		{"a bad type", []client.UsageEvent{fresh, {ID: "b", Kind: client.UsageKindPayload, Time: now, ApplicationID: appID, Type: "telepathy", Source: "mqtt"}}, 400, accountd.ErrInvalid, "events[1].type"},
		{"an unknown application", []client.UsageEvent{fresh, {ID: "b", Kind: client.UsageKindPayload, Time: now, ApplicationID: "5f0000000000000000000000", Type: "mqttIn", Source: "mqtt"}}, 400, accountd.ErrInvalid, "events[1].applicationId"},
		{"a bad status", []client.UsageEvent{{ID: "b", Kind: client.UsageKindNotebookRun, Time: now, ApplicationID: appID, Status: "exploded"}, fresh}, 400, accountd.ErrInvalid, "events[0].status"},
		{"no time", []client.UsageEvent{{ID: "b", Kind: client.UsageKindPayload, ApplicationID: appID, Type: "mqttIn", Source: "mqtt"}}, 400, accountd.ErrInvalid, "events[0].time"},
		{"no events", nil, 400, accountd.ErrInvalid, "events"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Usage.Record(ctx, tt.events)
			wantStatus(t, err, tt.status, tt.domain, tt.msg)
		})
	}
	bad, _ := client.New(env.URL, client.WithToken("auk_not-a-key"))
	_, err = bad.Usage.Record(ctx, []client.UsageEvent{fresh})
	wantStatus(t, err, 401, accountd.ErrUnauthorized, "")

	stats, err := c.Me.PayloadCounts(ctx, client.UsageQuery{Start: now.Add(-3 * time.Hour), End: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		typ, source string
		want        float64
	}{{"mqttIn", "mqtt", 6}, {"deviceConnect", "mqtt", 2}, {"webhook", "http", 4}} {
		if got := stats[tt.typ][tt.source]; got != tt.want {
			t.Errorf("payloadCounts %s.%s = %v, want %v", tt.typ, tt.source, got, tt.want)
		}
	}
	if got := stats.Total(""); got != 12 {
		t.Errorf("payloadCounts total = %v, want 12 (none of the organization's, none of the refused)", got)
	}
	b, _ := c.Me.PayloadCounts(ctx, client.UsageQuery{Start: now.Add(-3 * time.Hour), End: now, AsBytes: true})
	if got := b["mqttIn"]["mqtt"]; got != 300 {
		t.Errorf("payloadCounts?asBytes mqttIn.mqtt = %v, want 300", got)
	}

	// billable: without deviceConnect; hourly shows the webhook two hours back
	hour := now.Truncate(time.Hour)
	for _, tt := range []struct {
		nonBillable bool
		want        []int64
	}{{false, []int64{4, 0, 6}}, {true, []int64{4, 0, 8}}} {
		bd, err := c.Me.PayloadCountsBreakdown(ctx, client.BreakdownQuery{Start: hour.Add(-2 * time.Hour), End: now, Resolution: time.Hour, IncludeNonBillable: tt.nonBillable})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, n := range bd.Counts {
			got = append(got, n.Value)
		}
		if len(got) != 3 || got[0] != tt.want[0] || got[1] != tt.want[1] || got[2] != tt.want[2] {
			t.Errorf("hourly breakdown (non-billable %v) = %v, want %v", tt.nonBillable, got, tt.want)
		}
	}

	nb, err := c.Me.NotebookMinuteCounts(ctx, client.UsageQuery{Start: now, End: now})
	if err != nil {
		t.Fatal(err)
	}
	want := client.NotebookMinuteCount{Date: day(now), Minutes: 3, Completed: 1, Canceled: 1}
	if len(nb.Counts) != 1 || !nb.Counts[0].Date.Equal(want.Date) || nb.Counts[0].Minutes != 3 ||
		nb.Counts[0].Completed != 1 || nb.Counts[0].Canceled != 1 || nb.Counts[0].Errored+nb.Counts[0].Timeout != 0 {
		t.Errorf("notebookMinuteCounts = %+v, want [%+v] (2.5 minutes round up to 3)", nb.Counts, want)
	}
}
