package service

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/lru"
	"golang.org/x/sync/singleflight"
)

// MeView is everything GET /me shows: the user, the summary the query asked
// for, and the two-factor and GitHub state. A view may be shared between
// requests: treat it as read-only.
type MeView struct {
	User    *accountd.User
	Summary map[string]int
	// PayloadCount is the summary's payloadCount, nil unless asked for.
	PayloadCount PayloadStats
	Security     SecurityStatus
	// AvatarURL and Limits are made with the view from the state and the
	// configuration: they cost no query.
	AvatarURL string
	Limits    Limits
	// Version names the state the view was made from: process-unique, it
	// changes whenever the state is read again. A cache of encodings keyed
	// by it never serves an old one.
	Version uint64
}

// GET /me is the most frequent call there is. Each user's state (the
// user's row, the summary counts, the two-factor and GitHub state and the
// organizations they belong to) is kept in the instance's caches as one
// entry, read with one query on a miss (Store.MeState), and kept until an
// auth event says it changed (auth.go describes the caches and their
// freshness): the user's own changes, their tokens', their resources' and
// their memberships', and the resources of the organizations they belong
// to (an organization event drops every member's entry: the entry lists
// its organizations, and an index maps organizations to cached members).
// Views for each summary query are made from the state and kept with it.
// payloadCount moves with every device state and is read on each request
// that asks for it.

// maxViewsPerState bounds the summary queries one state keeps views for.
const maxViewsPerState = 8

type meEntry struct {
	st      *accountd.MeState
	version uint64
	avatar  string // AvatarURL of the state, made once and shared by the views

	mu    sync.Mutex
	views map[string]*MeView // summary query -> view
}

type meViewCache struct {
	c      *lru.Cache[string, *meEntry]
	flight singleflight.Group

	orgsMu sync.Mutex
	orgs   map[string]map[string]bool // organization -> users with an entry
}

var stateVersions atomic.Uint64

func newMeViewCache(budget int64) *meViewCache {
	return &meViewCache{c: lru.New[string, *meEntry](budget), orgs: map[string]map[string]bool{}}
}

func (c *meViewCache) forget(userIDs ...string) { c.c.Delete(userIDs...) }

// forgetOrgs drops the entries of every cached member of the organizations.
func (c *meViewCache) forgetOrgs(orgIDs ...string) {
	var users []string
	c.orgsMu.Lock()
	for _, o := range orgIDs {
		for u := range c.orgs[o] {
			users = append(users, u)
		}
		delete(c.orgs, o)
	}
	c.orgsMu.Unlock()
	if len(users) > 0 {
		c.c.Delete(users...)
	}
}

func (c *meViewCache) clear() {
	c.c.Clear()
	c.orgsMu.Lock()
	clear(c.orgs)
	c.orgsMu.Unlock()
}

// index notes the user's organizations, so that an organization's events
// reach the user's entry. An index entry may outlive the cache entry; it
// then costs a needless Delete, and is dropped with the organization's next
// event or by pruneIndex (housekeeping, every minute).
func (c *meViewCache) index(userID string, orgIDs []string) {
	if len(orgIDs) == 0 {
		return
	}
	c.orgsMu.Lock()
	defer c.orgsMu.Unlock()
	for _, o := range orgIDs {
		m := c.orgs[o]
		if m == nil {
			m = map[string]bool{}
			c.orgs[o] = m
		}
		m[userID] = true
	}
}

// pruneIndex drops index entries of users whose state is no longer
// cached, so the index stays as small as the cache it serves.
func (c *meViewCache) pruneIndex() {
	c.orgsMu.Lock()
	defer c.orgsMu.Unlock()
	for o, users := range c.orgs {
		for u := range users {
			if !c.c.Contains(u) {
				delete(users, u)
			}
		}
		if len(users) == 0 {
			delete(c.orgs, o)
		}
	}
}

