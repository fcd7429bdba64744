package main

// The login-flood mode (--login-flood N): another user's GET /me, paced,
// without and then during a flood of wrong-password logins from N
// connections, in the same run, with a legitimate user logging in now and
// then during the flood. The flood uses a fresh unknown email and a fresh
// X-Forwarded-For address (the server runs with --trust-forwarded-for) on
// every request, like a credential-stuffing botnet, so the throttle never
// stops it and every attempt that gets a hashing turn costs a full hash:
// what is left to protect GET /me is the bound on concurrent hashing.

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

// floodDefaultRate paces GET /me in flood mode when --rate is not given:
// a steady load well inside what one core serves, so that its p99 shows
// the wait the flood adds rather than the benchmark's own queueing.
const floodDefaultRate = 200

// floodTarget is the p99 ratio (flood over quiet) the issue asks for.
const floodTarget = 3.0

const legitEmail = "legit@example.com"

// statusCounts counts answers by status, from many goroutines.
type statusCounts struct {
	mu sync.Mutex
	m  map[int]int
}

func (s *statusCounts) add(status int) {
	s.mu.Lock()
	if s.m == nil {
		s.m = map[int]int{}
	}
	s.m[status]++
	s.mu.Unlock()
}

func (s *statusCounts) get(status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[status]
}

func (s *statusCounts) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(s.m)) {
		parts = append(parts, fmt.Sprintf("%d×%d", s.m[st], st))
	}
	return strings.Join(parts, ", ")
}

