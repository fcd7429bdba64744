package cli

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

// The server's heap is mostly its caches, bounded by --cache-memory, and
// the memory of the password hashes running at once (argon2id allocates
// all of it per hash). Go's default (GOGC=100, no limit) collects each
// time the heap doubles what is live: a small live heap, as with few
// users, means a collection per hash or two during a login flood, each
// with assists and pauses that land on every other request; a large one
// (full caches) lets the process grow to twice them and keep it. So
// unless GOGC or GOMEMLIMIT is set, serve lets the heap grow to four
// times what is live (GOGC=300) but no further than gcLimit, which the
// collector then holds the process's Go memory to.

// gcHeadroom is what the limit allows beyond the caches and the hashes:
// requests in flight, the database driver, the runtime.
const gcHeadroom = 48 << 20

// gcLimit is the memory limit for a server with these bounds.
func gcLimit(cacheMemory int64, hashConcurrency int, hashMemoryKiB uint32) int64 {
	return cacheMemory + int64(hashConcurrency)*int64(hashMemoryKiB)<<10 + gcHeadroom
}

// tuneGC applies gcGOGC and limit unless the environment sets either.
func tuneGC(limit int64, log *slog.Logger) {
	_, gogc := os.LookupEnv("GOGC")
	_, memlimit := os.LookupEnv("GOMEMLIMIT")
	if gogc || memlimit {
		log.Info("garbage collection as GOGC and GOMEMLIMIT set it", "GOGC", os.Getenv("GOGC"), "GOMEMLIMIT", os.Getenv("GOMEMLIMIT"))
		return
	}
	debug.SetGCPercent(gcGOGC)
	debug.SetMemoryLimit(limit)
	log.Info("garbage collection", "GOGC", gcGOGC, "memory_limit_bytes", limit)
}

const gcGOGC = 300

// Password hashes run on threads of their own at a lower priority
// (service/hashlane.go), each holding one of Go's Ps while it hashes: with
// the default GOMAXPROCS (one P a CPU) a flood of logins would leave the
// other requests only the Ps the hashes do not hold, however idle the
// kernel would rather keep them. So unless GOMAXPROCS is set, serve adds a
// P for each hash that may run at once: the hashes then run beside the
// request-serving threads, not in their place, and the kernel, seeing the
// hashing threads at the lower priority, gives the others the CPU first.
func reserveHashProcs(hashConcurrency int, log *slog.Logger) {
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		return
	}
	n := baseProcs() + hashConcurrency
	runtime.GOMAXPROCS(n)
	log.Info("scheduler", "GOMAXPROCS", n, "hash_threads", hashConcurrency)
}

// baseProcs is GOMAXPROCS as the runtime chose it, read before serve first
// changed it (a process may serve more than once, as tests do).
var baseProcs = sync.OnceValue(func() int { return runtime.GOMAXPROCS(0) })
