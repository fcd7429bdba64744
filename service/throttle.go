package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/accountd/accountd"
)

// ThrottleConfig limits failed attempts at a secret (password, two-factor
// code, recovery code) within Window. A client address that keeps failing
// on one account is stopped first (PerPair); an address failing across
// accounts is stopped at PerAddress; an account failing from many
// addresses is stopped at PerAccount, except for addresses that logged in
// to it successfully before, so that a distributed attack cannot lock the
// owner out. Every block ends when its window does. A limit of 0 is no
// limit.
//
// An attempt is counted before its secret is checked and given back when
// it turns out right (or when nothing was checked), so however many
// guesses arrive at once, at most a limit's worth are ever checked.
type ThrottleConfig struct {
	Window     time.Duration
	PerPair    int
	PerAddress int
	PerAccount int
	// Shared keeps the counts in the Store, where every instance using the
	// database counts together (PostgreSQL with several instances);
	// otherwise they are kept in this process's memory, which is enough
	// for a single instance (SQLite) and costs no database write.
	Shared bool
}

// DefaultThrottle: 5 failures per account and address, 50 per address and
// 20 per account, each per 15 minutes.
var DefaultThrottle = ThrottleConfig{Window: 15 * time.Minute, PerPair: 5, PerAddress: 50, PerAccount: 20}

// trustedFor is how long a successful login exempts its address from the
// account-wide limit.
const trustedFor = 30 * 24 * time.Hour

// throttleKey names a counter or trust mark. Accounts and addresses come
// from callers (an email of any length), so keys are digests: bounded,
// and safe in any database.
func throttleKey(kind string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return kind + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// attempt is one reserved try at an account's secrets from an address.
// Exactly one of failed, succeeded or release settles it; release after
// either of the others does nothing, so callers defer it.
type attempt struct {
	s       *Service
	ctx     context.Context
	pair    string
	trust   string
	at      time.Time
	counted []accountd.ThrottleCount
	// hashCtx is the caller's context carrying place, for the attempt's
	// password checks.
	hashCtx context.Context
	place   *hashPlace // nil when the attempt hashes nothing
	settled bool
	// reason names the secret found wrong (failedFor), for the security log.
	reason string
}

// reserveAttempt counts an attempt on account from addr before any secret
// is checked, or refuses it with 429 when a limit is reached. An attempt
// that will hash a password first takes a place in the hashing queue (see
// holdHashPlace) and is refused with 503 when there is none, before it
// touches the throttle: a flood that hashing cannot keep up with then
// costs no throttle write (a database transaction with PostgreSQL) per
// refused request. Callers defer release, which also gives up the place.
func (s *Service) reserveAttempt(ctx context.Context, account, addr string, now time.Time, willHash bool) (*attempt, error) {
	cfg := s.cfg.Throttle
	a := &attempt{s: s, ctx: ctx, hashCtx: ctx, pair: throttleKey("pair", account, addr), trust: throttleKey("trust", account, addr), at: now}
	if willHash {
		var err error
		if a.hashCtx, a.place, err = s.holdHashPlace(ctx, s.localTrust.has(a.trust, now)); err != nil {
			return nil, err
		}
	}
	counters := make([]accountd.ThrottleCounter, 0, 3)
	if cfg.PerPair > 0 {
		counters = append(counters, accountd.ThrottleCounter{Key: a.pair, Limit: cfg.PerPair})
	}
	if cfg.PerAddress > 0 && addr != "" {
		counters = append(counters, accountd.ThrottleCounter{Key: throttleKey("addr", addr), Limit: cfg.PerAddress})
	}
	if cfg.PerAccount > 0 {
		counters = append(counters, accountd.ThrottleCounter{Key: throttleKey("account", account), Limit: cfg.PerAccount, Exempt: true})
	}
	counted, wait, err := s.throttle.ReserveThrottle(ctx, accountd.ThrottleAttempt{
		Counters: counters, Trust: a.trust, Window: cfg.Window, At: now,
	})
	if err == nil && wait > 0 {
		err = tooMany(wait)
	}
	if err != nil {
		a.place.leave()
		return nil, err
	}
	a.counted = counted
	return a, nil
}

// failed keeps the attempt counted: a secret was wrong.
func (a *attempt) failed() { a.settled = true }

// failedFor is failed, naming which secret was wrong (password,
// twoFactorCode, recoveryCode).
func (a *attempt) failedFor(reason string) {
	a.reason = reason
	a.failed()
}

// succeeded gives the attempt back, clears the pair's failures and trusts
// the address for the account. Call it only once every factor has passed:
// a right password alone must not clear the failures of code guesses.
func (a *attempt) succeeded() {
	if a.settled {
		return
	}
	a.settled = true
	release := make([]accountd.ThrottleCount, 0, len(a.counted))
	for _, c := range a.counted {
		if c.Key != a.pair {
			release = append(release, c)
		}
	}
	a.end(accountd.ThrottleEnd{Release: release, Clear: []string{a.pair}, Trust: a.trust, At: a.at, Until: a.at.Add(trustedFor)})
	a.s.localTrust.set(a.trust, a.at.Add(trustedFor), a.at)
}

// localTrust remembers the trust marks this instance set, for
// reserveAttempt's early refusal. With several instances, an owner who
// logged in through another one is not in it and, while hashing is
// saturated, is refused like a stranger until they reach this one again.
type localTrust struct {
	mu    sync.Mutex
	until *boundedMap[time.Time]
}

func newLocalTrust(budget int64) *localTrust {
	return &localTrust{until: newBoundedMap[time.Time](budget)}
}

func (l *localTrust) has(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return now.Before(l.until.m[key])
}

func (l *localTrust) set(key string, until, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.until.makeRoom(key, func(u time.Time) bool { return !now.Before(u) }, nil)
	l.until.set(key, until)
}

func (l *localTrust) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked(now)
}

