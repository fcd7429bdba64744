package storetest

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

// usageTests are the UsageStore cases; Run runs them with the rest.
var usageTests = []struct {
	name string
	fn   func(t *testing.T, st accountd.Store)
}{
	{"UsageTotals", testUsageTotals},
	{"UsageSeries", testUsageSeries},
	{"UsageDedupe", testUsageDedupe},
	{"UsageForgetIDs", testUsageForgetIDs},
	{"UsageLargeBatch", testUsageLargeBatch},
	{"UsageNotebooks", testUsageNotebooks},
	{"UsageOwnersApart", testUsageOwnersApart},
	{"ApplicationOwners", testApplicationOwners},
	{"UsageDevices", testUsageDevices},
	{"UsageDeleteOwner", testUsageDeleteOwner},
	{"UsageConcurrent", testUsageConcurrent},
	{"UsagePlainConcurrent", testUsagePlainConcurrent},
	{"UsageAppendFold", testUsageAppendFold},
	{"UsageAppendLarge", testUsageAppendLarge},
	{"UsageAppendDeleteOwner", testUsageAppendDeleteOwner},
	{"UsageAppendConcurrent", testUsageAppendConcurrent},
}

// mar is an instant of March 2026 in UTC; day 0 is the last of February.
func mar(day, hour, minute, sec, ms int) time.Time {
	return time.Date(2026, time.March, day, hour, minute, sec, ms*int(time.Millisecond), time.UTC)
}

// usageApp is the application usage records name: the store does not look
// it up.
const usageApp = "65e1a2b3c4d5e6f708192a3b"

func userRef(u *accountd.User) accountd.OwnerRef {
	return accountd.OwnerRef{Type: accountd.OwnerUser, ID: u.ID}
}

func orgRef(o *accountd.Org) accountd.OwnerRef {
	return accountd.OwnerRef{Type: accountd.OwnerOrg, ID: o.ID}
}

func payload(id string, o accountd.OwnerRef, at time.Time, typ, source string, count, bytes int64) accountd.UsageRecord {
	return accountd.UsageRecord{Owner: o, UsageEvent: accountd.UsageEvent{ID: id, Kind: accountd.UsagePayload, Time: at,
		ApplicationID: usageApp, Type: typ, Source: source, Count: count, Bytes: bytes}}
}

func notebookRun(id string, o accountd.OwnerRef, at time.Time, minutes int64, status string) accountd.UsageRecord {
	return accountd.UsageRecord{Owner: o, UsageEvent: accountd.UsageEvent{ID: id, Kind: accountd.UsageNotebookRun, Time: at,
		ApplicationID: usageApp, Minutes: minutes, Status: status}}
}

// recordUsage records recs at at and checks that want of them were added.
func recordUsage(t *testing.T, st accountd.Store, recs []accountd.UsageRecord, at time.Time, want int) {
	t.Helper()
	n, err := st.RecordUsage(t.Context(), recs, at)
	if err != nil {
		t.Fatalf("RecordUsage: %v", err)
	}
	if n != want {
		t.Errorf("RecordUsage added %d records, want %d", n, want)
	}
}

// stamp renders an hour or day start; a time not in UTC is marked so that
// it cannot match.
func stamp(t time.Time) string {
	s := t.UTC().Format("2006-01-02T15:04Z")
	if t.Location() != time.UTC {
		s += " (not in UTC)"
	}
	return s
}

func checkList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s =\n\t%q\nwant\n\t%q", what, got, want)
	}
}

// checkTotals compares PayloadTotals, as "type/source count/bytes" in any
// order, with want.
func checkTotals(t *testing.T, st accountd.Store, o accountd.OwnerRef, from, to time.Time, want ...string) {
	t.Helper()
	got, err := st.PayloadTotals(t.Context(), o, from, to)
	if err != nil {
		t.Fatalf("PayloadTotals: %v", err)
	}
	var s []string
	for _, p := range got {
		s = append(s, fmt.Sprintf("%s/%s %d/%d", p.Type, p.Source, p.Count, p.Bytes))
	}
	slices.Sort(s)
	checkList(t, fmt.Sprintf("PayloadTotals(%s %s, %s, %s)", o.Type, o.ID, stamp(from), stamp(to)), s, slices.Sorted(slices.Values(want)))
}

// checkSeries compares PayloadSeries, as "bucket count/bytes" in order,
// with want.
func checkSeries(t *testing.T, st accountd.Store, o accountd.OwnerRef, from, to time.Time, daily bool, types []string, want ...string) {
	t.Helper()
	got, err := st.PayloadSeries(t.Context(), o, from, to, daily, types)
	if err != nil {
		t.Fatalf("PayloadSeries: %v", err)
	}
	checkList(t, fmt.Sprintf("PayloadSeries(%s %s, %s, %s, daily %v, %v)", o.Type, o.ID, stamp(from), stamp(to), daily, types), seriesStrings(got), want)
}

func seriesStrings(bs []accountd.PayloadBucket) []string {
	var s []string
	for _, b := range bs {
		s = append(s, fmt.Sprintf("%s %d/%d", stamp(b.At), b.Count, b.Bytes))
	}
	return s
}

// checkNotebooks compares NotebookHours, as "hour minutes
// completed/canceled/errored/timeout" in order, with want.
func checkNotebooks(t *testing.T, st accountd.Store, o accountd.OwnerRef, from, to time.Time, want ...string) {
	t.Helper()
	got, err := st.NotebookHours(t.Context(), o, from, to)
	if err != nil {
		t.Fatalf("NotebookHours: %v", err)
	}
	var s []string
	for _, n := range got {
		s = append(s, fmt.Sprintf("%s %dmin %d/%d/%d/%d", stamp(n.Hour), n.Minutes, n.Completed, n.Canceled, n.Errored, n.TimedOut))
	}
	checkList(t, fmt.Sprintf("NotebookHours(%s %s, %s, %s)", o.Type, o.ID, stamp(from), stamp(to)), s, want)
}

