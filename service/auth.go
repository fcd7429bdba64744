package service

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/lru"
	"github.com/accountd/accountd/secret"
	"golang.org/x/sync/singleflight"
)

// Every request authenticates, so checking a token must not cost a
// database round trip. What the check reads is cached per instance, and
// this file is the one place that says how those caches stay true:
//
//   - Where entries come from: the token's row with the digest of the
//     text that verified (tokens: one entry a token, verified.go), its
//     user's row (users), for GET /me and the lists kept with it, the
//     user's state with the answers made from it (views, meview.go), and
//     what device states' checks decided (devices, targets.go). Each is
//     loaded from the database on a miss and kept until something
//     invalidates it, until it expires (a token at its expiry, or its
//     text's; a list answer, whose lastUsed moves without an event, after
//     ten seconds), or until the byte budget evicts it (internal/lru: per
//     entry, least recently used first; each entry accounted at no less
//     than what it takes on the heap, kept small by sharing what entries
//     have in common: authmem.go). Nothing is trusted on a clock alone.
//   - What invalidates them: every change to a token, to a user's
//     credentials or to what GET /me shows writes an auth event in the
//     same transaction as the change. The instance that made the change
//     drops the entries at once; every instance follows the events by
//     number (Store.AuthEventsAfter: numbers become visible in commit
//     order, so one number is all an instance needs to remember) every
//     EventPoll, and drops what they name. Loads that raced a drop are not
//     kept (lru.Cache's generation). The HTTP layer also drops the caller's
//     GET /me state before any write answers (ForgetMe), so a user reads
//     their own writes even where the change has no event of its own
//     (usage reports).
//   - Why an instance may trust them: only while it can show that it has
//     read every event committed up to FreshnessBound ago (the start of
//     its last successful poll). A paused process, a GC stall, a slow or
//     unreachable database or a failed poll all break that; the next
//     request then reads the events itself before it trusts anything, and
//     answers 503 if it cannot. After a gap longer than the events are
//     surely kept, the caches are emptied instead.
//
// Issuing a token is decided on committed state, not on these caches: the
// issuing transaction locks the user's row and checks the credential the
// token is obtained with (issue), so nothing that raced a cut-off
// survives it.

// FreshnessBound is how old an instance's knowledge of the auth events may
// be before it stops trusting its caches: the promise that a revocation on
// one instance takes effect on every other within a second.
const FreshnessBound = time.Second

// resyncAfter is how long an instance may have been cut off before it
// empties its caches rather than read the events it missed: well within
// the hour events are kept (housekeeping).
const resyncAfter = 10 * time.Minute

// eventBatch is how many events one poll reads at a time.
const eventBatch = 5000

// lastUsedGranularity is how stale a token's recorded last use may be; it
// keeps last-use bookkeeping off the hot path.
const lastUsedGranularity = time.Minute

// errUnavailable is the answer while the instance cannot confirm that its
// caches are current.
var errUnavailable = &accountd.Error{Code: accountd.CodeUnavailable,
	Message: "the service cannot confirm credentials right now; try again shortly", RetryAfter: time.Second}

type tokenEntry struct {
	userID    string // shared by the user's tokens (internID)
	parentID  string
	kind      accountd.TokenKind
	scope     []string   // shared by the tokens of the same scope (scopeSets)
	text      textDigest // of the text that verified when the entry was made; zero: none (verified.go)
	active    bool
	missing   bool
	size      int32 // what the entry is accounted at
	gen       int64
	expiresAt int64        // unix nanoseconds; 0: never
	createdAt int64        // unix nanoseconds
	lastUsed  atomic.Int64 // unix ms of the last use recorded
}

// tokenEntryBase is what a tokenEntry costs on the heap (its allocation
// size class) with the interned copy of its user's id (authmem.go),
// counted in full for each entry though the user's tokens share it;
// internedIDSize is that copy's cost, paid again for a parent's id.
const (
	internedIDSize = 48
	tokenEntryBase = 128 + internedIDSize
)

