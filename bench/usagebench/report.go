package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

// targetBreakdownP50 is the bar for the one-year daily breakdown.
const targetBreakdownP50 = 20 * time.Millisecond

type report struct {
	cfg      config
	when     time.Time
	loadavg  string
	pg       string // PostgreSQL version, when measured
	pgVacuum string // its autovacuum setting
	command  string
	backends []*backendResult
}

func newReport(cfg config) *report {
	r := &report{cfg: cfg, when: time.Now().UTC(), command: benchkit.CommandLine("usagebench", os.Args[1:])}
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(raw)); len(f) >= 3 {
			r.loadavg = strings.Join(f[:3], " ")
		}
	}
	for _, b := range cfg.backends {
		if b == "postgres" {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if conn, err := pgx.Connect(ctx, cfg.postgres); err == nil {
				conn.QueryRow(ctx, "SHOW server_version").Scan(&r.pg)
				conn.QueryRow(ctx, "SHOW autovacuum").Scan(&r.pgVacuum)
				conn.Close(context.Background())
			}
			cancel()
		}
	}
	return r
}

// perUnit is CPU time per unit in µs, "n/a" when unknown.
func perUnit(cpu time.Duration, n int64) string {
	if cpu < 0 || n <= 0 {
		return "n/a"
	}
	if cpu == 0 { // less than one tick in all
		return "< " + perUnit(benchkit.ClockTick, n)
	}
	us := float64(cpu) / float64(time.Microsecond) / float64(n)
	if us < 10 {
		return fmt.Sprintf("%.1f", us)
	}
	return fmt.Sprintf("%.0f", us)
}

func label(backend string) string {
	if backend == "postgres" {
		return "PostgreSQL"
	}
	return "SQLite"
}

// Valid says whether every backend was measured and every request
// succeeded.
func (r *report) Valid() bool {
	if len(r.backends) != len(r.cfg.backends) {
		return false
	}
	for _, b := range r.backends {
		if b.err != nil || !b.clean() {
			return false
		}
	}
	return true
}

