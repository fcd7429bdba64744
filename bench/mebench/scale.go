package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

// The many-users mode (--users N): every backend's database is seeded
// with N users and their API tokens, and each request of the load carries
// a token drawn at random, so the server's per-token and per-user state is
// as cold or as warm as a large population makes it.

// scaleTarget is one load of the many-users mode: a server, a path, and
// the Authorization values to draw from.
type scaleTarget struct {
	name    string // hello, sqlite, postgres
	what    string // "GET /me", "GET /me/tokens"
	srv     *benchkit.Server
	path    string
	bearers [][]string // "Bearer TOKEN", one slice each, shared read-only
	cpu     func() benchkit.CPUUsage
	metrics string // accountd's --metrics-addr; empty for hello-world
}

// scrapedMetrics are the samples the report reads: the caches' and the
// collector's.
var scrapedMetrics = []string{"accountd_cache_", "go_gc_duration_seconds_count"}

// randomBearer is a NewDoFunc for GET url with a token drawn at random
// from bearers on every request; each goroutine reuses one request and
// has its own random source.
func randomBearer(url string, bearers [][]string) benchkit.NewDoFunc {
	return func(ctx context.Context, w int) (benchkit.DoFunc, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		rnd := rand.New(rand.NewPCG(uint64(w)+1, uint64(time.Now().UnixNano())))
		return func(_ context.Context, tr *http.Transport) (int64, error) {
			if len(bearers) > 0 {
				req.Header["Authorization"] = bearers[rnd.IntN(len(bearers))]
			}
			return 1, benchkit.RoundTrip(tr, req, nil)
		}, nil
	}
}

func bearers(tokens []string) [][]string {
	out := make([][]string, len(tokens))
	for i, t := range tokens {
		out[i] = []string{"Bearer " + t}
	}
	return out
}

