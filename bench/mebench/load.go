package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec is one measurement: GET url with the given header, from conns
// keep-alive connections, each driven by one goroutine with one request in
// flight, for warmup and then measure.
type loadSpec struct {
	url    string
	header http.Header
	conns  int
	// rate, when positive, paces the load to that many requests a second
	// in all (open loop): latency is then measured from each request's
	// scheduled start, so a slow answer also counts the wait it caused.
	rate    float64
	warmup  time.Duration
	measure time.Duration
	// onMeasure, when set, is called as the measurement window opens and
	// closes (true, then false); the profiler hooks in here.
	onMeasure func(start bool)
}

// loadResult is what the measurement window saw.
type loadResult struct {
	ok        int             // 200 answers started within the window
	errors    int             // anything else within the window
	warmErrs  int             // failures during warm-up
	samples   []string        // the first few failures, for the report
	latencies []time.Duration // of the 200s, ascending
	elapsed   time.Duration   // length of the window
	dials     int64           // connections opened, warm-up included
	// failedDials are connection attempts that failed; the transport tries
	// again for the next request, so they need not fail a request.
	failedDials int64
	cpu         cpuUsage // CPU used by the processes watched, in the window
}

func (r loadResult) rps() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// worker state is per goroutine, so recording takes no lock.
type worker struct {
	lat      []time.Duration
	errors   int
	warmErrs int
	samples  []string
}

const maxSamples = 5

// drive runs one measurement. Requests that start in [t0, t1) count; those
// started during warm-up only open connections and warm caches (their
// failures are still reported). Each goroutine stops issuing at t1, so the
// run ends by itself within t1 plus one request.
func drive(ctx context.Context, spec loadSpec, cpuSample func() cpuUsage) (loadResult, error) {
	var dials, failedDials atomic.Int64
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: -1}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				failedDials.Add(1)
			} else {
				dials.Add(1)
			}
			return c, err
		},
		MaxIdleConns:        spec.conns,
		MaxIdleConnsPerHost: spec.conns,
		MaxConnsPerHost:     spec.conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	defer tr.CloseIdleConnections()

	begin := time.Now()
	t0 := begin.Add(spec.warmup)
	t1 := t0.Add(spec.measure)
	// One context bounds every request: no per-request timer, and nothing
	// can hang past the end of the run.
	rctx, cancel := context.WithDeadline(ctx, t1.Add(10*time.Second))
	defer cancel()

	workers := make([]*worker, spec.conns)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{lat: make([]time.Duration, 0, 1<<14)}
		workers[i] = w
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, spec.url, nil)
		if err != nil {
			return loadResult{}, err
		}
		req.Header = spec.header.Clone()
		var every time.Duration
		if spec.rate > 0 {
			every = time.Duration(float64(spec.conns) / spec.rate * float64(time.Second))
		}
		// stagger the paced workers over one interval
		first := begin.Add(every * time.Duration(i) / time.Duration(spec.conns))
		wg.Go(func() { w.run(rctx, tr, req, t0, t1, first, every) })
	}

	// Open the window: CPU counters and the profiler start at t0.
	var cpu0 cpuUsage
	select {
	case <-time.After(time.Until(t0)):
	case <-ctx.Done():
	}
	if cpuSample != nil {
		cpu0 = cpuSample()
	}
	if spec.onMeasure != nil {
		spec.onMeasure(true)
	}
	select {
	case <-time.After(time.Until(t1)):
	case <-ctx.Done():
	}
	var cpu1 cpuUsage
	if cpuSample != nil {
		cpu1 = cpuSample()
	}
	if spec.onMeasure != nil {
		spec.onMeasure(false)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return loadResult{}, err
	}

	res := loadResult{elapsed: t1.Sub(t0), dials: dials.Load(), failedDials: failedDials.Load(), cpu: cpu1.sub(cpu0)}
	n := 0
	for _, w := range workers {
		n += len(w.lat)
	}
	res.latencies = make([]time.Duration, 0, n)
	for _, w := range workers {
		res.latencies = append(res.latencies, w.lat...)
		res.errors += w.errors
		res.warmErrs += w.warmErrs
		for _, s := range w.samples {
			if len(res.samples) < maxSamples {
				res.samples = append(res.samples, s)
			}
		}
	}
	slices.Sort(res.latencies)
	res.ok = len(res.latencies)
	return res, nil
}

func (w *worker) run(ctx context.Context, tr *http.Transport, req *http.Request, t0, t1, next time.Time, every time.Duration) {
	for ctx.Err() == nil {
		start := time.Now()
		if every > 0 {
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			start, next = next, next.Add(every)
		}
		if !start.Before(t1) {
			return
		}
		failure := ""
		resp, err := tr.RoundTrip(req)
		if err != nil {
			failure = err.Error()
		} else {
			if resp.StatusCode != http.StatusOK {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
				failure = fmt.Sprintf("%s: %q", resp.Status, body)
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil && failure == "" {
				failure = "reading body: " + err.Error()
			}
		}
		end := time.Now()
		inWindow := !start.Before(t0)
		switch {
		case failure == "" && inWindow:
			w.lat = append(w.lat, end.Sub(start))
		case failure == "":
		case inWindow:
			w.errors++
		default:
			w.warmErrs++
		}
		if failure != "" {
			if len(w.samples) < maxSamples {
				w.samples = append(w.samples, failure)
			}
			if err != nil {
				// A transport failure (server gone?) would otherwise spin.
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}