// checkDevices compares DeviceHours: before, and the hours as "hour
// created/deleted/net" in order.
func checkDevices(t *testing.T, st accountd.Store, o accountd.OwnerRef, from, to time.Time, wantBefore int64, want ...string) {
	t.Helper()
	before, got, err := st.DeviceHours(t.Context(), o, from, to)
	if err != nil {
		t.Fatalf("DeviceHours: %v", err)
	}
	what := fmt.Sprintf("DeviceHours(%s %s, %s, %s)", o.Type, o.ID, stamp(from), stamp(to))
	if before != wantBefore {
		t.Errorf("%s before = %d, want %d", what, before, wantBefore)
	}
	var s []string
	for _, d := range got {
		s = append(s, fmt.Sprintf("%s %d/%d/%d", stamp(d.Hour), d.Created, d.Deleted, d.Net))
	}
	checkList(t, what, s, want)
}

func createDeviceAt(t *testing.T, st accountd.Store, appID, name string, at time.Time) *accountd.Device {
	t.Helper()
	d := &accountd.Device{ID: accountd.NewID(at), ApplicationID: appID, Name: name, DeviceClass: "gateway", CreatedAt: at, UpdatedAt: at}
	if err := st.CreateDevice(t.Context(), d); err != nil {
		t.Fatalf("CreateDevice(%s): %v", name, err)
	}
	return d
}

// testUsageTotals sums payloads over ranges that take whole days from the
// daily sums and the hours at either end from the hourly ones. Counts are
// distinct powers of two, so that any sum tells which events it took;
// bytes are ten times the count.
func testUsageTotals(t *testing.T, st accountd.Store) {
	u := userRef(createUser(t, st, fullUser("metered@example.com")))
	idle := orgRef(createOrg(t, st, "Idle", u.ID))
	p := func(id string, at time.Time, typ, source string, count int64) accountd.UsageRecord {
		return payload(id, u, at, typ, source, count, 10*count)
	}
	recordUsage(t, st, []accountd.UsageRecord{
		p("start", mar(1, 5, 0, 0, 0), "mqttIn", "mqtt", 1),
		p("early", mar(1, 4, 59, 59, 999), "mqttIn", "mqtt", 2),
		p("dayEnd", mar(1, 23, 59, 59, 999), "mqttIn", "mqtt", 4),
		p("middle", mar(2, 12, 0, 0, 0), "mqttIn", "mqtt", 8),
		p("hook", mar(2, 12, 15, 0, 0), "webhook", "rest", 16),
	}, mar(5, 0, 0, 0, 0), 5)
	// a second batch adds to the rows the first made
	recordUsage(t, st, []accountd.UsageRecord{
		p("midnight", mar(3, 0, 0, 0, 0), "mqttIn", "mqtt", 32),
		p("rest", mar(3, 23, 0, 0, 0), "mqttIn", "rest", 64),
		p("end", mar(4, 17, 30, 0, 0), "mqttIn", "mqtt", 128),
		p("after", mar(4, 18, 0, 0, 0), "mqttIn", "mqtt", 256),
		p("sameHour", mar(1, 5, 45, 0, 0), "mqttIn", "mqtt", 512),
		p("february", mar(0, 23, 0, 0, 0), "mqttIn", "mqtt", 1024),
	}, mar(5, 0, 0, 0, 0), 6)

	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"days with partial hours at both ends", mar(1, 5, 0, 0, 0), mar(4, 17, 0, 0, 0),
			[]string{"mqttIn/mqtt 685/6850", "mqttIn/rest 64/640", "webhook/rest 16/160"}},
		{"start hour only", mar(1, 5, 0, 0, 0), mar(1, 5, 0, 0, 0), []string{"mqttIn/mqtt 513/5130"}},
		{"hour before the start", mar(1, 4, 0, 0, 0), mar(1, 4, 0, 0, 0), []string{"mqttIn/mqtt 2/20"}},
		{"last hour of a day", mar(1, 23, 0, 0, 0), mar(1, 23, 0, 0, 0), []string{"mqttIn/mqtt 4/40"}},
		{"end hour only", mar(4, 17, 0, 0, 0), mar(4, 17, 0, 0, 0), []string{"mqttIn/mqtt 128/1280"}},
		{"hour after the end", mar(4, 18, 0, 0, 0), mar(4, 18, 0, 0, 0), []string{"mqttIn/mqtt 256/2560"}},
		{"inside one day", mar(2, 10, 0, 0, 0), mar(2, 13, 0, 0, 0), []string{"mqttIn/mqtt 8/80", "webhook/rest 16/160"}},
		{"whole days", mar(1, 0, 0, 0, 0), mar(4, 23, 0, 0, 0),
			[]string{"mqttIn/mqtt 943/9430", "mqttIn/rest 64/640", "webhook/rest 16/160"}},
		{"whole day and the first hour of the next", mar(2, 0, 0, 0, 0), mar(3, 0, 0, 0, 0),
			[]string{"mqttIn/mqtt 40/400", "webhook/rest 16/160"}},
		{"last hour of a day and the whole next", mar(1, 23, 0, 0, 0), mar(2, 23, 0, 0, 0),
			[]string{"mqttIn/mqtt 12/120", "webhook/rest 16/160"}},
		{"one whole day in the middle", mar(1, 22, 0, 0, 0), mar(3, 1, 0, 0, 0),
			[]string{"mqttIn/mqtt 44/440", "webhook/rest 16/160"}},
		{"across months", mar(0, 23, 0, 0, 0), mar(1, 5, 0, 0, 0), []string{"mqttIn/mqtt 1539/15390"}},
		{"hours of two days, no whole day", mar(1, 4, 0, 0, 0), mar(2, 3, 0, 0, 0), []string{"mqttIn/mqtt 519/5190"}},
		{"nothing in range", mar(10, 0, 0, 0, 0), mar(20, 23, 0, 0, 0), nil},
		{"gap inside one day", mar(1, 6, 0, 0, 0), mar(1, 22, 0, 0, 0), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkTotals(t, st, u, tc.from, tc.to, tc.want...)
		})
	}
	t.Run("owner without usage", func(t *testing.T) {
		checkTotals(t, st, idle, mar(0, 0, 0, 0, 0), mar(5, 23, 0, 0, 0))
		checkTotals(t, st, accountd.OwnerRef{Type: accountd.OwnerUser, ID: accountd.NewID(base)}, mar(0, 0, 0, 0, 0), mar(5, 23, 0, 0, 0))
	})
}

