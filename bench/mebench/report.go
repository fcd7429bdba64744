package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

// Target is the bar for GET /me (issue 12, one user): req/s at
// least targetRatio of the same round's hello-world, and p99 at most
// targetP99Ratio times hello-world's p99 in that round.
const (
	targetRatio    = 0.75
	targetP99Ratio = 2.0
)

type row struct {
	round int
	name  string
	res   benchkit.LoadResult
}

type report struct {
	cfg      config
	when     time.Time
	command  string
	rows     []row
	profiles map[string][]string // backend -> CPU profile files
	me       string              // what GET /me answered, described
}

func newReport(cfg config) *report {
	return &report{cfg: cfg, when: time.Now().UTC(), command: benchkit.CommandLine("mebench", os.Args[1:])}
}

func (r *report) add(round int, name string, res benchkit.LoadResult) {
	r.rows = append(r.rows, row{round, name, res})
}

func usPerReq(cpu time.Duration, n int) string {
	if cpu < 0 || n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", float64(cpu)/float64(time.Microsecond)/float64(n))
}

// baseline is the hello-world rate of a round.
func (r *report) baseline(round int) float64 {
	for _, x := range r.rows {
		if x.round == round && x.name == "hello" {
			return x.res.RPS()
		}
	}
	return 0
}

// baselineP99 is hello-world's p99 in a round.
func (r *report) baselineP99(round int) time.Duration {
	for _, x := range r.rows {
		if x.round == round && x.name == "hello" {
			return benchkit.Percentile(x.res.Latencies, 99)
		}
	}
	return 0
}

// Valid says whether every run finished and no request failed.
func (r *report) Valid() bool {
	for _, x := range r.rows {
		if x.res.Failures() > 0 {
			return false
		}
	}
	return len(r.rows) == r.cfg.rounds*(1+len(r.cfg.backends))
}

func (r *report) names() []string { return append([]string{"hello"}, r.cfg.backends...) }

func (r *report) label(name string) string {
	switch name {
	case "hello":
		return "hello-world `GET /`"
	case "sqlite":
		return "accountd SQLite `GET " + r.cfg.mePath + "`"
	case "postgres":
		return "accountd PostgreSQL `GET " + r.cfg.mePath + "`"
	}
	return name
}

