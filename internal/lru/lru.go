// Package lru is the one cache accountd keeps things in memory with: a map
// bounded by the bytes of its entries, evicting one entry at a time.
package lru

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Cache is a map bounded by the bytes its entries are estimated to
// hold. Past the budget it evicts entries one at a time with the CLOCK
// algorithm (an approximation of least-recently-used in which a hit only
// sets a flag, so reads share a read lock); expired entries are the first
// to go and are also freed by prune. Callers supply each entry's size.
//
// A load that races an invalidation must not put back what the
// invalidation removed: callers read Generation() before loading and pass
// it to Put, which drops the value if any invalidation (delete, clear)
// happened in between. The zero Cache is not usable; see New.
type Cache[K comparable, V any] struct {
	mu     sync.RWMutex
	m      map[K]*slot[K, V]
	ring   []*slot[K, V]
	hand   int
	bytes  int64
	budget int64
	gen    uint64
	over   int64 // overhead[K, V]

	hits, misses, evictions atomic.Uint64
}

type slot[K comparable, V any] struct {
	key     K
	val     V
	expires int64 // unix nanoseconds; 0: never
	cost    int32 // Put keeps no entry of more than math.MaxInt32 bytes
	idx     int32
	ref     atomic.Bool
}

// slotOverhead is the least an entry costs beyond the size its caller
// gives: a slot of small keys and values, the map's share and the ring's
// pointer. Caches of larger keys and values charge more (overhead).
const slotOverhead = 96

// overhead is what one entry of a Cache[K, V] costs beyond what its
// caller's size says: the slot (rounded up to an allocation size class),
// the map's share (key, pointer and control byte, in a table that may have
// just grown to seven sixteenths full) and the ring's pointer (in a slice
// that may have just doubled). The tests in service measure it.
func overhead[K comparable, V any]() int64 {
	var s slot[K, V]
	slotSize := (int64(unsafe.Sizeof(s)) + 15) &^ 15
	var k K
	mapShare := 16*(int64(unsafe.Sizeof(k))+8+1)/7 + 8 // and the tables' headers
	return max(slotOverhead, slotSize+mapShare+16)
}

var lastUnixNano = time.Unix(0, math.MaxInt64)

// New makes a cache that holds at most budget bytes.
func New[K comparable, V any](budget int64) *Cache[K, V] {
	return &Cache[K, V]{m: map[K]*slot[K, V]{}, budget: budget, over: overhead[K, V]()}
}

// Get returns the value for k unless it is absent or expired at now.
func (c *Cache[K, V]) Get(k K, now time.Time) (V, bool) {
	c.mu.RLock()
	s := c.m[k]
	if s == nil || s.expires != 0 && now.UnixNano() >= s.expires {
		c.mu.RUnlock()
		c.misses.Add(1)
		var zero V
		return zero, false
	}
	v := s.val
	c.mu.RUnlock()
	if !s.ref.Load() {
		s.ref.Store(true)
	}
	c.hits.Add(1)
	return v, true
}

// Peek is Get for a caller that has just counted its lookup of k with
// Get: it is not counted again, nor marks the entry used.
func (c *Cache[K, V]) Peek(k K, now time.Time) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := c.m[k]
	if s == nil || s.expires != 0 && now.UnixNano() >= s.expires {
		var zero V
		return zero, false
	}
	return s.val, true
}

// Contains reports whether k has an entry, without counting it as a use.
func (c *Cache[K, V]) Contains(k K) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.m[k]
	return ok
}

