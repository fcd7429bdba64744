package lru

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestBudgetEvictsOneByOne(t *testing.T) {
	entry := 1000 - overhead[string, int]() // each entry costs 1000 bytes
	c := New[string, int](10_000)
	for i := range 10 {
		c.Put(fmt.Sprint(i), i, entry, time.Time{}, c.Generation())
	}
	if n, b := c.Stats(); n != 10 || b != 10_000 {
		t.Fatalf("Stats = %d entries, %d bytes; want 10, 10000", n, b)
	}
	// keep 0..4 in use; the next puts must evict the others, one each
	for i := range 5 {
		c.Get(fmt.Sprint(i), time.Now())
	}
	for i := 10; i < 13; i++ {
		c.Put(fmt.Sprint(i), i, entry, time.Time{}, c.Generation())
		if n, b := c.Stats(); n != 10 || b > 10_000 {
			t.Fatalf("after put %d: %d entries, %d bytes; want 10 within budget", i, n, b)
		}
	}
	for i := range 5 {
		if _, ok := c.Get(fmt.Sprint(i), time.Now()); !ok {
			t.Errorf("entry %d, in use, was evicted", i)
		}
	}
}

func TestExpiry(t *testing.T) {
	c := New[string, int](1 << 20)
	now := time.Now()
	c.Put("soon", 1, 10, now.Add(time.Minute), c.Generation())
	c.Put("never", 2, 10, time.Time{}, c.Generation())
	if _, ok := c.Get("soon", now); !ok {
		t.Fatal("fresh entry missing")
	}
	if _, ok := c.Get("soon", now.Add(time.Minute)); ok {
		t.Error("expired entry served")
	}
	c.Prune(now.Add(time.Hour))
	if n, _ := c.Stats(); n != 1 {
		t.Errorf("after Prune: %d entries, want 1", n)
	}
	if !c.Contains("never") || c.Contains("soon") {
		t.Error("Contains disagrees with the entries held")
	}
	if v, ok := c.Get("never", now.Add(24*time.Hour)); !ok || v != 2 {
		t.Errorf("entry without expiry = %v, %v", v, ok)
	}
}

func TestGenerationKeepsRacingLoadsOut(t *testing.T) {
	c := New[string, int](1 << 20)
	gen := c.Generation() // a load starts
	c.Delete("k")         // a change lands meanwhile
	c.Put("k", 1, 10, time.Time{}, gen)
	if _, ok := c.Get("k", time.Now()); ok {
		t.Error("a load that raced a delete was kept")
	}
	c.Put("k", 2, 10, time.Time{}, c.Generation())
	if v, _ := c.Get("k", time.Now()); v != 2 {
		t.Errorf("Get = %d, want 2", v)
	}
	c.DeleteFunc(func(k string, v int) bool { return v == 2 })
	if _, ok := c.Get("k", time.Now()); ok {
		t.Error("DeleteFunc left the entry")
	}
}

func TestTooLargeNotKept(t *testing.T) {
	c := New[string, int](4000)
	c.Put("big", 1, 2000, time.Time{}, c.Generation())
	if _, ok := c.Get("big", time.Now()); ok {
		t.Error("an entry over a quarter of the budget was kept")
	}
}

func TestConcurrent(t *testing.T) {
	c := New[int, int](50_000)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := (w*7919 + i) % 500
				if _, ok := c.Get(k, time.Now()); !ok {
					c.Put(k, i, 100, time.Time{}, c.Generation())
				}
				if i%97 == 0 {
					c.Delete(k)
				}
			}
		})
	}
	wg.Wait()
	if _, b := c.Stats(); b > 50_000 {
		t.Errorf("%d bytes held, budget 50000", b)
	}
	c.Clear()
	if n, b := c.Stats(); n != 0 || b != 0 {
		t.Errorf("after Clear: %d, %d", n, b)
	}
}

func TestUsageCounts(t *testing.T) {
	entry := 3000 - overhead[string, int]()
	c := New[string, int](12_000)
	now := time.Now()
	for i := range 5 {
		c.Put(fmt.Sprint(i), i, entry, time.Time{}, c.Generation())
	}
	c.Get("3", now)
	c.Get("nope", now)
	u := c.Usage()
	if u.Entries != 4 || u.Bytes != 12_000 || u.Budget != 12_000 || u.Hits != 1 || u.Misses != 1 || u.Evictions != 1 {
		t.Errorf("Usage = %+v; want 4 entries, 12000 of 12000 bytes, 1 hit, 1 miss, 1 eviction", u)
	}
}

func TestChargeEvicts(t *testing.T) {
	entry := 1000 - overhead[string, int]()
	c := New[string, int](4000)
	for i := range 4 {
		c.Put(fmt.Sprint(i), i, entry, time.Time{}, c.Generation())
	}
	c.Get("3", time.Now())
	c.Charge("3", 500)
	c.Charge("absent", 500)
	if n, b := c.Stats(); n != 3 || b != 3500 {
		t.Fatalf("after charging: %d entries, %d bytes; want 3, 3500 (one evicted)", n, b)
	}
	if _, ok := c.Get("3", time.Now()); !ok {
		t.Error("the charged entry, in use, was evicted")
	}
}

// TestNewEntriesGetARound: at its budget, with a new entry put for every
// one used again soon after, the cache keeps the new ones long enough to be
// used: the hand does not look next at the newest entry, which a removal
// moves into its place (it did, and evicted every new entry at the next
// put: a working set that fit was served at a fraction of its hits).
func TestNewEntriesGetARound(t *testing.T) {
	c := New[int, int](100 * (10 + overhead[int, int]()))
	for i := range 100 { // full of entries used once, then not again
		c.Put(-1-i, 0, 10, time.Time{}, c.Generation())
		c.Get(-1-i, time.Time{})
	}
	// a working set of 50 comes in: each new key is put, and asked for
	// again after the next few puts
	hits, misses := 0, 0
	for round := range 20 {
		for i := range 50 {
			if _, ok := c.Get(i, time.Time{}); ok {
				hits++
			} else {
				misses++
				c.Put(i, round, 10, time.Time{}, c.Generation())
			}
		}
	}
	if hits < 18*50 {
		t.Errorf("a working set of half the budget: %d hits, %d misses in 20 rounds; want every round after the first two to hit", hits, misses)
	}
}
