package service

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/lru"
	"golang.org/x/sync/singleflight"
)

// MeView is everything GET /me shows: the user, the summary the query asked
// for, and the two-factor and GitHub state. It is made for each call from
// the user's cached state, which it shares: treat it as read-only.
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
// payloadCount moves with every device state and is read on each request
// that asks for it.
//
// The entry also keeps the finished answers made from that state, one for
// each summary query asked (at most maxAnswersPerState): the HTTP layer
// encodes a view the first time (MeAnswer's encode) and every later
// request with that query sends the same bytes. So the state and what was
// made of it live and go together: one entry a user, dropped by one
// event, bounded by one budget (each answer charged to the entry as it is
// added); nothing keyed by versions outlives the state it was made from.
//
// List answers are kept the same way (keptList), one for each list and
// query asked (at most maxListAnswersPerState a user, each at most
// maxListAnswer bytes), in a cache of their own, one entry an answer
// (lists, with its own budget: an answer of twenty tokens is five times a
// user's state, a burst of lists must not evict the states GET /me needs,
// and an answer not asked for lately goes before one that is), found by
// user through listIndex, and dropped by the same events as the user's
// state (forget, forgetOrgs). Only lists whose every change writes such an
// event are kept: GET /me/tokens
// (APITokensAnswer: a token's change writes a token event) and GET
// /applications without a summary (ApplicationsAnswer: creating, deleting
// or moving an application writes an event of its owner, which for an
// organization reaches every member through the index; joining, leaving
// and role changes write one of the member). The one thing such a list
// shows that moves without an event is each token's lastUsed, written
// every LastUsedFlush (lastuse.go); so a list answer is also kept no
// longer than listAnswerMaxAge, and lastUsed in a list is at most that
// much further behind than it is in the database.

// maxAnswersPerState bounds the summary queries one state keeps answers
// for.
const maxAnswersPerState = 8

// maxListAnswersPerState and maxListAnswer bound the list answers kept for
// one user: a page of 100 tokens fits; a longer one is sent and not kept. listAnswerMaxAge bounds how long one is kept (lastUsed).
const (
	maxListAnswersPerState = 6
	maxListAnswer          = 64 << 10
	listAnswerMaxAge       = 10 * time.Second
)

type meEntry struct {
	st     *accountd.MeState // st.User without its password hash
	avatar string            // AvatarURL of the state, made once

	mu      sync.Mutex
	answers []meAnswer
}

// listKey names a kept list answer: the user's and the list query's
// (keptList's key).
type listKey struct{ user, query string }

// listIndexCost is what the index's note of an answer costs, charged to
// the answer: a slot of the user's queries (which share the entry key's
// string) and the user's share of the index map.
const listIndexCost = 64

// meAnswer is an encoded answer and the query it answers (summaryKey, or
// keptList's key); made is when a list answer was read.
type meAnswer struct {
	query string
	body  []byte
	made  time.Time
}

type meViewCache struct {
	c      *lru.Cache[string, *meEntry]
	lists  *lru.Cache[listKey, []byte] // list answers, dropped with c's entries
	flight singleflight.Group

	orgsMu sync.Mutex
	orgs   map[string]map[string]bool // organization -> users with an entry (in c or lists)
	// listIndex holds the queries of each user's kept list answers (at
	// most maxListAnswersPerState); a query whose answer the cache has
	// since evicted or expired is dropped when the user keeps another, or
	// by pruneIndex.
	listIndex map[string][]string

	// answerHits and answerMisses count MeAnswer's lookups of a kept
	// answer in a cached state, listHits and listMisses keptList's.
	answerHits, answerMisses atomic.Uint64
	listHits, listMisses     atomic.Uint64
}

func newMeViewCache(budget, lists int64) *meViewCache {
	return &meViewCache{c: lru.New[string, *meEntry](budget), lists: lru.New[listKey, []byte](lists),
		orgs: map[string]map[string]bool{}, listIndex: map[string][]string{}}
}

func (c *meViewCache) forget(userIDs ...string) {
	c.c.Delete(userIDs...)
	var keys []listKey
	c.orgsMu.Lock()
	for _, u := range userIDs {
		for _, q := range c.listIndex[u] {
			keys = append(keys, listKey{u, q})
		}
		delete(c.listIndex, u)
	}
	c.orgsMu.Unlock()
	c.lists.Delete(keys...) // also when there are none: a racing Put is dropped
}

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
		c.forget(users...)
	}
}