// testUsageSeries checks daily and hourly buckets, type filtering and the
// edges of buckets.
func testUsageSeries(t *testing.T, st accountd.Store) {
	u := userRef(createUser(t, st, fullUser("series@example.com")))
	p := func(id string, at time.Time, typ, source string, count int64) accountd.UsageRecord {
		return payload(id, u, at, typ, source, count, 10*count)
	}
	recordUsage(t, st, []accountd.UsageRecord{
		p("a", mar(1, 10, 15, 0, 0), "mqttIn", "mqtt", 1),
		p("b", mar(1, 10, 45, 0, 0), "mqttIn", "rest", 2),
		p("c", mar(1, 10, 50, 0, 0), "webhook", "rest", 4),
		p("d", mar(1, 23, 59, 59, 999), "mqttIn", "mqtt", 8),
		p("e", mar(2, 0, 0, 0, 0), "mqttIn", "mqtt", 16),
		p("f", mar(2, 5, 0, 0, 0), "deviceConnect", "mqtt", 32),
		p("g", mar(4, 12, 0, 0, 0), "mqttIn", "mqtt", 64),
		p("h", mar(5, 0, 0, 0, 0), "mqttIn", "mqtt", 128),
		p("i", mar(0, 23, 59, 59, 999), "mqttIn", "mqtt", 256),
	}, mar(6, 0, 0, 0, 0), 9)
	mqttWebhook := []string{"mqttIn", "webhook"}
	for _, tc := range []struct {
		name     string
		daily    bool
		from, to time.Time
		types    []string
		want     []string
	}{
		{"daily", true, mar(1, 0, 0, 0, 0), mar(4, 0, 0, 0, 0), mqttWebhook,
			[]string{"2026-03-01T00:00Z 15/150", "2026-03-02T00:00Z 16/160", "2026-03-04T00:00Z 64/640"}},
		{"daily one type", true, mar(1, 0, 0, 0, 0), mar(4, 0, 0, 0, 0), []string{"mqttIn"},
			[]string{"2026-03-01T00:00Z 11/110", "2026-03-02T00:00Z 16/160", "2026-03-04T00:00Z 64/640"}},
		{"daily other type", true, mar(1, 0, 0, 0, 0), mar(4, 0, 0, 0, 0), []string{"deviceConnect"},
			[]string{"2026-03-02T00:00Z 32/320"}},
		{"daily all types", true, mar(1, 0, 0, 0, 0), mar(4, 0, 0, 0, 0), accountd.PayloadTypes,
			[]string{"2026-03-01T00:00Z 15/150", "2026-03-02T00:00Z 48/480", "2026-03-04T00:00Z 64/640"}},
		{"daily billable types", true, mar(1, 0, 0, 0, 0), mar(4, 0, 0, 0, 0), accountd.BillablePayloadTypes,
			[]string{"2026-03-01T00:00Z 15/150", "2026-03-02T00:00Z 16/160", "2026-03-04T00:00Z 64/640"}},
		{"daily type without usage", true, mar(1, 0, 0, 0, 0), mar(4, 0, 0, 0, 0), []string{"timer"}, nil},
		{"daily across months", true, mar(0, 0, 0, 0, 0), mar(5, 0, 0, 0, 0), []string{"mqttIn"},
			[]string{"2026-02-28T00:00Z 256/2560", "2026-03-01T00:00Z 11/110", "2026-03-02T00:00Z 16/160",
				"2026-03-04T00:00Z 64/640", "2026-03-05T00:00Z 128/1280"}},
		{"daily one day", true, mar(2, 0, 0, 0, 0), mar(2, 0, 0, 0, 0), []string{"mqttIn"}, []string{"2026-03-02T00:00Z 16/160"}},
		{"daily day without usage", true, mar(3, 0, 0, 0, 0), mar(3, 0, 0, 0, 0), accountd.PayloadTypes, nil},
		{"daily no types", true, mar(0, 0, 0, 0, 0), mar(5, 0, 0, 0, 0), nil, nil},
		{"hourly", false, mar(1, 10, 0, 0, 0), mar(2, 0, 0, 0, 0), mqttWebhook,
			[]string{"2026-03-01T10:00Z 7/70", "2026-03-01T23:00Z 8/80", "2026-03-02T00:00Z 16/160"}},
		{"hourly one type", false, mar(1, 10, 0, 0, 0), mar(1, 10, 0, 0, 0), []string{"webhook"}, []string{"2026-03-01T10:00Z 4/40"}},
		{"hourly last hour of a day", false, mar(1, 23, 0, 0, 0), mar(1, 23, 0, 0, 0), accountd.PayloadTypes,
			[]string{"2026-03-01T23:00Z 8/80"}},
		{"hourly first hour of a day", false, mar(2, 0, 0, 0, 0), mar(2, 0, 0, 0, 0), accountd.PayloadTypes,
			[]string{"2026-03-02T00:00Z 16/160"}},
		{"hourly all types", false, mar(2, 0, 0, 0, 0), mar(2, 5, 0, 0, 0), accountd.PayloadTypes,
			[]string{"2026-03-02T00:00Z 16/160", "2026-03-02T05:00Z 32/320"}},
		{"hourly gap", false, mar(1, 11, 0, 0, 0), mar(1, 22, 0, 0, 0), accountd.PayloadTypes, nil},
		{"hourly no types", false, mar(1, 0, 0, 0, 0), mar(5, 0, 0, 0, 0), []string{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkSeries(t, st, u, tc.from, tc.to, tc.daily, tc.types, tc.want...)
		})
	}
	t.Run("owner without usage", func(t *testing.T) {
		other := userRef(createUser(t, st, fullUser("quiet@example.com")))
		checkSeries(t, st, other, mar(0, 0, 0, 0, 0), mar(5, 0, 0, 0, 0), true, accountd.PayloadTypes)
		checkSeries(t, st, other, mar(0, 0, 0, 0, 0), mar(5, 0, 0, 0, 0), false, accountd.PayloadTypes)
	})
}

