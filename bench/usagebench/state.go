package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

// The device-state phase runs as a user of its own, so that the
// deviceState/rest payloads the ingest phase records for the main user
// cannot blur its read-back check.
const (
	stateEmail    = "usagebench-state@example.com"
	statePassword = "Bench-Passw0rd!"
)

// stateBody is the one state each POST .../state carries.
var stateBody = []byte(`{"data":{"temp":21.5,"on":true}}`)

// stateResult is what the device-state phase measured and checked.
type stateResult struct {
	hello   *benchkit.LoadResult // hello-world GET / just before
	load    *benchkit.LoadResult
	answers int64  // 200 answers, warm-up and measured window alike
	check   string // the read-back check, for the report
	devices int
}

// createApps creates n applications named prefix NNN over the API and
// returns their ids.
func createApps(ctx context.Context, addr, token string, n int, prefix string) ([]string, error) {
	apps := make([]string, n)
	for i := range apps {
		body := fmt.Appendf(nil, `{"name":"%s %03d"}`, prefix, i+1)
		var out struct {
			ApplicationID string `json:"applicationId"`
			ID            string `json:"id"`
		}
		if err := benchkit.Call(ctx, http.MethodPost, "http://"+addr+"/applications", token, body, &out); err != nil {
			return nil, fmt.Errorf("POST /applications: %w", err)
		}
		apps[i] = out.ApplicationID
		if apps[i] == "" {
			apps[i] = out.ID
		}
		if len(apps[i]) != 24 {
			return nil, fmt.Errorf("POST /applications: no 24-character applicationId in the answer (%q)", apps[i])
		}
	}
	return apps, nil
}

// createDevices creates one device in each application and returns the
// path of each one's state endpoint.
func createDevices(ctx context.Context, addr, token string, apps []string) ([]string, error) {
	paths := make([]string, len(apps))
	for i, app := range apps {
		var out struct {
			DeviceID string `json:"deviceId"`
			ID       string `json:"id"`
		}
		u := "http://" + addr + "/applications/" + app + "/devices"
		if err := benchkit.Call(ctx, http.MethodPost, u, token, []byte(`{"name":"d"}`), &out); err != nil {
			return nil, fmt.Errorf("POST /applications/%s/devices: %w", app, err)
		}
		id := out.DeviceID
		if id == "" {
			id = out.ID
		}
		if len(id) != 24 {
			return nil, fmt.Errorf("POST /applications/%s/devices: no 24-character deviceId in the answer (%q)", app, id)
		}
		paths[i] = u + "/" + id + "/state"
	}
	return paths, nil
}

// stateLoad drives POST .../state, one state a request, round-robin over
// the devices, and counts every 200 answer.
type stateLoad struct {
	urls    []string
	token   string
	next    atomic.Int64
	answers atomic.Int64
}

