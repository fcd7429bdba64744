package service

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	t.Parallel()
	cfg := ThrottleConfig{Window: time.Minute, PerPair: 3, PerAddress: 5, PerAccount: 4}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fail := func(th *throttle, account, addr string, n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			th.failed(account, addr, t0)
		}
	}
	tests := []struct {
		name    string
		setup   func(th *throttle)
		account string
		addr    string
		at      time.Time
		want    time.Duration
	}{
		{"fresh", func(*throttle) {}, "a", "1.1.1.1", t0, 0},
		{"pair under limit", func(th *throttle) { fail(th, "a", "1.1.1.1", 2) }, "a", "1.1.1.1", t0, 0},
		{"pair at limit", func(th *throttle) { fail(th, "a", "1.1.1.1", 3) }, "a", "1.1.1.1", t0.Add(10 * time.Second), 50 * time.Second},
		{"pair limit spares other accounts", func(th *throttle) { fail(th, "a", "1.1.1.1", 3) }, "b", "1.1.1.1", t0, 0},
		{"pair limit ends with the window", func(th *throttle) { fail(th, "a", "1.1.1.1", 3) }, "a", "1.1.1.1", t0.Add(time.Minute), 0},
		{"address limit", func(th *throttle) {
			for _, acct := range []string{"a", "b", "c", "d", "e"} {
				fail(th, acct, "1.1.1.1", 1)
			}
		}, "f", "1.1.1.1", t0, time.Minute},
		{"account limit from many addresses", func(th *throttle) {
			for _, addr := range []string{"1", "2", "3", "4"} {
				fail(th, "a", addr, 1)
			}
		}, "a", "5", t0, time.Minute},
		{"account limit spares a trusted address", func(th *throttle) {
			th.succeeded("a", "9", t0.Add(-time.Hour))
			for _, addr := range []string{"1", "2", "3", "4"} {
				fail(th, "a", addr, 1)
			}
		}, "a", "9", t0, 0},
		{"success clears the pair", func(th *throttle) {
			fail(th, "a", "1", 3)
			th.succeeded("a", "1", t0)
		}, "a", "1", t0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := newThrottle(cfg)
			tt.setup(th)
			if got := th.blocked(tt.account, tt.addr, tt.at); got != tt.want {
				t.Errorf("blocked = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("prune", func(t *testing.T) {
		th := newThrottle(cfg)
		fail(th, "a", "1", 1)
		th.prune(t0.Add(time.Minute))
		if len(th.pairs)+len(th.accounts)+len(th.addrs) != 0 {
			t.Errorf("prune left %d pairs, %d accounts, %d addresses", len(th.pairs), len(th.accounts), len(th.addrs))
		}
	})
}
