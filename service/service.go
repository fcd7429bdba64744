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
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/secret"
	"golang.org/x/sync/singleflight"
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
	// secret.DefaultParams); HashConcurrency bounds how many hashes run at
	// once, so a login flood cannot starve other requests (default: CPUs).
	Hash            secret.Params
	HashConcurrency int

	// SessionTTL is the life of a login token when tokenTTL is not given
	// (default 14 days); MaxSessionTTL bounds tokenTTL (default 365 days).
	SessionTTL    time.Duration
	MaxSessionTTL time.Duration

	// Throttle limits failed password attempts (defaults: DefaultThrottle).
	Throttle ThrottleConfig

	// EventPoll is how often the instance looks for token and user changes
	// made by other instances (default 250ms); EventWindow is how far back
	// each look reaches (default 5s). Revocation elsewhere takes effect here
	// within EventPoll plus the database round trip.
	EventPoll   time.Duration
	EventWindow time.Duration
	// LastUsedFlush is how often last-use times are written (default 30s).
	LastUsedFlush time.Duration

	// Security configures two-factor auth, email verification and the
	// GitHub link (twofactor.go, verify.go, github.go).
	Security SecurityConfig

	// Usage configures usage metering (usage.go).
	Usage UsageConfig
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

	hashSem   chan struct{}
	dummyHash string // verified against when the email is unknown, so both cases take as long
	throttle  *throttle
	cache     *authCache
	meViews   *meViewCache
	meFlight  singleflight.Group
	verified  *verifiedCache
	sendLimit *sendLimit
	usageKeys map[[32]byte]string // SHA-256 of a usage key -> its name
	states    *stateWriter

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
		cfg.HashConcurrency = runtime.NumCPU()
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
	if cfg.Throttle == (ThrottleConfig{}) {
		cfg.Throttle = DefaultThrottle
	}
	if cfg.EventPoll <= 0 {
		cfg.EventPoll = 250 * time.Millisecond
	}
	if cfg.EventWindow <= 0 {
		cfg.EventWindow = 5 * time.Second
	}
	if cfg.LastUsedFlush <= 0 {
		cfg.LastUsedFlush = 30 * time.Second
	}
	cfg.Security.defaults()
	if cfg.Usage.IDRetention <= 0 {
		cfg.Usage.IDRetention = 30 * 24 * time.Hour
	}
	usageKeys := map[[32]byte]string{}
	for _, k := range cfg.Usage.Keys {
		usageKeys[k.Hash] = k.Name
	}
	s := &Service{
		usageKeys: usageKeys,
		store:     cfg.Store,
		keys:      cfg.Keys,
		catalog:   cfg.Catalog,
		log:       cfg.Logger,
		now:       cfg.Clock,
		random:    cfg.Random,
		cfg:       cfg,
		hashSem:   make(chan struct{}, cfg.HashConcurrency),
		throttle:  newThrottle(cfg.Throttle),
		cache:     newAuthCache(),
		meViews:   newMeViewCache(),
		verified:  newVerifiedCache(),
		sendLimit: newSendLimit(),
		stop:      make(chan struct{}),
	}
	h, err := secret.HashPassword(cfg.Hash, "accountd-dummy-password", cfg.Random)
	if err != nil {
		return nil, err
	}
	s.dummyHash = h
	s.states = newStateWriter(func(ctx context.Context, recs []accountd.UsageRecord) error {
		_, err := s.store.RecordUsage(ctx, recs, s.now())
		return err
	})
	return s, nil
}

// Catalog is the scope catalog the service checks tokens against.
func (s *Service) Catalog() accountd.Catalog { return s.catalog }

// Start runs the background work until Close: following token changes made
// by other instances, writing last-use times, and pruning expired sessions, old events and stale throttle entries.
func (s *Service) Start() {
	s.every(s.cfg.EventPoll, s.pollEvents)
	s.every(s.cfg.LastUsedFlush, s.flushLastUsed)
	s.every(time.Minute, s.housekeeping)
}

// Close stops the background work and writes pending last-use times; it
// refuses device states from then on and returns once those already
// queued are written (statebuf.go).
func (s *Service) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.flushLastUsed(ctx)
	s.states.close()
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
	s.throttle.prune(now)
	s.sendLimit.prune(now)
}

// hashPassword and verifyPassword run argon2id under the concurrency bound.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	if err := s.acquireHash(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashSem }()
	h, err := secret.HashPassword(s.cfg.Hash, password, s.random)
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
	ok, err := secret.VerifyPassword(hash, password)
	if err != nil {
		return false, accountd.Internal(err)
	}
	return ok, nil
}

func (s *Service) acquireHash(ctx context.Context) error {
	select {
	case s.hashSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return accountd.Internal(ctx.Err())
	}
}