// newTokenEntry makes the entry of t, with what it costs.
func newTokenEntry(t *accountd.Token, scopes *scopeSets) *tokenEntry {
	scope, shared := scopes.intern(t.Scope)
	e := &tokenEntry{
		userID: internID(t.UserID), parentID: internID(t.ParentID), kind: canonicalKind(t.Kind), scope: scope,
		active: t.Status == accountd.StatusActive, gen: t.UserGen, expiresAt: unixNano(t.ExpiresAt), createdAt: t.CreatedAt.UnixNano(),
	}
	e.lastUsed.Store(t.LastUsedAt.UnixMilli())
	size := int64(tokenEntryBase)
	if !shared {
		size += scopeCost(scope)
	}
	if e.parentID != "" {
		size += internedIDSize
	}
	e.size = int32(min(size, math.MaxInt32))
	return e
}

// withText returns the entry as it is to be kept for the text v verified
// (e itself without v): a copy that remembers the text (remember).
func (e *tokenEntry) withText(v *verifiedText) *tokenEntry {
	if v == nil || e.missing || e.userID != v.userID {
		return e
	}
	c := &tokenEntry{userID: e.userID, parentID: e.parentID, kind: e.kind, scope: e.scope,
		active: e.active, size: e.size, gen: e.gen, expiresAt: e.expiresAt, createdAt: e.createdAt}
	c.lastUsed.Store(e.lastUsed.Load())
	c.remember(v)
	return c
}

// remember makes a new entry, not yet shared, remember the text v
// verified, if the text names the entry's user (else the request is
// refused, and the text must never skip the check).
func (e *tokenEntry) remember(v *verifiedText) {
	if v != nil && !e.missing && e.userID == v.userID {
		e.text = v.digest
	}
}

// expiry is when the cache is to let the entry go: when the token expires
// or, with v, the text does if that is sooner (the claims' expiry is the
// row's cut to the second), after which the text no longer verifies.
func (e *tokenEntry) expiry(v *verifiedText) time.Time {
	var exp time.Time
	if e.expiresAt != 0 {
		exp = time.Unix(0, e.expiresAt)
	}
	if v != nil && !e.missing && !v.expiresAt.IsZero() && (exp.IsZero() || v.expiresAt.Before(exp)) {
		exp = v.expiresAt
	}
	return exp
}

