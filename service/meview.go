package service

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/accountd/accountd"
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
	// Wire is free for the HTTP layer to keep its encoding of the view in,
	// so a cached view is encoded once, not on every request.
	Wire atomic.Pointer[[]byte]
}

// GET /me is the most frequent call there is, and building the view takes
// several queries. Views are kept per instance for meViewTTL. The instance
// that changes a user drops the user's views at once (every successful
// write through the API does, and so does every auth event), and other
// instances drop them on the next event poll; counts that change through
// somebody else (an organization's applications) are at most meViewTTL old.
const meViewTTL = time.Second

type meViewEntry struct {
	view       *MeView
	at         time.Time
	refreshing *atomic.Bool // set once a refresh of this entry is under way
}

// meViews are the user's views, one per query; replaced whole, never
// changed in place.
type meViews map[string]meViewEntry

// meViewCache keeps each user's views under one entry of a byte-bounded
// cache, so that a change drops all of a user's views at once.
type meViewCache struct {
	c      *boundedCache[string, meViews]
	flight singleflight.Group
}

func newMeViewCache(budget int64) *meViewCache {
	return &meViewCache{c: newBoundedCache[string, meViews](budget)}
}

// get returns the user's view for key if it is fresh enough, and whether
// the caller should refresh it ahead of its expiry: one caller does, the
// others keep being served the view meanwhile, so a busy user's view never
// expires under load (every request at that moment would miss at once).
func (c *meViewCache) get(userID, key string, now time.Time) (v *MeView, refresh bool) {
	views, _ := c.c.get(userID, now)
	e, ok := views[key]
	if !ok || now.Sub(e.at) >= meViewTTL {
		return nil, false
	}
	refresh = now.Sub(e.at) >= meViewTTL/2 && e.refreshing.CompareAndSwap(false, true)
	return e.view, refresh
}

func (c *meViewCache) generation() uint64 { return c.c.generation() }

// put keeps v unless the user's views were dropped since gen was read, which
// would make v possibly older than the change that dropped them.
func (c *meViewCache) put(userID, key string, v *MeView, now time.Time, gen uint64) {
	old, _ := c.c.get(userID, now)
	views := make(meViews, len(old)+1)
	size := int64(0)
	for k, e := range old {
		if now.Sub(e.at) < meViewTTL {
			views[k] = e
			size += e.view.size() + int64(len(k))
		}
	}
	views[key] = meViewEntry{view: v, at: now, refreshing: new(atomic.Bool)}
	size += v.size() + int64(len(key))
	c.c.put(userID, views, size, now.Add(meViewTTL), gen)
}

func (c *meViewCache) forget(userIDs ...string) { c.c.delete(userIDs...) }

func (c *meViewCache) clear() { c.c.clear() }

// size estimates the bytes a view holds, with its encoding once made.
func (v *MeView) size() int64 {
	u := v.User
	n := int64(512 + len(u.Email) + len(u.FirstName) + len(u.LastName) + len(u.CompanyName) + len(u.Title) +
		len(u.PhoneNumber) + len(u.Location) + len(u.URL) + len(u.PasswordHash) + len(v.Security.GithubName))
	n += int64(len(v.Summary)) * 48
	n += int64(len(v.PayloadCount)) * 96
	return 2 * n // the encoding kept in Wire is about as large again
}

// ForgetMe drops the cached views of a user after a change made through
// this instance, so the user reads their own writes.
func (s *Service) ForgetMe(userID string) { s.meViews.forget(userID) }

// MeView returns what GET /me shows for the principal's user.
func (s *Service) MeView(ctx context.Context, p accountd.Principal, include, exclude []string) (*MeView, error) {
	key := strings.Join(include, ",") + "\x00" + strings.Join(exclude, ",")
	v, refresh := s.meViews.get(p.UserID, key, s.now())
	if v != nil {
		if refresh {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if _, err := s.loadMeView(ctx, p, include, exclude, key); err != nil {
					s.log.Debug("refreshing a GET /me view", "user", p.UserID, "err", err)
				}
			}()
		}
		return v, nil
	}
	return s.loadMeView(ctx, p, include, exclude, key)
}

// loadMeView builds the view and keeps it. Concurrent loads of one view
// share a single build, so a cold or just-dropped view costs the database
// one set of queries however many requests wait for it.
func (s *Service) loadMeView(ctx context.Context, p accountd.Principal, include, exclude []string, key string) (*MeView, error) {
	// A request that starts after views were dropped (after a write) must
	// not join a build that started before: the generation is in the key.
	gen := s.meViews.generation()
	v, err, _ := s.meViews.flight.Do(fmt.Sprintf("%s\x00%s\x00%d", p.UserID, key, gen), func() (any, error) {
		// the build serves every waiter: it must not end with the first one's request
		ctx := context.WithoutCancel(ctx)
		now := s.now()
		u, err := s.Me(ctx, p)
		if err != nil {
			return nil, err
		}
		summary, err := s.Summary(ctx, u.ID, include, exclude)
		if err != nil {
			return nil, err
		}
		payloads, err := s.SummaryPayloads(ctx, u.ID, include, exclude)
		if err != nil {
			return nil, err
		}
		sec, err := s.SecurityStatus(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		v := &MeView{User: u, Summary: summary, PayloadCount: payloads, Security: sec}
		s.meViews.put(p.UserID, key, v, now, gen)
		return v, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*MeView), nil
}
