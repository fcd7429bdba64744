// Command mebench measures GET /me on accountd against a plain net/http
// hello-world server, in the same run on the same machine, so the figures
// are ratios that survive a noisy or shared host.
//
//	go run ./bench/mebench [--backends sqlite,postgres] [--rounds 3] [--duration 10s]
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
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
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
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mebench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg)
	if rep != nil {
		rep.print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mebench:", err)
		os.Exit(1)
	}
	if !rep.valid() {
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("mebench", flag.ContinueOnError)
	backends := fs.String("backends", "sqlite,postgres", "accountd backends to measure, comma-separated: sqlite, postgres")
	fs.StringVar(&cfg.postgres, "postgres", os.Getenv("ACCOUNTD_TEST_POSTGRES"), "PostgreSQL URL to create the benchmark database on (default $ACCOUNTD_TEST_POSTGRES)")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds; each measures hello-world, then every backend")
	fs.IntVar(&cfg.conns, "conns", 64, "concurrent keep-alive connections, one goroutine each")
	fs.Float64Var(&cfg.rate, "rate", 0, "pace the load to this many requests a second in all, open loop (default: as fast as the server answers)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured window of each run")
	fs.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "warm-up before each measured window, same load, not counted")
	fs.StringVar(&cfg.accountd, "accountd", "", "prebuilt accountd binary (default: go build ./cmd/accountd)")
	fs.StringVar(&cfg.hello, "hello", "", "prebuilt hello binary (default: go build ./bench/hello)")
	fs.StringVar(&cfg.logLevel, "log-level", "", "accountd serve --log-level (default: the server's own default)")
	fs.StringVar(&cfg.mePath, "path", "/me", "accountd request path, for experiments such as /me?summaryExclude=apiTokenCount")
	// Hidden: profile the servers under the same load. accountd is then
	// built from ./bench/profserve (accountd's main plus a profiler the
	// benchmark switches on for each measured window only).
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./bench/mebench [flags]")
		fs.VisitAll(func(f *flag.Flag) {
			switch {
			case f.Usage == "":
			case f.DefValue == "":
				fmt.Fprintf(fs.Output(), "  --%s\n    \t%s\n", f.Name, f.Usage)
			default:
				fmt.Fprintf(fs.Output(), "  --%s (default %s)\n    \t%s\n", f.Name, f.DefValue, f.Usage)
			}
		})
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	for _, b := range strings.Split(*backends, ",") {
		b = strings.TrimSpace(b)
		switch {
		case b == "":
		case b != "sqlite" && b != "postgres":
			return cfg, fmt.Errorf("--backends: %q is not sqlite or postgres", b)
		case !slices.Contains(cfg.backends, b):
			cfg.backends = append(cfg.backends, b)
		}
	}
	switch {
	case len(cfg.backends) == 0:
		return cfg, errors.New("--backends: name at least one")
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
	}
	return cfg, nil
}

// target is one server and the request the benchmark sends it.
type target struct {
	name   string // hello, sqlite, postgres
	srv    *server
	path   string
	header http.Header
	cpu    func() cpuUsage
}

const (
	benchEmail    = "bench@example.com"
	benchPassword = "Bench-Passw0rd!"
)

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mebench: "+format+"\n", args...)
}

