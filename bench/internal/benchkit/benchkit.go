// Package benchkit is what the accountd benchmark commands (bench/mebench,
// bench/usagebench) share: the command's skeleton and flags, building and
// starting the servers under test, fresh PostgreSQL databases, one-off API
// calls, the load generator, CPU accounting from /proc, and the
// small helpers their Markdown reports use.
package benchkit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Report is a benchmark's result: Print writes it as Markdown, and Valid
// says whether the run finished with every request measured succeeding.
type Report interface {
	Print(w io.Writer)
	Valid() bool
}

// Main is a benchmark command's main. It parses the command line with
// parse (exit status 0 after -h, 2 on a bad command line), runs the
// benchmark until it ends or SIGINT/SIGTERM cancels it, prints the report
// run returns on stdout (run returns nil if it failed before it had one),
// and exits 1 if run failed or the report is not valid. Errors go to
// stderr after "name: ".
func Main[C any](name string, parse func(args []string) (C, error), run func(context.Context, C) (Report, error)) {
	cfg, err := parse(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg)
	if rep != nil {
		rep.Print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
	if !rep.Valid() {
		os.Exit(1)
	}
}

// Flags is a benchmark command's flag set, with the flags every benchmark
// has: --backends, --accountd and --hello.
type Flags struct {
	*flag.FlagSet
	Backends []string // after Parse: sqlite, postgres or both, each once
	Accountd string   // prebuilt accountd binary, or empty
	Hello    string   // prebuilt bench/hello binary, or empty
	backends string
}

// NewFlags is the flag set of command name. Its usage message lists the
// flags as --name, each with its default unless that is empty, false or 0
// (a URL's password hidden); flags with no usage text are hidden.
func NewFlags(name string) *Flags {
	fs := &Flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs.StringVar(&fs.backends, "backends", "sqlite,postgres", "accountd backends to measure, comma-separated: sqlite, postgres")
	fs.StringVar(&fs.Accountd, "accountd", "", "prebuilt accountd binary (default: go build ./cmd/accountd)")
	fs.StringVar(&fs.Hello, "hello", "", "prebuilt hello binary (default: go build ./bench/hello)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench/%s [flags]\n", name)
		fs.VisitAll(func(f *flag.Flag) {
			switch {
			case f.Usage == "":
			case f.DefValue == "" || f.DefValue == "false" || f.DefValue == "0":
				fmt.Fprintf(fs.Output(), "  --%s\n    \t%s\n", f.Name, f.Usage)
			default:
				fmt.Fprintf(fs.Output(), "  --%s (default %s)\n    \t%s\n", f.Name, Redact(f.DefValue), f.Usage)
			}
		})
	}
	return fs
}

// Parse parses args, which must hold flags only, and reads the
// --backends list: sqlite and postgres, comma-separated, at least one.
func (fs *Flags) Parse(args []string) error {
	if err := fs.FlagSet.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	fs.Backends = nil
	for _, b := range strings.Split(fs.backends, ",") {
		b = strings.TrimSpace(b)
		switch {
		case b == "":
		case b != "sqlite" && b != "postgres":
			return fmt.Errorf("--backends: %q is not sqlite or postgres", b)
		case !slices.Contains(fs.Backends, b):
			fs.Backends = append(fs.Backends, b)
		}
	}
	if len(fs.Backends) == 0 {
		return errors.New("--backends: name at least one")
	}
	return nil
}

// CommandLine is how to repeat the run of command name with args, with
// any password in a URL hidden.
func CommandLine(name string, args []string) string {
	parts := []string{"go run ./bench/" + name}
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "-") {
			a = k + "=" + Redact(v)
		} else {
			a = Redact(a)
		}
		if strings.ContainsAny(a, " \t'\"$&;|<>()*?[]#~`\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// Redact hides the password of s if s is a URL that has one.
func Redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// Millis formats d in milliseconds with two decimals, "1.23 ms".
func Millis(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// Machine describes where the run happened.
func Machine() string {
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
