package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/accountd/accountd/console"
	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
	"github.com/spf13/cobra"
)

var randReader io.Reader = rand.Reader

type serveFlags struct {
	dbFlags
	addr              string
	logLevel          string
	logFormat         string
	sessionTTL        time.Duration
	maxSessionTTL     time.Duration
	maxBody           int64
	trustForwardedFor bool
	hashMemory        uint32
	hashTime          uint32
	cacheMemory       int64
	hashConcurrency   int
	hashQueue         int
	hashWait          time.Duration
	shutdownTimeout   time.Duration
	metricsAddr       string
	usageKeysFile     string
	usageIDRetention  time.Duration
	security          securityFlags
	securityLog       securityLogFlags
	limits            limitFlags
}

func serveCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API and the web account console",
		Long: `Run the HTTP API, and the web account console at /account, on --addr against --db: a SQLite file (created and migrated
on first start) or a PostgreSQL URL, where any number of instances may share
one database. SIGINT or SIGTERM shut down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), f, cmd.ErrOrStderr()) },
	}
	fs := cmd.Flags()
	f.register(cmd)
	f.registerKeys(cmd)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "json", "json or text")
	fs.DurationVar(&f.sessionTTL, "session-ttl", 14*24*time.Hour, "life of a login token when tokenTTL is not given")
	fs.DurationVar(&f.maxSessionTTL, "max-session-ttl", 365*24*time.Hour, "longest tokenTTL a login may ask for")
	fs.Int64Var(&f.maxBody, "max-body", 1<<20, "largest request body in bytes; larger ones get 413")
	fs.BoolVar(&f.trustForwardedFor, "trust-forwarded-for", false, "take client addresses from X-Forwarded-For (only behind a proxy that sets it)")
	fs.Uint32Var(&f.hashMemory, "hash-memory", secret.DefaultParams.Memory, "argon2id memory per password hash, KiB")
	fs.Uint32Var(&f.hashTime, "hash-time", secret.DefaultParams.Time, "argon2id passes per password hash")
	fs.Int64Var(&f.cacheMemory, "cache-memory", service.DefaultCacheBudget.Total(), "bytes the per-instance caches (tokens, users, GET /me state and answers, list answers, device states' checks, throttle counters) may hold together")
	fs.IntVar(&f.hashConcurrency, "hash-concurrency", max(1, runtime.NumCPU()-1), "password hashes that may run at once; the rest of the CPU stays for other requests")
	fs.IntVar(&f.hashQueue, "hash-queue", 0, "requests that may wait for a hashing turn; more are answered 503 with Retry-After at once (default 16 per --hash-concurrency)")
	fs.DurationVar(&f.hashWait, "hash-wait", 2*time.Second, "longest wait for a hashing turn before answering 503 with Retry-After")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on shutdown")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "address to serve Prometheus metrics on, at /metrics (default: off); keep it off the public network")
	fs.StringVar(&f.usageKeysFile, "usage-keys-file", "", "file of usage keys platform services report usage with (POST /usage/events), one \"NAME SHA256HEX\" a line, as 'accountd usage keygen NAME' prints (default: none, the endpoint refuses every caller)")
	fs.DurationVar(&f.usageIDRetention, "usage-id-retention", 30*24*time.Hour, "how long reported usage event ids are kept to recognise a retried event")
	f.security.register(fs)
	f.securityLog.register(fs)
	f.limits.register(fs)
	withEnv(fs)
	return cmd
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level: %q is not debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format: %q is not json or text", format)}
}

func serve(ctx context.Context, f serveFlags, stderr io.Writer) error {
	if f.cacheMemory < 1<<20 {
		return usageError{fmt.Errorf("--cache-memory: %d is less than 1 MiB (1048576)", f.cacheMemory)}
	}
	logOut := newLogWriter(stderr)
	defer logOut.Close()
	log, err := newLogger(logOut, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	switch {
	case f.hashConcurrency < 1:
		return usageError{errors.New("--hash-concurrency: must be at least 1")}
	case f.hashQueue < 0:
		return usageError{errors.New("--hash-queue: must not be negative")}
	case f.hashWait <= 0:
		return usageError{errors.New("--hash-wait: must be positive")}
	}
	keys, err := f.keyring()
	if err != nil {
		return err
	}
	tuneGC(gcLimit(f.cacheMemory, f.hashConcurrency, f.hashMemory), log)
	reserveHashProcs(f.hashConcurrency, log)
	store, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	// Listening first gives the real address (--addr may say port 0),
	// which the default public URL of links is made of.
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (%w): is another server there? pick another --addr (ACCOUNTD_ADDR)", f.addr, errors.Unwrap(err))
	}
	defer ln.Close()
	sec, err := f.security.config(f.db, ln.Addr().String(), log)
	if err != nil {
		return err
	}
	usage, err := f.usageConfig()
	if err != nil {
		return err
	}
	// Device states: with PostgreSQL, batches in flight together share
	// its WAL flushes; SQLite's writers take turns, so one is enough.
	usage.StateWriters = 1
	if isPostgres(f.db) {
		usage.StateWriters = 4
	}
	secLog, err := f.securityLog.config()
	if err != nil {
		return err
	}
	limits, err := f.limits.config()
	if err != nil {
		return err
	}
	svc, err := service.New(service.Config{
		Store: store, Keys: keys, Catalog: httpapi.Catalog(), Logger: log,
		Hash:            secret.Params{Memory: f.hashMemory, Time: f.hashTime, Threads: 1},
		Cache:           service.SplitCacheBudget(f.cacheMemory),
		HashConcurrency: f.hashConcurrency, HashQueue: f.hashQueue, HashWait: f.hashWait,
		// Instances sharing a PostgreSQL database count failed attempts
		// together; a SQLite file has one instance, which counts in memory.
		Throttle:   service.ThrottleConfig{Shared: isPostgres(f.db)},
		SessionTTL: f.sessionTTL, MaxSessionTTL: f.maxSessionTTL,
		Security: sec, Usage: usage,
		SecurityLog: secLog,
		Limits:      limits,
	})
	if err != nil {
		return usageError{err}
	}
	svc.Start()
	defer svc.Close()
	api, err := httpapi.NewServer(httpapi.Config{
		Service: svc, Logger: log, Ready: store.Ping, MaxBodyBytes: f.maxBody, TrustForwardedFor: f.trustForwardedFor,
		AllowUnverifiedEmail: !f.security.requireVerifiedEmail,
	})
	if err != nil {
		return err
	}
	con, err := console.New(console.Config{
		Service: svc, Keys: keys, Logger: log, TrustForwardedFor: f.trustForwardedFor,
		AllowUnverifiedEmail: !f.security.requireVerifiedEmail,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           console.Mount(api, con),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	backend := "sqlite"
	if isPostgres(f.db) {
		backend = "postgres"
	}
	log.Info("listening", "addr", ln.Addr().String(), "db", backend, "version", readBuildInfo().short())
	if f.metricsAddr != "" {
		mln, err := net.Listen("tcp", f.metricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", api.MetricsHandler())
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go msrv.Serve(mln)
		defer msrv.Close()
		log.Info("serving metrics", "addr", mln.Addr().String())
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; letting in-flight requests finish", "timeout", f.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// usageConfig reads the usage keys file, if any.
func (f *serveFlags) usageConfig() (service.UsageConfig, error) {
	cfg := service.UsageConfig{IDRetention: f.usageIDRetention}
	if f.usageIDRetention < time.Hour {
		return cfg, usageError{errors.New("--usage-id-retention: must be at least 1h")}
	}
	if f.usageKeysFile == "" {
		return cfg, nil
	}
	file, err := os.Open(f.usageKeysFile)
	if err != nil {
		return cfg, usageError{fmt.Errorf("--usage-keys-file: %w", err)}
	}
	defer file.Close()
	if cfg.Keys, err = service.ParseUsageKeys(file); err != nil {
		return cfg, usageError{fmt.Errorf("--usage-keys-file %s: %w", f.usageKeysFile, err)}
	}
	return cfg, nil
}
