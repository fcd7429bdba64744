package benchkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DoFunc makes one request on tr and returns how many units it carried (1
// for a plain request, the events recorded for an ingest batch), or why it
// failed: an *HTTPError for an answer that is not what was expected, any
// other error for a transport failure.
type DoFunc func(ctx context.Context, tr *http.Transport) (units int64, err error)

// NewDoFunc makes the DoFunc of one load goroutine, worker w; ctx bounds
// every request of the run.
type NewDoFunc func(ctx context.Context, w int) (DoFunc, error)

// HTTPError is an answer the benchmark did not expect.
type HTTPError struct {
	Status int // the answer's status code; 0 when its body was not as expected
	Msg    string
}

func (e *HTTPError) Error() string { return e.Msg }

// LoadSpec is one measurement: Conns keep-alive connections, each driven
// by one goroutine with one request in flight, for Warmup and then
// Measure.
type LoadSpec struct {
	Conns int
	// Rate, when positive, paces the load to that many requests a second
	// in all (open loop): latency is then measured from each request's
	// scheduled start, so a slow answer also counts the wait it caused.
	Rate    float64
	Warmup  time.Duration
	Measure time.Duration
	// Grace is how long a request may run past the end of the window
	// before it is cut off and counted as failed; 0 means 10 seconds.
	Grace time.Duration
	// OnMeasure, when set, is called as the measurement window opens and
	// closes (true, then false); a profiler hooks in here.
	OnMeasure func(start bool)
}

// LoadResult is what the measurement window saw.
type LoadResult struct {
	Reqs      int             // successful requests started within the window
	Units     int64           // units those carried
	Errors    int             // failures within the window
	WarmErrs  int             // failures during warm-up
	Samples   []string        // the first few failures, for the report
	Latencies []time.Duration // of the successful requests, ascending
	Elapsed   time.Duration   // length of the window
	Dials     int64           // connections opened, warm-up included
	// FailedDials are connection attempts that failed; the transport tries
	// again for the next request, so they need not fail a request.
	FailedDials int64
	CPU         CPUUsage // CPU used by the processes watched, in the window
}

// RPS is successful requests a second.
func (r LoadResult) RPS() float64 { return float64(r.Reqs) / r.Elapsed.Seconds() }

// UPS is units a second, carried by the successful requests.
func (r LoadResult) UPS() float64 { return float64(r.Units) / r.Elapsed.Seconds() }

// Failures counts the failed requests, warm-up included.
func (r LoadResult) Failures() int { return r.Errors + r.WarmErrs }

// MaxSamples is how many failure messages a measurement keeps.
const MaxSamples = 5

// NewTransport is a keep-alive transport for at most conns connections to
// one host, counting the connections it opens.
func NewTransport(conns int, dials, failedDials *atomic.Int64) *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: -1}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				failedDials.Add(1)
			} else {
				dials.Add(1)
			}
			return c, err
		},
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
}

// worker state is per goroutine, so recording takes no lock.
type worker struct {
	lat      []time.Duration
	units    int64
	errors   int
	warmErrs int
	samples  []string
}

