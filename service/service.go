// Package service holds accountd's business rules, written once over the
// accountd.Store interface: login, token issue, verification and
// revocation, the password rules and the Me and API-token actions. Time and
// randomness are injected so that expiry is tested deterministically.
package service

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/lru"
	"github.com/accountd/accountd/secret"
)

// Config is everything a Service needs. Store, Keys and Catalog are required.
type Config struct {
	Store   accountd.Store
	Keys    *secret.Keyring
	Catalog accountd.Catalog
	Logger  *slog.Logger
	Clock   func() time.Time // default time.Now
	Random  io.Reader        // default crypto/rand

	// Hash sets the argon2id cost of new password hashes (default
	// secret.DefaultParams). HashConcurrency bounds how many hashes run at
	// once, so that a login flood leaves CPU to every other request
	// (default: CPUs less one, at least 1); HashQueue bounds how many
	// requests may wait for a turn (default 16 per hash that may run) and
	// HashWait how long (default 2s). A request that finds the queue full,
	// or waits longer, is refused at once as Unavailable (503) with a
	// Retry-After, rather than piling up.
	Hash            secret.Params
	HashConcurrency int
	HashQueue       int
	HashWait        time.Duration

	// Hooks observe work the service does; tests count with them.
	Hooks Hooks

	// SessionTTL is the life of a login token when tokenTTL is not given
	// (default 14 days); MaxSessionTTL bounds tokenTTL (default 365 days).
	SessionTTL    time.Duration
	MaxSessionTTL time.Duration

	// Throttle limits failed password and code attempts (defaults:
	// DefaultThrottle's limits).
	Throttle ThrottleConfig

	// EventPoll is how often the instance reads the changes made by other
	// instances (default 250ms). Whatever it does, an instance trusts its
	// caches only while it has read every change up to FreshnessBound ago
	// (auth.go).
	EventPoll time.Duration
	// Cache bounds the bytes of the per-instance caches (default
	// DefaultCacheBudget).
	Cache CacheBudget
	// LastUsedFlush is how often noted last uses of tokens are written
	// (default one minute; lastuse.go).
	LastUsedFlush time.Duration

	// Security configures two-factor auth, email verification and the
	// GitHub link (twofactor.go, verify.go, github.go).
	Security SecurityConfig

	// Usage configures usage metering (usage.go).
	Usage UsageConfig

	// SecurityLog configures the security log and notifications (seclog.go).
	SecurityLog SecurityLogConfig
	// Limits caps what each user and each organization may have
	// (limits.go; default: no limits).
	Limits LimitsConfig
}

