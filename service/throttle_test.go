package service

import (
	"fmt"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/storetest"
)

// The in-memory throttle keeps the contract the stores keep.
func TestMemThrottle(t *testing.T) {
	t.Parallel()
	storetest.RunThrottle(t, func(*testing.T) accountd.ThrottleStore { return newMemThrottle(1 << 20) })
}

// TestMemThrottleBudget: a flood of distinct keys stays within the byte
// budget by evicting one-attempt counters first; a counter that reached its
// limit survives the flood, so flooding cannot reset it.
func TestMemThrottleBudget(t *testing.T) {
	const budget = 256 << 10
	m := newMemThrottle(budget)
	ctx := t.Context()
	now := time.Now()
	attempt := func(key string) time.Duration {
		_, wait, err := m.ReserveThrottle(ctx, accountd.ThrottleAttempt{
			At: now, Window: time.Hour, Counters: []accountd.ThrottleCounter{{Key: key, Limit: 5}}})
		if err != nil {
			t.Fatal(err)
		}
		return wait
	}
	for range 5 {
		attempt("victim@example.com\x00203.0.113.9")
	}
	if attempt("victim@example.com\x00203.0.113.9") == 0 {
		t.Fatal("the sixth attempt was not refused")
	}
	for i := range 20_000 {
		attempt(fmt.Sprintf("flood-%d@example.com\x00198.51.100.%d", i, i%256))
	}
	m.mu.Lock()
	held, entries := m.counters.bytes, len(m.counters.m)
	m.mu.Unlock()
	if held > m.counters.budget {
		t.Errorf("counters hold %d bytes, budget %d", held, m.counters.budget)
	}
	if entries >= 20_000 {
		t.Errorf("%d counters kept after a flood of 20,000: nothing evicted", entries)
	}
	if attempt("victim@example.com\x00203.0.113.9") == 0 {
		t.Error("the flood reset a counter at its limit")
	}
}
