package main

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

// doFunc makes one request on tr and returns how many units it carried (1
// for a plain request, the events recorded for an ingest batch), or why it
// failed: an *httpError for an answer that is not what was expected, any
// other error for a transport failure.
type doFunc func(ctx context.Context, tr *http.Transport) (units int64, err error)

// httpError is an answer the benchmark did not expect.
type httpError struct{ msg string }

func (e *httpError) Error() string { return e.msg }

// loadSpec is one closed-loop measurement: conns keep-alive connections,
// each driven by one goroutine with one request in flight, for warmup and
// then measure.
type loadSpec struct {
	conns   int
	warmup  time.Duration
	measure time.Duration
}

// loadResult is what the measurement window saw.
type loadResult struct {
	reqs        int             // successful requests started within the window
	units       int64           // units those carried
	errors      int             // failures within the window
	warmErrs    int             // failures during warm-up
	samples     []string        // the first few failures
	latencies   []time.Duration // of the successful requests, ascending
	elapsed     time.Duration   // length of the window
	dials       int64           // connections opened, warm-up included
	failedDials int64
	cpu         cpuUsage // CPU used by the processes watched, in the window
}

func (r loadResult) rps() float64 { return float64(r.reqs) / r.elapsed.Seconds() }
func (r loadResult) ups() float64 { return float64(r.units) / r.elapsed.Seconds() }
func (r loadResult) failures() int {
	return r.errors + r.warmErrs
}

const maxSamples = 5

// newTransport is a keep-alive transport for at most conns connections to
// one host, counting the connections it opens.
func newTransport(conns int, dials, failedDials *atomic.Int64) *http.Transport {
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

// drive runs one closed-loop measurement, as bench/mebench does: requests
// that start in [t0, t1) count; those started during warm-up only warm up
// (their failures are still reported). Each goroutine stops issuing at t1.
func drive(ctx context.Context, spec loadSpec, newDo func(worker int) doFunc, cpuSample func() cpuUsage) (loadResult, error) {
	var dials, failedDials atomic.Int64
	tr := newTransport(spec.conns, &dials, &failedDials)
	defer tr.CloseIdleConnections()

	begin := time.Now()
	t0 := begin.Add(spec.warmup)
	t1 := t0.Add(spec.measure)
	rctx, cancel := context.WithDeadline(ctx, t1.Add(60*time.Second))
	defer cancel()

	type worker struct {
		lat              []time.Duration
		units            int64
		errors, warmErrs int
		samples          []string
	}
	workers := make([]*worker, spec.conns)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{lat: make([]time.Duration, 0, 1<<12)}
		workers[i] = w
		do := newDo(i)
		wg.Go(func() {
			for rctx.Err() == nil {
				start := time.Now()
				if !start.Before(t1) {
					return
				}
				n, err := do(rctx, tr)
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
					if len(w.samples) < maxSamples {
						w.samples = append(w.samples, err.Error())
					}
					if _, ok := errors.AsType[*httpError](err); !ok {
						// A transport failure (server gone?) would otherwise spin.
						time.Sleep(10 * time.Millisecond)
					}
				}
			}
		})
	}

	var cpu0, cpu1 cpuUsage
	select {
	case <-time.After(time.Until(t0)):
	case <-ctx.Done():
	}
	if cpuSample != nil {
		cpu0 = cpuSample()
	}
	select {
	case <-time.After(time.Until(t1)):
	case <-ctx.Done():
	}
	if cpuSample != nil {
		cpu1 = cpuSample()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return loadResult{}, err
	}

	res := loadResult{elapsed: t1.Sub(t0), dials: dials.Load(), failedDials: failedDials.Load(), cpu: cpu1.sub(cpu0)}
	for _, w := range workers {
		res.latencies = append(res.latencies, w.lat...)
		res.units += w.units
		res.errors += w.errors
		res.warmErrs += w.warmErrs
		for _, s := range w.samples {
			if len(res.samples) < maxSamples {
				res.samples = append(res.samples, s)
			}
		}
	}
	slices.Sort(res.latencies)
	res.reqs = len(res.latencies)
	return res, nil
}

// getDo is a doFunc for GET url with a reused request.
func getDo(ctx context.Context, url string, header http.Header) (doFunc, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header = header.Clone()
	return func(_ context.Context, tr *http.Transport) (int64, error) {
		return 1, roundTrip(tr, req, nil)
	}, nil
}

// roundTrip sends req and wants a 200; the body is decoded into out when
// out is not nil, discarded otherwise.
func roundTrip(tr *http.Transport, req *http.Request, out func([]byte) error) error {
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		io.Copy(io.Discard, resp.Body)
		return &httpError{fmt.Sprintf("%s: %q", resp.Status, body)}
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
		return &httpError{err.Error()}
	}
	return nil
}