// Service implements the actions. It is safe for concurrent use.
type Service struct {
	store   accountd.Store
	keys    *secret.Keyring
	catalog accountd.Catalog
	log     *slog.Logger
	now     func() time.Time
	random  io.Reader
	cfg     Config

	hashSem     chan struct{}
	hashing     *hashLane    // where hashes run (hashlane.go)
	hashWaiting atomic.Int64 // places taken in the hashing queue (see holdHashPlace)
	// trustedWaiting counts the places in the trusted lane, bounded apart
	// from the others.
	trustedWaiting atomic.Int64
	hooks          Hooks
	dummyHash      string // verified against when the email is unknown, so both cases take as long
	throttle       accountd.ThrottleStore
	localTrust     *localTrust
	auth           *authState
	meViews        *meViewCache
	targets        *lru.Cache[targetKey, accountd.OwnerRef] // device states' checks (targets.go)
	sendLimit      *sendLimit
	usageKeys      map[[32]byte]string // SHA-256 of a usage key -> its name
	states         *stateWriter
	secObservers   secObservers
	throttledSeen  *throttledSeen
	limits         LimitsConfig

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// New checks cfg, fills in defaults and builds a Service. Call Start to run
// its background work and Close to end it.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Catalog == nil {
		return nil, errors.New("service: Store, Keys and Catalog are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	if cfg.Hash == (secret.Params{}) {
		cfg.Hash = secret.DefaultParams
	}
	if cfg.HashConcurrency <= 0 {
		cfg.HashConcurrency = max(1, runtime.NumCPU()-1)
	}
	if cfg.HashQueue <= 0 {
		cfg.HashQueue = 16 * cfg.HashConcurrency
	}
	if cfg.HashWait <= 0 {
		cfg.HashWait = 2 * time.Second
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 14 * 24 * time.Hour
	}
	if cfg.MaxSessionTTL <= 0 {
		cfg.MaxSessionTTL = 365 * 24 * time.Hour
	}
	if cfg.SessionTTL > cfg.MaxSessionTTL {
		return nil, errors.New("service: SessionTTL exceeds MaxSessionTTL")
	}
	if cfg.Throttle.Window <= 0 {
		shared := cfg.Throttle.Shared
		cfg.Throttle = DefaultThrottle
		cfg.Throttle.Shared = shared
	}
	if cfg.EventPoll <= 0 {
		cfg.EventPoll = 250 * time.Millisecond
	}
	if cfg.Cache == (CacheBudget{}) {
		cfg.Cache = DefaultCacheBudget
	}
	if cfg.LastUsedFlush <= 0 {
		cfg.LastUsedFlush = time.Minute
	}
	cfg.Security.defaults()
	cfg.SecurityLog.defaults()
	if cfg.Usage.IDRetention <= 0 {
		cfg.Usage.IDRetention = 30 * 24 * time.Hour
	}
	if err := cfg.Limits.User.check("users"); err != nil {
		return nil, err
	}
	if err := cfg.Limits.Org.check("organizations"); err != nil {
		return nil, err
	}
	usageKeys := map[[32]byte]string{}
	for _, k := range cfg.Usage.Keys {
		usageKeys[k.Hash] = k.Name
	}
	s := &Service{
		usageKeys:  usageKeys,
		store:      cfg.Store,
		keys:       cfg.Keys,
		catalog:    cfg.Catalog,
		log:        cfg.Logger,
		now:        cfg.Clock,
		random:     cfg.Random,
		cfg:        cfg,
		hashSem:    make(chan struct{}, cfg.HashConcurrency),
		hashing:    newHashLane(cfg.HashConcurrency),
		hooks:      cfg.Hooks,
		throttle:   newMemThrottle(cfg.Cache.Throttle * 3 / 4),
		localTrust: newLocalTrust(cfg.Cache.Throttle / 4),
		auth:       newAuthState(cfg.Cache),
		meViews:    newMeViewCache(cfg.Cache.Views, cfg.Cache.Lists),
		targets:    newTargetCache(cfg.Cache.Devices),
		sendLimit:  newSendLimit(),
		limits:     cfg.Limits,
		stop:       make(chan struct{}),
	}
	s.throttledSeen = newThrottledSeen()
	if cfg.Throttle.Shared {
		s.throttle = cfg.Store
	}
	h, err := secret.HashPassword(cfg.Hash, "accountd-dummy-password", cfg.Random)
	if err != nil {
		return nil, err
	}
	s.dummyHash = h
	s.states = newStateWriter(cfg.Usage.StateWriters, s.store.AppendUsage)
	return s, nil
}

// CacheBudget is how many bytes each per-instance cache may hold, as
// estimated from its entries.
type CacheBudget struct {
	Tokens   int64 // tokens: their rows and the digest of the text that verified (auth.go, verified.go)
	Users    int64 // users' credential state (auth.go)
	Views    int64 // users' GET /me state and the answers made from it (meview.go)
	Throttle int64 // failed-attempt counters and trust marks, with SQLite (throttle.go)
	Devices  int64 // what device states' checks decided (targets.go)
	Lists    int64 // list answers kept with users' GET /me state (meview.go)
}

// DefaultCacheBudget adds up to 80 MiB: about 120,000 warm tokens, 10,000
// users (the many-users benchmark has 110,000 and 10,000), 14,000 devices
// sending states, and the token and application lists of 700 users. A warm
// token is accounted at about 300 bytes, a user at about 2.3 KB (GET /me
// state with one encoded answer 2.1 KB, credential state 0.2 KB), a device
// (for one caller) at about 270 bytes, a list of twenty tokens at about 10
// KB and of twenty applications at about 6 KB; what they really take is
// somewhat less (service's TestEntryCostsAccounted).
var DefaultCacheBudget = SplitCacheBudget(80 << 20)