// size is what the entry costs with its first view: the user, the state
// and the entry (their allocation size classes), each string with its
// header, and the view. Each further view is charged as it is added.
func (e *meEntry) size() int64 {
	u := e.st.User
	n := int64(meEntryBase + len(u.Email) + len(u.FirstName) + len(u.LastName) + len(u.CompanyName) + len(u.Title) +
		len(u.PhoneNumber) + len(u.Location) + len(u.URL) + len(u.PasswordHash) + len(e.st.GithubLogin) + len(e.avatar))
	for _, o := range e.st.OrgIDs {
		n += int64(16 + len(o))
	}
	return n + meViewSize
}

const (
	// the User (288), the MeState (112), the entry (32) and its map of
	// views (48 and a group of 208), and 16 for each of 11 strings
	meEntryBase = 288 + 112 + 32 + 48 + 208 + 11*16
	// a MeView (96) with its summary map (48 and a group of 208: the
	// six counts) and its key
	meViewSize = 96 + 48 + 208 + 32
)

// ForgetMe drops the cached state of a user after a change made through
// this instance, so the user reads their own writes before the change's
// event comes round.
func (s *Service) ForgetMe(userID string) { s.meViews.forget(userID) }

// MeView returns what GET /me shows for the principal's user. include and
// exclude are summary field names as SummaryFields returns them.
func (s *Service) MeView(ctx context.Context, p accountd.Principal, include, exclude []string) (*MeView, error) {
	e, err := s.meEntry(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	key := strings.Join(include, ",") + "\x00" + strings.Join(exclude, ",")
	e.mu.Lock()
	v := e.views[key]
	e.mu.Unlock()
	if v == nil {
		v = &MeView{User: e.st.User, Summary: summaryOf(e.st, include, exclude), Version: e.version,
			Security:  SecurityStatus{TwoFactorAuthEnabled: e.st.TwoFactor, GithubName: e.st.GithubLogin},
			AvatarURL: e.avatar, Limits: s.limits.User}
		e.mu.Lock()
		kept := len(e.views) < maxViewsPerState
		if kept {
			e.views[key] = v
		}
		n := len(e.views)
		e.mu.Unlock()
		if kept && n > 1 {
			s.meViews.c.Charge(p.UserID, meViewSize+int64(len(key)))
		}
	}
	if slices.Contains(include, "payloadCount") && !slices.Contains(exclude, "payloadCount") {
		pc, err := s.monthPayloads(ctx, p.UserID)
		if err != nil {
			return nil, err
		}
		w := *v
		w.PayloadCount, w.Version = pc, 0 // not to be cached
		return &w, nil
	}
	return v, nil
}

// meEntry returns the user's cached state, reading it on a miss. Requests
// that miss at once share one read, and a read that raced a change is not
// kept (the cache's generation).
func (s *Service) meEntry(ctx context.Context, userID string) (*meEntry, error) {
	if e, ok := s.meViews.c.Get(userID, time.Time{}); ok {
		return e, nil
	}
	gen := s.meViews.c.Generation()
	// a request that starts after a change must not join a read that
	// started before it: the generation is in the key
	v, err, _ := s.meViews.flight.Do(userID+"\x00"+strconv.FormatUint(gen, 10), func() (any, error) {
		// the read serves every waiter: it must not end with the first one's request
		st, err := s.store.MeState(context.WithoutCancel(ctx), userID)
		if errors.Is(err, accountd.ErrNotFound) {
			return nil, errBadToken // deleted since authentication
		}
		if err != nil {
			return nil, err
		}
		e := &meEntry{st: st, version: stateVersions.Add(1), views: map[string]*MeView{},
			avatar: AvatarURL(st.User.Email, st.GithubLogin)}
		s.meViews.index(userID, st.OrgIDs)
		s.meViews.c.Put(userID, e, e.size(), time.Time{}, gen)
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*meEntry), nil
}

// summaryOf picks the counts the query asks for from the state: all the
// counted fields by default, only the named ones with include, less the
// named ones with exclude.
func summaryOf(st *accountd.MeState, include, exclude []string) map[string]int {
	out := make(map[string]int, len(summaryFields))
	for _, f := range summaryFields {
		if slices.Contains(exclude, f.name) || len(include) > 0 && !slices.Contains(include, f.name) {
			continue
		}
		out[f.name] = f.of(st)
	}
	return out
}
