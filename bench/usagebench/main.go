// Command usagebench measures accountd's usage metering: how many usage
// events a second POST /usage/events records, and how long
// GET /me/payloadCountsBreakdown takes over a year of usage, against a
// plain net/http hello-world server measured in the same run.
//
//	go run ./bench/usagebench [--backends sqlite,postgres] [--duration 10s] [--conns 16]
//
// Like bench/mebench, it builds ./cmd/accountd and ./bench/hello (or takes
// --accountd and --hello), and starts each server as its own process on a
// free loopback port, one backend after the other, each on a fresh database
// (a SQLite file in a temporary directory; a new PostgreSQL database,
// dropped at the end). For each backend it creates a verified user with
// `accountd user create`, logs in, creates --seed-apps applications, and
// then:
//
//  1. ingest: drives hello-world GET / and then POST /usage/events (batches
//     of --batch fresh events, current time, spread over the applications
//     and a mix of payload types) from --conns keep-alive connections for a
//     warm-up and a measured window; events/s counts the events the
//     answers say were recorded;
//  2. state: as a second verified user of its own (so that the ingest
//     phase's deviceState/rest events cannot blur the check), creates
//     --seed-apps applications with one device each, drives hello-world
//     GET / and then POST /applications/{id}/devices/{id}/state (one
//     state a request, round-robin over the devices) from --conns
//     keep-alive connections for a warm-up and a measured window, and
//     checks that GET /me/payloadCounts says deviceState/rest equals the
//     200 answers sent;
//  3. breakdown: seeds --seed-days days of usage through the same endpoint
//     (every hour, every application, two types, count --seed-count each),
//     checks that GET /me/payloadCounts and the breakdowns read back exactly
//     what was recorded, and times GET /me/payloadCountsBreakdown over the
//     year (daily) and over 31 days (hourly), GET /me/payloadCounts over the
//     year, GET /healthz and hello-world GET /, one request at a time on one
//     connection.
//
// The Markdown report goes to stdout, progress to stderr; the exit status
// is non-zero if any request failed or a check did not hold.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