// Drive runs one measurement, each goroutine's requests made by the
// DoFunc newDo gives it. Requests that start in [t0, t1) count; those
// started during warm-up only open connections and warm caches (their
// failures are still reported). Each goroutine stops issuing at t1, so the
// run ends by itself within t1 plus one request. cpuSample, when set, is
// read as the window opens and closes.
func Drive(ctx context.Context, spec LoadSpec, newDo NewDoFunc, cpuSample func() CPUUsage) (LoadResult, error) {
	var dials, failedDials atomic.Int64
	tr := NewTransport(spec.Conns, &dials, &failedDials)
	defer tr.CloseIdleConnections()

	begin := time.Now()
	t0 := begin.Add(spec.Warmup)
	t1 := t0.Add(spec.Measure)
	grace := spec.Grace
	if grace == 0 {
		grace = 10 * time.Second
	}
	// One context bounds every request: no per-request timer, and nothing
	// can hang past the end of the run.
	rctx, cancel := context.WithDeadline(ctx, t1.Add(grace))
	defer cancel()

	dos := make([]DoFunc, spec.Conns)
	for i := range dos {
		var err error
		if dos[i], err = newDo(rctx, i); err != nil {
			return LoadResult{}, err
		}
	}
	var every time.Duration
	if spec.Rate > 0 {
		every = time.Duration(float64(spec.Conns) / spec.Rate * float64(time.Second))
	}
	workers := make([]*worker, spec.Conns)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{lat: make([]time.Duration, 0, 1<<14)}
		workers[i] = w
		// stagger the paced workers over one interval
		first := begin.Add(every * time.Duration(i) / time.Duration(spec.Conns))
		wg.Go(func() { w.run(rctx, tr, dos[i], t0, t1, first, every) })
	}

	// Open the window: CPU counters and the profiler start at t0.
	var cpu0 CPUUsage
	select {
	case <-time.After(time.Until(t0)):
	case <-ctx.Done():
	}
	if cpuSample != nil {
		cpu0 = cpuSample()
	}
	if spec.OnMeasure != nil {
		spec.OnMeasure(true)
	}
	select {
	case <-time.After(time.Until(t1)):
	case <-ctx.Done():
	}
	var cpu1 CPUUsage
	if cpuSample != nil {
		cpu1 = cpuSample()
	}
	if spec.OnMeasure != nil {
		spec.OnMeasure(false)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return LoadResult{}, err
	}

	res := LoadResult{Elapsed: t1.Sub(t0), Dials: dials.Load(), FailedDials: failedDials.Load(), CPU: cpu1.Sub(cpu0)}
	n := 0
	for _, w := range workers {
		n += len(w.lat)
	}
	res.Latencies = make([]time.Duration, 0, n)
	for _, w := range workers {
		res.Latencies = append(res.Latencies, w.lat...)
		res.Units += w.units
		res.Errors += w.errors
		res.WarmErrs += w.warmErrs
		for _, s := range w.samples {
			if len(res.Samples) < MaxSamples {
				res.Samples = append(res.Samples, s)
			}
		}
	}
	slices.Sort(res.Latencies)
	res.Reqs = len(res.Latencies)
	return res, nil
}

func (w *worker) run(ctx context.Context, tr *http.Transport, do DoFunc, t0, t1, next time.Time, every time.Duration) {
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
		n, err := do(ctx, tr)
		end := time.Now()
		inWindow := !start.Before(t0)
		switch {
		case err == nil && inWindow:
			w.lat = append(w.lat, end.Sub(start))
			w.units += n
		case err == nil:
		case inWindow:
			w.errors++
		default:
			w.warmErrs++
		}
		if err != nil {
			if len(w.samples) < MaxSamples {
				w.samples = append(w.samples, err.Error())
			}
			if _, ok := errors.AsType[*HTTPError](err); !ok {
				// A transport failure (server gone?) would otherwise spin.
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}

// Get is a NewDoFunc for GET url with header: one reused request per
// goroutine, its body discarded.
func Get(url string, header http.Header) NewDoFunc {
	return func(ctx context.Context, _ int) (DoFunc, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header = header.Clone()
		return func(_ context.Context, tr *http.Transport) (int64, error) {
			return 1, RoundTrip(tr, req, nil)
		}, nil
	}
}

// RoundTrip sends req and wants a 200; the body is handed to out when out
// is not nil (an error out returns is an *HTTPError), discarded otherwise.
func RoundTrip(tr *http.Transport, req *http.Request, out func([]byte) error) error {
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		io.Copy(io.Discard, resp.Body)
		return &HTTPError{resp.StatusCode, fmt.Sprintf("%s: %q", resp.Status, body)}
	}
	if out == nil {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return fmt.Errorf("reading body: %w", err)
		}
		return nil
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if err := out(raw); err != nil {
		return &HTTPError{Msg: err.Error()}
	}
	return nil
}
