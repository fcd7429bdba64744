package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

const (
	day  = 24 * time.Hour
	year = 365 * day
)

// breakdown is GET /me/payloadCountsBreakdown's answer.
type breakdown struct {
	Start  string `json:"start"`
	End    string `json:"end"`
	Counts []struct {
		Date  string `json:"date"`
		Value int64  `json:"value"`
	} `json:"counts"`
}

func breakdownURL(addr string, start, end time.Time, res time.Duration) string {
	u := fmt.Sprintf("http://%s/me/payloadCountsBreakdown?start=%d&end=%d", addr, start.UnixMilli(), end.UnixMilli())
	if res != day {
		u += fmt.Sprintf("&resolution=%d", res.Milliseconds())
	}
	return u
}

func countsURL(addr string, start, end time.Time) string {
	return fmt.Sprintf("http://%s/me/payloadCounts?start=%d&end=%d", addr, start.UnixMilli(), end.UnixMilli())
}

// verify checks that what was seeded and ingested reads back exactly:
// payloadCounts by type and source over the seeded hours, the daily
// breakdown over the same range, and the hourly breakdown over the last
// 31 days. ingestExact says whether every ingest batch had a clear
// answer (if not, only the seed's counts must match). It returns what it
// checked, for the report.
func verify(ctx context.Context, addr, token string, p seedPlan, ingested tally, ingestExact bool) ([]string, error) {
	var notes []string
	now := time.Now()
	want := tally{}
	want.add(p.expected())
	want.add(ingested)

	// payloadCounts over the seeded hours.
	var stats map[string]map[string]int64
	if err := benchkit.Call(ctx, http.MethodGet, countsURL(addr, p.first, now), token, nil, &stats); err != nil {
		return notes, fmt.Errorf("GET /me/payloadCounts: %w", err)
	}
	var missing []string
	for _, typ := range allPayloadTypes {
		if _, ok := stats[typ]; !ok {
			missing = append(missing, typ)
		}
	}
	if len(missing) > 0 || len(stats) != len(allPayloadTypes) {
		return notes, fmt.Errorf("GET /me/payloadCounts: %d type keys, missing %v", len(stats), missing)
	}
	got := tally{}
	for typ, bySource := range stats {
		for src, n := range bySource {
			if n != 0 {
				got[typeSource{typ, src}] = n
			}
		}
	}
	var seedBad, ingestBad []string
	for _, k := range sortedKeys(got, want) {
		if got[k] == want[k] {
			continue
		}
		msg := fmt.Sprintf("%s/%s: got %d, want %d", k.typ, k.source, got[k], want[k])
		if k.source == seedSource {
			seedBad = append(seedBad, msg)
		} else {
			ingestBad = append(ingestBad, msg)
		}
	}
	if len(seedBad) > 0 || (ingestExact && len(ingestBad) > 0) {
		return notes, fmt.Errorf("GET /me/payloadCounts over the seeded year does not match what was recorded: %s",
			strings.Join(append(seedBad, ingestBad...), "; "))
	}
	notes = append(notes, fmt.Sprintf("`GET /me/payloadCounts` over the %d seeded hours (%s): %d payloads in all, equal by type and source to the %d seeded and %d ingested",
		p.hours, p.first.Format("2006-01-02T15:04Z")+" to now", got.total(false), p.expected().total(false), ingested.total(false)))
	if len(ingestBad) > 0 {
		notes = append(notes, "ingest counts could not be checked (some ingest batches had no clear answer): "+strings.Join(ingestBad, "; "))
	}

	// Daily breakdown over the same range, and hourly over 31 days.
	for _, q := range []struct {
		start time.Time
		res   time.Duration
		want  int64
	}{
		{p.first, day, want.total(true)},
		{now.Add(-31 * day), time.Hour, p.payloadsSince(now.Add(-31*day).UTC().Truncate(time.Hour)) + ingested.total(true)},
	} {
		var b breakdown
		u := breakdownURL(addr, q.start, now, q.res)
		if err := benchkit.Call(ctx, http.MethodGet, u, token, nil, &b); err != nil {
			return notes, fmt.Errorf("GET %s: %w", u, err)
		}
		first, last := q.start.UTC().Truncate(q.res), now.UTC().Truncate(q.res)
		buckets := int(last.Sub(first)/q.res) + 1
		if len(b.Counts) != buckets {
			return notes, fmt.Errorf("GET %s: %d buckets, want %d", u, len(b.Counts), buckets)
		}
		var sum int64
		for i, c := range b.Counts {
			at, err := time.Parse(time.RFC3339, c.Date)
			if err != nil || !at.Equal(first.Add(time.Duration(i)*q.res)) {
				return notes, fmt.Errorf("GET %s: bucket %d has date %q, want %s", u, i, c.Date, first.Add(time.Duration(i)*q.res).Format(time.RFC3339))
			}
			sum += c.Value
		}
		if !ingestExact && q.want != sum {
			notes = append(notes, fmt.Sprintf("breakdown sum %d, %d expected, not checked (ingest outcome unclear)", sum, q.want))
			continue
		}
		if sum != q.want {
			return notes, fmt.Errorf("GET %s: counts sum to %d, want %d (billable seeded + ingested)", u, sum, q.want)
		}
		what := "daily breakdown over the seeded hours"
		if q.res == time.Hour {
			what = "hourly breakdown over the last 31 days"
		}
		notes = append(notes, fmt.Sprintf("%s: %d buckets summing to %d billable payloads, as expected", what, buckets, sum))
	}
	return notes, nil
}

