package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

// seedPlan is the one-year history: for every hour of the seeded days, for
// every application, one event of each seed type with count payloads.
// Events go out oldest hour first.
type seedPlan struct {
	apps  []string
	hours int       // hours seeded, ending with the current one
	first time.Time // start of the oldest seeded hour
	now   time.Time // no event is later than this
	count int64
	batch int
	run   string
}

func newSeedPlan(apps []string, days, count, batch int, run string, now time.Time) seedPlan {
	hours := days * 24
	cur := now.UTC().Truncate(time.Hour)
	return seedPlan{apps: apps, hours: hours, first: cur.Add(-time.Duration(hours-1) * time.Hour), now: now,
		count: int64(count), batch: batch, run: run}
}

func (p seedPlan) perHour() int64 { return int64(len(p.apps) * len(seedTypes)) }
func (p seedPlan) events() int64  { return int64(p.hours) * p.perHour() }
func (p seedPlan) payloads() int64 {
	return p.events() * p.count
}
func (p seedPlan) batches() int { return int((p.events() + int64(p.batch) - 1) / int64(p.batch)) }

// hour is the start of seeded hour h (0 = oldest).
func (p seedPlan) hour(h int) time.Time { return p.first.Add(time.Duration(h) * time.Hour) }

// expected is what the seed adds to payloadCounts.
func (p seedPlan) expected() tally {
	t := tally{}
	for _, typ := range seedTypes {
		t[typeSource{typ, seedSource}] = int64(p.hours) * int64(len(p.apps)) * p.count
	}
	return t
}

// payloadsSince is how many seeded payloads lie in hours starting at or
// after t.
func (p seedPlan) payloadsSince(t time.Time) int64 {
	h := 0
	if t.After(p.first) {
		h = int((t.Sub(p.first) + time.Hour - 1) / time.Hour)
	}
	if h >= p.hours {
		return 0
	}
	return int64(p.hours-h) * p.perHour() * p.count
}

// body is batch b's request body and its event count.
func (p seedPlan) body(b int) ([]byte, int) {
	lo := int64(b) * int64(p.batch)
	hi := min(lo+int64(p.batch), p.events())
	buf := make([]byte, 0, (hi-lo)*180+16)
	buf = append(buf, `{"events":[`...)
	prefix := "s" + p.run + "-"
	nowMs := p.now.UnixMilli()
	for i := lo; i < hi; i++ {
		if i > lo {
			buf = append(buf, ',')
		}
		h := int(i / p.perHour())
		r := i % p.perHour()
		app := p.apps[r/int64(len(seedTypes))]
		typ := seedTypes[r%int64(len(seedTypes))]
		// Somewhere in the hour, never after now.
		at := min(p.hour(h).UnixMilli()+(i*7919)%3_600_000, nowMs)
		buf = appendEvent(buf, prefix, i, at, app, typ, seedSource, p.count, 0)
	}
	buf = append(buf, "]}"...)
	return buf, int(hi - lo)
}

// seedResult is how the seeding went.
type seedResult struct {
	events, payloads int64
	batches          int
	retries          int
	elapsed          time.Duration
	cpu              benchkit.CPUUsage
}

// seed posts the plan's batches from conns connections, retrying a batch
// at most twice on a transport error or a 5xx (ids make a retry safe),
// and prints progress to stderr.
func seed(ctx context.Context, p seedPlan, url, key string, conns int, label string, cpuSample func() benchkit.CPUUsage) (seedResult, error) {
	var dials, failedDials atomic.Int64
	tr := benchkit.NewTransport(conns, &dials, &failedDials)
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var next, doneBatches atomic.Int64
	var doneEvents, retries atomic.Int64
	total := p.batches()
	start := time.Now()
	var cpu0 benchkit.CPUUsage
	if cpuSample != nil {
		cpu0 = cpuSample()
	}
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				b := int(next.Add(1) - 1)
				if b >= total {
					return
				}
				body, n := p.body(b)
				err := seedBatch(ctx, tr, url, key, body, n, &retries)
				if err != nil {
					cancel(fmt.Errorf("seeding batch %d of %d: %w", b+1, total, err))
					return
				}
				doneBatches.Add(1)
				doneEvents.Add(int64(n))
			}
		})
	}
	stopProgress := make(chan struct{})
	var pwg sync.WaitGroup
	pwg.Go(func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				e := doneEvents.Load()
				el := time.Since(start)
				rate := float64(e) / el.Seconds()
				eta := "?"
				if rate > 0 {
					eta = (time.Duration(float64(p.events()-e)/rate) * time.Second).Round(time.Second).String()
				}
				progress("%s: seeded %d/%d batches, %d/%d events (%d payloads) in %v: %.0f events/s, %.0f payloads/s, ETA %s",
					label, doneBatches.Load(), total, e, p.events(), e*p.count, el.Round(time.Second), rate, rate*float64(p.count), eta)
			}
		}
	})
	wg.Wait()
	close(stopProgress)
	pwg.Wait()
	res := seedResult{events: doneEvents.Load(), batches: int(doneBatches.Load()), retries: int(retries.Load()), elapsed: time.Since(start)}
	res.payloads = res.events * p.count
	if cpuSample != nil {
		res.cpu = cpuSample().Sub(cpu0)
	}
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	return res, nil
}

func seedBatch(ctx context.Context, tr *http.Transport, url, key string, body []byte, n int, retries *atomic.Int64) error {
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			retries.Add(1)
			progress("  retrying a seed batch after: %v", last)
			select {
			case <-time.After(time.Duration(attempt) * 2 * time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		req, err := http.NewRequestWithContext(rctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			cancel()
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		err = benchkit.RoundTrip(tr, req, func(raw []byte) error {
			a, err := parseIngestAnswer(raw, n)
			if err != nil {
				return err
			}
			// Only a retry may meet ids the server has already recorded.
			if attempt == 0 && *a.Recorded != int64(n) {
				return fmt.Errorf("fresh ids, yet only %d of %d events recorded", *a.Recorded, n)
			}
			return nil
		})
		cancel()
		if err == nil {
			return nil
		}
		last = err
		if he, ok := errors.AsType[*benchkit.HTTPError](err); ok && he.Status/100 != 5 {
			// 5xx may be passing; anything else will not get better.
			return err
		}
		if ctx.Err() != nil {
			return err
		}
	}
	return last
}
