package service

import (
	"context"
	"hash/maphash"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd"
)

// A token's last use (when, from which address, with which user agent) is
// noted in memory on the instance that authenticated it and written in
// batches every LastUsedFlush, so the hot path never writes:
//
//   - Each cached token remembers when its use was last noted (an atomic
//     in its cache entry). A request within lastUsedGranularity of that
//     costs one atomic load and nothing else: no lock, no allocation.
//   - Otherwise one request wins a compare-and-swap on it and records the
//     use, with its client, in one of lastUseShards maps chosen by the
//     token id, under that shard's lock: at most one such write a token a
//     minute, spread over the shards.
//   - The flush swaps every shard's map for an empty one and writes the
//     lot in one transaction (Store.TouchTokens, which never moves a use
//     back). Close flushes once more.
//
// Memory is bounded: past maxPendingBytes (estimated per entry; a user
// agent is at most 256 bytes) a use of a token not already held is
// dropped, and the token's next use after the minute records it. So the
// recorded last use is at most about lastUsedGranularity plus LastUsedFlush
// behind the true one.

const lastUseShards = 16

// maxPendingBytes bounds the uses held between flushes: about 60,000
// tokens with a typical user agent, 16 MiB at worst.
const maxPendingBytes = 16 << 20

// pendingUseSize estimates what holding a use costs: the map slot, the
// id, address and user agent.
func pendingUseSize(id string, u accountd.TokenUse) int {
	return 96 + len(id) + len(u.Address) + len(u.UserAgent)
}

type lastUseShard struct {
	mu    sync.Mutex
	m     map[string]accountd.TokenUse
	bytes int
	_     [32]byte // keep shards' locks off one another's cache lines
}

type lastUses struct {
	seed   maphash.Seed
	shards [lastUseShards]lastUseShard

	// flushing holds what the flush under way is writing, so a listing
	// made meanwhile still sees it.
	flushMu  sync.Mutex
	flushing map[string]accountd.TokenUse
	// flushed counts finished flushes: a reader that saw it move while it
	// read rows and then looked here may have missed a use that went from
	// here to the database in between, and reads again.
	flushed atomic.Int64
}

func (l *lastUses) init() {
	l.seed = maphash.MakeSeed()
	for i := range l.shards {
		l.shards[i].m = map[string]accountd.TokenUse{}
	}
}

func (l *lastUses) shard(id string) *lastUseShard {
	return &l.shards[maphash.String(l.seed, id)%lastUseShards]
}

func (l *lastUses) put(id string, u accountd.TokenUse) {
	sh := l.shard(id)
	size := pendingUseSize(id, u)
	sh.mu.Lock()
	if old, ok := sh.m[id]; ok {
		sh.bytes += size - pendingUseSize(id, old)
		sh.m[id] = u
	} else if sh.bytes+size <= maxPendingBytes/lastUseShards {
		sh.bytes += size
		sh.m[id] = u
	}
	sh.mu.Unlock()
}

// pending returns the use of id noted here and not yet written, if any.
func (l *lastUses) pending(id string) (accountd.TokenUse, bool) {
	sh := l.shard(id)
	sh.mu.Lock()
	u, ok := sh.m[id]
	sh.mu.Unlock()
	if ok {
		return u, true
	}
	l.flushMu.Lock()
	u, ok = l.flushing[id]
	l.flushMu.Unlock()
	return u, ok
}

// take empties every shard and returns what they held.
func (l *lastUses) take() map[string]accountd.TokenUse {
	var out map[string]accountd.TokenUse
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		m := sh.m
		if len(m) == 0 {
			sh.mu.Unlock()
			continue
		}
		sh.m, sh.bytes = map[string]accountd.TokenUse{}, 0
		sh.mu.Unlock()
		if out == nil {
			out = m
			continue
		}
		for id, u := range m {
			out[id] = u
		}
	}
	return out
}

// markUsed notes a use of the token at now, unless one was noted within
// lastUsedGranularity. The client is what ctx carries or, failing that,
// what from says.
func (s *Service) markUsed(ctx context.Context, from accountd.ClientSource, id string, e *tokenEntry, now time.Time) {
	last := e.lastUsed.Load()
	ms := now.UnixMilli()
	if ms-last < lastUsedGranularity.Milliseconds() || !e.lastUsed.CompareAndSwap(last, ms) {
		return
	}
	c := accountd.ClientFrom(ctx)
	if c == (accountd.Client{}) && from != nil {
		c = from.Client()
	}
	c = c.Clipped()
	s.auth.uses.put(id, accountd.TokenUse{At: accountd.Millis(now), Address: c.Address, UserAgent: c.UserAgent})
}

// flushLastUsed writes the uses noted since the last flush. Flushes run
// one at a time: from the background ticker, then once from Close after
// it stopped.
//
// A flush may hold a use of every token of a large population, and on
// SQLite every other writer waits while one transaction holds the write
// lock: 110,000 uses written in one transaction held it for 2.5 s, and a
// token created meanwhile waited as long (BENCHMARKS.md). So uses are
// written lastUseChunk to a transaction, and a background flush leaves
// the database as long as the last chunk held it before it writes the
// next (writers waiting on SQLite's busy handler retry after short
// sleeps, and find it free); the flush from Close, or one that Close
// interrupts, writes the rest at once.
func (s *Service) flushLastUsed(ctx context.Context, paced bool) {
	l := &s.auth.uses
	uses := l.take()
	if len(uses) == 0 {
		return
	}
	l.flushMu.Lock()
	l.flushing = uses
	l.flushMu.Unlock()
	ids := slices.Collect(maps.Keys(uses)) // any order: the store sorts what it locks
	var held time.Duration
	written := 0
	for part := range slices.Chunk(ids, lastUseChunk) {
		if written > 0 && paced {
			select {
			case <-time.After(held):
			case <-s.stop:
				paced = false
			}
		}
		chunk := make(map[string]accountd.TokenUse, len(part))
		for _, id := range part {
			chunk[id] = uses[id]
		}
		start := time.Now()
		if err := s.store.TouchTokens(ctx, chunk); err != nil {
			s.log.Error("recording token last use", "err", err, "tokens", len(ids)-written)
			break
		}
		held = time.Since(start)
		written += len(part)
	}
	l.flushMu.Lock()
	l.flushing = nil
	l.flushMu.Unlock()
	l.flushed.Add(1)
}

// lastUseChunk is how many last uses one transaction writes.
const lastUseChunk = 500
