package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

// profileSwitch turns profserve's CPU profiler on and off around a
// measured window.
func profileSwitch(srv *benchkit.Server) func(bool) {
	proc := srv.Cmd.Process
	return func(start bool) {
		if start {
			proc.Signal(syscall.SIGUSR1)
		} else {
			proc.Signal(syscall.SIGUSR2)
		}
	}
}

type scaleRow struct {
	round      int
	name, what string
	res        benchkit.LoadResult
	metrics    benchkit.Metrics // accountd's counters over the measured window; nil for hello-world
}

type scaleReport struct {
	cfg      config
	pop      population
	when     time.Time
	command  string
	rows     []scaleRow
	seedTime map[string]time.Duration
	rssStart map[string]benchkit.Memory  // after seeding and the checks, before any load
	rssEnd   map[string]benchkit.Memory  // after the last round
	fillEnd  map[string]benchkit.Metrics // the caches after the last round
	profiles map[string][]string
	prewarm  map[string]time.Duration // how long using every token once took, per backend
}

func newScaleReport(cfg config, pop population) *scaleReport {
	return &scaleReport{cfg: cfg, pop: pop, when: time.Now().UTC(), command: benchkit.CommandLine("mebench", os.Args[1:]),
		seedTime: map[string]time.Duration{}, rssStart: map[string]benchkit.Memory{}, rssEnd: map[string]benchkit.Memory{},
		fillEnd: map[string]benchkit.Metrics{}, prewarm: map[string]time.Duration{}, profiles: map[string][]string{}}
}

func (r *scaleReport) add(round int, name, what string, res benchkit.LoadResult, m benchkit.Metrics) {
	r.rows = append(r.rows, scaleRow{round, name, what, res, m})
}

func (r *scaleReport) hello(round int) *benchkit.LoadResult {
	for i := range r.rows {
		if r.rows[i].round == round && r.rows[i].name == "hello" {
			return &r.rows[i].res
		}
	}
	return nil
}

// Valid says whether every run finished and no request failed.
func (r *scaleReport) Valid() bool {
	for _, x := range r.rows {
		if x.res.Failures() > 0 {
			return false
		}
	}
	return len(r.rows) == r.cfg.rounds*(1+loadsPerBackend*len(r.cfg.backends))
}

func (r *scaleReport) label(name, what string) string {
	switch name {
	case "hello":
		return "hello-world `GET /`"
	case "sqlite":
		return "SQLite `" + what + "`"
	case "postgres":
		return "PostgreSQL `" + what + "`"
	}
	return name + " " + what
}

func times(a, b time.Duration) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f×", float64(a)/float64(b))
}

