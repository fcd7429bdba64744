package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

var throttleTests = []struct {
	name string
	fn   func(t *testing.T, st accountd.Store)
}{
	{"Throttle", func(t *testing.T, st accountd.Store) { testThrottle(t, st) }},
}

// RunThrottle checks a ThrottleStore on its own against the same contract
// (service's in-memory one). open must return a fresh, empty one.
func RunThrottle(t *testing.T, open func(t *testing.T) accountd.ThrottleStore) {
	t.Run("Throttle", func(t *testing.T) {
		t.Parallel()
		testThrottle(t, open(t))
	})
}

// t0 is whole milliseconds, which stores keep exactly.
var t0 = time.UnixMilli(1767225600000).UTC()

const window = time.Minute

func reserve(t *testing.T, st accountd.ThrottleStore, at time.Time, trust string, counters ...accountd.ThrottleCounter) ([]accountd.ThrottleCount, time.Duration) {
	t.Helper()
	counted, wait, err := st.ReserveThrottle(t.Context(), accountd.ThrottleAttempt{Counters: counters, Trust: trust, Window: window, At: at})
	if err != nil {
		t.Fatalf("ReserveThrottle: %v", err)
	}
	if wait > 0 && len(counted) > 0 {
		t.Fatalf("ReserveThrottle counted %v and asks to wait %v", counted, wait)
	}
	return counted, wait
}

func keys(counted []accountd.ThrottleCount) []string {
	out := []string{}
	for _, c := range counted {
		out = append(out, c.Key)
	}
	return out
}

func end(t *testing.T, st accountd.ThrottleStore, e accountd.ThrottleEnd) {
	t.Helper()
	if err := st.EndThrottle(t.Context(), e); err != nil {
		t.Fatalf("EndThrottle: %v", err)
	}
}

// admitted counts how many of n attempts at the counter at are let through.
func admitted(t *testing.T, st accountd.ThrottleStore, at time.Time, n int, c accountd.ThrottleCounter) int {
	t.Helper()
	got := 0
	for range n {
		if _, wait := reserve(t, st, at, "", c); wait == 0 {
			got++
		}
	}
	return got
}