func (c *meViewCache) clear() {
	c.c.Clear()
	c.lists.Clear()
	c.orgsMu.Lock()
	clear(c.orgs)
	clear(c.listIndex)
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

// pruneIndex drops index entries of users whose state and lists are no
// longer cached, so the index stays as small as the caches it serves.
func (c *meViewCache) pruneIndex() {
	c.orgsMu.Lock()
	defer c.orgsMu.Unlock()
	for u := range c.listIndex {
		c.pruneLists(u)
	}
	for o, users := range c.orgs {
		for u := range users {
			if !c.c.Contains(u) && len(c.listIndex[u]) == 0 {
				delete(users, u)
			}
		}
		if len(users) == 0 {
			delete(c.orgs, o)
		}
	}
}

// size is what the entry costs before any answer: the user, the state and
// the entry (their allocation size classes) and each string with its
// header. Answers are charged as they are added (answerSize).
func (e *meEntry) size() int64 {
	u := e.st.User
	n := int64(meEntryBase + len(u.ID) + len(u.Email) + len(u.FirstName) + len(u.LastName) + len(u.CompanyName) + len(u.Title) +
		len(u.PhoneNumber) + len(u.Location) + len(u.URL) + len(e.st.GithubLogin) + len(e.avatar))
	for _, o := range e.st.OrgIDs {
		n += int64(16 + len(o))
	}
	return n
}

// answerSize is what keeping body for query costs: the bytes as allocated
// (cap), the query, and a slot of the entry's answers (which may have just
// doubled).
func answerSize(query string, body []byte) int64 {
	return int64(cap(body)+len(query)) + 2*int64(unsafe.Sizeof(meAnswer{})) + 32
}

const (
	// the User (288), the MeState (112), the entry (64), and 16 for
	// each of 11 strings (allocation rounding)
	meEntryBase = 288 + 112 + 64 + 11*16
)

// ForgetMe drops the cached state of a user after a change made through
// this instance, so the user reads their own writes before the change's
// event comes round: their GET /me state, and what their device states'
// checks decided (targets.go). A device state itself changes neither and
// need not call it.
func (s *Service) ForgetMe(userID string) {
	s.meViews.forget(userID)
	s.forgetTargets([]string{userID}, nil)
}

// MeView returns what GET /me shows for the principal's user. include and
// exclude are summary field names as SummaryFields returns them.
func (s *Service) MeView(ctx context.Context, p accountd.Principal, include, exclude []string) (*MeView, error) {
	e, err := s.meEntry(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	v := s.viewOf(e, include, exclude)
	if slices.Contains(include, "payloadCount") && !slices.Contains(exclude, "payloadCount") {
		if v.PayloadCount, err = s.monthPayloads(ctx, p.UserID); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (s *Service) viewOf(e *meEntry, include, exclude []string) *MeView {
	return &MeView{User: e.st.User, Summary: summaryOf(e.st, include, exclude),
		Security:  SecurityStatus{TwoFactorAuthEnabled: e.st.TwoFactor, GithubName: e.st.GithubLogin},
		AvatarURL: e.avatar, Limits: s.limits.User}
}

// MeAnswer returns the answer to GET /me for the principal's user and the
// summary query: the one kept with the user's state, or, the first time,
// what encode makes of the view (then kept, unless the state already
// keeps maxAnswersPerState). encode must not keep the view, and must make
// the same bytes of the same view. An answer with payloadCount, which no
// state holds, is made anew every time.
func (s *Service) MeAnswer(ctx context.Context, p accountd.Principal, include, exclude []string, encode func(*MeView) []byte) ([]byte, error) {
	if slices.Contains(include, "payloadCount") && !slices.Contains(exclude, "payloadCount") {
		v, err := s.MeView(ctx, p, include, exclude)
		if err != nil {
			return nil, err
		}
		return encode(v), nil
	}
	e, err := s.meEntry(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	query := summaryKey(include, exclude)
	if body := e.answer(query); body != nil {
		s.meViews.answerHits.Add(1)
		return body, nil
	}
	s.meViews.answerMisses.Add(1)
	body := bytes.Clone(encode(s.viewOf(e, include, exclude))) // no spare capacity kept
	e.mu.Lock()
	kept := len(e.answers) < maxAnswersPerState && !slices.ContainsFunc(e.answers, func(a meAnswer) bool { return a.query == query })
	if kept {
		e.answers = append(e.answers, meAnswer{query: strings.Clone(query), body: body})
	}
	e.mu.Unlock()
	if kept {
		s.meViews.c.Charge(p.UserID, answerSize(query, body))
	}
	return body, nil
}

// answer is the kept answer to query, nil if none.
func (e *meEntry) answer(query string) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.answers {
		if a.query == query {
			return a.body
		}
	}
	return nil
}

// APITokensAnswer returns the answer to GET /me/tokens for the principal's
// user and q: the one kept with the user's state if it is younger than
// listAnswerMaxAge, or what encode makes of the page read now (then kept,
// within the bounds above). encode must not keep the page.
func (s *Service) APITokensAnswer(ctx context.Context, p accountd.Principal, q accountd.TokenQuery, encode func(TokenPage) []byte) ([]byte, error) {
	q, err := checkTokenQuery(q)
	if err != nil {
		return nil, err
	}
	return s.keptList(ctx, p.UserID, "tokens\x00"+listQueryKey(accountd.ListQuery(q)), func() ([]byte, error) {
		page, err := s.APITokens(ctx, p, q)
		if err != nil {
			return nil, err
		}
		return encode(page), nil
	})
}

// ApplicationsAnswer returns the answer to GET /applications (without a
// summary) for the principal's user, l and q, as APITokensAnswer does.
func (s *Service) ApplicationsAnswer(ctx context.Context, p accountd.Principal, l ListOwned, q accountd.ListQuery, encode func(Page[*accountd.Application]) []byte) ([]byte, error) {
	if err := checkList(&q, ownedSortFields); err != nil {
		return nil, err
	}
	key := "applications\x00" + l.OrgID + "\x00" + strconv.FormatBool(l.Own) + "\x00" + listQueryKey(q)
	return s.keptList(ctx, p.UserID, key, func() ([]byte, error) {
		page, err := s.Applications(ctx, p, l, q)
		if err != nil {
			return nil, err
		}
		return encode(page), nil
	})
}

// keptList returns the list answer kept for the user under key if it is
// younger than listAnswerMaxAge, or what read returns (then kept, within
// the bounds above). key must name everything the answer depends on but
// the user, and read must read nothing that changes without an event
// dropping the user's entry (but lastUsed).
func (s *Service) keptList(ctx context.Context, userID, key string, read func() ([]byte, error)) ([]byte, error) {
	c, k, now := s.meViews, listKey{userID, key}, s.now()
	if body, ok := c.lists.Get(k, now); ok {
		c.listHits.Add(1)
		return body, nil
	}
	c.listMisses.Add(1)
	// The user's state: its load notes the user's organizations in the
	// index, which organization events reach the lists through (and which
	// keeps the user while they have lists: pruneIndex).
	if _, err := s.meEntry(ctx, userID); err != nil {
		return nil, err
	}
	gen := c.lists.Generation()
	// A change committed after this read drops the user's answers, and
	// makes the Put below (gen) keep nothing.
	body, err := read()
	if err != nil || len(body) > maxListAnswer {
		return body, err
	}
	body = bytes.Clone(body)     // no spare capacity kept
	k.query = strings.Clone(key) // the key's and the index's copy
	if c.noteList(k) {
		c.lists.Put(k, body, int64(cap(body)+len(k.query))+listIndexCost, now.Add(listAnswerMaxAge), gen)
	}
	return body, nil
}

// noteList notes k's query (which the index keeps: the caller's own copy)
// in the index, unless the user has maxListAnswersPerState others kept.
func (c *meViewCache) noteList(k listKey) bool {
	c.orgsMu.Lock()
	defer c.orgsMu.Unlock()
	qs := c.listIndex[k.user]
	if slices.Contains(qs, k.query) {
		return true
	}
	if len(qs) >= maxListAnswersPerState {
		qs = c.pruneLists(k.user)
		if len(qs) >= maxListAnswersPerState {
			return false
		}
	}
	c.listIndex[k.user] = append(qs, k.query)
	return true
}

// pruneLists drops from the index the user's queries whose answers the
// cache no longer holds, and returns those left. The caller holds orgsMu.
func (c *meViewCache) pruneLists(user string) []string {
	qs := slices.DeleteFunc(c.listIndex[user], func(q string) bool { return !c.lists.Contains(listKey{user, q}) })
	if len(qs) == 0 {
		delete(c.listIndex, user)
		return nil
	}
	c.listIndex[user] = qs
	return qs
}

// listQueryKey names a list query, as checkList or checkTokenQuery made it.
func listQueryKey(q accountd.ListQuery) string {
	return q.SortField + "\x00" + q.SortDirection + "\x00" + strconv.Itoa(q.Page) + "\x00" + strconv.Itoa(q.PerPage) +
		"\x00" + q.FilterField + "\x00" + q.Filter
}

// summaryKey names a summary query: include and exclude as SummaryFields
// made them (known names, sorted, once each).
func summaryKey(include, exclude []string) string {
	if len(include) == 0 && len(exclude) == 0 {
		return ""
	}
	return strings.Join(include, ",") + "\x00" + strings.Join(exclude, ",")
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
		st.User.PasswordHash = "" // no view shows it; not kept in memory
		e := &meEntry{st: st, avatar: AvatarURL(st.User.Email, st.GithubLogin)}
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