// testUsageDedupe records batches again, as a client retrying does.
func testUsageDedupe(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := userRef(createUser(t, st, fullUser("retry@example.com")))
	hour := mar(1, 10, 0, 0, 0)
	p := func(id string, count int64) accountd.UsageRecord {
		return payload(id, u, hour.Add(time.Minute), "mqttIn", "mqtt", count, 10*count)
	}
	from, to := mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0)
	recordedAt := mar(1, 11, 0, 0, 0)

	for _, recs := range [][]accountd.UsageRecord{nil, {}} {
		if n, err := st.RecordUsage(ctx, recs, recordedAt); err != nil || n != 0 {
			t.Errorf("RecordUsage(%v) = %d, %v; want 0", recs, n, err)
		}
	}
	checkTotals(t, st, u, from, to)

	// the second "a" is a repeat of the first
	batchA := []accountd.UsageRecord{p("a", 1), p("b", 2), p("a", 4)}
	recordUsage(t, st, batchA, recordedAt, 2)
	checkTotals(t, st, u, from, to, "mqttIn/mqtt 3/30")
	recordUsage(t, st, batchA, recordedAt, 0)
	checkTotals(t, st, u, from, to, "mqttIn/mqtt 3/30")
	checkSeries(t, st, u, hour, hour, false, accountd.PayloadTypes, "2026-03-01T10:00Z 3/30")
	checkSeries(t, st, u, from, from, true, accountd.PayloadTypes, "2026-03-01T00:00Z 3/30")

	// records without an id always count; "a" was recorded before
	batchB := []accountd.UsageRecord{p("c", 8), p("", 16), p("", 32), p("a", 64)}
	recordUsage(t, st, batchB, recordedAt, 3)
	checkTotals(t, st, u, from, to, "mqttIn/mqtt 59/590")
	recordUsage(t, st, batchB, recordedAt, 2)
	checkTotals(t, st, u, from, to, "mqttIn/mqtt 107/1070")
	checkSeries(t, st, u, from, from, true, accountd.PayloadTypes, "2026-03-01T00:00Z 107/1070")

	// notebook runs are deduplicated the same way
	runs := []accountd.UsageRecord{
		notebookRun("run1", u, hour, 5, "completed"),
		notebookRun("run1", u, hour, 7, "errored"),
		notebookRun("run2", u, hour, 1, "canceled"),
	}
	recordUsage(t, st, runs, recordedAt, 2)
	recordUsage(t, st, runs, recordedAt, 0)
	checkNotebooks(t, st, u, from, to, "2026-03-01T10:00Z 6min 1/1/0/0")

	// an id names one event whoever reports it
	other := userRef(createUser(t, st, fullUser("copycat@example.com")))
	recordUsage(t, st, []accountd.UsageRecord{payload("a", other, hour, "mqttIn", "mqtt", 1, 1)}, recordedAt, 0)
	checkTotals(t, st, other, from, to)
	checkTotals(t, st, u, from, to, "mqttIn/mqtt 107/1070")
}

// testUsageForgetIDs forgets ids by the time they were recorded, not the
// time of their events.
func testUsageForgetIDs(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := userRef(createUser(t, st, fullUser("forget@example.com")))
	eventTime := mar(1, 8, 0, 0, 0)
	p := func(id string, count int64) accountd.UsageRecord {
		return payload(id, u, eventTime, "mqttIn", "mqtt", count, 10*count)
	}
	from, to := mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0)
	recordUsage(t, st, []accountd.UsageRecord{p("old", 1)}, mar(1, 9, 0, 0, 0), 1)
	recordUsage(t, st, []accountd.UsageRecord{p("edge", 2)}, mar(1, 10, 0, 0, 0), 1)
	recordUsage(t, st, []accountd.UsageRecord{p("new", 4)}, mar(1, 11, 0, 0, 0), 1)
	checkTotals(t, st, u, from, to, "mqttIn/mqtt 7/70")

	if err := st.ForgetUsageIDs(ctx, mar(1, 10, 0, 0, 0)); err != nil {
		t.Fatalf("ForgetUsageIDs: %v", err)
	}
	all := []accountd.UsageRecord{p("old", 1), p("edge", 2), p("new", 4)}
	// "old" was recorded before 10:00 and counts again; "edge", recorded
	// at 10:00 exactly, is not before it
	recordUsage(t, st, all, mar(1, 12, 0, 0, 0), 1)
	checkTotals(t, st, u, from, to, "mqttIn/mqtt 8/80")
	recordUsage(t, st, all, mar(1, 12, 0, 0, 0), 0)
	checkTotals(t, st, u, from, to, "mqttIn/mqtt 8/80")

	if err := st.ForgetUsageIDs(ctx, mar(1, 12, 0, 0, 1)); err != nil {
		t.Fatalf("ForgetUsageIDs: %v", err)
	}
	recordUsage(t, st, all, mar(1, 13, 0, 0, 0), 3)
	checkTotals(t, st, u, from, to, "mqttIn/mqtt 15/150")
	checkSeries(t, st, u, from, to, false, []string{"mqttIn"}, "2026-03-01T08:00Z 15/150")
}

// testUsageLargeBatch records more keys and ids than one statement takes.
func testUsageLargeBatch(t *testing.T, st accountd.Store) {
	u := userRef(createUser(t, st, fullUser("bulk@example.com")))
	rec := func(i int) accountd.UsageRecord {
		source := []string{"mqtt", "rest"}[i%2]
		return payload(fmt.Sprintf("big-%03d", i), u, mar(1, 0, 0, 0, 0).Add(time.Duration(i)*time.Hour+time.Minute), "mqttIn", source, 1, 3)
	}
	var batch []accountd.UsageRecord
	for i := range 300 {
		batch = append(batch, rec(i))
	}
	recordUsage(t, st, batch, mar(20, 0, 0, 0, 0), 300)
	checkTotals(t, st, u, mar(1, 0, 0, 0, 0), mar(13, 11, 0, 0, 0), "mqttIn/mqtt 150/450", "mqttIn/rest 150/450")
	// hours 5 through 294: 145 odd, 145 even
	checkTotals(t, st, u, mar(1, 5, 0, 0, 0), mar(13, 6, 0, 0, 0), "mqttIn/mqtt 145/435", "mqttIn/rest 145/435")
	hourly, err := st.PayloadSeries(t.Context(), u, mar(1, 0, 0, 0, 0), mar(31, 0, 0, 0, 0), false, []string{"mqttIn"})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 300 {
		want = append(want, fmt.Sprintf("%s 1/3", stamp(mar(1, i, 0, 0, 0))))
	}
	checkList(t, "hourly series", seriesStrings(hourly), want)

	// 300 ids seen before and 20 new ones
	for i := 300; i < 320; i++ {
		batch = append(batch, rec(i))
	}
	recordUsage(t, st, batch, mar(20, 0, 0, 0, 0), 20)
	want = nil
	for day := 1; day <= 13; day++ {
		want = append(want, fmt.Sprintf("%s 24/72", stamp(mar(day, 0, 0, 0, 0))))
	}
	want = append(want, "2026-03-14T00:00Z 8/24")
	checkSeries(t, st, u, mar(1, 0, 0, 0, 0), mar(31, 0, 0, 0, 0), true, []string{"mqttIn"}, want...)
	checkTotals(t, st, u, mar(1, 0, 0, 0, 0), mar(31, 23, 0, 0, 0), "mqttIn/mqtt 160/480", "mqttIn/rest 160/480")
}