func sortedKeys(ts ...tally) []typeSource {
	var keys []typeSource
	for _, t := range ts {
		for k := range t {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.SortFunc(keys, func(a, b typeSource) int {
		return strings.Compare(a.typ+"/"+a.source, b.typ+"/"+b.source)
	})
	return keys
}

// seqResult is one request measured sequentially on one connection.
type seqResult struct {
	label     string
	latencies []time.Duration // ascending
	errors    int
	samples   []string
	cpu       benchkit.CPUUsage
	size      int // body bytes of the last answer
}

// sequential sends warm requests, then n measured ones, one at a time on
// one keep-alive connection; url is called for each request (queries end
// at "now"). check, when set, vets the first answer's body.
func sequential(ctx context.Context, label string, url func() string, header http.Header, warm, n int,
	check func([]byte) error, cpuSample func() benchkit.CPUUsage) (seqResult, error) {
	var dials, failedDials atomic.Int64
	tr := benchkit.NewTransport(1, &dials, &failedDials)
	defer tr.CloseIdleConnections()
	res := seqResult{label: label, latencies: make([]time.Duration, 0, n)}
	var cpu0 benchkit.CPUUsage
	for i := range warm + n {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if i == warm && cpuSample != nil {
			cpu0 = cpuSample()
		}
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, url(), nil)
		if err != nil {
			cancel()
			return res, err
		}
		req.Header = header
		var body []byte
		start := time.Now()
		err = benchkit.RoundTrip(tr, req, func(raw []byte) error { body = raw; return nil })
		d := time.Since(start)
		cancel()
		if err == nil && i == 0 && check != nil {
			err = check(body)
		}
		switch {
		case err != nil:
			res.errors++
			if len(res.samples) < benchkit.MaxSamples {
				res.samples = append(res.samples, err.Error())
			}
		case i >= warm:
			res.latencies = append(res.latencies, d)
			res.size = len(body)
		}
	}
	if cpuSample != nil {
		res.cpu = cpuSample().Sub(cpu0)
	}
	slices.Sort(res.latencies)
	return res, nil
}

// checkBuckets vets a breakdown answer's shape.
func checkBuckets(want int) func([]byte) error {
	return func(raw []byte) error {
		var b breakdown
		if err := json.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("breakdown answer: %v", err)
		}
		// The range may straddle a bucket boundary one way or the other.
		if len(b.Counts) < want-1 || len(b.Counts) > want+1 {
			return fmt.Errorf("breakdown answer has %d buckets, want about %d", len(b.Counts), want)
		}
		return nil
	}
}