func testThrottle(t *testing.T, st accountd.ThrottleStore) {
	pair := accountd.ThrottleCounter{Key: "pair:1", Limit: 3}
	addr := accountd.ThrottleCounter{Key: "addr:1", Limit: 5}

	t.Run("limit and wait", func(t *testing.T) {
		for i := range 3 {
			counted, wait := reserve(t, st, t0, "", pair, addr)
			if wait != 0 || !slices.Equal(keys(counted), []string{"addr:1", "pair:1"}) {
				t.Fatalf("attempt %d: counted %v, wait %v; want both counted", i+1, counted, wait)
			}
		}
		counted, wait := reserve(t, st, t0.Add(10*time.Second), "", pair, addr)
		if wait != 50*time.Second || counted != nil {
			t.Errorf("4th attempt: counted %v, wait %v; want none and 50s", counted, wait)
		}
		// The refused attempt counted nowhere: addr:1 still has 2 to give.
		if got := admitted(t, st, t0, 3, addr); got != 2 {
			t.Errorf("addr:1 let %d more through, want 2", got)
		}
		// Once the window ends, counting starts over.
		if got := admitted(t, st, t0.Add(window), 4, pair); got != 3 {
			t.Errorf("after the window, %d of 4 let through, want 3", got)
		}
	})

	t.Run("release", func(t *testing.T) {
		c := accountd.ThrottleCounter{Key: "pair:release", Limit: 2}
		at := t0.Add(time.Hour)
		// The second attempt was stamped earlier but reached the store
		// later (clocks of racing requests): it counts in the window the
		// first one started, and gives back there.
		reserve(t, st, at.Add(time.Millisecond), "", c)
		old, _ := reserve(t, st, at, "", c)
		end(t, st, accountd.ThrottleEnd{Release: old})
		if got := admitted(t, st, at, 2, c); got != 1 {
			t.Errorf("after giving one back, %d of 2 let through, want 1", got)
		}
		// A reservation from before the window started again gives back
		// nothing of the new window.
		later := at.Add(2 * window)
		if got := admitted(t, st, later, 2, c); got != 2 {
			t.Fatalf("new window let %d of 2 through", got)
		}
		end(t, st, accountd.ThrottleEnd{Release: old})
		if got := admitted(t, st, later, 1, c); got != 0 {
			t.Errorf("an old reservation's release freed an attempt in the new window")
		}
	})

	t.Run("clear and trust", func(t *testing.T) {
		at := t0.Add(2 * time.Hour)
		p := accountd.ThrottleCounter{Key: "pair:trust", Limit: 10}
		a := accountd.ThrottleCounter{Key: "account:trust", Limit: 1, Exempt: true}
		first, _ := reserve(t, st, at, "trust:x", p, a)
		if len(first) != 2 {
			t.Fatalf("first attempt counted %v", first)
		}
		if _, wait := reserve(t, st, at, "trust:x", p, a); wait != window {
			t.Fatalf("account at its limit: wait %v, want %v", wait, window)
		}
		end(t, st, accountd.ThrottleEnd{Release: first[:1], Clear: []string{p.Key}, Trust: "trust:x", At: at, Until: at.Add(time.Hour)}) // account:trust sorts first
		reserve(t, st, at, "", a)                                                                                                        // someone else fills the account's limit
		counted, wait := reserve(t, st, at, "trust:x", p, a)
		if wait != 0 || !slices.Equal(keys(counted), []string{p.Key}) {
			t.Errorf("trusted attempt: counted %v, wait %v; want only %s counted", counted, wait, p.Key)
		}
		if _, wait := reserve(t, st, at, "trust:other", p, a); wait == 0 {
			t.Error("an untrusted attempt passed the account's limit")
		}
		if _, wait := reserve(t, st, at.Add(time.Hour), "trust:x", a); wait != 0 {
			// the account's window has ended by then too
			t.Errorf("after both lapsed: wait %v", wait)
		}
		// Clear removed the pair's count: 10 more fit.
		if got := admitted(t, st, at.Add(time.Second), 10, p); got != 9 {
			t.Errorf("after clearing, %d of 10 let through, want 9 (one counted since)", got)
		}
	})

	t.Run("prune", func(t *testing.T) {
		at := t0.Add(3 * time.Hour)
		reserve(t, st, at, "", accountd.ThrottleCounter{Key: "pair:prune", Limit: 1})
		end(t, st, accountd.ThrottleEnd{At: at, Trust: "trust:prune", Until: at.Add(2 * window)})
		n, err := st.PruneThrottle(t.Context(), at.Add(window))
		if err != nil {
			t.Fatalf("PruneThrottle: %v", err)
		}
		if n < 1 {
			t.Errorf("PruneThrottle removed %d, want at least the lapsed counter", n)
		}
		// The trust mark is still live and still exempts.
		a := accountd.ThrottleCounter{Key: "account:prune", Limit: 1, Exempt: true}
		reserve(t, st, at.Add(window), "", a)
		if _, wait := reserve(t, st, at.Add(window), "trust:prune", a); wait != 0 {
			t.Error("pruning removed a live trust mark")
		}
		if n, err := st.PruneThrottle(t.Context(), at.Add(10*window)); err != nil || n < 2 {
			t.Errorf("PruneThrottle later = %d, %v; want the trust mark and the account counter gone", n, err)
		}
	})

	t.Run("racing attempts", func(t *testing.T) {
		at := t0.Add(4 * time.Hour)
		p := accountd.ThrottleCounter{Key: "pair:race", Limit: 5}
		a := accountd.ThrottleCounter{Key: "addr:race", Limit: 50}
		var mu sync.Mutex
		let := 0
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				_, wait, err := st.ReserveThrottle(t.Context(), accountd.ThrottleAttempt{
					Counters: []accountd.ThrottleCounter{p, a}, Window: window, At: at})
				if err != nil {
					t.Errorf("ReserveThrottle: %v", err)
					return
				}
				if wait == 0 {
					mu.Lock()
					let++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if let != 5 {
			t.Errorf("%d of 40 racing attempts let through, want 5", let)
		}
		// Only those 5 counted on the address too.
		if got := admitted(t, st, at, 50, a); got != 45 {
			t.Errorf("address let %d more through, want 45", got)
		}
	})
}