// Generation is passed to put by a caller that loads what it puts.
func (c *Cache[K, V]) Generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// Put keeps v for k with the given size in bytes until expires (zero:
// until evicted or invalidated), unless an invalidation happened since gen
// was read. An entry larger than a quarter of the budget is not kept.
func (c *Cache[K, V]) Put(k K, v V, size int64, expires time.Time, gen uint64) {
	cost := size + c.over
	if cost > c.budget/4 || cost > math.MaxInt32 {
		return
	}
	var exp int64
	if !expires.IsZero() && expires.Before(lastUnixNano) {
		exp = expires.UnixNano() // later ones (past 2262) never expire here
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if s := c.m[k]; s != nil {
		c.bytes += cost - int64(s.cost)
		s.val, s.cost, s.expires = v, int32(cost), exp
		s.ref.Store(true)
	} else {
		s := &slot[K, V]{key: k, val: v, cost: int32(cost), expires: exp, idx: int32(len(c.ring))}
		c.m[k] = s
		c.ring = append(c.ring, s)
		c.bytes += cost
	}
	c.evictOver(time.Now().UnixNano())
}

// evictOver sweeps the clock hand until the cache is within budget: an
// expired entry or one not used since the hand last passed goes; a used one
// loses its flag and stays for another round. The ring's last slot, which
// takes a removed one's place, is the newest entry (often the one just
// put): the hand moves past it, so that it waits a whole round for a use,
// like every other entry, instead of going next.
func (c *Cache[K, V]) evictOver(now int64) {
	for c.bytes > c.budget && len(c.ring) > 0 {
		if c.hand >= len(c.ring) {
			c.hand = 0
		}
		s := c.ring[c.hand]
		if s.ref.Load() && (s.expires == 0 || now < s.expires) {
			s.ref.Store(false)
			c.hand++
			continue
		}
		c.remove(s)
		c.hand++
		c.evictions.Add(1)
	}
}

// remove drops s; the last slot of the ring takes its place, which the hand
// then looks at next.
func (c *Cache[K, V]) remove(s *slot[K, V]) {
	last := len(c.ring) - 1
	moved := c.ring[last]
	c.ring[s.idx] = moved
	moved.idx = s.idx
	c.ring[last] = nil
	c.ring = c.ring[:last]
	delete(c.m, s.key)
	c.bytes -= int64(s.cost)
}

// Charge adds extra bytes to the cost of k's entry, if it has one, for
// what its value has come to hold since it was put; it evicts others if
// that takes the cache over its budget.
func (c *Cache[K, V]) Charge(k K, extra int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.m[k]; s != nil && int64(s.cost)+extra <= math.MaxInt32 {
		s.cost += int32(extra)
		c.bytes += extra
		c.evictOver(time.Now().UnixNano())
	}
}

// Delete drops the entries of keys and invalidates racing loads.
func (c *Cache[K, V]) Delete(keys ...K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, k := range keys {
		if s := c.m[k]; s != nil {
			c.remove(s)
		}
	}
}

// DeleteFunc drops the entries for which drop says so.
func (c *Cache[K, V]) DeleteFunc(drop func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for i := 0; i < len(c.ring); {
		if s := c.ring[i]; drop(s.key, s.val) {
			c.remove(s) // the last slot moved to i: look at it next
			continue
		}
		i++
	}
}

// Clear drops everything.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
	clear(c.ring)
	c.ring, c.bytes, c.hand = c.ring[:0], 0, 0
}

// Prune frees the entries expired at now.
func (c *Cache[K, V]) Prune(now time.Time) {
	ns := now.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < len(c.ring); {
		if s := c.ring[i]; s.expires != 0 && ns >= s.expires {
			c.remove(s)
			continue
		}
		i++
	}
}

// Stats says how many entries and estimated bytes the cache holds.
func (c *Cache[K, V]) Stats() (entries int, bytes int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m), c.bytes
}

// Usage is what a cache holds and how well it serves, for metrics and
// benchmarks.
type Usage struct {
	Entries int
	Bytes   int64 // estimated, as callers sized their entries, with slotOverhead each
	Budget  int64
	// Hits and Misses count Get calls since the cache was made; Evictions
	// counts entries dropped to stay within the budget.
	Hits, Misses, Evictions uint64
}

// Usage reports the cache's contents and counters.
func (c *Cache[K, V]) Usage() Usage {
	n, b := c.Stats()
	return Usage{Entries: n, Bytes: b, Budget: c.budget, Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load()}
}