// loginDo is a NewDoFunc posting a login per request: body and header
// come from next, and the statuses in ok count as answered (others fail
// the request); answers to requests started in [t0, t1) are counted.
func loginDo(url string, ok []int, counts *statusCounts, t0, t1 time.Time, next func(w int, n uint64) (body string, xff string)) benchkit.NewDoFunc {
	return func(ctx context.Context, w int) (benchkit.DoFunc, error) {
		var n uint64
		return func(_ context.Context, tr *http.Transport) (int64, error) {
			n++
			body, xff := next(w, n)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
			if err != nil {
				return 0, err
			}
			req.Header.Set("Content-Type", "application/json")
			if xff != "" {
				req.Header.Set("X-Forwarded-For", xff)
			}
			start := time.Now()
			resp, err := tr.RoundTrip(req)
			if err != nil {
				return 0, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if !start.Before(t0) && start.Before(t1) {
				counts.add(resp.StatusCode)
			}
			if !slices.Contains(ok, resp.StatusCode) {
				return 0, &benchkit.HTTPError{Status: resp.StatusCode, Msg: "POST /auth/user: " + resp.Status}
			}
			return 1, nil
		}, nil
	}
}

type floodRow struct {
	round        int
	backend      string
	quiet, flood benchkit.LoadResult // GET /me
	attack       benchkit.LoadResult // the flood's logins
	attackCounts *statusCounts
	legit        benchkit.LoadResult // the legitimate user's logins
	legitCounts  *statusCounts
	// garbage collections a second during each run (accountd's metrics;
	// -1: not read)
	quietGC, floodGC float64
}

func (r floodRow) ratio() float64 {
	q := benchkit.Percentile(r.quiet.Latencies, 99)
	if q == 0 {
		return 0
	}
	return float64(benchkit.Percentile(r.flood.Latencies, 99)) / float64(q)
}

type floodReport struct {
	cfg     config
	rate    float64
	when    time.Time
	command string
	server  string
	rows    []floodRow
}

func runFlood(ctx context.Context, cfg config) (benchkit.Report, error) {
	tmp, err := os.MkdirTemp("", "mebench-flood-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	bin, err := benchkit.Binary(bctx, cfg.accountd, "./cmd/accountd", tmp, "accountd", progress)
	if err != nil {
		return nil, err
	}
	cancel()
	rate := cfg.rate
	if rate == 0 {
		rate = floodDefaultRate
	}
	perRun := 2*(cfg.warmup+cfg.duration) + 40*time.Second
	ctx, cancel = context.WithTimeout(ctx, 5*time.Minute+time.Duration(cfg.rounds*len(cfg.backends))*perRun)
	defer cancel()

	var f fleet
	defer f.close()

	type backendSrv struct {
		name    string
		srv     *benchkit.Server
		token   string
		metrics string
	}
	var backends []backendSrv
	for _, backend := range cfg.backends {
		key, err := benchkit.RunTool(ctx, bin, "keys", "generate")
		if err != nil {
			return nil, err
		}
		db := filepath.Join(tmp, "flood.db")
		if backend == "postgres" {
			_, dsn, drop, err := benchkit.PGDatabase(ctx, cfg.postgres, "accountd_bench_")
			if err != nil {
				return nil, err
			}
			f.drops = append(f.drops, drop)
			db = dsn
		}
		for _, email := range []string{benchEmail, legitEmail} {
			if _, err := benchkit.RunTool(ctx, bin, "user", "create", "--db", db,
				"--email", email, "--password", benchPassword, "--first-name", "Bench", "--verified"); err != nil {
				return nil, err
			}
		}
		addr, err := benchkit.FreePort()
		if err != nil {
			return nil, err
		}
		metricsAddr, err := benchkit.FreePort()
		if err != nil {
			return nil, err
		}
		args := []string{"serve", "--addr", addr, "--db", db, "--keys", key, "--trust-forwarded-for", "--metrics-addr", metricsAddr}
		if cfg.logLevel != "" {
			args = append(args, "--log-level", cfg.logLevel)
		}
		srv, err := benchkit.StartServer(ctx, backend, bin, args, benchkit.ChildEnv(), filepath.Join(tmp, backend+".log"), benchkit.Readyz(addr))
		if err != nil {
			return nil, err
		}
		f.servers = append(f.servers, srv)
		token, err := benchkit.Login(ctx, srv.Addr, benchEmail, benchPassword)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", backend, err)
		}
		if _, err := checkMe(ctx, srv.Addr, cfg.mePath, token, benchEmail); err != nil {
			return nil, fmt.Errorf("%s: %w", backend, err)
		}
		// The legitimate user has logged in from their address before.
		if err := legitLogin(ctx, srv.Addr); err != nil {
			return nil, fmt.Errorf("%s: %w", backend, err)
		}
		backends = append(backends, backendSrv{backend, srv, token, metricsAddr})
		progress("%s: accountd listening on %s (--trust-forwarded-for, default hashing bounds)", backend, srv.Addr)
	}

	rep := &floodReport{cfg: cfg, rate: rate, when: time.Now().UTC(), command: benchkit.CommandLine("mebench", os.Args[1:]),
		server: "accountd serve --trust-forwarded-for, hashing bounds at their defaults (--hash-concurrency = CPUs less one, --hash-queue 16 per hash, --hash-wait 2s), argon2id at its defaults (19 MiB, 2 passes)"}
	var seq atomic.Uint64
	for round := 1; round <= cfg.rounds; round++ {
		for _, b := range backends {
			if !b.srv.Alive() {
				return rep, fmt.Errorf("%s server exited: %v\n%s", b.name, b.srv.ExitErr(), b.srv.LogTail())
			}
			spec := benchkit.LoadSpec{Conns: cfg.conns, Rate: rate, Warmup: cfg.warmup, Measure: cfg.duration}
			pid := b.srv.Cmd.Process.Pid
			cpu := func() benchkit.CPUUsage {
				return benchkit.CPUUsage{Server: benchkit.PidCPU(pid), DB: -1, Client: benchkit.SelfCPU()}
			}
			me := benchkit.Get("http://"+b.srv.Addr+cfg.mePath, http.Header{"Authorization": {"Bearer " + b.token}})
			progress("round %d/%d: %s GET %s at %.0f/s, no flood", round, cfg.rounds, b.name, cfg.mePath, rate)
			gc := gcCounter(ctx, b.metrics)
			quiet, err := benchkit.Drive(ctx, spec, me, cpu)
			if err != nil {
				return rep, err
			}
			quietGC := gc()
			pause(ctx)

			row := floodRow{round: round, backend: b.name, quiet: quiet, attackCounts: &statusCounts{}, legitCounts: &statusCounts{}}
			begin := time.Now()
			t0, t1 := begin.Add(cfg.warmup), begin.Add(cfg.warmup+cfg.duration)
			loginURL := "http://" + b.srv.Addr + "/auth/user"
			attack := loginDo(loginURL, []int{http.StatusUnauthorized, http.StatusServiceUnavailable}, row.attackCounts, t0, t1,
				func(w int, n uint64) (string, string) {
					i := seq.Add(1)
					return fmt.Sprintf(`{"email":"flood-%d-%d@example.com","password":"Wrong-passw0rd!"}`, w, n),
						fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
				})
			legit := loginDo(loginURL, []int{http.StatusOK, http.StatusServiceUnavailable}, row.legitCounts, t0, t1,
				func(int, uint64) (string, string) { return legitBody(), legitAddr })
			progress("round %d/%d: %s GET %s at %.0f/s during a flood of %.0f logins/s from %d connections", round, cfg.rounds, b.name, cfg.mePath, rate, cfg.floodRate, cfg.flood)
			gc = gcCounter(ctx, b.metrics)
			var wg sync.WaitGroup
			var attackErr, legitErr error
			wg.Go(func() {
				row.attack, attackErr = benchkit.Drive(ctx, benchkit.LoadSpec{Conns: cfg.flood, Rate: cfg.floodRate, Warmup: cfg.warmup, Measure: cfg.duration}, attack, nil)
			})
			wg.Go(func() {
				row.legit, legitErr = benchkit.Drive(ctx, benchkit.LoadSpec{Conns: 8, Rate: 2, Warmup: cfg.warmup, Measure: cfg.duration}, legit, nil)
			})
			row.flood, err = benchkit.Drive(ctx, spec, me, cpu)
			wg.Wait()
			row.quietGC, row.floodGC = quietGC, gc()
			for _, e := range []error{err, attackErr, legitErr} {
				if e != nil {
					return rep, e
				}
			}
			rep.rows = append(rep.rows, row)
			progress("  GET /me p99 %s quiet, %s flooded (%.1fx); flood %s; legitimate logins %s",
				benchkit.Millis(benchkit.Percentile(quiet.Latencies, 99)), benchkit.Millis(benchkit.Percentile(row.flood.Latencies, 99)),
				row.ratio(), row.attackCounts, row.legitCounts)
			pause(ctx)
		}
	}
	return rep, nil
}

// gcCounter reads the server's count of garbage collections now, and
// returns what reads the collections a second since (-1 if the metrics
// cannot be read).
func gcCounter(ctx context.Context, addr string) func() float64 {
	read := func() (float64, bool) {
		m, err := benchkit.ScrapeMetrics(ctx, addr, "go_gc_duration_seconds_count")
		if err != nil {
			return 0, false
		}
		return m["go_gc_duration_seconds_count"], true
	}
	n0, ok0 := read()
	t0 := time.Now()
	return func() float64 {
		n1, ok1 := read()
		if !ok0 || !ok1 {
			return -1
		}
		return (n1 - n0) / time.Since(t0).Seconds()
	}
}

// legitAddr is the legitimate user's address (X-Forwarded-For).
const legitAddr = "192.0.2.10"

func legitBody() string {
	return fmt.Sprintf(`{"email":%q,"password":%q}`, legitEmail, benchPassword)
}

// legitLogin logs the legitimate user in once from their address.
func legitLogin(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/auth/user", strings.NewReader(legitBody()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", legitAddr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("legitimate login: %s", resp.Status)
	}
	return nil
}

