package service

import (
	"sync"
	"time"
)

// ThrottleConfig limits failed password attempts within Window. A client
// address that keeps failing on one account is stopped first (PerPair);
// an address failing across accounts is stopped at PerAddress; an account
// failing from many addresses is stopped at PerAccount, except for addresses
// that logged in to it successfully before, so that a distributed attack
// cannot lock the owner out. Every block ends when its window does.
type ThrottleConfig struct {
	Window     time.Duration
	PerPair    int
	PerAddress int
	PerAccount int
}

// DefaultThrottle: 5 failures per account and address, 50 per address and
// 20 per account, each per 15 minutes.
var DefaultThrottle = ThrottleConfig{Window: 15 * time.Minute, PerPair: 5, PerAddress: 50, PerAccount: 20}

// window counts failures from its start; it resets once Window has passed.
type window struct {
	start time.Time
	count int
}

type throttle struct {
	cfg ThrottleConfig

	mu       sync.Mutex
	pairs    map[string]*window // account + "\x00" + address
	accounts map[string]*window
	addrs    map[string]*window
	trusted  map[string]time.Time // pair -> last successful login
}

// trustedFor is how long a successful login exempts its address from the
// account-wide limit.
const trustedFor = 30 * 24 * time.Hour

// maxThrottleEntries bounds memory under a flood of distinct addresses.
const maxThrottleEntries = 500_000

func newThrottle(cfg ThrottleConfig) *throttle {
	return &throttle{
		cfg:      cfg,
		pairs:    map[string]*window{},
		accounts: map[string]*window{},
		addrs:    map[string]*window{},
		trusted:  map[string]time.Time{},
	}
}

func pairKey(account, addr string) string { return account + "\x00" + addr }

// blocked says how long the caller must wait before trying this account from
// this address, or 0 if it may try now.
func (t *throttle) blocked(account, addr string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	pair := pairKey(account, addr)
	wait := t.over(t.pairs[pair], t.cfg.PerPair, now)
	wait = max(wait, t.over(t.addrs[addr], t.cfg.PerAddress, now))
	if last, ok := t.trusted[pair]; !ok || now.Sub(last) > trustedFor {
		wait = max(wait, t.over(t.accounts[account], t.cfg.PerAccount, now))
	}
	return wait
}

func (t *throttle) over(w *window, limit int, now time.Time) time.Duration {
	if w == nil || limit <= 0 || w.count < limit {
		return 0
	}
	if end := w.start.Add(t.cfg.Window); now.Before(end) {
		return end.Sub(now)
	}
	return 0
}

// failed records a failed attempt.
func (t *throttle) failed(account, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.pairs) >= maxThrottleEntries {
		t.pruneLocked(now)
	}
	t.bump(t.pairs, pairKey(account, addr), now)
	t.bump(t.accounts, account, now)
	if addr != "" {
		t.bump(t.addrs, addr, now)
	}
}

func (t *throttle) bump(m map[string]*window, key string, now time.Time) {
	w := m[key]
	if w == nil || now.Sub(w.start) >= t.cfg.Window {
		w = &window{start: now}
		m[key] = w
	}
	w.count++
}

// succeeded clears the pair's failures and trusts the address for the account.
func (t *throttle) succeeded(account, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pair := pairKey(account, addr)
	delete(t.pairs, pair)
	if len(t.trusted) >= maxThrottleEntries {
		clear(t.trusted)
	}
	t.trusted[pair] = now
}

func (t *throttle) prune(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(now)
}

func (t *throttle) pruneLocked(now time.Time) {
	for _, m := range []map[string]*window{t.pairs, t.accounts, t.addrs} {
		for k, w := range m {
			if now.Sub(w.start) >= t.cfg.Window {
				delete(m, k)
			}
		}
	}
	for k, at := range t.trusted {
		if now.Sub(at) > trustedFor {
			delete(t.trusted, k)
		}
	}
	if len(t.pairs) >= maxThrottleEntries {
		// A flood of fresh pairs: start over rather than grow without bound.
		clear(t.pairs)
	}
}
