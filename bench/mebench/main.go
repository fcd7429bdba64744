// Command mebench measures GET /me on accountd against a plain net/http
// hello-world server, in the same run on the same machine, so the figures
// are ratios that survive a noisy or shared host.
//
//	go run ./bench/mebench [--backends sqlite,postgres] [--rounds 3] [--duration 10s]
//	go run ./bench/mebench --login-flood 64 [--rate 200]   (GET /me during a login flood; flood.go)
//	go run ./bench/mebench --users 10000 [--tokens-per-user 10] [--list-users N --list-tokens 20]
//
// The third form is the many-users mode (scale.go): it uses every token
// once before the first round (--prewarm), starts accountd with
// --metrics-addr and reports each cache's hit ratio over every measured
// window, the collections in it, and the caches' fill at the end.
//
// It builds ./cmd/accountd and ./bench/hello into a temporary directory
// (or takes --accountd and --hello binaries), starts each as its own
// process on a free loopback port, creates a user with `accountd user
// create` on a fresh database (a SQLite file in the temporary directory; a
// new PostgreSQL database, dropped at the end), logs in for a token, and
// then, round after round, drives hello-world GET / and each backend's
// GET /me from exactly --conns keep-alive connections, one goroutine each,
// for a warm-up and a measured window. It prints a Markdown report on
// stdout; progress goes to stderr. Any failed request is reported, and a
// figure with errors is marked invalid.
//
// The load generator shares the machine with the servers (and PostgreSQL),
// so it is kept cheap: one reused request per connection, no per-request
// timers, bodies discarded.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

type config struct {
	backends   []string
	postgres   string
	rounds     int
	conns      int
	rate       float64
	duration   time.Duration
	warmup     time.Duration
	accountd   string
	hello      string
	logLevel   string
	mePath     string
	cpuprofile string
	flood      int     // login-flood mode (flood.go): connections flooding logins; 0 is off
	floodRate  float64 // their logins a second in all
	// many-users mode (scale.go), on when users > 0
	users, tokensPer, listUsers, listTokens int
	prewarm                                 bool
}

func main() { benchkit.Main("mebench", parseFlags, run) }

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := benchkit.NewFlags("mebench")
	fs.StringVar(&cfg.postgres, "postgres", os.Getenv("ACCOUNTD_TEST_POSTGRES"), "PostgreSQL URL to create the benchmark database on (default $ACCOUNTD_TEST_POSTGRES)")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds; each measures hello-world, then every backend")
	fs.IntVar(&cfg.conns, "conns", 64, "concurrent keep-alive connections, one goroutine each")
	fs.Float64Var(&cfg.rate, "rate", 0, "pace the load to this many requests a second in all, open loop (default: as fast as the server answers)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured window of each run")
	fs.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "warm-up before each measured window, same load, not counted")
	fs.StringVar(&cfg.logLevel, "log-level", "", "accountd serve --log-level (default: the server's own default)")
	fs.StringVar(&cfg.mePath, "path", "/me", "accountd request path, for experiments such as /me?summaryExclude=apiTokenCount")
	fs.Float64Var(&cfg.floodRate, "login-flood-rate", 400, "login-flood mode: wrong-password logins a second in all, open loop")
	fs.IntVar(&cfg.flood, "login-flood", 0, "login-flood mode: GET /me (paced, --rate default 200) alone and during a flood of wrong-password logins from this many connections (see flood.go)")
	fs.IntVar(&cfg.users, "users", 0, "many-users mode: seed this many users and draw a token at random per request, for GET /me and GET /me/tokens (default: one user, GET /me)")
	fs.IntVar(&cfg.tokensPer, "tokens-per-user", 10, "many-users mode: API tokens per user")
	fs.IntVar(&cfg.listUsers, "list-users", 0, "many-users mode: how many of the users have --list-tokens tokens instead, for GET /me/tokens (default: a tenth of --users)")
	fs.BoolVar(&cfg.prewarm, "prewarm", true, "many-users mode: before the rounds, use every token once for GET /me, so the caches start as warm as their budget lets them be (not only as warm as the warm-up's random draws make them)")
	fs.IntVar(&cfg.listTokens, "list-tokens", 20, "many-users mode: API tokens of each of the --list-users users")
	// Hidden: profile the servers under the same load. accountd is then
	// built from ./bench/profserve (accountd's main plus a profiler the
	// benchmark switches on for each measured window only).
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.backends, cfg.accountd, cfg.hello = fs.Backends, fs.Accountd, fs.Hello
	if cfg.listUsers == 0 {
		cfg.listUsers = max(1, cfg.users/10)
	}
	switch {
	case slices.Contains(cfg.backends, "postgres") && cfg.postgres == "":
		return cfg, errors.New("postgres backend: set --postgres or ACCOUNTD_TEST_POSTGRES (or --backends sqlite)")
	case cfg.rounds < 1 || cfg.rounds > 20:
		return cfg, errors.New("--rounds must be 1 to 20")
	case cfg.conns < 1 || cfg.conns > 1024:
		return cfg, errors.New("--conns must be 1 to 1024")
	case cfg.duration < time.Second || cfg.duration > 5*time.Minute:
		return cfg, errors.New("--duration must be 1s to 5m")
	case !strings.HasPrefix(cfg.mePath, "/me"):
		return cfg, errors.New("--path must be a GET /me path")
	case cfg.warmup < 0 || cfg.warmup > time.Minute:
		return cfg, errors.New("--warmup must be 0 to 1m")
	case cfg.flood < 0 || cfg.flood > 1024:
		return cfg, errors.New("--login-flood must be 0 to 1024")
	case cfg.users < 0 || cfg.users > 1_000_000:
		return cfg, errors.New("--users must be 0 to 1000000")
	case cfg.users > 0 && (cfg.tokensPer < 1 || cfg.tokensPer > 100 || cfg.listTokens < 1 || cfg.listTokens > 100):
		return cfg, errors.New("--tokens-per-user and --list-tokens must be 1 to 100")
	case cfg.users > 0 && (cfg.listUsers < 1 || cfg.listUsers > cfg.users):
		return cfg, errors.New("--list-users must be 1 to --users")
	case cfg.floodRate <= 0:
		return cfg, errors.New("--login-flood-rate must be positive")
	}
	return cfg, nil
}