func runScale(ctx context.Context, cfg config) (benchkit.Report, error) {
	pop := population{users: cfg.users, tokensPer: cfg.tokensPer, listUsers: min(cfg.listUsers, cfg.users), listTokens: cfg.listTokens}
	tmp, err := os.MkdirTemp("", "mebench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	bctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	accountdBin, accountdPkg := cfg.accountd, "./cmd/accountd"
	if cfg.cpuprofile != "" {
		accountdBin, accountdPkg = "", "./bench/profserve"
	}
	if accountdBin, err = benchkit.Binary(bctx, accountdBin, accountdPkg, tmp, "accountd", progress); err != nil {
		return nil, err
	}
	helloBin, err := benchkit.Binary(bctx, cfg.hello, "./bench/hello", tmp, "hello", progress)
	if err != nil {
		return nil, err
	}
	cancel()

	perRun := cfg.warmup + cfg.duration + 20*time.Second
	ctx, cancel = context.WithTimeout(ctx, 10*time.Minute+time.Duration(cfg.rounds*(1+loadsPerBackend*len(cfg.backends)))*perRun)
	defer cancel()

	var f fleet
	defer f.close()

	helloSrv, err := f.startHello(ctx, helloBin, tmp)
	if err != nil {
		return nil, err
	}
	helloPid := helloSrv.Cmd.Process.Pid
	targets := []*scaleTarget{{name: "hello", what: "GET /", srv: helloSrv, path: "/",
		cpu: func() benchkit.CPUUsage {
			return benchkit.CPUUsage{Server: benchkit.PidCPU(helloPid), DB: -1, Client: benchkit.SelfCPU()}
		}}}

	rep := newScaleReport(cfg, pop)
	for _, backend := range cfg.backends {
		key, err := benchkit.RunTool(ctx, accountdBin, "keys", "generate")
		if err != nil {
			return nil, err
		}
		var db, pgName string
		if backend == "postgres" {
			name, dsn, drop, err := benchkit.PGDatabase(ctx, cfg.postgres, "accountd_bench_")
			if err != nil {
				return nil, err
			}
			f.drops = append(f.drops, drop)
			pgName, db = name, dsn
			progress("postgres: created a fresh database for this run")
		} else {
			db = filepath.Join(tmp, "bench.db")
		}
		progress("%s: seeding %d users, %d API tokens", backend, pop.users, pop.totalTokens())
		began := time.Now()
		users, err := seed(ctx, backend, db, key, pop)
		if err != nil {
			return nil, err
		}
		rep.seedTime[backend] = time.Since(began)
		progress("%s: seeded in %v", backend, rep.seedTime[backend].Round(time.Millisecond))

		addr, err := benchkit.FreePort()
		if err != nil {
			return nil, err
		}
		metricsAddr, err := benchkit.FreePort()
		if err != nil {
			return nil, err
		}
		args := []string{"serve", "--addr", addr, "--db", db, "--keys", key, "--metrics-addr", metricsAddr}
		if cfg.logLevel != "" {
			args = append(args, "--log-level", cfg.logLevel)
		}
		env := benchkit.ChildEnv()
		if cfg.cpuprofile != "" {
			prefix := cfg.cpuprofile + "-" + backend
			env = append(env, "MEBENCH_CPUPROFILE="+prefix)
			for n := 1; n <= loadsPerBackend*cfg.rounds; n++ {
				rep.profiles[backend] = append(rep.profiles[backend], fmt.Sprintf("%s-r%d.pprof", prefix, n))
			}
		}
		srv, err := benchkit.StartServer(ctx, backend, accountdBin, args, env, filepath.Join(tmp, backend+".log"), benchkit.Readyz(addr))
		if err != nil {
			return nil, err
		}
		f.servers = append(f.servers, srv)
		if err := checkScale(ctx, srv.Addr, users, pop); err != nil {
			return nil, fmt.Errorf("%s: %w", backend, err)
		}
		pid := srv.Cmd.Process.Pid
		rep.rssStart[backend] = benchkit.PidMemory(pid)
		progress("%s: accountd listening on %s, seeded users checked, RSS %s", backend, srv.Addr, benchkit.MiB(rep.rssStart[backend].RSS))

		var all, list []string
		for i, u := range users {
			all = append(all, u.tokens...)
			if i < pop.listUsers {
				list = append(list, u.tokens...)
			}
		}
		cpu := func() benchkit.CPUUsage {
			u := benchkit.CPUUsage{Server: benchkit.PidCPU(pid), DB: -1, Client: benchkit.SelfCPU()}
			if pgName != "" {
				u.DB = benchkit.PostgresCPU(pgName)
			}
			return u
		}
		if cfg.prewarm {
			took, err := prewarm(ctx, srv.Addr, all, cfg.conns)
			if err != nil {
				return nil, fmt.Errorf("%s: prewarm: %w", backend, err)
			}
			rep.prewarm[backend] = took
			progress("%s: every token used once in %v", backend, took.Round(time.Millisecond))
		}
		targets = append(targets,
			&scaleTarget{name: backend, what: "GET /me", srv: srv, path: "/me", bearers: bearers(all), cpu: cpu, metrics: metricsAddr},
			&scaleTarget{name: backend, what: "GET /me/tokens", srv: srv, path: "/me/tokens", bearers: bearers(list), cpu: cpu, metrics: metricsAddr},
			&scaleTarget{name: backend, what: "GET /applications", srv: srv, path: "/applications", bearers: bearers(list), cpu: cpu, metrics: metricsAddr})
	}

	for round := 1; round <= cfg.rounds; round++ {
		for _, t := range targets {
			if !t.srv.Alive() {
				return rep, fmt.Errorf("%s server exited: %v\n%s", t.name, t.srv.ExitErr(), t.srv.LogTail())
			}
			spec := benchkit.LoadSpec{Conns: cfg.conns, Rate: cfg.rate, Warmup: cfg.warmup, Measure: cfg.duration}
			var window [2]benchkit.Metrics
			if t.metrics != "" {
				var profile func(bool)
				if cfg.cpuprofile != "" {
					profile = profileSwitch(t.srv)
				}
				spec.OnMeasure = func(start bool) {
					i := 1
					if start {
						i = 0
					}
					m, err := benchkit.ScrapeMetrics(ctx, t.metrics, scrapedMetrics...)
					if err != nil {
						progress("%s: scraping metrics: %v", t.name, err)
					}
					window[i] = m
					if profile != nil {
						profile(start)
					}
				}
			}
			progress("round %d/%d: %s %s, %d connections, %v warm-up + %v", round, cfg.rounds, t.name, t.what,
				cfg.conns, cfg.warmup, cfg.duration)
			res, err := benchkit.Drive(ctx, spec, randomBearer("http://"+t.srv.Addr+t.path, t.bearers), t.cpu)
			if err != nil {
				return rep, err
			}
			var inWindow benchkit.Metrics
			if window[0] != nil && window[1] != nil {
				inWindow = window[1].Sub(window[0])
			}
			rep.add(round, t.name, t.what, res, inWindow)
			progress("  %.0f req/s, p50 %s, p99 %s, %d errors", res.RPS(), benchkit.Millis(benchkit.Percentile(res.Latencies, 50)),
				benchkit.Millis(benchkit.Percentile(res.Latencies, 99)), res.Failures())
			if inWindow != nil {
				progress("  cache hits: %s", inWindow.HitRatios())
			}
			select {
			case <-time.After(500 * time.Millisecond):
			case <-ctx.Done():
				return rep, ctx.Err()
			}
		}
	}
	for _, t := range targets {
		if t.name != "hello" {
			rep.rssEnd[t.name] = benchkit.PidMemory(t.srv.Cmd.Process.Pid)
			if m, err := benchkit.ScrapeMetrics(ctx, t.metrics, scrapedMetrics...); err == nil {
				rep.fillEnd[t.name] = m
			}
		}
	}
	f.stopServers()
	return rep, nil
}

// loadsPerBackend are GET /me, GET /me/tokens and GET /applications.
const loadsPerBackend = 3

// checkScale makes sure a seeded token of the first and of the last user
// answers GET /me with that user, and that a list user's GET /me/tokens and
// GET /applications hold all their tokens and applications.
func checkScale(ctx context.Context, addr string, users []seedUser, pop population) error {
	for _, u := range []seedUser{users[0], users[len(users)-1]} {
		if len(u.tokens) == 0 {
			continue
		}
		var me struct {
			Email string `json:"email"`
		}
		if err := benchkit.Call(ctx, http.MethodGet, "http://"+addr+"/me", u.tokens[len(u.tokens)-1], nil, &me); err != nil {
			return fmt.Errorf("GET /me: %w", err)
		}
		if me.Email != u.email {
			return fmt.Errorf("GET /me: email %q, want %q", me.Email, u.email)
		}
	}
	if pop.listUsers == 0 {
		return nil
	}
	var page struct {
		Count      int               `json:"count"`
		TotalCount int               `json:"totalCount"`
		Items      []json.RawMessage `json:"items"`
	}
	if err := benchkit.Call(ctx, http.MethodGet, "http://"+addr+"/me/tokens", users[0].tokens[0], nil, &page); err != nil {
		return fmt.Errorf("GET /me/tokens: %w", err)
	}
	if page.Count != pop.listTokens || page.TotalCount != pop.listTokens || len(page.Items) != pop.listTokens {
		return fmt.Errorf("GET /me/tokens: count %d, totalCount %d, %d items; want %d each",
			page.Count, page.TotalCount, len(page.Items), pop.listTokens)
	}
	page.Items = nil
	if err := benchkit.Call(ctx, http.MethodGet, "http://"+addr+"/applications", users[0].tokens[0], nil, &page); err != nil {
		return fmt.Errorf("GET /applications: %w", err)
	}
	if page.Count != pop.listTokens || page.TotalCount != pop.listTokens || len(page.Items) != pop.listTokens {
		return fmt.Errorf("GET /applications: count %d, totalCount %d, %d items; want %d each",
			page.Count, page.TotalCount, len(page.Items), pop.listTokens)
	}
	return nil
}

// prewarm sends GET /me once with each token, from conns connections, and
// fails on any answer but 200.
func prewarm(ctx context.Context, addr string, tokens []string, conns int) (time.Duration, error) {
	began := time.Now()
	var dials, failedDials atomic.Int64
	tr := benchkit.NewTransport(conns, &dials, &failedDials)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var next atomic.Int64
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(tokens) || ctx.Err() != nil {
					return
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/me", nil)
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Authorization", "Bearer "+tokens[i])
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("GET /me: %s", resp.Status)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return time.Since(began), ctx.Err()
}