func run(ctx context.Context, cfg config) (*report, error) {
	tmp, err := os.MkdirTemp("", "mebench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	// Binaries.
	bctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	accountdBin, helloBin := cfg.accountd, cfg.hello
	var root string
	if accountdBin == "" || helloBin == "" || cfg.cpuprofile != "" {
		if root, err = moduleRoot(bctx); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.cpuprofile != "":
		progress("building ./bench/profserve (accountd with a switchable CPU profiler)")
		if accountdBin, err = goBuild(bctx, root, "./bench/profserve", tmp, "accountd"); err != nil {
			return nil, err
		}
	case accountdBin == "":
		progress("building ./cmd/accountd")
		if accountdBin, err = goBuild(bctx, root, "./cmd/accountd", tmp, "accountd"); err != nil {
			return nil, err
		}
	}
	if helloBin == "" {
		progress("building ./bench/hello")
		if helloBin, err = goBuild(bctx, root, "./bench/hello", tmp, "hello"); err != nil {
			return nil, err
		}
	}
	cancel()

	// Every run is bounded: setup, the runs themselves, and slack.
	perRun := cfg.warmup + cfg.duration + 20*time.Second
	ctx, cancel = context.WithTimeout(ctx, 5*time.Minute+time.Duration(cfg.rounds*(1+len(cfg.backends)))*perRun)
	defer cancel()

	// Cleanup stops the servers first, then drops what they used.
	var servers []*server
	var drops []func() error
	defer func() {
		for _, s := range servers {
			s.stop()
		}
		for _, drop := range drops {
			if err := drop(); err != nil {
				progress("%v", err)
			} else {
				progress("postgres: dropped the benchmark database")
			}
		}
	}()

	helloSrv, err := startServer(ctx, "hello", helloBin, []string{"--addr", "127.0.0.1:0"}, childEnv(),
		filepath.Join(tmp, "hello.log"), helloAddr)
	if err != nil {
		return nil, err
	}
	servers = append(servers, helloSrv)
	if err := checkHello(ctx, helloSrv.addr); err != nil {
		return nil, err
	}
	pid := helloSrv.cmd.Process.Pid
	targets := []*target{{name: "hello", srv: helloSrv, path: "/", header: http.Header{},
		cpu: func() cpuUsage { return cpuUsage{server: pidCPU(pid), db: -1, client: selfCPU()} }}}

	profiles := map[string][]string{}
	var meDesc string
	for _, backend := range cfg.backends {
		// Signing keys are given on the command line for both backends, so
		// both start the same way (PostgreSQL requires it anyway).
		key, err := runTool(ctx, accountdBin, "keys", "generate")
		if err != nil {
			return nil, err
		}
		keyArgs := []string{"--keys", key}
		var db, pgName string
		if backend == "postgres" {
			name, dsn, drop, err := pgDatabase(ctx, cfg.postgres)
			if err != nil {
				return nil, err
			}
			drops = append(drops, drop)
			pgName = name
			progress("postgres: created a fresh database for this run")
			db = dsn
		} else {
			db = filepath.Join(tmp, "bench.db")
		}
		if _, err := runTool(ctx, accountdBin, "user", "create", "--db", db,
			"--email", benchEmail, "--password", benchPassword, "--first-name", "Bench", "--verified"); err != nil {
			return nil, err
		}
		addr, err := freePort()
		if err != nil {
			return nil, err
		}
		args := append([]string{"serve", "--addr", addr, "--db", db}, keyArgs...)
		if cfg.logLevel != "" {
			args = append(args, "--log-level", cfg.logLevel)
		}
		env := childEnv()
		if cfg.cpuprofile != "" {
			prefix := cfg.cpuprofile + "-" + backend
			env = append(env, "MEBENCH_CPUPROFILE="+prefix)
			for r := 1; r <= cfg.rounds; r++ {
				profiles[backend] = append(profiles[backend], fmt.Sprintf("%s-r%d.pprof", prefix, r))
			}
		}
		srv, err := startServer(ctx, backend, accountdBin, args, env, filepath.Join(tmp, backend+".log"), readyz(addr))
		if err != nil {
			return nil, err
		}
		servers = append(servers, srv)
		token, err := login(ctx, srv.addr, benchEmail, benchPassword)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", backend, err)
		}
		if meDesc, err = checkMe(ctx, srv.addr, cfg.mePath, token, benchEmail); err != nil {
			return nil, fmt.Errorf("%s: %w", backend, err)
		}
		progress("%s: accountd listening on %s, user created, logged in", backend, srv.addr)
		pid := srv.cmd.Process.Pid
		targets = append(targets, &target{
			name: backend, srv: srv, path: cfg.mePath,
			header: http.Header{"Authorization": {"Bearer " + token}},
			cpu: func() cpuUsage {
				u := cpuUsage{server: pidCPU(pid), db: -1, client: selfCPU()}
				if pgName != "" {
					u.db = postgresCPU(pgName)
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
			if !t.srv.alive() {
				return rep, fmt.Errorf("%s server exited: %v\n%s", t.name, t.srv.waitErr, t.srv.logTail())
			}
			spec := loadSpec{
				url: "http://" + t.srv.addr + t.path, header: t.header, conns: cfg.conns, rate: cfg.rate,
				warmup: cfg.warmup, measure: cfg.duration,
			}
			if cfg.cpuprofile != "" && t.name != "hello" {
				proc := t.srv.cmd.Process
				spec.onMeasure = func(start bool) {
					if start {
						proc.Signal(syscall.SIGUSR1)
					} else {
						proc.Signal(syscall.SIGUSR2)
					}
				}
			}
			progress("round %d/%d: %s GET %s, %d connections, %v warm-up + %v", round, cfg.rounds, t.name, t.path,
				cfg.conns, cfg.warmup, cfg.duration)
			res, err := drive(ctx, spec, t.cpu)
			if err != nil {
				return rep, err
			}
			rep.add(round, t.name, res)
			progress("  %.0f req/s, p50 %s, p99 %s, %d errors", res.rps(), ms(percentile(res.latencies, 50)),
				ms(percentile(res.latencies, 99)), res.errors+res.warmErrs)
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
	for _, s := range servers {
		s.stop()
	}
	return rep, nil
}

// machine describes where the run happened.
func machine() string {
	model := ""
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	s := fmt.Sprintf("nproc %d (GOMAXPROCS %d), %s/%s, %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if model != "" {
		s += ", CPU " + model
	}
	return s
}