func (l *localTrust) pruneLocked(now time.Time) {
	for k, until := range l.until.m {
		if !now.Before(until) {
			l.until.del(k)
		}
	}
}

// release gives the attempt back when no secret was judged wrong: a code
// was missing, a step failed, the server was busy or the caller left.
func (a *attempt) release() {
	a.place.leave()
	if a.settled {
		return
	}
	a.settled = true
	if len(a.counted) > 0 {
		a.end(accountd.ThrottleEnd{Release: a.counted})
	}
}

func (a *attempt) end(e accountd.ThrottleEnd) {
	// The caller may have gone: its attempt must still be given back.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(a.ctx), 5*time.Second)
	defer cancel()
	if err := a.s.throttle.EndThrottle(ctx, e); err != nil {
		a.s.log.WarnContext(ctx, "settling a throttled attempt", "err", err)
	}
}

// memThrottle is accountd.ThrottleStore in this process's memory, for a
// single instance.
type memThrottle struct {
	mu       sync.Mutex
	counters *boundedMap[*window]
	trusted  *boundedMap[time.Time] // trust mark -> its end
}

// window counts attempts from start until end.
type window struct {
	start, end time.Time
	count      int
}

// Attempts given back leave nothing behind, so counters only grow with
// checked attempts, which the hashing bound paces; budget bounds them (and
// the trust marks) by bytes all the same.
func newMemThrottle(budget int64) *memThrottle {
	return &memThrottle{counters: newBoundedMap[*window](budget * 3 / 4), trusted: newBoundedMap[time.Time](budget / 4)}
}

// boundedMap is a map whose entries are accounted in bytes. Past its budget
// it frees what has expired, then evicts the entries its owner values
// least, one at a time, down to nine tenths of the budget: never
// everything at once, which would hand a flood a way to reset counters.
type boundedMap[V any] struct {
	m      map[string]V
	bytes  int64
	budget int64
}