func (s *stateLoad) worker(_ context.Context, _ int) (benchkit.DoFunc, error) {
	auth := "Bearer " + s.token
	return func(ctx context.Context, tr *http.Transport) (int64, error) {
		u := s.urls[int((s.next.Add(1)-1)%int64(len(s.urls)))]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(stateBody))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		err = benchkit.RoundTrip(tr, req, func(raw []byte) error {
			s.answers.Add(1) // a 200: the state was counted
			if !bytes.Contains(raw, []byte(`"success":true`)) {
				return fmt.Errorf("answer %q is not success", trunc(raw))
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		return 1, nil
	}, nil
}

// checkStateCounts reads GET /me/payloadCounts from an hour before the
// phase began to now and wants deviceState/rest equal to the 200 answers
// sent, and nothing else recorded for the phase's user.
func checkStateCounts(ctx context.Context, addr, token string, began time.Time, answers int64) (string, error) {
	start, end := began.Add(-time.Hour), time.Now()
	var stats map[string]map[string]int64
	if err := benchkit.Call(ctx, http.MethodGet, countsURL(addr, start, end), token, nil, &stats); err != nil {
		return "", fmt.Errorf("GET /me/payloadCounts: %w", err)
	}
	got := stats["deviceState"]["rest"]
	var others []string
	for typ, bySource := range stats {
		for src, n := range bySource {
			if n != 0 && (typ != "deviceState" || src != "rest") {
				others = append(others, fmt.Sprintf("%s/%s %d", typ, src, n))
			}
		}
	}
	sort.Strings(others)
	if got != answers || len(others) > 0 {
		return "", fmt.Errorf("device state: GET /me/payloadCounts (%s to now) says deviceState/rest %d, but %d states were answered 200; other counts: %v",
			start.UTC().Format("2006-01-02T15:04Z"), got, answers, others)
	}
	return fmt.Sprintf("`GET /me/payloadCounts` for the device-state user (%s to now): deviceState/rest = %d, exactly the 200 answers of warm-up and measured window; no other type or source recorded",
		start.UTC().Format("2006-01-02T15:04:05Z"), got), nil
}

// runState is the device-state phase: a hello-world baseline from the
// same connections, then POST .../state from the device-state user, then
// the read-back check. The user must exist (verified) before the server
// starts.
func runState(ctx context.Context, cfg config, backend string, srv, hello *benchkit.Server,
	cpu, helloCPU func() benchkit.CPUUsage) (*stateResult, error) {
	token, err := benchkit.Login(ctx, srv.Addr, stateEmail, statePassword)
	if err != nil {
		return nil, err
	}
	apps, err := createApps(ctx, srv.Addr, token, cfg.seedApps, "usagebench state app")
	if err != nil {
		return nil, err
	}
	urls, err := createDevices(ctx, srv.Addr, token, apps)
	if err != nil {
		return nil, err
	}
	st := &stateResult{devices: len(urls)}
	progress("%s: device-state user logged in, %d applications with one device each created", backend, len(urls))

	spec := benchkit.LoadSpec{Conns: cfg.conns, Warmup: cfg.warmup, Measure: cfg.duration, Grace: time.Minute}
	progress("%s: hello-world GET / (state baseline), %d connections, %v warm-up + %v", backend, cfg.conns, cfg.warmup, cfg.duration)
	h, err := benchkit.Drive(ctx, spec, benchkit.Get("http://"+hello.Addr+"/", http.Header{}), helloCPU)
	if err != nil {
		return st, err
	}
	st.hello = &h
	progress("  %.0f req/s, p50 %s, %d errors", h.RPS(), benchkit.Millis(benchkit.Percentile(h.Latencies, 50)), h.Failures())
	time.Sleep(500 * time.Millisecond)

	load := &stateLoad{urls: urls, token: token}
	progress("%s: POST /applications/{id}/devices/{id}/state, one state a request over %d devices, %d connections, %v warm-up + %v",
		backend, len(urls), cfg.conns, cfg.warmup, cfg.duration)
	began := time.Now()
	r, err := benchkit.Drive(ctx, spec, load.worker, cpu)
	if err != nil {
		return st, err
	}
	st.load = &r
	st.answers = load.answers.Load()
	progress("  %.0f req/s, p50 %s, p99 %s, %d errors, %d answered 200 in all", r.RPS(),
		benchkit.Millis(benchkit.Percentile(r.Latencies, 50)), benchkit.Millis(benchkit.Percentile(r.Latencies, 99)), r.Failures(), st.answers)
	for _, s := range r.Samples {
		progress("  failure: %s", s)
	}
	if !srv.Alive() {
		return st, fmt.Errorf("accountd exited: %v\n%s", srv.ExitErr(), srv.LogTail())
	}
	st.check, err = checkStateCounts(ctx, srv.Addr, token, began, st.answers)
	if err != nil {
		return st, err
	}
	progress("%s: checked: %s", backend, st.check)
	return st, nil
}

// failures lists the phase's failure samples for the report.
func (st *stateResult) failures() []string {
	var out []string
	for _, x := range []struct {
		what string
		l    *benchkit.LoadResult
	}{{"state hello-world", st.hello}, {"device state", st.load}} {
		if x.l == nil {
			continue
		}
		for _, s := range x.l.Samples {
			out = append(out, x.what+": "+strings.ReplaceAll(s, "\n", " "))
		}
	}
	return out
}