// testUsageNotebooks sums notebook minutes and counts outcomes per hour.
func testUsageNotebooks(t *testing.T, st accountd.Store) {
	u := userRef(createUser(t, st, fullUser("notebooks@example.com")))
	recordUsage(t, st, []accountd.UsageRecord{
		notebookRun("n1", u, mar(1, 10, 0, 0, 0), 5, "completed"),
		notebookRun("n2", u, mar(1, 10, 20, 0, 0), 3, "completed"),
		notebookRun("n3", u, mar(1, 10, 30, 0, 0), 0, "canceled"),
		notebookRun("n4", u, mar(1, 10, 40, 0, 0), 7, "errored"),
		notebookRun("n5", u, mar(1, 10, 59, 59, 999), 60, "timeout"),
		notebookRun("n6", u, mar(1, 11, 0, 0, 0), 15, "timeout"),
		notebookRun("n7", u, mar(1, 9, 59, 59, 999), 100, "completed"),
		notebookRun("n8", u, mar(1, 13, 0, 0, 0), 2, "canceled"),
		payload("p1", u, mar(1, 10, 5, 0, 0), "notebook", "flow", 1, 10),
	}, mar(2, 0, 0, 0, 0), 9)
	// a later batch adds to an hour already there
	recordUsage(t, st, []accountd.UsageRecord{notebookRun("n9", u, mar(1, 11, 30, 0, 0), 1, "errored")}, mar(2, 0, 0, 0, 0), 1)

	checkNotebooks(t, st, u, mar(1, 10, 0, 0, 0), mar(1, 12, 0, 0, 0),
		"2026-03-01T10:00Z 75min 2/1/1/1", "2026-03-01T11:00Z 16min 0/0/1/1")
	checkNotebooks(t, st, u, mar(1, 9, 0, 0, 0), mar(1, 13, 0, 0, 0),
		"2026-03-01T09:00Z 100min 1/0/0/0", "2026-03-01T10:00Z 75min 2/1/1/1", "2026-03-01T11:00Z 16min 0/0/1/1", "2026-03-01T13:00Z 2min 0/1/0/0")
	checkNotebooks(t, st, u, mar(1, 13, 0, 0, 0), mar(1, 13, 0, 0, 0), "2026-03-01T13:00Z 2min 0/1/0/0")
	checkNotebooks(t, st, u, mar(1, 12, 0, 0, 0), mar(1, 12, 0, 0, 0))
	checkNotebooks(t, st, u, mar(2, 0, 0, 0, 0), mar(3, 0, 0, 0, 0))
	// runs are not payloads, and a payload is not a run
	checkTotals(t, st, u, mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0), "notebook/flow 1/10")
	checkSeries(t, st, u, mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0), false, accountd.PayloadTypes, "2026-03-01T10:00Z 1/10")
}

// testUsageOwnersApart records the same keys for several owners, one of
// them an organization with a user's id.
func testUsageOwnersApart(t *testing.T, st accountd.Store) {
	a := createUser(t, st, fullUser("a@example.com"))
	b := createUser(t, st, fullUser("b@example.com"))
	o := createOrg(t, st, "Apart", a.ID)
	owners := []accountd.OwnerRef{userRef(a), userRef(b), orgRef(o), {Type: accountd.OwnerOrg, ID: a.ID}}
	var recs []accountd.UsageRecord
	for i, owner := range owners {
		n := int64(1) << i
		recs = append(recs,
			payload("", owner, mar(1, 10, 0, 0, 0), "mqttIn", "mqtt", n, 10*n),
			notebookRun("", owner, mar(1, 10, 30, 0, 0), n, "completed"))
	}
	recordUsage(t, st, recs, mar(2, 0, 0, 0, 0), 8)

	appA := createApp(t, st, accountd.OwnerUser, a.ID, "a's")
	createDeviceAt(t, st, appA.ID, "one", mar(1, 10, 0, 0, 0))
	appO := createApp(t, st, accountd.OwnerOrg, o.ID, "org's")
	createDeviceAt(t, st, appO.ID, "one", mar(1, 10, 0, 0, 0))
	createDeviceAt(t, st, appO.ID, "two", mar(1, 10, 0, 0, 0))
	devices := []int64{1, 0, 2, 0}

	from, to := mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0)
	for i, owner := range owners {
		t.Run(fmt.Sprintf("%s %d", owner.Type, i), func(t *testing.T) {
			n := int64(1) << i
			checkTotals(t, st, owner, from, to, fmt.Sprintf("mqttIn/mqtt %d/%d", n, 10*n))
			checkSeries(t, st, owner, from, to, true, []string{"mqttIn"}, fmt.Sprintf("2026-03-01T00:00Z %d/%d", n, 10*n))
			checkSeries(t, st, owner, from, to, false, []string{"mqttIn"}, fmt.Sprintf("2026-03-01T10:00Z %d/%d", n, 10*n))
			checkNotebooks(t, st, owner, from, to, fmt.Sprintf("2026-03-01T10:00Z %dmin 1/0/0/0", n))
			var want []string
			if d := devices[i]; d != 0 {
				want = append(want, fmt.Sprintf("2026-03-01T10:00Z %d/0/%d", d, d))
			}
			checkDevices(t, st, owner, from, to, 0, want...)
			checkDevices(t, st, owner, mar(2, 0, 0, 0, 0), mar(2, 23, 0, 0, 0), devices[i])
		})
	}
}