type config struct {
	backends      []string
	postgres      string
	duration      time.Duration
	warmup        time.Duration
	conns         int
	batch         int
	samples       int
	warmSamples   int
	seedApps      int
	seedCount     int
	seedDays      int
	seedBatch     int
	seedConns     int
	skipIngest    bool
	skipBreakdown bool
	skipState     bool
	accountd      string
	hello         string
	maxBody       int64
	timeout       time.Duration
	keepDB        bool
	pgAnalyze     bool
}

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func main() { benchkit.Main("usagebench", parseFlags, run) }

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := benchkit.NewFlags("usagebench")
	pg := os.Getenv("ACCOUNTD_TEST_POSTGRES")
	if pg == "" {
		pg = defaultPostgres
	}
	fs.StringVar(&cfg.postgres, "postgres", pg, "PostgreSQL URL to create the benchmark database on (default $ACCOUNTD_TEST_POSTGRES, else a local trust-auth server)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "ingest and state: measured window")
	fs.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "ingest and state: warm-up before the measured window, same load, not counted")
	fs.IntVar(&cfg.conns, "conns", 16, "ingest and state: concurrent keep-alive connections, one goroutine each (hello-world baseline too)")
	fs.IntVar(&cfg.batch, "batch", 1000, "ingest: events per POST /usage/events")
	fs.IntVar(&cfg.samples, "samples", 200, "breakdown: measured requests of each kind, one at a time")
	fs.IntVar(&cfg.warmSamples, "warmup-samples", 20, "breakdown: requests of each kind sent first, not counted")
	fs.IntVar(&cfg.seedApps, "seed-apps", 100, "applications the user owns; ingest and seed spread over them")
	fs.IntVar(&cfg.seedCount, "seed-count", 30, "seed: payload count of each seeded event")
	fs.IntVar(&cfg.seedDays, "seed-days", 365, "seed: days of hourly usage, ending with the current hour")
	fs.IntVar(&cfg.seedBatch, "seed-batch", 10000, "seed: events per POST /usage/events")
	fs.IntVar(&cfg.seedConns, "seed-conns", 2, "seed: concurrent connections")
	fs.BoolVar(&cfg.skipIngest, "skip-ingest", false, "skip the ingest-rate measurement")
	fs.BoolVar(&cfg.skipBreakdown, "skip-breakdown", false, "skip seeding and the query latencies")
	fs.BoolVar(&cfg.skipState, "skip-state", false, "skip the device-state (POST .../devices/{id}/state) measurement")
	fs.Int64Var(&cfg.maxBody, "max-body", 0, "accountd serve --max-body (default: the server's own default)")
	fs.DurationVar(&cfg.timeout, "timeout", 6*time.Hour, "give up after this long")
	fs.BoolVar(&cfg.pgAnalyze, "pg-analyze", false, "run ANALYZE on the PostgreSQL benchmark database after seeding, as autovacuum would in time")
	fs.BoolVar(&cfg.keepDB, "keep-db", false, "leave the databases for inspection (the PostgreSQL database is not dropped; the SQLite file stays); their names go to stderr")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.backends, cfg.accountd, cfg.hello = fs.Backends, fs.Accountd, fs.Hello
	switch {
	case cfg.skipIngest && cfg.skipBreakdown && cfg.skipState:
		return cfg, errors.New("--skip-ingest, --skip-breakdown and --skip-state leave nothing to measure")
	case cfg.conns < 1 || cfg.conns > 1024:
		return cfg, errors.New("--conns must be 1 to 1024")
	case cfg.duration < time.Second || cfg.duration > 10*time.Minute:
		return cfg, errors.New("--duration must be 1s to 10m")
	case cfg.warmup < 0 || cfg.warmup > time.Minute:
		return cfg, errors.New("--warmup must be 0 to 1m")
	case cfg.batch < 1 || cfg.batch > 10000:
		return cfg, errors.New("--batch must be 1 to 10000 (the endpoint's limit)")
	case cfg.seedBatch < 1 || cfg.seedBatch > 10000:
		return cfg, errors.New("--seed-batch must be 1 to 10000 (the endpoint's limit)")
	case cfg.samples < 1 || cfg.samples > 100000 || cfg.warmSamples < 0:
		return cfg, errors.New("--samples must be 1 to 100000, --warmup-samples at least 0")
	case cfg.seedApps < 1 || cfg.seedApps > 10000:
		return cfg, errors.New("--seed-apps must be 1 to 10000")
	case cfg.seedCount < 1:
		return cfg, errors.New("--seed-count must be at least 1")
	case cfg.seedDays < 1 || cfg.seedDays > 365:
		return cfg, errors.New("--seed-days must be 1 to 365 (queries cover at most 366 days)")
	case cfg.seedConns < 1 || cfg.seedConns > 64:
		return cfg, errors.New("--seed-conns must be 1 to 64")
	}
	return cfg, nil
}

const (
	benchEmail    = "usagebench@example.com"
	benchPassword = "Bench-Passw0rd!"
)

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "usagebench: "+format+"\n", args...)
}

// backendResult is everything measured on one backend.
type backendResult struct {
	name       string
	hello      *benchkit.LoadResult // hello-world GET / baseline for ingest
	ingest     *benchkit.LoadResult
	ingestSent tally
	state      *stateResult
	plan       *seedPlan
	seed       *seedResult
	dbSize     string
	verified   []string
	seq        []seqResult
	err        error
	logErrors  []string // the server's last ERROR log lines, when something failed
}

