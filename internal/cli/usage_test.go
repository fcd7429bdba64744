package cli

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/testenv"
)

// TestUsageCommands sends device states from the terminal and reads them
// back through every usage command.
func TestUsageCommands(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(time.Now().UTC().Truncate(time.Hour).Add(-30 * time.Minute))
	now := clock.Now()
	srv := testenv.Start(t, "sqlite", testenv.Options{Clock: clock.Now})
	srv.User(t, "meter@example.com")
	r := remote{t: t, env: []string{"ACCOUNTD_URL=" + srv.URL, "ACCOUNTD_CONFIG_DIR=" + t.TempDir()}}
	if code, _, errOut := r.run(testenv.Password+"\n", "login", "--email", "meter@example.com"); code != ExitOK {
		t.Fatalf("login = %d %s", code, errOut)
	}
	jsonOut := func(v any, args ...string) {
		t.Helper()
		code, out, errOut := r.run("", append(args, "-o", "json")...)
		if code != ExitOK {
			t.Fatalf("%v = %d %s", args, code, errOut)
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v printed %q: %v", args, out, err)
		}
	}
	var app, dev struct{ ID string }
	jsonOut(&app, "apps", "create", "--name", "Greenhouse")
	jsonOut(&dev, "devices", "create", app.ID, "--name", "sensor")
	if code, out, _ := r.run("", "devices", "list", app.ID); code != ExitOK || !strings.Contains(out, dev.ID) || !strings.Contains(out, "sensor") {
		t.Fatalf("devices list = %d %q", code, out)
	}

	// compact, with keys in the order the SDK writes them, so the bytes
	// the server counts are these lengths
	one := `{"data":{"temp":21.5}}`
	two := []string{`{"time":` + strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10) + `,"data":{"on":true}}`, `{"data":{"n":3},"flowVersion":"v1"}`}
	if code, out, errOut := r.run("", "devices", "send-state", app.ID, dev.ID, one); code != ExitOK || !strings.Contains(out, "Sent 1 state") {
		t.Fatalf("send-state = %d %q %q", code, out, errOut)
	}
	if code, out, errOut := r.run("[\n"+strings.Join(two, ",\n")+"\n]\n", "devices", "send-state", app.ID, dev.ID, "-"); code != ExitOK || !strings.Contains(out, "Sent 2 state") {
		t.Fatalf("send-state - = %d %q %q", code, out, errOut)
	}
	wantBytes := len(one) + len(two[0]) + len(two[1])

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown field", []string{"devices", "send-state", app.ID, dev.ID, `{"dat":{"a":1}}`}, ExitUsage, "unknown field"},
		{"not JSON", []string{"devices", "send-state", app.ID, dev.ID, `temp=3`}, ExitUsage, "state"},
		{"bad attribute", []string{"devices", "send-state", app.ID, dev.ID, `{"data":{"a b":1}}`}, ExitUsage, ""},
		{"unknown device", []string{"devices", "send-state", app.ID, "5f0000000000000000000000", one}, ExitNotFound, ""},
		{"malformed device id", []string{"devices", "send-state", app.ID, "nope", one}, ExitUsage, "deviceId"},
		{"start after end", []string{"usage", "breakdown", "--start", "2026-11-02", "--end", "2026-11-01"}, ExitUsage, "start: must not be after end"},
		{"hourly over 40000 hours", []string{"usage", "breakdown", "--hourly", "--start", "2020-01-01", "--end", "2026-03-01"}, ExitUsage, "at most 40000 entries"},
		{"bad time", []string{"usage", "payloads", "--start", "yesterday"}, ExitUsage, "not an RFC 3339 time"},
		{"bad output", []string{"usage", "devices", "-o", "xml"}, ExitUsage, "--output"},
		{"extra argument", []string{"usage", "notebooks", "x"}, ExitUsage, "unknown command"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := r.run("", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d with %q", code, errOut, tt.code, tt.want)
			}
		})
	}

	var stats map[string]map[string]float64
	jsonOut(&stats, "usage", "payloads")
	if len(stats) != 19 || len(stats["deviceState"]) != 1 || stats["deviceState"]["rest"] != 3 {
		t.Errorf("usage payloads -o json = %v, want 19 types with deviceState.rest 3", stats)
	}
	jsonOut(&stats, "usage", "payloads", "--bytes", "--start", strconv.FormatInt(now.Add(-time.Hour).UnixMilli(), 10), "--end", now.Format(time.RFC3339))
	if got := stats["deviceState"]["rest"]; got != float64(wantBytes) {
		t.Errorf("usage payloads --bytes: deviceState.rest = %v, want %d", got, wantBytes)
	}
	if code, out, _ := r.run("", "usage", "payloads"); code != ExitOK || !hasLine(out, "deviceState", "rest", "3") || !hasLine(out, "TOTAL", "3") {
		t.Errorf("usage payloads = %d %q", code, out)
	}
	if code, out, _ := r.run("", "usage", "payloads", "--bytes"); code != ExitOK || !hasLine(out, "TYPE", "SOURCE", "BYTES") || !hasLine(out, "TOTAL", strconv.Itoa(wantBytes)) {
		t.Errorf("usage payloads --bytes = %d %q", code, out)
	}

	hour := now.Truncate(time.Hour)
	var bd struct {
		Start, End time.Time
		Counts     []struct {
			Date  time.Time
			Value int64
		}
	}
	jsonOut(&bd, "usage", "breakdown", "--hourly", "--start", hour.Add(-time.Hour).Format(time.RFC3339), "--end", strconv.FormatInt(now.UnixMilli(), 10))
	if len(bd.Counts) != 2 || !bd.Counts[1].Date.Equal(hour) || bd.Counts[0].Value != 0 || bd.Counts[1].Value != 3 || !bd.End.Equal(hour.Add(time.Hour-time.Millisecond)) {
		t.Errorf("usage breakdown --hourly = %+v", bd)
	}
	today := now.Format(time.DateOnly)
	if code, out, _ := r.run("", "usage", "breakdown", "--non-billable"); code != ExitOK || !hasLine(out, today, "3") || !hasLine(out, "TOTAL", "3") {
		t.Errorf("usage breakdown = %d %q", code, out)
	}
	if code, out, _ := r.run("", "usage", "devices", "--start", today, "--end", today); code != ExitOK ||
		!hasLine(out, "DATE", "CREATED", "DELETED", "TOTAL") || !hasLine(out, today, "1", "0", "1") || !hasLine(out, "AT END", "1") {
		t.Errorf("usage devices = %d %q", code, out)
	}
	if code, out, _ := r.run("", "usage", "notebooks", "--start", today); code != ExitOK || hasLine(out, today, "0", "0", "0", "0", "0") || !hasLine(out, "TOTAL", "0") {
		t.Errorf("usage notebooks = %d %q; want no row for a day without runs", code, out)
	}
	if code, out, _ := r.run("", "usage", "notebooks", "--start", today, "--zeros"); code != ExitOK || !hasLine(out, today, "0", "0", "0", "0", "0") {
		t.Errorf("usage notebooks --zeros = %d %q", code, out)
	}
	// the hour before this one had nothing: a row only with --zeros
	prev := fmtTime(hour.Add(-time.Hour))
	args := []string{"usage", "breakdown", "--hourly", "--start", prev, "--end", strconv.FormatInt(now.UnixMilli(), 10)}
	if code, out, _ := r.run("", args...); code != ExitOK || hasLine(out, prev, "0") || !hasLine(out, fmtTime(hour), "3") {
		t.Errorf("usage breakdown --hourly = %d %q; want only the hour with payloads", code, out)
	}
	if code, out, _ := r.run("", append(args, "--zeros")...); code != ExitOK || !hasLine(out, prev, "0") {
		t.Errorf("usage breakdown --hourly --zeros = %d %q", code, out)
	}
	if code, out, _ := r.run("", "me"); code != ExitOK || strings.Contains(out, "payloadCount") {
		t.Errorf("me = %d %q", code, out)
	}
	code, out, _ := r.run("", "usage", "--help")
	for _, sub := range []string{"payloads", "breakdown", "devices", "notebooks"} {
		if code != ExitOK || !strings.Contains(out, sub) {
			t.Errorf("usage --help does not list %s: %q", sub, out)
		}
	}
}

// hasLine reports whether a line of out holds exactly these fields.
func hasLine(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(line), " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}

func TestParseTimeArg(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 23, 12, 0, 0, 250_000_000, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1795435200250", want, true},
		{"2026-11-23T12:00:00.25Z", want, true},
		{"2026-11-23T13:00:00.25+01:00", want, true},
		{"2026-11-23", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), true},
		{"0", time.UnixMilli(0).UTC(), true},
		{"now", time.Time{}, false},
		{"2026-13-01", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, err := parseTimeArg(tt.in)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseTimeArg(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