// unixNano is t in unix nanoseconds, 0 for the zero time; a time past
// what they can hold (the year 2262) is held as the last one they can, which
// no clock reaches.
func unixNano(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(lastUnixNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var lastUnixNano = time.Unix(0, math.MaxInt64)

type userEntry struct {
	cutoff        time.Time
	gen           int64
	emailVerified bool
	missing       bool
}

const userEntrySize = 64

// authState is the instance's cached view of tokens and users, and how far
// it has followed the auth events.
type authState struct {
	tokens *lru.Cache[packedID, *tokenEntry]
	scopes scopeSets
	users  *lru.Cache[string, *userEntry]

	pollMu sync.Mutex // one poll at a time; seq is only touched under it
	seq    int64      // the last event read
	epoch  time.Time  // monotonic origin for freshAt
	// freshAt is when (nanoseconds since epoch) the last successful poll
	// started: every event committed before then has been read.
	freshAt atomic.Int64
	flight  singleflight.Group

	uses lastUses // last uses not yet written (lastuse.go)

	logMu         sync.Mutex // failed-poll logging (pollInBackground)
	failedPolls   int
	loggedFailure time.Time
}

func newAuthState(budget CacheBudget) *authState {
	a := &authState{
		tokens: lru.New[packedID, *tokenEntry](budget.Tokens),
		users:  lru.New[string, *userEntry](budget.Users),
		epoch:  time.Now(),
	}
	a.uses.init()
	// Nothing read yet: not fresh, and the first poll starts from where
	// the sequence stands.
	a.freshAt.Store(-int64(resyncAfter) - 1)
	return a
}

func (a *authState) sinceEpoch() int64 { return int64(time.Since(a.epoch)) }

// fresh reports whether every event committed up to FreshnessBound ago has
// been read.
func (a *authState) fresh() bool {
	return a.sinceEpoch()-a.freshAt.Load() <= int64(FreshnessBound)
}

var errBadToken = &accountd.Error{Code: accountd.CodeUnauthorized, Message: "the token is missing, malformed, expired or revoked"}

// Authenticate verifies a bearer token and returns who it acts for. Any
// failure of the token is the same 401, so a caller learns nothing about
// why; a 503 means the instance could not confirm the token's state. The
// token's use is recorded with the client ctx carries (accountd.WithClient).
func (s *Service) Authenticate(ctx context.Context, token string) (accountd.Principal, error) {
	return s.AuthenticateFrom(ctx, token, nil)
}

// AuthenticateFrom is Authenticate for a caller that says who is calling
// only when asked: when ctx carries no client, the use of the token is
// recorded with what from says (asked about once a minute per token).
func (s *Service) AuthenticateFrom(ctx context.Context, token string, from accountd.ClientSource) (accountd.Principal, error) {
	now := s.now()
	digest := digestOf(token)
	tokenID := secret.UnverifiedTokenID(token)
	te := s.verifiedEntry(tokenID, digest, now)
	if te == nil {
		// not this text's entry: verify it in full, then read the row
		c, err := s.keys.Verify(token, now)
		if err != nil {
			return accountd.Principal{}, errBadToken
		}
		if err := s.ensureFresh(ctx); err != nil {
			return accountd.Principal{}, err
		}
		if te, err = s.tokenEntry(ctx, c.TokenID, &verifiedText{digest: digest, userID: c.UserID, expiresAt: c.ExpiresAt}); err != nil {
			return accountd.Principal{}, err
		}
		if te.missing || te.userID != c.UserID {
			return accountd.Principal{}, errBadToken
		}
		tokenID = c.TokenID
	}
	ue, err := s.userEntry(ctx, te.userID)
	if err != nil {
		return accountd.Principal{}, err
	}
	p := accountd.Principal{UserID: te.userID, TokenID: tokenID, Kind: te.kind, Scope: te.scope,
		EmailVerified: ue.emailVerified, Bound: te.kind == accountd.KindAPI || te.parentID != ""}
	// the token, then every token it was obtained with
	for e, depth := te, 0; ; depth++ {
		if !e.valid(te.userID, ue, now) {
			return accountd.Principal{}, errBadToken
		}
		if e.expiresAt != 0 && (p.ExpiresAt.IsZero() || e.expiresAt < p.ExpiresAt.UnixNano()) {
			p.ExpiresAt = time.Unix(0, e.expiresAt).UTC()
		}
		if e.parentID == "" {
			p.Depth = depth
			break
		}
		if depth >= accountd.MaxTokenDepth {
			return accountd.Principal{}, errBadToken
		}
		if e, err = s.tokenEntry(ctx, e.parentID, nil); err != nil {
			return accountd.Principal{}, err
		}
	}
	s.markUsed(ctx, from, tokenID, te, now)
	return p, nil
}

// verifiedEntry returns the cached entry of the token id when it was made
// from the very text whose digest this is (verified.go) and the instance's
// caches are fresh; nil otherwise, and the text is to be verified in full.
func (s *Service) verifiedEntry(tokenID string, digest textDigest, now time.Time) *tokenEntry {
	key, ok := packID(tokenID)
	if !ok || !s.auth.fresh() {
		return nil
	}
	if e, ok := s.auth.tokens.Get(key, now); ok && !e.missing && e.text == digest {
		return e
	}
	return nil
}

// valid is the rule a token and each of its ancestors must meet.
func (e *tokenEntry) valid(userID string, ue *userEntry, now time.Time) bool {
	return !e.missing && !ue.missing && e.active && e.userID == userID &&
		(e.expiresAt == 0 || now.UnixNano() < e.expiresAt) &&
		(ue.cutoff.IsZero() || e.createdAt > ue.cutoff.UnixNano()) && e.gen == ue.gen
}

// ensureFresh returns once the instance has read every event committed up
// to FreshnessBound ago, reading them itself if the background poll has
// not (one read, however many requests wait for it).
func (s *Service) ensureFresh(ctx context.Context) error {
	if s.auth.fresh() {
		return nil
	}
	ch := s.auth.flight.DoChan("poll", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return nil, s.pollEvents(ctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			s.log.Warn("cannot confirm credentials: auth events unreadable", "err", r.Err)
			return errUnavailable
		}
		return nil
	case <-ctx.Done():
		return accountd.Canceled(ctx.Err())
	}
}

// verifiedText is a token text that just verified in full: its digest,
// and the user and expiry (zero: none) its claims name.
type verifiedText struct {
	digest    textDigest
	userID    string
	expiresAt time.Time
}

// tokenEntry returns the token's entry, reading its row on a miss. With
// v, the entry is to remember that text: one made from another text (or
// from none, as an ancestor) is made again from v and the row. Ids not in
// accountd's own form are read every time, never cached.
func (s *Service) tokenEntry(ctx context.Context, id string, v *verifiedText) (*tokenEntry, error) {
	key, cacheable := packID(id)
	gen := s.auth.tokens.Generation()
	if cacheable {
		get := s.auth.tokens.Get
		if v != nil {
			get = s.auth.tokens.Peek // verifiedEntry counted this request's lookup
		}
		e, ok := get(key, s.now())
		if ok && (v == nil || e.missing || e.text == v.digest) {
			return e, nil
		}
		if ok {
			// the row as cached, remembering this text: no read
			if c := e.withText(v); c != e {
				s.auth.tokens.Put(key, c, int64(c.size), c.expiry(v), gen)
				return c, nil
			}
			return e, nil
		}
	}
	t, err := s.store.Token(ctx, id)
	e := &tokenEntry{missing: true, size: tokenEntryBase}
	switch {
	case errors.Is(err, accountd.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		e = newTokenEntry(t, &s.auth.scopes)
		e.remember(v)
	}
	if cacheable {
		s.auth.tokens.Put(key, e, int64(e.size), e.expiry(v), gen)
	}
	return e, nil
}

func (s *Service) userEntry(ctx context.Context, id string) (*userEntry, error) {
	if e, ok := s.auth.users.Get(id, s.now()); ok {
		return e, nil
	}
	gen := s.auth.users.Generation()
	u, err := s.store.User(ctx, id)
	var e *userEntry
	switch {
	case errors.Is(err, accountd.ErrNotFound):
		e = &userEntry{missing: true}
	case err != nil:
		return nil, err
	default:
		e = &userEntry{cutoff: u.TokenCutoff, gen: u.TokenGen, emailVerified: u.EmailVerified}
	}
	s.auth.users.Put(id, e, userEntrySize+int64(len(id)), time.Time{}, gen)
	return e, nil
}

// forgetToken and forgetUser drop cached state after this instance's own
// changes, so they take effect here at once; the auth events carry them to
// the other instances.
func (s *Service) forgetToken(userID, tokenID string) {
	s.forget([]accountd.AuthEvent{{UserID: userID, TokenID: tokenID}})
}

func (s *Service) forgetUser(userID string) {
	s.forget([]accountd.AuthEvent{{UserID: userID}})
}

// forget drops what the events name. A token event drops the token and
// its user's GET /me state; a user event drops the user's credential state
// and GET /me state and what device states' checks decided for or about
// them (targets.go); an organization event drops the GET /me state of its
// cached members and the checks' decisions about it. Tokens obtained with
// a dropped token need nothing: their check walks up to it.
func (s *Service) forget(events []accountd.AuthEvent) {
	if len(events) == 0 {
		return
	}
	var tokens, users, viewUsers, orgs []string
	for _, ev := range events {
		switch {
		case ev.OrgID != "":
			orgs = append(orgs, ev.OrgID)
			continue
		case ev.TokenID != "":
			tokens = append(tokens, ev.TokenID)
		default:
			users = append(users, ev.UserID)
		}
		viewUsers = append(viewUsers, ev.UserID)
	}
	if len(tokens) > 0 {
		keys := make([]packedID, 0, len(tokens))
		for _, id := range tokens {
			if k, ok := packID(id); ok {
				keys = append(keys, k)
			}
		}
		s.auth.tokens.Delete(keys...)
	}
	if len(users) > 0 {
		s.auth.users.Delete(users...)
	}
	if len(viewUsers) > 0 {
		s.meViews.forget(viewUsers...)
	}
	if len(orgs) > 0 {
		s.meViews.forgetOrgs(orgs...)
	}
	s.forgetTargets(users, orgs)
}

// pollEvents reads the events committed since the last one read and drops
// what they name. It marks the instance fresh as of its own start.
func (s *Service) pollEvents(ctx context.Context) error {
	a := s.auth
	a.pollMu.Lock()
	defer a.pollMu.Unlock()
	start := a.sinceEpoch()
	if start-a.freshAt.Load() > int64(resyncAfter) {
		// Cut off for longer than events are surely kept: start over from
		// where the sequence stands now, with nothing cached.
		seq, err := s.store.LastAuthEvent(ctx)
		if err != nil {
			return err
		}
		a.seq = seq
		s.clearCaches()
		a.freshAt.Store(start)
		return nil
	}
	for {
		events, err := s.store.AuthEventsAfter(ctx, a.seq, eventBatch)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			break
		}
		s.forget(events)
		a.seq = events[len(events)-1].Seq
		if len(events) < eventBatch {
			break
		}
	}
	a.freshAt.Store(start)
	return nil
}

func (s *Service) clearCaches() {
	s.auth.tokens.Clear()
	s.auth.users.Clear()
	s.meViews.clear()
	s.targets.Clear()
}

// pollInBackground reads the events every EventPoll. While the database
// is unreachable that fails four times a second; the first failure and then
// one a minute are logged at ERROR (with how many failed since), and the
// recovery once.
func (s *Service) pollInBackground(ctx context.Context) {
	a := s.auth
	err := s.pollEvents(ctx)
	now := time.Now()
	a.logMu.Lock()
	defer a.logMu.Unlock()
	switch {
	case err != nil:
		a.failedPolls++
		if a.failedPolls == 1 || now.Sub(a.loggedFailure) >= time.Minute {
			s.log.Error("polling auth events; requests answer 503 until it works again", "err", err, "failed_polls", a.failedPolls)
			a.loggedFailure = now
		}
	case a.failedPolls > 0:
		s.log.Info("polling auth events works again", "failed_polls", a.failedPolls)
		a.failedPolls = 0
	}
}

// basis is what a new token is obtained with, checked again on committed
// state when it is issued: a password (verified against the user as read
// then) or the token of the request.
type basis struct {
	// password: the user's password as it was when verified
	passwordAt time.Time
	// or a token: the principal of the request
	principal *accountd.Principal
}

func passwordBasis(u *accountd.User) basis { return basis{passwordAt: u.PasswordUpdatedAt} }

func tokenBasis(p accountd.Principal) basis { return basis{principal: &p} }

// issue creates the row for a new token and signs it. In one transaction it
// locks the user's row and checks the basis on what is committed: the
// password verified is still the password, or the request's token and
// every token it was obtained with are still valid. So a login that
// verified a password changed meanwhile, or a token minted by a request
// that authenticated before a cut-off, revocation or deletion, is refused
// rather than issued. The row is written before signing, so a signed token
// always has one.
func (s *Service) issue(ctx context.Context, st accountd.Store, t *accountd.Token, b basis) (string, error) {
	if err := t.Validate(); err != nil {
		return "", err
	}
	refused := errBadToken
	if b.principal == nil {
		refused = errBadCredentials
	}
	err := st.InTx(ctx, func(tx accountd.Store) error {
		u, err := tx.UserForUpdate(ctx, t.UserID)
		if errors.Is(err, accountd.ErrNotFound) {
			return refused
		}
		if err != nil {
			return err
		}
		if b.principal == nil {
			if !u.PasswordUpdatedAt.Equal(b.passwordAt) {
				return refused
			}
		} else if ok, err := s.chainValid(ctx, tx, u, b.principal.TokenID); err != nil {
			return err
		} else if !ok {
			return refused
		}
		// A token must be created after the user's cut-off to be valid;
		// the cut-off can be this very millisecond.
		if !t.CreatedAt.After(u.TokenCutoff) {
			t.CreatedAt = u.TokenCutoff.Add(time.Millisecond)
			t.UpdatedAt = t.CreatedAt
			if !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(t.CreatedAt) {
				return refused
			}
		}
		t.UserGen = u.TokenGen
		if err := s.tokensWithin(ctx, tx, t); err != nil {
			return err
		}
		return tx.CreateToken(ctx, t)
	})
	if err != nil {
		return "", err
	}
	signed, err := s.keys.Sign(secret.Claims{
		UserID: t.UserID, TokenID: t.ID, Scope: t.Scope, IssuedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
	})
	if err != nil {
		return "", accountd.Internal(err)
	}
	return signed, nil
}

// chainValid checks, on committed rows, the token id and every token it was
// obtained with, by the same rule Authenticate applies to cached ones.
func (s *Service) chainValid(ctx context.Context, tx accountd.Store, u *accountd.User, id string) (bool, error) {
	now := s.now()
	ue := &userEntry{cutoff: u.TokenCutoff, gen: u.TokenGen}
	for depth := 0; id != ""; depth++ {
		if depth > accountd.MaxTokenDepth {
			return false, nil
		}
		t, err := tx.Token(ctx, id)
		if errors.Is(err, accountd.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		e := &tokenEntry{userID: t.UserID, active: t.Status == accountd.StatusActive, gen: t.UserGen,
			expiresAt: unixNano(t.ExpiresAt), createdAt: t.CreatedAt.UnixNano()}
		if !e.valid(u.ID, ue, now) {
			return false, nil
		}
		id = t.ParentID
	}
	return true, nil
}

// derive binds a token obtained with the request's token to it, when the
// request's token is bound (an API token, or obtained with one): the new
// token names it as parent and expires no later than it. It refuses an
// asked-for expiry past the parent's.
func derive(t *accountd.Token, p accountd.Principal, expiryField string, asked bool) error {
	if !p.Bound {
		return nil
	}
	if p.Depth+1 >= accountd.MaxTokenDepth {
		return accountd.Invalid("token", "tokens can be obtained through at most %d other tokens", accountd.MaxTokenDepth-1)
	}
	t.ParentID = p.TokenID
	if p.ExpiresAt.IsZero() || !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(p.ExpiresAt) {
		return nil
	}
	if asked {
		return accountd.Invalid(expiryField, "must not be later than the expiry of the token making this request (%s)", accountd.FormatTime(p.ExpiresAt))
	}
	t.ExpiresAt = p.ExpiresAt
	return nil
}

// newSession issues a login session token for u, whose password (or
// another proof of the person: GitHub) was just checked; via says which
// (accountd.ViaPassword, ViaGithub).
func (s *Service) newSession(ctx context.Context, st accountd.Store, u *accountd.User, scope []string, ttl time.Duration, by creator, via string) (AuthedUser, error) {
	t := s.sessionToken(ctx, u, scope, ttl, by, via)
	signed, err := s.issue(ctx, st, t, passwordBasis(u))
	if err != nil {
		return AuthedUser{}, err
	}
	return AuthedUser{UserID: u.ID, Token: signed, NeedsToVerifyEmail: !u.EmailVerified}, nil
}

// sessionToken makes the row of a new session, recording how it was
// obtained and the client that asked for it (ctx's). A session signed in
// through the web console is recorded as obtained there, whatever proved
// the person.
func (s *Service) sessionToken(ctx context.Context, u *accountd.User, scope []string, ttl time.Duration, by creator, via string) *accountd.Token {
	now := accountd.Millis(s.now())
	c := accountd.ClientFrom(ctx).Clipped()
	if c.Console {
		via = accountd.ViaConsole
	}
	return &accountd.Token{
		ID: accountd.NewID(now), UserID: u.ID, Kind: accountd.KindSession, Scope: scope,
		Status: accountd.StatusActive, CreatorType: by.typ, CreatorID: by.id, CreatorName: by.name,
		ExpiresAt: now.Add(ttl), CreatedAt: now, UpdatedAt: now,
		ObtainedVia: via, CreatedAddress: c.Address, CreatedUserAgent: c.UserAgent,
	}
}
