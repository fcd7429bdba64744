package cli

import (
	"log/slog"
	"os"
	"runtime/debug"
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
const gcHeadroom = 64 << 20

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
