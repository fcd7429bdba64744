package cli

import (
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestTuneGC: without GOGC and GOMEMLIMIT, serve sets GOGC=300 and a
// limit of the caches, the hashes and the headroom; with either set, it
// leaves the collector alone.
func TestTuneGC(t *testing.T) {
	if got, want := gcLimit(64<<20, 1, 19456), int64(64<<20+19456<<10+gcHeadroom); got != want {
		t.Errorf("gcLimit = %d; want %d", got, want)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	log := slog.New(slog.DiscardHandler)

	t.Setenv("GOGC", "100")
	tuneGC(200<<20, log)
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("with GOGC set, GC percent changed to %d", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("with GOGC set, memory limit changed to %d", l)
	}

	os.Unsetenv("GOGC") // t.Setenv restores it
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOMEMLIMIT")
	tuneGC(200<<20, log)
	if p := debug.SetGCPercent(100); p != gcGOGC {
		t.Errorf("GC percent %d; want %d", p, gcGOGC)
	}
	if l := debug.SetMemoryLimit(-1); l != 200<<20 {
		t.Errorf("memory limit %d; want %d", l, 200<<20)
	}
}

// TestReserveHashProcs: serve adds a P per hashing thread to what the
// runtime chose, the same however often it runs, and leaves a GOMAXPROCS
// from the environment alone.
func TestReserveHashProcs(t *testing.T) {
	base := baseProcs()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	log := slog.New(slog.DiscardHandler)

	t.Setenv("GOMAXPROCS", "")
	os.Unsetenv("GOMAXPROCS") // t.Setenv restores it
	for range 2 {
		reserveHashProcs(3, log)
		if got := runtime.GOMAXPROCS(0); got != base+3 {
			t.Errorf("GOMAXPROCS %d; want %d", got, base+3)
		}
	}

	t.Setenv("GOMAXPROCS", "1")
	runtime.GOMAXPROCS(base)
	reserveHashProcs(3, log)
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Errorf("with GOMAXPROCS set, it changed to %d", got)
	}
}