func run(ctx context.Context, cfg config) (benchkit.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	tmp, err := os.MkdirTemp("", "usagebench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	accountdBin, err := benchkit.Binary(ctx, cfg.accountd, "./cmd/accountd", tmp, "accountd", progress)
	if err != nil {
		return nil, err
	}
	helloBin, err := benchkit.Binary(ctx, cfg.hello, "./bench/hello", tmp, "hello", progress)
	if err != nil {
		return nil, err
	}

	hello, err := benchkit.StartServer(ctx, "hello", helloBin, []string{"--addr", "127.0.0.1:0"}, benchkit.ChildEnv(),
		filepath.Join(tmp, "hello.log"), benchkit.HelloAddr)
	if err != nil {
		return nil, err
	}
	defer hello.Stop()
	if err := benchkit.CheckHello(ctx, hello.Addr); err != nil {
		return nil, err
	}

	rep := newReport(cfg)
	for _, backend := range cfg.backends {
		res := runBackend(ctx, cfg, backend, accountdBin, hello, tmp)
		rep.backends = append(rep.backends, res)
		if res.err != nil {
			progress("%s: %v", backend, res.err)
		}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	return rep, nil
}

// clean says whether every request measured succeeded.
func (b *backendResult) clean() bool {
	ls := []*benchkit.LoadResult{b.hello, b.ingest}
	if b.state != nil {
		ls = append(ls, b.state.hello, b.state.load)
	}
	for _, l := range ls {
		if l != nil && l.Failures() > 0 {
			return false
		}
	}
	for _, s := range b.seq {
		if s.errors > 0 {
			return false
		}
	}
	return true
}

// usageKey makes a random usage key, as `accountd usage keygen` does
// ("auk_" and 32 random bytes in unpadded base64url), and writes its
// keys-file line.
func usageKey(path string) (string, error) {
	var b [32]byte
	rand.Read(b[:])
	key := "auk_" + base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(key))
	return key, os.WriteFile(path, []byte("bench "+hex.EncodeToString(sum[:])+"\n"), 0o600)
}

func runBackend(ctx context.Context, cfg config, backend, bin string, hello *benchkit.Server, tmp string) (res *backendResult) {
	res = &backendResult{name: backend}
	fail := func(err error) *backendResult { res.err = err; return res }

	key, err := benchkit.RunTool(ctx, bin, "keys", "generate")
	if err != nil {
		return fail(err)
	}
	keysFile := filepath.Join(tmp, backend+"-usage-keys")
	usage, err := usageKey(keysFile)
	if err != nil {
		return fail(err)
	}
	var db, pgName string
	if backend == "postgres" {
		name, dsn, drop, err := benchkit.PGDatabase(ctx, cfg.postgres, "accountd_usagebench_")
		if err != nil {
			return fail(err)
		}
		defer func() {
			if cfg.keepDB {
				progress("postgres: --keep-db: left database %s; drop it with: psql -c 'DROP DATABASE %s'", name, name)
				return
			}
			if err := drop(); err != nil {
				progress("%v", err)
			} else {
				progress("postgres: dropped the benchmark database")
			}
		}()
		progress("postgres: created database %s", name)
		db, pgName = dsn, name
	} else {
		db = filepath.Join(tmp, "usagebench.db")
		if cfg.keepDB {
			dir, err := os.MkdirTemp("", "usagebench-db-")
			if err != nil {
				return fail(err)
			}
			db = filepath.Join(dir, "usagebench.db")
			progress("sqlite: --keep-db: the database is %s", db)
		}
		defer func() {
			if cfg.keepDB {
				return
			}
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(db + suffix)
			}
		}()
	}
	if _, err := benchkit.RunTool(ctx, bin, "user", "create", "--db", db,
		"--email", benchEmail, "--password", benchPassword, "--first-name", "Bench", "--verified"); err != nil {
		return fail(err)
	}
	if !cfg.skipState {
		if _, err := benchkit.RunTool(ctx, bin, "user", "create", "--db", db,
			"--email", stateEmail, "--password", statePassword, "--first-name", "State", "--verified"); err != nil {
			return fail(err)
		}
	}
	addr, err := benchkit.FreePort()
	if err != nil {
		return fail(err)
	}
	args := []string{"serve", "--addr", addr, "--db", db, "--keys", key, "--usage-keys-file", keysFile}
	if cfg.maxBody > 0 {
		args = append(args, "--max-body", fmt.Sprint(cfg.maxBody))
	}
	srv, err := benchkit.StartServer(ctx, backend, bin, args, benchkit.ChildEnv(), filepath.Join(tmp, backend+".log"), benchkit.Readyz(addr))
	if err != nil {
		return fail(err)
	}
	defer srv.Stop()
	defer func() {
		if res.err != nil || !res.clean() {
			res.logErrors = srv.ErrorLines(5)
			for _, l := range res.logErrors {
				progress("%s: server log: %s", backend, l)
			}
		}
	}()
	token, err := benchkit.Login(ctx, srv.Addr, benchEmail, benchPassword)
	if err != nil {
		return fail(err)
	}
	apps, err := createApps(ctx, srv.Addr, token, cfg.seedApps, "usagebench app")
	if err != nil {
		return fail(err)
	}
	progress("%s: accountd listening on %s; user created, logged in, %d applications created", backend, srv.Addr, len(apps))

	pid, hpid := srv.Cmd.Process.Pid, hello.Cmd.Process.Pid
	cpu := func() benchkit.CPUUsage {
		u := benchkit.CPUUsage{Server: benchkit.PidCPU(pid), DB: -1, Client: benchkit.SelfCPU()}
		if pgName != "" {
			u.DB = benchkit.PostgresCPU(pgName)
		}
		return u
	}
	helloCPU := func() benchkit.CPUUsage {
		return benchkit.CPUUsage{Server: benchkit.PidCPU(hpid), DB: -1, Client: benchkit.SelfCPU()}
	}
	ingestURL := "http://" + srv.Addr + "/usage/events"
	var run [4]byte
	rand.Read(run[:])
	runID := hex.EncodeToString(run[:])

	// 1. Ingest rate, after the same run's hello-world baseline.
	ingestExact := true
	res.ingestSent = tally{}
	if !cfg.skipIngest {
		spec := benchkit.LoadSpec{Conns: cfg.conns, Warmup: cfg.warmup, Measure: cfg.duration, Grace: time.Minute}
		progress("%s: hello-world GET /, %d connections, %v warm-up + %v", backend, cfg.conns, cfg.warmup, cfg.duration)
		h, err := benchkit.Drive(ctx, spec, benchkit.Get("http://"+hello.Addr+"/", http.Header{}), helloCPU)
		if err != nil {
			return fail(err)
		}
		res.hello = &h
		progress("  %.0f req/s, p50 %s, %d errors", h.RPS(), benchkit.Millis(benchkit.Percentile(h.Latencies, 50)), h.Failures())
		time.Sleep(500 * time.Millisecond)

		in := &ingest{url: ingestURL, key: usage, apps: apps, batch: cfg.batch, run: runID, sent: tally{}}
		progress("%s: POST /usage/events, batches of %d, %d connections, %v warm-up + %v", backend, cfg.batch, cfg.conns, cfg.warmup, cfg.duration)
		r, err := benchkit.Drive(ctx, spec, in.worker, cpu)
		if err != nil {
			return fail(err)
		}
		res.ingest = &r
		res.ingestSent = in.sent
		ingestExact = r.Failures() == 0
		progress("  %.0f req/s, %.0f events/s recorded, p50 %s, %d errors", r.RPS(), r.UPS(),
			benchkit.Millis(benchkit.Percentile(r.Latencies, 50)), r.Failures())
		for _, s := range r.Samples {
			progress("  failure: %s", s)
		}
		if !srv.Alive() {
			return fail(fmt.Errorf("accountd exited: %v\n%s", srv.ExitErr(), srv.LogTail()))
		}
		time.Sleep(500 * time.Millisecond)
	}

	// 2. Device state, as a user of its own, after its own hello-world
	// baseline.
	if !cfg.skipState {
		st, err := runState(ctx, cfg, backend, srv, hello, cpu, helloCPU)
		res.state = st
		if err != nil {
			return fail(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if cfg.skipBreakdown {
		return res
	}

	// 3. Seed a year, check it reads back, time the queries.
	plan := newSeedPlan(apps, cfg.seedDays, cfg.seedCount, cfg.seedBatch, runID, time.Now())
	res.plan = &plan
	progress("%s: seeding %d hours × %d applications × %d types = %d events, count %d each = %d payloads, in %d batches of %d from %d connections",
		backend, plan.hours, len(apps), len(seedTypes), plan.events(), plan.count, plan.payloads(), plan.batches(), plan.batch, cfg.seedConns)
	sr, err := seed(ctx, plan, ingestURL, usage, cfg.seedConns, backend, cpu)
	res.seed = &sr
	progress("%s: seeded %d events (%d payloads) in %v: %.0f events/s, %.0f payloads/s, %d retries",
		backend, sr.events, sr.payloads, sr.elapsed.Round(time.Second), float64(sr.events)/sr.elapsed.Seconds(),
		float64(sr.payloads)/sr.elapsed.Seconds(), sr.retries)
	res.dbSize = dbSize(ctx, cfg.postgres, db, pgName)
	if err != nil {
		return fail(err)
	}
	if cfg.pgAnalyze && pgName != "" {
		if err := pgAnalyze(ctx, db); err != nil {
			return fail(err)
		}
		progress("postgres: ANALYZE done")
	}
	notes, err := verify(ctx, srv.Addr, token, plan, res.ingestSent, ingestExact)
	res.verified = notes
	for _, n := range notes {
		progress("%s: checked: %s", backend, n)
	}
	if err != nil {
		return fail(err)
	}

	auth := http.Header{"Authorization": {"Bearer " + token}}
	type query struct {
		label  string
		url    func() string
		header http.Header
		check  func([]byte) error
		cpu    func() benchkit.CPUUsage
	}
	queries := []query{
		{"hello-world `GET /`", func() string { return "http://" + hello.Addr + "/" }, http.Header{}, nil, helloCPU},
		{"accountd `GET /healthz`", func() string { return "http://" + srv.Addr + "/healthz" }, http.Header{}, nil, cpu},
		{"`GET /me/payloadCountsBreakdown`, 365 days, daily", func() string {
			now := time.Now()
			return breakdownURL(srv.Addr, now.Add(-year), now, day)
		}, auth, checkBuckets(366), cpu},
		{"`GET /me/payloadCountsBreakdown`, 31 days, hourly", func() string {
			now := time.Now()
			return breakdownURL(srv.Addr, now.Add(-31*day), now, time.Hour)
		}, auth, checkBuckets(31*24 + 1), cpu},
		{"`GET /me/payloadCounts`, 365 days", func() string {
			now := time.Now()
			return countsURL(srv.Addr, now.Add(-year), now)
		}, auth, nil, cpu},
	}
	for _, q := range queries {
		progress("%s: %s, %d + %d requests, one at a time", backend, q.label, cfg.warmSamples, cfg.samples)
		r, err := sequential(ctx, q.label, q.url, q.header, cfg.warmSamples, cfg.samples, q.check, q.cpu)
		if err != nil {
			return fail(err)
		}
		res.seq = append(res.seq, r)
		progress("  p50 %s, p90 %s, p99 %s, %d errors", benchkit.Millis(benchkit.Percentile(r.latencies, 50)),
			benchkit.Millis(benchkit.Percentile(r.latencies, 90)), benchkit.Millis(benchkit.Percentile(r.latencies, 99)), r.errors)
		for _, s := range r.samples {
			progress("  failure: %s", s)
		}
	}
	if !srv.Alive() {
		return fail(fmt.Errorf("accountd exited: %v\n%s", srv.ExitErr(), srv.LogTail()))
	}
	return res
}

// dbSize describes the database's size on disk after seeding.
func dbSize(ctx context.Context, base, file, pgName string) string {
	if pgName == "" {
		var n int64
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if st, err := os.Stat(file + suffix); err == nil {
				n += st.Size()
			}
		}
		return fmt.Sprintf("%.0f MB (file, WAL and shm)", float64(n)/1e6)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "?"
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(ctx, "SELECT pg_database_size($1)", pgName).Scan(&n); err != nil {
		return "?"
	}
	return fmt.Sprintf("%.0f MB (pg_database_size)", float64(n)/1e6)
}

// pgAnalyze runs ANALYZE on the database dsn names.
func pgAnalyze(ctx context.Context, dsn string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connecting to ANALYZE: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("ANALYZE: %w", err)
	}
	return nil
}