// SplitCacheBudget shares total bytes out between the caches in 64ths, in
// proportion to what a population of users with about ten tokens each
// needs warm (about 3.3 KB of tokens, 2.1 KB of GET /me state and answer
// and 0.2 KB of credential state a user), a device of theirs sending
// states, and the lists of a few of them: 28 to tokens, 3 to users'
// credential state, 18 to GET /me state and answers, 3 to throttle
// counters, 3 to device states' checks and 9 to list answers.
func SplitCacheBudget(total int64) CacheBudget {
	return CacheBudget{Tokens: total * 28 / 64, Users: total * 3 / 64, Views: total * 18 / 64, Throttle: total * 3 / 64,
		Devices: total * 3 / 64, Lists: total * 9 / 64}
}

// CacheBudget is the budget the service was configured with.
func (s *Service) CacheBudget() CacheBudget { return s.cfg.Cache }

// Total is the budget of all the caches together.
func (b CacheBudget) Total() int64 {
	return b.Tokens + b.Users + b.Views + b.Throttle + b.Devices + b.Lists
}

// Catalog is the scope catalog the service checks tokens against.
func (s *Service) Catalog() accountd.Catalog { return s.catalog }

// Start runs the background work until Close: following token changes made
// by other instances, writing last-use times, folding appended device
// state counts into the usage sums (statebuf.go), and pruning expired
// sessions, old events and stale throttle entries.
func (s *Service) Start() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	s.pollInBackground(ctx)
	cancel()
	s.every(s.cfg.EventPoll, s.pollInBackground)
	s.every(s.cfg.LastUsedFlush, func(ctx context.Context) {
		// paced, a flush may take longer than every's timeout: it has
		// until the next one is due
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.LastUsedFlush)
		defer cancel()
		s.flushLastUsed(ctx, true)
	})
	s.every(time.Minute, s.housekeeping)
	s.every(stateFoldInterval, s.foldUsage)
}

// Close stops the background work and writes pending last-use times; it
// refuses device states from then on and returns once those already
// queued are written (statebuf.go).
func (s *Service) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.flushLastUsed(ctx, false)
	s.states.close()
	s.hashing.close()
}

func (s *Service) every(d time.Duration, f func(context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				f(ctx)
				cancel()
			}
		}
	}()
}

func (s *Service) housekeeping(ctx context.Context) {
	now := s.now()
	// Expired sessions are useless; expired API tokens stay listed so their
	// owners can see what lapsed.
	if n, err := s.store.DeleteExpiredTokens(ctx, accountd.KindSession, now); err != nil {
		s.log.Error("deleting expired sessions", "err", err)
	} else if n > 0 {
		s.log.Debug("deleted expired sessions", "count", n)
	}
	if err := s.store.PruneAuthEvents(ctx, time.Hour); err != nil {
		s.log.Error("pruning auth events", "err", err)
	}
	if err := s.store.ForgetUsageIDs(ctx, now.Add(-s.cfg.Usage.IDRetention)); err != nil {
		s.log.Error("dropping old usage event ids", "err", err)
	}
	s.localTrust.prune(now)
	if n, err := s.throttle.PruneThrottle(ctx, now); err != nil {
		s.log.Error("pruning throttle counters", "err", err)
	} else if n > 0 {
		s.log.Debug("pruned throttle counters", "count", n)
	}
	s.auth.tokens.Prune(now)
	s.meViews.lists.Prune(now)
	s.meViews.pruneIndex()
	s.sendLimit.prune(now)
	s.throttledSeen.prune(now)
	s.pruneSecurityLog(ctx, now)
	s.remindExpiringTokens(ctx, now)
}

// Hooks observe work the service does, for tests that count it. Nil
// fields are skipped. They are called from request goroutines, at once.
type Hooks struct {
	// Hash is called for every argon2id run (a new hash or a check), with
	// the parameters it runs at.
	Hash func(secret.Params)
	// SecondFactor is called for every two-factor or recovery code checked
	// against the user's secrets.
	SecondFactor func()
}