func testApplicationOwners(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("apps@example.com"))
	o := createOrg(t, st, "Many", u.ID)
	want := map[string]accountd.OwnerRef{}
	var ids []string
	err := st.InTx(ctx, func(tx accountd.Store) error {
		for i := range 300 {
			owner := userRef(u)
			if i%3 == 0 {
				owner = orgRef(o)
			}
			a := &accountd.Application{Owned: owned("application", owner.Type, owner.ID, fmt.Sprintf("app%03d", i))}
			if err := tx.CreateApplication(ctx, a); err != nil {
				return err
			}
			want[a.ID] = owner
			ids = append(ids, a.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("creating applications: %v", err)
	}
	owners := func(ids []string) map[string]accountd.OwnerRef {
		t.Helper()
		got, err := st.ApplicationOwners(ctx, ids)
		if err != nil {
			t.Fatalf("ApplicationOwners: %v", err)
		}
		return got
	}

	t.Run("none", func(t *testing.T) {
		for _, ids := range [][]string{nil, {}} {
			if got := owners(ids); len(got) != 0 {
				t.Errorf("ApplicationOwners(%v) = %v, want nothing", ids, got)
			}
		}
	})
	t.Run("few", func(t *testing.T) {
		unknown := accountd.NewID(base)
		got := owners([]string{ids[1], unknown, ids[0], ids[1]})
		if w := map[string]accountd.OwnerRef{ids[0]: orgRef(o), ids[1]: userRef(u)}; !maps.Equal(got, w) {
			t.Errorf("ApplicationOwners = %v, want %v", got, w)
		}
		if got := owners([]string{unknown}); len(got) != 0 {
			t.Errorf("ApplicationOwners(unknown) = %v, want nothing", got)
		}
	})
	t.Run("many", func(t *testing.T) {
		// 300 known ids, reversed, with duplicates and unknown ids among them
		var query []string
		for i, id := range slices.Backward(ids) {
			query = append(query, id)
			if i%5 == 0 {
				query = append(query, id, accountd.NewID(base))
			}
		}
		if got := owners(query); !maps.Equal(got, want) {
			t.Errorf("ApplicationOwners of %d ids: got %d owners, want %d", len(query), len(got), len(want))
			for id, w := range want {
				if g, ok := got[id]; !ok || g != w {
					t.Errorf("  %s: got %v (%v), want %v", id, g, ok, w)
				}
			}
			for id := range got {
				if _, ok := want[id]; !ok {
					t.Errorf("  %s: unexpected", id)
				}
			}
		}
	})
	t.Run("moved and deleted", func(t *testing.T) {
		if moved, err := st.MoveOwned(ctx, accountd.KindApplication, ids[1], u.ID, accountd.OwnerOrg, o.ID, base); err != nil || !moved {
			t.Fatalf("MoveOwned = %v, %v", moved, err)
		}
		if err := st.DeleteApplication(ctx, ids[2], base); err != nil {
			t.Fatalf("DeleteApplication: %v", err)
		}
		got := owners(ids[:4])
		if w := map[string]accountd.OwnerRef{ids[0]: orgRef(o), ids[1]: orgRef(o), ids[3]: orgRef(o)}; !maps.Equal(got, w) {
			t.Errorf("ApplicationOwners = %v, want %v", got, w)
		}
	})
}

// testUsageDevices follows an owner's devices through creation, deletion,
// deleting an application and moving one to an organization.
func testUsageDevices(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	usr := createUser(t, st, fullUser("devices@example.com"))
	org := createOrg(t, st, "Receiving", usr.ID)
	u, o := userRef(usr), orgRef(org)

	app1 := createApp(t, st, accountd.OwnerUser, usr.ID, "one")
	d1 := createDeviceAt(t, st, app1.ID, "d1", mar(1, 10, 5, 0, 0))
	createDeviceAt(t, st, app1.ID, "d2", mar(1, 10, 59, 59, 999))
	createDeviceAt(t, st, app1.ID, "d3", mar(1, 11, 0, 0, 0))
	if err := st.DeleteDevice(ctx, app1.ID, d1.ID, mar(1, 12, 10, 0, 0)); err != nil {
		t.Fatalf("DeleteDevice: %v", err)
	}
	// failures count nothing
	checkNotFound(t, st.DeleteDevice(ctx, app1.ID, d1.ID, mar(1, 12, 20, 0, 0)), "device")
	checkNotFound(t, st.DeleteDevice(ctx, accountd.NewID(base), d1.ID, mar(1, 12, 20, 0, 0)), "device")

	app2 := createApp(t, st, accountd.OwnerUser, usr.ID, "two")
	for i, at := range []time.Time{mar(1, 13, 0, 0, 0), mar(1, 13, 30, 0, 0), mar(1, 13, 59, 59, 999)} {
		createDeviceAt(t, st, app2.ID, fmt.Sprint("app2 device ", i), at)
	}
	app3 := createApp(t, st, accountd.OwnerUser, usr.ID, "three")
	createDeviceAt(t, st, app3.ID, "m1", mar(1, 14, 10, 0, 0))
	createDeviceAt(t, st, app3.ID, "m2", mar(1, 14, 20, 0, 0))
	if err := st.DeleteApplication(ctx, app2.ID, mar(1, 15, 30, 0, 0)); err != nil {
		t.Fatalf("DeleteApplication: %v", err)
	}
	if moved, err := st.MoveOwned(ctx, accountd.KindApplication, app3.ID, usr.ID, accountd.OwnerOrg, org.ID, mar(1, 16, 45, 0, 0)); err != nil || !moved {
		t.Fatalf("MoveOwned = %v, %v", moved, err)
	}
	// the moved application's new devices are the organization's
	createDeviceAt(t, st, app3.ID, "m3", mar(1, 17, 10, 0, 0))
	// an application without devices, and a dashboard, change nothing
	empty := createApp(t, st, accountd.OwnerUser, usr.ID, "empty")
	if moved, err := st.MoveOwned(ctx, accountd.KindApplication, empty.ID, usr.ID, accountd.OwnerOrg, org.ID, mar(1, 18, 0, 0, 0)); err != nil || !moved {
		t.Fatalf("MoveOwned(empty) = %v, %v", moved, err)
	}
	if err := st.DeleteApplication(ctx, empty.ID, mar(1, 19, 0, 0, 0)); err != nil {
		t.Fatalf("DeleteApplication(empty): %v", err)
	}
	dash := createDash(t, st, accountd.OwnerUser, usr.ID, "board")
	if moved, err := st.MoveOwned(ctx, accountd.KindDashboard, dash.ID, usr.ID, accountd.OwnerOrg, org.ID, mar(1, 20, 0, 0, 0)); err != nil || !moved {
		t.Fatalf("MoveOwned(dashboard) = %v, %v", moved, err)
	}

	userHours := []string{
		"2026-03-01T10:00Z 2/0/2",
		"2026-03-01T11:00Z 1/0/1",
		"2026-03-01T12:00Z 0/1/-1",
		"2026-03-01T13:00Z 3/0/3",
		"2026-03-01T14:00Z 2/0/2",
		"2026-03-01T15:00Z 0/3/-3",
		"2026-03-01T16:00Z 0/0/-2",
	}
	checkDevices(t, st, u, mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0), 0, userHours...)
	checkDevices(t, st, u, mar(1, 10, 0, 0, 0), mar(1, 16, 0, 0, 0), 0, userHours...)
	checkDevices(t, st, u, mar(1, 13, 0, 0, 0), mar(1, 15, 0, 0, 0), 2, userHours[3:6]...)
	checkDevices(t, st, u, mar(1, 11, 0, 0, 0), mar(1, 11, 0, 0, 0), 2, userHours[1])
	checkDevices(t, st, u, mar(1, 16, 0, 0, 0), mar(1, 16, 0, 0, 0), 4, userHours[6])
	checkDevices(t, st, u, mar(1, 17, 0, 0, 0), mar(2, 0, 0, 0, 0), 2)
	checkDevices(t, st, u, mar(0, 0, 0, 0, 0), mar(1, 9, 0, 0, 0), 0)

	orgHours := []string{"2026-03-01T16:00Z 0/0/2", "2026-03-01T17:00Z 1/0/1"}
	checkDevices(t, st, o, mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0), 0, orgHours...)
	checkDevices(t, st, o, mar(1, 17, 0, 0, 0), mar(1, 17, 0, 0, 0), 2, orgHours[1])
	checkDevices(t, st, o, mar(1, 18, 0, 0, 0), mar(3, 0, 0, 0, 0), 3)
}