// Print writes the report as Markdown.
func (r *report) Print(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "### Usage metering: ingest rate and one-year breakdown latency\n\n")
	fmt.Fprintf(w, "- command: `%s`\n", r.command)
	fmt.Fprintf(w, "- started: %s, finished %s\n", r.when.Format("2006-01-02 15:04 UTC"), time.Now().UTC().Format("15:04 UTC"))
	m := "- machine: " + benchkit.Machine()
	if r.loadavg != "" {
		m += "; load average at start " + r.loadavg
	}
	fmt.Fprintln(w, m)
	if r.pg != "" {
		fmt.Fprintf(w, "- PostgreSQL %s on the same machine (load generator, servers and PostgreSQL share it), autovacuum %s\n", r.pg, r.pgVacuum)
	}
	maxBody := ""
	if c.maxBody > 0 {
		maxBody = fmt.Sprintf(" --max-body %d", c.maxBody)
	}
	fmt.Fprintf(w, "- accountd: `serve --addr 127.0.0.1:PORT --db DB --keys KEY --usage-keys-file FILE%s`, every other flag at its default (the log goes to a file); backends one after the other, each on a fresh database with one verified user owning %d applications\n", maxBody, c.seedApps)
	if !c.skipIngest {
		var mix []string
		for _, ts := range ingestMix {
			mix = append(mix, ts.typ+"/"+ts.source)
		}
		fmt.Fprintf(w, "- ingest: `POST /usage/events` with a usage key, %d fresh events a request (unique ids, the current time, spread over the %d applications and over %s; count 1, bytes 40–439), from %d keep-alive connections (one goroutine each, one request in flight each), %v warm-up then %v measured; events/s counts the events the answers say were recorded (every answer must say all were); baseline: hello-world `GET /` from the same %d connections just before\n",
			c.batch, c.seedApps, strings.Join(mix, ", "), c.conns, c.warmup, c.duration, c.conns)
	}
	if !c.skipState {
		fmt.Fprintf(w, "- device state: `POST /applications/{applicationId}/devices/{deviceId}/state` (device.sendState) with a session token of a second verified user of its own (%d applications, one device each), one state a request (`%s`), round-robin over the %d devices, from %d keep-alive connections (one goroutine each, one request in flight each), %v warm-up then %v measured; baseline: hello-world `GET /` from the same %d connections just before; then `GET /me/payloadCounts` (from an hour before the phase to now) must say deviceState/rest equals the 200 answers of warm-up and measured window\n",
			c.seedApps, stateBody, c.seedApps, c.conns, c.warmup, c.duration, c.conns)
	}
	if !c.skipBreakdown {
		fmt.Fprintf(w, "- seed: through the same endpoint, %d days × 24 hours (ending with the current hour) × %d applications × %d types (%s, source %q), count %d each, %d events a request, %d connections; then `GET /me/payloadCounts` and the breakdowns must read back exactly what was recorded\n",
			c.seedDays, c.seedApps, len(seedTypes), strings.Join(seedTypes, ", "), seedSource, c.seedCount, c.seedBatch, c.seedConns)
		if c.pgAnalyze && slices.Contains(c.backends, "postgres") {
			fmt.Fprintf(w, "- PostgreSQL: `ANALYZE` on the benchmark database after seeding (--pg-analyze)\n")
		}
		fmt.Fprintf(w, "- query latency: one keep-alive connection, one request at a time, %d warm-up then %d measured of each kind; every query ends at the moment it is sent; nearest-rank percentiles\n",
			c.warmSamples, c.samples)
	}

	if !c.skipIngest {
		fmt.Fprintf(w, "\n#### Ingest: `POST /usage/events`, %d events a request, %d connections\n\n", c.batch, c.conns)
		fmt.Fprintf(w, "| backend | hello-world req/s | ingest req/s | ingest req/s vs hello | events/s recorded | ingest p50 | ingest p99 | errors | conns opened |\n")
		fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, b := range r.backends {
			if b.ingest == nil || b.hello == nil {
				fmt.Fprintf(w, "| %s | — | — | — | — | — | — | not measured | — |\n", label(b.name))
				continue
			}
			h, in := b.hello, b.ingest
			ratio, errs := ratioAndErrors(h, in)
			fmt.Fprintf(w, "| %s | %.0f | %.1f | %s | %.0f | %s | %s | %s | %d |\n", label(b.name), h.RPS(), in.RPS(), ratio, in.UPS(),
				benchkit.Millis(benchkit.Percentile(in.Latencies, 50)), benchkit.Millis(benchkit.Percentile(in.Latencies, 99)), errs, in.Dials)
		}
		fmt.Fprintf(w, "\nCPU time in the measured window (from /proc; 10 ms tick), µs per event recorded (hello-world: per request):\n\n")
		fmt.Fprintf(w, "| backend | accountd | PostgreSQL backends of the bench database | load generator | hello-world server, per request | load generator, per hello request |\n")
		fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|\n")
		for _, b := range r.backends {
			if b.ingest == nil || b.hello == nil {
				continue
			}
			in, h := b.ingest, b.hello
			n := in.Units
			db := "—"
			if in.CPU.DB >= 0 && b.name == "postgres" {
				db = perUnit(in.CPU.DB, n)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", label(b.name), perUnit(in.CPU.Server, n), db, perUnit(in.CPU.Client, n),
				perUnit(h.CPU.Server, int64(h.Reqs+h.Errors)), perUnit(h.CPU.Client, int64(h.Reqs+h.Errors)))
		}
	}

	if !c.skipState {
		r.printState(w)
	}

	if !c.skipBreakdown {
		what := "one year"
		if c.seedDays != 365 {
			what = fmt.Sprintf("%d days", c.seedDays)
		}
		fmt.Fprintf(w, "\n#### Seeding %s through `POST /usage/events`\n\n", what)
		fmt.Fprintf(w, "| backend | events | payloads | requests | time | events/s | payloads/s | retries | accountd CPU, µs/event | PostgreSQL backends CPU, µs/event | database size after |\n")
		fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, b := range r.backends {
			if b.seed == nil || b.plan == nil {
				fmt.Fprintf(w, "| %s | not seeded | | | | | | | | | |\n", label(b.name))
				continue
			}
			s, p := b.seed, b.plan
			events := fmt.Sprint(s.events)
			if s.events != p.events() {
				events = fmt.Sprintf("**%d of %d**", s.events, p.events())
			}
			db := "—"
			if b.name == "postgres" {
				db = perUnit(s.cpu.DB, s.events)
			}
			fmt.Fprintf(w, "| %s | %s | %d | %d | %v | %.0f | %.0f | %d | %s | %s | %s |\n", label(b.name), events, s.payloads, s.batches,
				s.elapsed.Round(time.Second), float64(s.events)/s.elapsed.Seconds(), float64(s.payloads)/s.elapsed.Seconds(), s.retries,
				perUnit(s.cpu.Server, s.events), db, b.dbSize)
		}
		fmt.Fprintln(w)
		for _, b := range r.backends {
			for _, n := range b.verified {
				fmt.Fprintf(w, "- %s: %s\n", label(b.name), n)
			}
		}

		fmt.Fprintf(w, "\n#### Query latency, one connection, %d requests of each kind one at a time\n\n", c.samples)
		fmt.Fprintf(w, "CPU columns: from /proc over the measured requests, 10 ms tick, so coarse for fast requests.\n\n")
		fmt.Fprintf(w, "| backend | request | p50 | p90 | p99 | max | p50 vs hello-world p50 | accountd CPU, µs/req | PostgreSQL backends CPU, µs/req | answer | errors |\n")
		fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, b := range r.backends {
			var helloP50 time.Duration
			for i, s := range b.seq {
				p50 := benchkit.Percentile(s.latencies, 50)
				if i == 0 {
					helloP50 = p50
				}
				ratio := "—"
				if i > 0 && helloP50 > 0 {
					ratio = fmt.Sprintf("%.1f×", float64(p50)/float64(helloP50))
				}
				n := int64(c.samples) // the CPU window covers the measured requests
				srv, db := perUnit(s.cpu.Server, n), "—"
				if i == 0 {
					srv = perUnit(s.cpu.Server, n) + " (hello-world)"
				} else if b.name == "postgres" {
					db = perUnit(s.cpu.DB, n)
				}
				errs := fmt.Sprint(s.errors)
				if s.errors > 0 {
					errs = "**" + errs + ": invalid**"
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d B | %s |\n", label(b.name), s.label,
					benchkit.Millis(p50), benchkit.Millis(benchkit.Percentile(s.latencies, 90)), benchkit.Millis(benchkit.Percentile(s.latencies, 99)), benchkit.Millis(benchkit.Percentile(s.latencies, 100)),
					ratio, srv, db, s.size, errs)
			}
		}

		fmt.Fprintf(w, "\nTarget: `GET /me/payloadCountsBreakdown` over one year (daily), p50 under %v:\n\n", targetBreakdownP50)
		fmt.Fprintf(w, "| backend | payloads in the year | p50 | p99 | target |\n|---|---:|---:|---:|---|\n")
		for _, b := range r.backends {
			if len(b.seq) < 3 || b.seed == nil {
				fmt.Fprintf(w, "| %s | — | — | — | not measured |\n", label(b.name))
				continue
			}
			s := b.seq[2]
			p50 := benchkit.Percentile(s.latencies, 50)
			verdict := "met"
			switch {
			case s.errors > 0:
				verdict = "**invalid: requests failed**"
			case b.seed.payloads < 50_000_000:
				verdict = fmt.Sprintf("not applicable: fewer than 50M payloads seeded (%s)", map[bool]string{true: "met at this size", false: "missed at this size"}[p50 < targetBreakdownP50])
			case p50 >= targetBreakdownP50:
				verdict = fmt.Sprintf("**missed**: p50 %s ≥ %v", benchkit.Millis(p50), targetBreakdownP50)
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s |\n", label(b.name), b.seed.payloads+b.ingestSent.total(false), benchkit.Millis(p50),
				benchkit.Millis(benchkit.Percentile(s.latencies, 99)), verdict)
		}
	}

	var problems []string
	for _, b := range r.backends {
		if b.err != nil {
			problems = append(problems, fmt.Sprintf("%s: **failed**: %v", label(b.name), b.err))
		}
		for _, x := range []struct {
			what string
			l    *benchkit.LoadResult
		}{{"hello-world", b.hello}, {"ingest", b.ingest}} {
			if x.l == nil {
				continue
			}
			for _, s := range x.l.Samples {
				problems = append(problems, fmt.Sprintf("%s %s: %s", label(b.name), x.what, s))
			}
		}
		if b.state != nil {
			for _, s := range b.state.failures() {
				problems = append(problems, fmt.Sprintf("%s %s", label(b.name), s))
			}
		}
		for _, s := range b.seq {
			for _, e := range s.samples {
				problems = append(problems, fmt.Sprintf("%s %s: %s", label(b.name), s.label, e))
			}
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(w, "\nFailures (first few); the figures they touch are not valid:\n\n")
		for i, p := range problems {
			if i == 12 {
				break
			}
			fmt.Fprintf(w, "- %s\n", strings.ReplaceAll(p, "\n", " "))
		}
		for _, b := range r.backends {
			if len(b.logErrors) > 0 {
				fmt.Fprintf(w, "\n%s server log, last ERROR lines:\n\n```\n%s\n```\n", label(b.name), strings.Join(b.logErrors, "\n"))
			}
		}
	}
	if len(r.backends) < len(c.backends) {
		fmt.Fprintf(w, "\nThe run did not finish; the figures above are incomplete.\n")
	}
}

