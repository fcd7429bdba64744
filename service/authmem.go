package service

import (
	"strings"
	"sync"
	"unique"

	"github.com/accountd/accountd"
)

// A warm token's entry is kept small, so that a large population's tokens
// fit the budget (auth.go): its user's id is one string shared by every
// entry of the user's tokens, its scope one slice shared by every token of
// the same scope, its kind one of the constants, its times plain integers.

// internID returns id as the one copy every entry naming it shares (while
// any does). The empty id needs no copy.
func internID(id string) string {
	if id == "" {
		return ""
	}
	return unique.Make(id).Value()
}

// canonicalKind returns the constant for a known kind, so that entries do
// not each keep the copy a database row was read into.
func canonicalKind(k accountd.TokenKind) accountd.TokenKind {
	switch k {
	case accountd.KindAPI:
		return accountd.KindAPI
	case accountd.KindSession:
		return accountd.KindSession
	}
	return k
}

// scopeSets keeps one copy of each scope set tokens carry, for their
// entries to share: most tokens of an instance have one of a few. It stops
// taking new sets past maxScopeSets or maxScopeBytes (a fixed amount of
// memory, whatever tokens are made), after which a new set's entries keep
// and pay for their own copy. Shared copies are read-only, as every
// Principal's Scope is.
type scopeSets struct {
	mu    sync.RWMutex
	sets  map[string][]string // joined with "\x00" -> the set
	bytes int
}

const (
	maxScopeSets  = 1024
	maxScopeBytes = 256 << 10
)

// intern returns the shared copy of scope, and whether it is one; when it
// is not, the caller keeps scope and pays for it (scopeCost).
func (s *scopeSets) intern(scope []string) ([]string, bool) {
	if len(scope) == 0 {
		return nil, true
	}
	key := strings.Join(scope, "\x00")
	s.mu.RLock()
	set, ok := s.sets[key]
	s.mu.RUnlock()
	if ok {
		return set, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if set, ok := s.sets[key]; ok {
		return set, true
	}
	cost := 2*len(key) + 16*len(scope) + 64
	if len(s.sets) >= maxScopeSets || s.bytes+cost > maxScopeBytes {
		return scope, false
	}
	if s.sets == nil {
		s.sets = map[string][]string{}
	}
	set = make([]string, len(scope))
	for i, sc := range scope {
		set[i] = strings.Clone(sc)
	}
	s.sets[key] = set
	s.bytes += cost
	return set, true
}

// scopeCost is what an entry's own copy of scope costs.
func scopeCost(scope []string) int64 {
	n := int64(16 * len(scope))
	for _, sc := range scope {
		n += int64(len(sc))
	}
	return n
}