func newBoundedMap[V any](budget int64) *boundedMap[V] {
	return &boundedMap[V]{m: map[string]V{}, budget: max(budget, 64<<10)}
}

// entryCost is what a string-keyed entry holds, its key's text and the
// map's share included.
func entryCost(key string) int64 { return int64(len(key)) + 112 }

func (b *boundedMap[V]) set(k string, v V) {
	if _, ok := b.m[k]; !ok {
		b.bytes += entryCost(k)
	}
	b.m[k] = v
}

func (b *boundedMap[V]) del(k string) {
	if _, ok := b.m[k]; ok {
		b.bytes -= entryCost(k)
		delete(b.m, k)
	}
}

// makeRoom makes space for key: expired entries go first, then those
// least values least (when given), then any, until within nine tenths of
// the budget.
func (b *boundedMap[V]) makeRoom(key string, expired, least func(V) bool) {
	if _, ok := b.m[key]; ok || b.bytes+entryCost(key) <= b.budget {
		return
	}
	target := b.budget * 9 / 10
	for _, drop := range []func(V) bool{expired, least, func(V) bool { return true }} {
		if drop == nil {
			continue
		}
		for k, v := range b.m {
			if b.bytes+entryCost(key) <= target {
				return
			}
			if drop(v) {
				b.del(k)
			}
		}
	}
}

var _ accountd.ThrottleStore = (*memThrottle)(nil)

func (m *memThrottle) ReserveThrottle(_ context.Context, a accountd.ThrottleAttempt) ([]accountd.ThrottleCount, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	trusted := a.Trust != "" && a.At.Before(m.trusted.m[a.Trust])
	var wait time.Duration
	for _, c := range a.Counters {
		if c.Exempt && trusted {
			continue
		}
		if w := m.counters.m[c.Key]; w != nil && a.At.Before(w.end) && w.count >= c.Limit {
			wait = max(wait, w.end.Sub(a.At))
		}
	}
	if wait > 0 {
		return nil, wait, nil
	}
	counted := make([]accountd.ThrottleCount, 0, len(a.Counters))
	for _, c := range a.Counters {
		if c.Exempt && trusted {
			continue
		}
		w := m.counters.m[c.Key]
		if w == nil || !a.At.Before(w.end) {
			w = &window{start: a.At, end: a.At.Add(a.Window)}
			// counters at one attempt say least about an attack
			m.counters.makeRoom(c.Key, func(w *window) bool { return !a.At.Before(w.end) },
				func(w *window) bool { return w.count <= 1 })
			m.counters.set(c.Key, w)
		}
		w.count++
		counted = append(counted, accountd.ThrottleCount{Key: c.Key, Start: w.start})
	}
	slices.SortFunc(counted, func(x, y accountd.ThrottleCount) int { return strings.Compare(x.Key, y.Key) })
	return counted, 0, nil
}

func (m *memThrottle) EndThrottle(_ context.Context, e accountd.ThrottleEnd) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range e.Release {
		// A window that started again since did not count the attempt.
		if w := m.counters.m[c.Key]; w != nil && w.start.Equal(c.Start) {
			if w.count--; w.count <= 0 {
				m.counters.del(c.Key)
			}
		}
	}
	for _, k := range e.Clear {
		m.counters.del(k)
	}
	if e.Trust != "" {
		m.trusted.makeRoom(e.Trust, func(until time.Time) bool { return !e.At.Before(until) }, nil)
		m.trusted.set(e.Trust, e.Until)
	}
	return nil
}

func (m *memThrottle) PruneThrottle(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pruneLocked(now), nil
}

func (m *memThrottle) pruneLocked(now time.Time) int {
	n := 0
	for k, w := range m.counters.m {
		if !now.Before(w.end) {
			m.counters.del(k)
			n++
		}
	}
	for k, until := range m.trusted.m {
		if !now.Before(until) {
			m.trusted.del(k)
			n++
		}
	}
	return n
}