func pause(ctx context.Context) {
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
	}
}

// overload is the flood's rate over the logins the server checked.
func (r *floodReport) overload() float64 {
	checked, secs := 0, 0.0
	for _, x := range r.rows {
		checked += x.attackCounts.get(http.StatusUnauthorized)
		secs += x.attack.Elapsed.Seconds()
	}
	if checked == 0 {
		return 0
	}
	return r.cfg.floodRate / (float64(checked) / secs)
}

// Valid says whether every run finished and no GET /me or legitimate
// login failed. The flood's own failures (requests still waiting when the
// run ends are cut off) are reported, not held against the run.
func (r *floodReport) Valid() bool {
	for _, x := range r.rows {
		for _, res := range []benchkit.LoadResult{x.quiet, x.flood, x.legit} {
			if res.Failures() > 0 {
				return false
			}
		}
	}
	return len(r.rows) == r.cfg.rounds*len(r.cfg.backends)
}

func perSec(n int, d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", float64(n)/d.Seconds())
}

func cores(cpu, elapsed time.Duration) string {
	if cpu < 0 || elapsed <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", cpu.Seconds()/elapsed.Seconds())
}

func (r *floodReport) Print(w io.Writer) {
	fmt.Fprintf(w, "## GET /me during a login flood\n\n")
	fmt.Fprintf(w, "- when: %s\n- command: `%s`\n- machine: %s\n- server: %s\n", r.when.Format(time.RFC3339), r.command, benchkit.Machine(), r.server)
	fmt.Fprintf(w, "- GET %s of one user paced at %.0f requests/s over %d connections, %v warm-up + %v measured, first alone, then while %d connections post %.0f wrong-password logins a second (open loop; a fresh unknown email and X-Forwarded-For address each, ~%.0fx what the hashing bound checks) and another user logs in with the right password twice a second (8 connections) from the address they logged in from before\n\n",
		r.cfg.mePath, r.rate, r.cfg.conns, r.cfg.warmup, r.cfg.duration, r.cfg.flood, r.cfg.floodRate, r.overload())
	fmt.Fprintln(w, "| round | backend | GET /me p50 alone | p99 alone | p50 flooded | p99 flooded | p99 ratio | server cores alone / flooded | GC cycles/s alone / flooded | flood logins checked (401)/s | refused (503)/s | flood p99 (from schedule) | legitimate logins: 200 / 503 | their p50 / max |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, x := range r.rows {
		legitMax := time.Duration(0)
		if n := len(x.legit.Latencies); n > 0 {
			legitMax = x.legit.Latencies[n-1]
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %.2f | %s / %s | %.1f / %.1f | %s | %s | %s | %d / %d | %s / %s |\n",
			x.round, x.backend,
			benchkit.Millis(benchkit.Percentile(x.quiet.Latencies, 50)), benchkit.Millis(benchkit.Percentile(x.quiet.Latencies, 99)),
			benchkit.Millis(benchkit.Percentile(x.flood.Latencies, 50)), benchkit.Millis(benchkit.Percentile(x.flood.Latencies, 99)),
			x.ratio(),
			cores(x.quiet.CPU.Server, x.quiet.Elapsed), cores(x.flood.CPU.Server, x.flood.Elapsed), x.quietGC, x.floodGC,
			perSec(x.attackCounts.get(http.StatusUnauthorized), x.attack.Elapsed), perSec(x.attackCounts.get(http.StatusServiceUnavailable), x.attack.Elapsed),
			benchkit.Millis(benchkit.Percentile(x.attack.Latencies, 99)),
			x.legitCounts.get(http.StatusOK), x.legitCounts.get(http.StatusServiceUnavailable),
			benchkit.Millis(benchkit.Percentile(x.legit.Latencies, 50)), benchkit.Millis(legitMax))
	}
	fmt.Fprintln(w)
	for _, b := range r.cfg.backends {
		var ratios []float64
		for _, x := range r.rows {
			if x.backend == b {
				ratios = append(ratios, x.ratio())
			}
		}
		med := benchkit.Median(ratios)
		verdict := "meets"
		if med > floodTarget {
			verdict = "misses"
		}
		fmt.Fprintf(w, "- %s: median p99 ratio %.2f over %d rounds, %s the target of at most %.0fx\n", b, med, len(ratios), verdict, floodTarget)
	}
	for _, x := range r.rows {
		for name, res := range map[string]benchkit.LoadResult{"GET /me alone": x.quiet, "GET /me flooded": x.flood, "legitimate logins": x.legit} {
			if res.Failures() > 0 {
				fmt.Fprintf(w, "- INVALID: round %d %s %s: %d failed requests, e.g. %s\n", x.round, x.backend, name, res.Failures(), strings.Join(res.Samples, "; "))
			}
		}
		if n := x.attack.Failures(); n > 0 {
			fmt.Fprintf(w, "- round %d %s: %d flood requests failed (cut off when the run ended, or refused otherwise), e.g. %s\n", x.round, x.backend, n, x.attack.Samples[0])
		}
	}
}