// testUsageDeleteOwner deletes a user and an organization with usage:
// their sums go, everyone else's stay.
func testUsageDeleteOwner(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	leaving := createUser(t, st, fullUser("leaving@example.com"))
	staying := createUser(t, st, fullUser("staying@example.com"))
	org := createOrg(t, st, "Closing", staying.ID)
	gone, kept, goneOrg := userRef(leaving), userRef(staying), orgRef(org)

	app := createApp(t, st, accountd.OwnerUser, leaving.ID, "leaving")
	createDeviceAt(t, st, app.ID, "d1", mar(1, 9, 0, 0, 0))
	createDeviceAt(t, st, app.ID, "d2", mar(1, 9, 30, 0, 0))
	keptApp := createApp(t, st, accountd.OwnerUser, staying.ID, "staying")
	createDeviceAt(t, st, keptApp.ID, "d3", mar(1, 9, 0, 0, 0))
	var recs []accountd.UsageRecord
	for _, owner := range []accountd.OwnerRef{gone, kept, goneOrg} {
		recs = append(recs,
			payload("", owner, mar(1, 10, 0, 0, 0), "mqttIn", "mqtt", 3, 30),
			notebookRun("", owner, mar(1, 10, 0, 0, 0), 4, "completed"))
	}
	recordUsage(t, st, recs, mar(2, 0, 0, 0, 0), 6)

	// deleting a user needs them to own nothing
	if err := st.DeleteApplication(ctx, app.ID, mar(1, 11, 0, 0, 0)); err != nil {
		t.Fatalf("DeleteApplication: %v", err)
	}
	checkDevices(t, st, gone, mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0), 0, "2026-03-01T09:00Z 2/0/2", "2026-03-01T11:00Z 0/2/-2")
	checkTotals(t, st, gone, mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0), "mqttIn/mqtt 3/30")
	if err := st.DeleteUser(ctx, leaving.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if err := st.DeleteOrg(ctx, org.ID); err != nil {
		t.Fatalf("DeleteOrg: %v", err)
	}

	from, to := mar(0, 0, 0, 0, 0), mar(3, 23, 0, 0, 0)
	for _, owner := range []accountd.OwnerRef{gone, goneOrg} {
		t.Run("deleted "+owner.Type, func(t *testing.T) {
			checkTotals(t, st, owner, from, to)
			checkTotals(t, st, owner, mar(1, 10, 0, 0, 0), mar(1, 10, 0, 0, 0))
			checkSeries(t, st, owner, from, to, true, accountd.PayloadTypes)
			checkSeries(t, st, owner, from, to, false, accountd.PayloadTypes)
			checkNotebooks(t, st, owner, from, to)
			checkDevices(t, st, owner, from, to, 0)
			checkDevices(t, st, owner, mar(2, 0, 0, 0, 0), to, 0)
		})
	}
	t.Run("kept", func(t *testing.T) {
		checkTotals(t, st, kept, from, to, "mqttIn/mqtt 3/30")
		checkSeries(t, st, kept, from, to, true, accountd.PayloadTypes, "2026-03-01T00:00Z 3/30")
		checkSeries(t, st, kept, from, to, false, accountd.PayloadTypes, "2026-03-01T10:00Z 3/30")
		checkNotebooks(t, st, kept, from, to, "2026-03-01T10:00Z 4min 1/0/0/0")
		checkDevices(t, st, kept, from, to, 0, "2026-03-01T09:00Z 1/0/1")
	})
}