// Print writes the report as Markdown.
func (r *scaleReport) Print(w io.Writer) {
	c, p := r.cfg, r.pop
	fmt.Fprintf(w, "### GET /me, GET /me/tokens and GET /applications with %d users, against hello-world, %d connections\n\n", p.users, c.conns)
	fmt.Fprintf(w, "- command: `%s`\n", r.command)
	fmt.Fprintf(w, "- started: %s\n", r.when.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "- machine: %s\n", benchkit.Machine())
	fmt.Fprintf(w, "- seeded per backend, straight into the store before the server starts: %d users, %d API tokens (scope all.User) in all; "+
		"the first %d users have %d tokens and %d applications each, the others %d tokens\n", p.users, p.totalTokens(), p.listUsers, p.listTokens, p.listTokens, p.tokensPer)
	fmt.Fprintf(w, "- `GET /me`: each request carries a token drawn at random from all %d; `GET /me/tokens` and `GET /applications` (no query: sorted by name, default page): one drawn from the %d users with %d tokens and %d applications, so each answer lists %d\n",
		p.totalTokens(), p.listUsers, p.listTokens, p.listTokens, p.listTokens)
	fmt.Fprintf(w, "- each run: %v warm-up then %v measured, %d keep-alive connections (one goroutine each, one request in flight each); load generator, servers and PostgreSQL share the machine\n", c.warmup, c.duration, c.conns)
	if c.prewarm {
		fmt.Fprintf(w, "- before the first round, every token was used once for `GET /me` (--prewarm), so the caches start as warm as their budget lets them be:")
		for _, b := range c.backends {
			fmt.Fprintf(w, " %s in %v;", b, r.prewarm[b].Round(100*time.Millisecond))
		}
		fmt.Fprintf(w, " with --prewarm=false they start cold and warm up only with the load's random draws\n")
	}
	if c.rate > 0 {
		fmt.Fprintf(w, "- paced (open loop) at %.0f requests a second in all; latency counts from each request's scheduled start\n", c.rate)
	}
	fmt.Fprintf(w, "- accountd: `serve --addr 127.0.0.1:PORT --db DB --keys KEY`, every other flag at its default\n")
	if c.cpuprofile != "" {
		fmt.Fprintf(w, "- **profiling run** (accountd built from ./bench/profserve, CPU profile on during each measured window)\n")
	}

	fmt.Fprintf(w, "\n| round | server | req/s | vs hello req/s | p50 | p99 | p50 / p99 vs hello's | server CPU µs/req | PostgreSQL CPU µs/req | errors |\n")
	fmt.Fprintf(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, x := range r.rows {
		ratio, vs := "—", "—"
		p50, p99 := benchkit.Percentile(x.res.Latencies, 50), benchkit.Percentile(x.res.Latencies, 99)
		if h := r.hello(x.round); x.name != "hello" && h != nil {
			if h.RPS() > 0 {
				ratio = fmt.Sprintf("%.1f%%", 100*x.res.RPS()/h.RPS())
			}
			vs = times(p50, benchkit.Percentile(h.Latencies, 50)) + " / " + times(p99, benchkit.Percentile(h.Latencies, 99))
		}
		n := x.res.Reqs + x.res.Errors
		db := "—"
		if x.res.CPU.DB >= 0 {
			db = usPerReq(x.res.CPU.DB, n)
		}
		errs := fmt.Sprint(x.res.Errors)
		if x.res.WarmErrs > 0 {
			errs += fmt.Sprintf(" (+%d in warm-up)", x.res.WarmErrs)
		}
		fmt.Fprintf(w, "| %d | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n", x.round, r.label(x.name, x.what), x.res.RPS(), ratio,
			benchkit.Millis(p50), benchkit.Millis(p99), vs, usPerReq(x.res.CPU.Server, n), db, errs)
	}

	fmt.Fprintf(w, "\nMedian over %d round(s), ratios to the same round's hello-world:\n\n", c.rounds)
	fmt.Fprintf(w, "| server | req/s vs hello (range) | p50 vs hello's | p99 vs hello's | errors |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|\n")
	type key struct{ name, what string }
	var order []key
	seen := map[key]bool{}
	for _, x := range r.rows {
		k := key{x.name, x.what}
		if x.name != "hello" && !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	for _, k := range order {
		var ratios, p50s, p99s []float64
		failures := 0
		for _, x := range r.rows {
			h := r.hello(x.round)
			if x.name != k.name || x.what != k.what || h == nil || h.RPS() == 0 {
				continue
			}
			ratios = append(ratios, x.res.RPS()/h.RPS())
			p50s = append(p50s, float64(benchkit.Percentile(x.res.Latencies, 50))/float64(max(1, benchkit.Percentile(h.Latencies, 50))))
			p99s = append(p99s, float64(benchkit.Percentile(x.res.Latencies, 99))/float64(max(1, benchkit.Percentile(h.Latencies, 99))))
			failures += x.res.Failures()
		}
		if len(ratios) == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %.1f%% (%.1f–%.1f%%) | %.1f× | %.1f× | %d |\n", r.label(k.name, k.what), 100*benchkit.Median(ratios),
			100*minOf(ratios), 100*maxOf(ratios), benchkit.Median(p50s), benchkit.Median(p99s), failures)
	}

	fmt.Fprintf(w, "\nServer memory (/proc/PID/status) and seeding time:\n\n")
	fmt.Fprintf(w, "| backend | seeding | RSS before the load | RSS after the last round | high-water mark |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|\n")
	for _, b := range c.backends {
		start, ok := r.rssStart[b]
		if !ok {
			continue
		}
		end, ok := r.rssEnd[b]
		if !ok {
			end = benchkit.Memory{RSS: -1, HWM: -1}
		}
		fmt.Fprintf(w, "| %s | %v | %s | %s | %s |\n", b, r.seedTime[b].Round(100*time.Millisecond), benchkit.MiB(start.RSS),
			benchkit.MiB(end.RSS), benchkit.MiB(end.HWM))
	}

	fmt.Fprintf(w, "\nCache hit ratios over each measured window (accountd's metrics, --metrics-addr) and garbage collections in it:\n\n")
	fmt.Fprintf(w, "| round | server | hits per cache | GC cycles |\n|---:|---|---|---:|\n")
	for _, x := range r.rows {
		if x.metrics != nil {
			fmt.Fprintf(w, "| %d | %s | %s | %.0f |\n", x.round, r.label(x.name, x.what), x.metrics.HitRatios(), x.metrics["go_gc_duration_seconds_count"])
		}
	}
	fmt.Fprintf(w, "\nCaches after the last round (entries, accounted bytes of the budget):\n\n")
	for _, b := range c.backends {
		if m, ok := r.fillEnd[b]; ok {
			fmt.Fprintf(w, "- %s: %s\n", b, m.CacheFill())
		}
	}

	var samples []string
	for _, x := range r.rows {
		for _, s := range x.res.Samples {
			samples = append(samples, fmt.Sprintf("round %d %s %s: %s", x.round, x.name, x.what, s))
		}
	}
	if len(samples) > 0 {
		fmt.Fprintf(w, "\nFailed requests (first few); these figures are not valid:\n\n")
		for i, s := range samples {
			if i == 10 {
				break
			}
			fmt.Fprintf(w, "- %s\n", s)
		}
	}
	if !r.Valid() && len(samples) == 0 {
		fmt.Fprintf(w, "\nThe run did not finish; the figures above are incomplete.\n")
	}
	if len(r.profiles) > 0 {
		fmt.Fprintf(w, "\nCPU profiles of the measured windows (numbered in turn: GET /me, GET /me/tokens, GET /applications, then again each round):\n\n")
		for _, name := range c.backends {
			fmt.Fprintf(w, "- %s: `go tool pprof -top -cum %s`\n", name, strings.Join(r.profiles[name], " "))
		}
	}
}