// printState writes the device-state phase's tables.
func (r *report) printState(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "\n#### Device state: `POST /applications/{applicationId}/devices/{deviceId}/state`, one state a request, %d connections\n\n", c.conns)
	fmt.Fprintf(w, "| backend | hello-world req/s | state req/s | state req/s vs hello | state p50 | state p99 | errors | 200 answers (warm-up + window) | conns opened |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, b := range r.backends {
		st := b.state
		if st == nil || st.load == nil || st.hello == nil {
			fmt.Fprintf(w, "| %s | — | — | — | — | — | not measured | — | — |\n", label(b.name))
			continue
		}
		h, in := st.hello, st.load
		ratio, errs := ratioAndErrors(h, in)
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %s | %s | %s | %s | %d | %d |\n", label(b.name), h.RPS(), in.RPS(), ratio,
			benchkit.Millis(benchkit.Percentile(in.Latencies, 50)), benchkit.Millis(benchkit.Percentile(in.Latencies, 99)), errs, st.answers, in.Dials)
	}
	fmt.Fprintf(w, "\nCPU time in the measured window (from /proc; 10 ms tick), µs per request:\n\n")
	fmt.Fprintf(w, "| backend | accountd | PostgreSQL backends of the bench database | load generator | hello-world server | load generator, per hello request |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|\n")
	for _, b := range r.backends {
		st := b.state
		if st == nil || st.load == nil || st.hello == nil {
			continue
		}
		in, h := st.load, st.hello
		n := int64(in.Reqs + in.Errors)
		db := "—"
		if in.CPU.DB >= 0 && b.name == "postgres" {
			db = perUnit(in.CPU.DB, n)
		}
		hn := int64(h.Reqs + h.Errors)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", label(b.name), perUnit(in.CPU.Server, n), db, perUnit(in.CPU.Client, n),
			perUnit(h.CPU.Server, hn), perUnit(h.CPU.Client, hn))
	}
	var notes []string
	for _, b := range r.backends {
		switch {
		case b.state != nil && b.state.check != "":
			notes = append(notes, fmt.Sprintf("- %s: %s", label(b.name), b.state.check))
		case b.state != nil && b.state.load != nil:
			notes = append(notes, fmt.Sprintf("- %s: **read-back check failed** (see Failures below)", label(b.name)))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(notes, "\n"))
	}
}

// ratioAndErrors renders a load's rate against its hello-world baseline and
// its errors, marked invalid when either run had failures.
func ratioAndErrors(h, in *benchkit.LoadResult) (ratio, errs string) {
	ratio = "—"
	if h.RPS() > 0 {
		ratio = fmt.Sprintf("%.1f%%", 100*in.RPS()/h.RPS())
	}
	errs = fmt.Sprint(in.Errors)
	if in.WarmErrs > 0 {
		errs += fmt.Sprintf(" (+%d in warm-up)", in.WarmErrs)
	}
	if h.Failures() > 0 {
		errs += fmt.Sprintf("; hello-world %d", h.Failures())
	}
	if in.Failures() > 0 || h.Failures() > 0 {
		errs = "**" + errs + ": invalid**"
	}
	return ratio, errs
}