func (h Hooks) hash(p secret.Params) {
	if h.Hash != nil {
		h.Hash(p)
	}
}

func (h Hooks) secondFactor() {
	if h.SecondFactor != nil {
		h.SecondFactor()
	}
}

// hashPassword and verifyPassword run argon2id under the concurrency bound.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	if err := s.acquireHash(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashSem }()
	s.hooks.hash(s.cfg.Hash)
	var h string
	var err error
	s.hashing.run(func() { h, err = secret.HashPassword(s.cfg.Hash, password, s.random) })
	if err != nil {
		return "", accountd.Internal(err)
	}
	return h, nil
}

func (s *Service) verifyPassword(ctx context.Context, hash, password string) (bool, error) {
	if err := s.acquireHash(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashSem }()
	if s.hooks.Hash != nil {
		if p, err := secret.ParamsOf(hash); err == nil {
			s.hooks.Hash(p)
		}
	}
	var ok bool
	var err error
	s.hashing.run(func() { ok, err = secret.VerifyPassword(hash, password) })
	if err != nil {
		return false, accountd.Internal(err)
	}
	return ok, nil
}

// HashWaiting is how many requests hold a place in the hashing queue now:
// they will hash, and wait for a turn or soon will.
func (s *Service) HashWaiting() int { return int(s.hashWaiting.Load() + s.trustedWaiting.Load()) }

// hashPlace is a place in the hashing queue, taken before a throttled
// attempt touches the throttle and given up when its hash gets a turn (or
// the request ends first).
type hashPlace struct {
	waiting *atomic.Int64
	held    atomic.Bool
}

type hashPlaceKey struct{}

// leave gives the place up; only the first call counts. A nil place is
// none.
func (p *hashPlace) leave() {
	if p != nil && p.held.CompareAndSwap(true, false) {
		p.waiting.Add(-1)
	}
}

// holdHashPlace takes a place in the hashing queue for a request that will
// hash, or refuses it with 503 when the queue is full. Addresses this
// instance saw log in to the account before (trusted) have a lane of their
// own, of the same size, so that a flood of strangers filling the queue
// does not turn the owner away; they still wait their turn for a hash.
func (s *Service) holdHashPlace(ctx context.Context, trusted bool) (context.Context, *hashPlace, error) {
	p := &hashPlace{waiting: &s.hashWaiting}
	if trusted {
		p.waiting = &s.trustedWaiting
	}
	if p.waiting.Add(1) > int64(s.cfg.HashQueue) {
		p.waiting.Add(-1)
		return ctx, nil, busyHashing()
	}
	p.held.Store(true)
	return context.WithValue(ctx, hashPlaceKey{}, p), p, nil
}

// busyHashing is the answer when no hashing turn comes soon enough.
func busyHashing() error {
	return &accountd.Error{Code: accountd.CodeUnavailable, RetryAfter: time.Second,
		Message: "too many password checks at once; try again in a second"}
}

// acquireHash takes a hashing turn: at once if one is free, else after a
// bounded wait in the bounded queue (FIFO: Go wakes blocked senders in
// order). A request holding a place in the queue (holdHashPlace) waits in
// it and gives it up once it has a turn; any other takes a place now, or
// gets 503. A caller that leaves while waiting gets Canceled.
func (s *Service) acquireHash(ctx context.Context) error {
	p, _ := ctx.Value(hashPlaceKey{}).(*hashPlace)
	if p == nil || !p.held.Load() {
		var err error
		if _, p, err = s.holdHashPlace(ctx, false); err != nil {
			select {
			case s.hashSem <- struct{}{}:
				return nil
			default:
				return err
			}
		}
	}
	defer p.leave()
	select {
	case s.hashSem <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(s.cfg.HashWait)
	defer t.Stop()
	select {
	case s.hashSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return accountd.Canceled(ctx.Err())
	case <-t.C:
		return busyHashing()
	}
}