// target is one server and the request the benchmark sends it.
type target struct {
	name   string // hello, sqlite, postgres
	srv    *benchkit.Server
	path   string
	header http.Header
	cpu    func() benchkit.CPUUsage
}

const (
	benchEmail    = "bench@example.com"
	benchPassword = "Bench-Passw0rd!"
)

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mebench: "+format+"\n", args...)
}

func run(ctx context.Context, cfg config) (benchkit.Report, error) {
	if cfg.flood > 0 {
		return runFlood(ctx, cfg)
	}
	if cfg.users > 0 {
		return runScale(ctx, cfg)
	}
	tmp, err := os.MkdirTemp("", "mebench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	// Binaries.
	bctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	accountdBin, accountdPkg := cfg.accountd, "./cmd/accountd"
	if cfg.cpuprofile != "" {
		// accountd with a switchable CPU profiler, whatever --accountd says
		accountdBin, accountdPkg = "", "./bench/profserve"
	}
	accountdBin, err = benchkit.Binary(bctx, accountdBin, accountdPkg, tmp, "accountd", progress)
	if err != nil {
		return nil, err
	}
	helloBin, err := benchkit.Binary(bctx, cfg.hello, "./bench/hello", tmp, "hello", progress)
	if err != nil {
		return nil, err
	}
	cancel()

	// Every run is bounded: setup, the runs themselves, and slack.
	perRun := cfg.warmup + cfg.duration + 20*time.Second
	ctx, cancel = context.WithTimeout(ctx, 5*time.Minute+time.Duration(cfg.rounds*(1+len(cfg.backends)))*perRun)
	defer cancel()

	var f fleet
	defer f.close()

	helloSrv, err := f.startHello(ctx, helloBin, tmp)
	if err != nil {
		return nil, err
	}
	pid := helloSrv.Cmd.Process.Pid
	targets := []*target{{name: "hello", srv: helloSrv, path: "/", header: http.Header{},
		cpu: func() benchkit.CPUUsage {
			return benchkit.CPUUsage{Server: benchkit.PidCPU(pid), DB: -1, Client: benchkit.SelfCPU()}
		}}}

	profiles := map[string][]string{}
	var meDesc string
	for _, backend := range cfg.backends {
		// Signing keys are given on the command line for both backends, so
		// both start the same way (PostgreSQL requires it anyway).
		key, err := benchkit.RunTool(ctx, accountdBin, "keys", "generate")
		if err != nil {
			return nil, err
		}
		keyArgs := []string{"--keys", key}
		var db, pgName string
		if backend == "postgres" {
			name, dsn, drop, err := benchkit.PGDatabase(ctx, cfg.postgres, "accountd_bench_")
			if err != nil {
				return nil, err
			}
			f.drops = append(f.drops, drop)
			pgName = name
			progress("postgres: created a fresh database for this run")
			db = dsn
		} else {
			db = filepath.Join(tmp, "bench.db")
		}
		if _, err := benchkit.RunTool(ctx, accountdBin, "user", "create", "--db", db,
			"--email", benchEmail, "--password", benchPassword, "--first-name", "Bench", "--verified"); err != nil {
			return nil, err
		}
		addr, err := benchkit.FreePort()
		if err != nil {
			return nil, err
		}
		args := append([]string{"serve", "--addr", addr, "--db", db}, keyArgs...)
		if cfg.logLevel != "" {
			args = append(args, "--log-level", cfg.logLevel)
		}
		env := benchkit.ChildEnv()
		if cfg.cpuprofile != "" {
			prefix := cfg.cpuprofile + "-" + backend
			env = append(env, "MEBENCH_CPUPROFILE="+prefix)
			for r := 1; r <= cfg.rounds; r++ {
				profiles[backend] = append(profiles[backend], fmt.Sprintf("%s-r%d.pprof", prefix, r))
			}
		}
		srv, err := benchkit.StartServer(ctx, backend, accountdBin, args, env, filepath.Join(tmp, backend+".log"), benchkit.Readyz(addr))
		if err != nil {
			return nil, err
		}
		f.servers = append(f.servers, srv)
		token, err := benchkit.Login(ctx, srv.Addr, benchEmail, benchPassword)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", backend, err)
		}
		if meDesc, err = checkMe(ctx, srv.Addr, cfg.mePath, token, benchEmail); err != nil {
			return nil, fmt.Errorf("%s: %w", backend, err)
		}
		progress("%s: accountd listening on %s, user created, logged in", backend, srv.Addr)
		pid := srv.Cmd.Process.Pid
		targets = append(targets, &target{
			name: backend, srv: srv, path: cfg.mePath,
			header: http.Header{"Authorization": {"Bearer " + token}},
			cpu: func() benchkit.CPUUsage {
				u := benchkit.CPUUsage{Server: benchkit.PidCPU(pid), DB: -1, Client: benchkit.SelfCPU()}
				if pgName != "" {
					u.DB = benchkit.PostgresCPU(pgName)
				}
				return u
			},
		})
	}

	rep := newReport(cfg)
	rep.me = meDesc
	rep.profiles = profiles
	for round := 1; round <= cfg.rounds; round++ {
		for _, t := range targets {
			if !t.srv.Alive() {
				return rep, fmt.Errorf("%s server exited: %v\n%s", t.name, t.srv.ExitErr(), t.srv.LogTail())
			}
			spec := benchkit.LoadSpec{Conns: cfg.conns, Rate: cfg.rate, Warmup: cfg.warmup, Measure: cfg.duration}
			if cfg.cpuprofile != "" && t.name != "hello" {
				proc := t.srv.Cmd.Process
				spec.OnMeasure = func(start bool) {
					if start {
						proc.Signal(syscall.SIGUSR1)
					} else {
						proc.Signal(syscall.SIGUSR2)
					}
				}
			}
			progress("round %d/%d: %s GET %s, %d connections, %v warm-up + %v", round, cfg.rounds, t.name, t.path,
				cfg.conns, cfg.warmup, cfg.duration)
			res, err := benchkit.Drive(ctx, spec, benchkit.Get("http://"+t.srv.Addr+t.path, t.header), t.cpu)
			if err != nil {
				return rep, err
			}
			rep.add(round, t.name, res)
			progress("  %.0f req/s, p50 %s, p99 %s, %d errors", res.RPS(), benchkit.Millis(benchkit.Percentile(res.Latencies, 50)),
				benchkit.Millis(benchkit.Percentile(res.Latencies, 99)), res.Failures())
			// Let connections close and the servers go idle between runs.
			select {
			case <-time.After(500 * time.Millisecond):
			case <-ctx.Done():
				return rep, ctx.Err()
			}
		}
	}
	// Stop the servers now, so profiles are written before the report
	// names them.
	f.stopServers()
	return rep, nil
}

// checkMe makes sure GET path answers 200 with the benchmark user, and
// describes the answer: its size and the summary counts it carries (what
// the server computes for every request).
func checkMe(ctx context.Context, addr, path, token, email string) (string, error) {
	var raw json.RawMessage
	if err := benchkit.Call(ctx, http.MethodGet, "http://"+addr+path, token, nil, &raw); err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	var me struct {
		Email   string         `json:"email"`
		Summary map[string]any `json:"summary"`
	}
	if err := json.Unmarshal(raw, &me); err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	if me.Email != email {
		return "", fmt.Errorf("GET %s: email %q, want %q", path, me.Email, email)
	}
	keys := slices.Sorted(maps.Keys(me.Summary))
	if len(keys) == 0 {
		keys = []string{"none"}
	}
	return fmt.Sprintf("200 with a %d-byte JSON body; summary counts: %s", len(raw), strings.Join(keys, ", ")), nil
}