// testUsageConcurrent records overlapping batches at once: the same keys
// in different orders, distinct ids, ids every batch shares and records
// without ids. On PostgreSQL the batches wait on each other's rows, which
// must not deadlock; every sum must come out exact.
func testUsageConcurrent(t *testing.T, st accountd.Store) {
	a := createUser(t, st, fullUser("a@example.com"))
	b := createUser(t, st, fullUser("b@example.com"))
	o := createOrg(t, st, "Busy", a.ID)
	owners := []accountd.OwnerRef{userRef(a), userRef(b), orgRef(o)}
	hours := []time.Time{mar(1, 10, 0, 0, 0), mar(1, 11, 0, 0, 0), mar(1, 23, 0, 0, 0)}
	kinds := [][2]string{{"mqttIn", "mqtt"}, {"webhook", "rest"}}

	const workers, batches = 8, 5
	batch := func(g, n int) []accountd.UsageRecord {
		var recs []accountd.UsageRecord
		k := 0
		for oi, owner := range owners {
			for hi, h := range hours {
				for _, kind := range kinds {
					at := h.Add(time.Duration(g*7+k) * time.Second)
					recs = append(recs,
						payload(fmt.Sprintf("g%d-b%d-k%d", g, n, k), owner, at, kind[0], kind[1], 1, 10),
						payload("", owner, at, kind[0], kind[1], 2, 1),
						payload(fmt.Sprintf("shared-b%d-k%d", n, k), owner, at, kind[0], kind[1], 1000, 0))
					k++
				}
				recs = append(recs, notebookRun(fmt.Sprintf("g%d-b%d-o%d-run%d", g, n, oi, hi), owner, h, 3, notebookStatusFor(g)))
			}
		}
		rand.New(rand.NewPCG(uint64(g), uint64(n))).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		return recs
	}

	added := recordConcurrently(t, st, workers, batches, batch, mar(2, 0, 0, 0, 0))
	// per batch: 18 keys with a distinct and an unnamed record each, 9
	// runs; per batch number: 18 shared records counted once
	if want := workers*batches*(18*2+9) + batches*18; added != want {
		t.Errorf("RecordUsage added %d records in all, want %d", added, want)
	}

	// per key and hour: 40 distinct (1, 10), 40 unnamed (2, 1), 5 shared (1000, 0)
	from, to := mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0)
	for _, owner := range owners {
		checkTotals(t, st, owner, from, to, "mqttIn/mqtt 15360/1320", "webhook/rest 15360/1320")
		checkTotals(t, st, owner, mar(1, 10, 0, 0, 0), mar(1, 10, 0, 0, 0), "mqttIn/mqtt 5120/440", "webhook/rest 5120/440")
		checkSeries(t, st, owner, from, to, false, []string{"mqttIn", "webhook"},
			"2026-03-01T10:00Z 10240/880", "2026-03-01T11:00Z 10240/880", "2026-03-01T23:00Z 10240/880")
		checkSeries(t, st, owner, from, to, true, []string{"webhook"}, "2026-03-01T00:00Z 15360/1320")
		// 40 runs of 3 minutes per hour, 10 of each outcome
		checkNotebooks(t, st, owner, from, to,
			"2026-03-01T10:00Z 120min 10/10/10/10", "2026-03-01T11:00Z 120min 10/10/10/10", "2026-03-01T23:00Z 120min 10/10/10/10")
	}
}

// notebookStatusFor spreads the outcomes over the workers, two each.
func notebookStatusFor(g int) string {
	return accountd.NotebookStatuses[g%len(accountd.NotebookStatuses)]
}

// testUsagePlainConcurrent records batches of payloads without ids (how
// device states are written; PostgreSQL writes them in one statement) at
// once with batches that have ids, on the same rows in different orders:
// nothing may deadlock or fail, and every sum must come out exact.
func testUsagePlainConcurrent(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	a := createUser(t, st, fullUser("a@example.com"))
	o := createOrg(t, st, "Plain", a.ID)
	owners := []accountd.OwnerRef{userRef(a), orgRef(o)}
	hours := []time.Time{mar(1, 10, 0, 0, 0), mar(1, 11, 0, 0, 0), mar(2, 3, 0, 0, 0)}

	const workers, batches = 6, 8
	batch := func(g, n int) []accountd.UsageRecord {
		var recs []accountd.UsageRecord
		for _, owner := range owners {
			for _, h := range hours {
				id := ""
				if g%2 == 1 { // odd workers send ids, which takes the transaction
					id = fmt.Sprintf("g%d-b%d-%s-%d", g, n, owner.Type, h.Unix())
				}
				recs = append(recs, payload(id, owner, h.Add(time.Minute), "deviceState", "rest", 3, 7),
					payload("", owner, h.Add(2*time.Minute), "deviceState", "rest", 1, 1))
			}
		}
		rand.New(rand.NewPCG(uint64(g), uint64(n))).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		return recs
	}
	added := recordConcurrently(t, st, workers, batches, batch, mar(3, 0, 0, 0, 0))
	if want := workers * batches * len(owners) * len(hours) * 2; added != want {
		t.Errorf("RecordUsage added %d records in all, want %d", added, want)
	}
	// per owner and hour: 48 batches of (3, 7) and (1, 1)
	for _, owner := range owners {
		checkTotals(t, st, owner, mar(1, 0, 0, 0, 0), mar(2, 23, 0, 0, 0), "deviceState/rest 576/1152")
		checkTotals(t, st, owner, mar(1, 11, 0, 0, 0), mar(1, 11, 0, 0, 0), "deviceState/rest 192/384")
		checkSeries(t, st, owner, mar(1, 0, 0, 0, 0), mar(2, 23, 0, 0, 0), true, []string{"deviceState"},
			"2026-03-01T00:00Z 384/768", "2026-03-02T00:00Z 192/384")
		checkSeries(t, st, owner, mar(1, 10, 0, 0, 0), mar(1, 11, 0, 0, 0), false, []string{"deviceState"},
			"2026-03-01T10:00Z 192/384", "2026-03-01T11:00Z 192/384")
	}
	// a plain batch alone, and an empty one
	if n, err := st.RecordUsage(ctx, []accountd.UsageRecord{payload("", owners[0], mar(5, 1, 0, 0, 0), "deviceState", "rest", 2, 9)}, mar(5, 2, 0, 0, 0)); err != nil || n != 1 {
		t.Errorf("RecordUsage(one plain record) = %d, %v; want 1", n, err)
	}
	checkTotals(t, st, owners[0], mar(5, 0, 0, 0, 0), mar(5, 23, 0, 0, 0), "deviceState/rest 2/9")
	if n, err := st.RecordUsage(ctx, nil, mar(5, 2, 0, 0, 0)); err != nil || n != 0 {
		t.Errorf("RecordUsage(nil) = %d, %v", n, err)
	}
}

// recordConcurrently records batch(g, n) for every worker g and batch
// number n, the workers all at once, and returns how many records were
// added in all.
func recordConcurrently(t *testing.T, st accountd.Store, workers, batches int, batch func(g, n int) []accountd.UsageRecord, at time.Time) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		added int
		errs  []error
	)
	start := make(chan struct{})
	for g := range workers {
		wg.Go(func() {
			<-start
			for n := range batches {
				got, err := st.RecordUsage(t.Context(), batch(g, n), at)
				mu.Lock()
				added += got
				if err != nil {
					errs = append(errs, fmt.Errorf("worker %d batch %d: %w", g, n, err))
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("RecordUsage: %v", err)
	}
	return added
}