// Print writes the report as Markdown.
func (r *report) Print(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "### GET /me against hello-world, %d connections\n\n", c.conns)
	fmt.Fprintf(w, "- command: `%s`\n", r.command)
	fmt.Fprintf(w, "- started: %s\n", r.when.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "- machine: %s\n", benchkit.Machine())
	fmt.Fprintf(w, "- each run: %v warm-up then %v measured, %d keep-alive connections (one goroutine each, one request in flight each); load generator, servers and PostgreSQL share the machine\n", c.warmup, c.duration, c.conns)
	if c.rate > 0 {
		fmt.Fprintf(w, "- paced (open loop) at %.0f requests a second in all; latency counts from each request's scheduled start\n", c.rate)
	}
	logLevel := "the server's default"
	if c.logLevel != "" {
		logLevel = c.logLevel
	}
	fmt.Fprintf(w, "- accountd: `serve --addr 127.0.0.1:PORT --db DB --keys KEY`, every other flag at its default (log level: %s; the log goes to a file)\n", logLevel)
	if r.me != "" {
		fmt.Fprintf(w, "- GET %s answered: %s\n", c.mePath, r.me)
	}
	if c.cpuprofile != "" {
		fmt.Fprintf(w, "- **profiling run** (accountd built from ./bench/profserve, CPU profile on during each measured window)\n")
	}

	fmt.Fprintf(w, "\n| round | server | req/s | p50 | p99 | req/s vs hello | p99 vs hello's | errors | conns opened |\n")
	fmt.Fprintf(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, x := range r.rows {
		ratio, p99ratio := "—", "—"
		if x.name != "hello" {
			if base := r.baseline(x.round); base > 0 {
				ratio = fmt.Sprintf("%.0f%%", 100*x.res.RPS()/base)
			}
			if base := r.baselineP99(x.round); base > 0 {
				p99ratio = fmt.Sprintf("%.2f×", float64(benchkit.Percentile(x.res.Latencies, 99))/float64(base))
			}
		}
		errs := fmt.Sprint(x.res.Errors)
		if x.res.WarmErrs > 0 {
			errs += fmt.Sprintf(" (+%d in warm-up)", x.res.WarmErrs)
		}
		conns := fmt.Sprint(x.res.Dials)
		if x.res.FailedDials > 0 {
			conns += fmt.Sprintf(" (%d failed)", x.res.FailedDials)
		}
		p50, p99 := benchkit.Percentile(x.res.Latencies, 50), benchkit.Percentile(x.res.Latencies, 99)
		fmt.Fprintf(w, "| %d | %s | %.0f | %s | %s | %s | %s | %s | %s |\n", x.round, r.label(x.name), x.res.RPS(),
			benchkit.Millis(p50), benchkit.Millis(p99), ratio, p99ratio, errs, conns)
	}

	fmt.Fprintf(w, "\nCPU time per request in the measured window, µs (from /proc; 10 ms tick):\n\n")
	fmt.Fprintf(w, "| round | server | server process | PostgreSQL backends of the bench database | load generator |\n")
	fmt.Fprintf(w, "|---:|---|---:|---:|---:|\n")
	for _, x := range r.rows {
		n := x.res.Reqs + x.res.Errors
		db := "—"
		if x.res.CPU.DB >= 0 {
			db = usPerReq(x.res.CPU.DB, n)
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s |\n", x.round, r.label(x.name), usPerReq(x.res.CPU.Server, n), db,
			usPerReq(x.res.CPU.Client, n))
	}

	fmt.Fprintf(w, "\nMedian over %d round(s); target: req/s ≥ %.0f%% of the same round's hello-world, p99 ≤ %.0f× the same round's hello-world p99:\n\n", c.rounds, 100*targetRatio, targetP99Ratio)
	fmt.Fprintf(w, "| server | req/s | p50 | p99 (worst round) | req/s vs hello (range) | p99 vs hello's (range) | errors | target |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, name := range r.names() {
		var rps, p50, p99, ratios, p99ratios []float64
		var worstP99 time.Duration
		failures := 0
		for _, x := range r.rows {
			if x.name != name {
				continue
			}
			rps = append(rps, x.res.RPS())
			p50 = append(p50, float64(benchkit.Percentile(x.res.Latencies, 50)))
			q := benchkit.Percentile(x.res.Latencies, 99)
			p99 = append(p99, float64(q))
			worstP99 = max(worstP99, q)
			if base := r.baseline(x.round); base > 0 {
				ratios = append(ratios, x.res.RPS()/base)
			}
			if base := r.baselineP99(x.round); base > 0 {
				p99ratios = append(p99ratios, float64(q)/float64(base))
			}
			failures += x.res.Failures()
		}
		if len(rps) == 0 {
			continue
		}
		medRatio, medP99 := benchkit.Median(ratios), time.Duration(benchkit.Median(p99))
		ratio, p99ratio, verdict := "—", "—", "—"
		if name != "hello" && len(ratios) > 0 && len(p99ratios) > 0 {
			medP99Ratio := benchkit.Median(p99ratios)
			ratio = fmt.Sprintf("%.0f%% (%.0f–%.0f%%)", 100*medRatio, 100*minOf(ratios), 100*maxOf(ratios))
			p99ratio = fmt.Sprintf("%.2f× (%.2f–%.2f×)", medP99Ratio, minOf(p99ratios), maxOf(p99ratios))
			var missed []string
			if medRatio < targetRatio {
				missed = append(missed, fmt.Sprintf("req/s %.0f%% < %.0f%%", 100*medRatio, 100*targetRatio))
			}
			if medP99Ratio > targetP99Ratio {
				missed = append(missed, fmt.Sprintf("p99 %.2f× > %.0f× hello-world's", medP99Ratio, targetP99Ratio))
			}
			switch {
			case failures > 0:
				verdict = "**invalid: requests failed**"
			case len(missed) == 0:
				verdict = "met"
			default:
				verdict = "**missed**: " + strings.Join(missed, "; ")
			}
		} else if failures > 0 {
			verdict = "**invalid: requests failed**"
		}
		medP50 := time.Duration(benchkit.Median(p50))
		fmt.Fprintf(w, "| %s | %.0f | %s | %s (%s) | %s | %s | %d | %s |\n", r.label(name), benchkit.Median(rps),
			benchkit.Millis(medP50), benchkit.Millis(medP99), benchkit.Millis(worstP99), ratio, p99ratio, failures, verdict)
	}

	var samples []string
	for _, x := range r.rows {
		for _, s := range x.res.Samples {
			samples = append(samples, fmt.Sprintf("round %d %s: %s", x.round, x.name, s))
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
		fmt.Fprintf(w, "\nCPU profiles of the measured windows (pprof merges the rounds):\n\n")
		for _, name := range r.cfg.backends {
			files := r.profiles[name]
			fmt.Fprintf(w, "- %s: `go tool pprof -top -cum %s`\n", name, strings.Join(files, " "))
		}
	}
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
