package service

import "github.com/accountd/accountd/internal/lru"

// CacheUsage is one of the service's caches (auth.go), as metrics and
// benchmarks show it: what it holds against its budget, and its hits.
type CacheUsage struct {
	Name string // tokens, users, views, answers, lists, devices
	lru.Usage
}

// CacheUsage reports every cache the service keeps.
func (s *Service) CacheUsage() []CacheUsage {
	return []CacheUsage{
		{Name: "tokens", Usage: s.auth.tokens.Usage()},
		{Name: "users", Usage: s.auth.users.Usage()},
		{Name: "views", Usage: s.meViews.c.Usage()},
		// answers live in the views' entries and their budget: only
		// their lookups are counted apart (meview.go)
		{Name: "answers", Usage: lru.Usage{Hits: s.meViews.answerHits.Load(), Misses: s.meViews.answerMisses.Load()}},
		{Name: "devices", Usage: s.targets.Usage()},
		{Name: "lists", Usage: func() lru.Usage {
			// keptList counts its lookups apart: one Get may find the
			// user's entry without the answer asked for
			u := s.meViews.lists.Usage()
			u.Hits, u.Misses = s.meViews.listHits.Load(), s.meViews.listMisses.Load()
			return u
		}()},
	}
}
