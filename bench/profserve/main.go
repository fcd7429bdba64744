// Command profserve is accountd's own main (the same cli.Run as
// cmd/accountd) with a CPU profiler the benchmark switches on and off
// around each measurement window: SIGUSR1 starts a profile, SIGUSR2 stops
// it. Profiles are written to $MEBENCH_CPUPROFILE-rN.pprof, N counting
// from 1. It exists only for `go run ./bench/mebench --cpuprofile`; the
// server itself has no profiling switch.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"

	"github.com/accountd/accountd/internal/cli"
)

func main() {
	prof := &profiler{prefix: os.Getenv("MEBENCH_CPUPROFILE")}
	if prof.prefix != "" {
		sigs := make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
		go func() {
			for sig := range sigs {
				if sig == syscall.SIGUSR1 {
					prof.start()
				} else {
					prof.stop()
				}
			}
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr)
	stop()
	prof.stop()
	os.Exit(code)
}

type profiler struct {
	prefix string
	mu     sync.Mutex
	n      int
	file   *os.File
}

func (p *profiler) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.file != nil {
		return
	}
	p.n++
	f, err := os.Create(fmt.Sprintf("%s-r%d.pprof", p.prefix, p.n))
	if err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
		f.Close()
		return
	}
	p.file = f
}

func (p *profiler) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.file == nil {
		return
	}
	pprof.StopCPUProfile()
	if err := p.file.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
	}
	p.file = nil
}
