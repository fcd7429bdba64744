package service

import "github.com/accountd/accountd/internal/lru"

// CacheUsage is one of the service's caches (auth.go), as metrics and
// benchmarks show it: what it holds against its budget, and its hits.
type CacheUsage struct {
	Name string // tokens, users, verified, views
	lru.Usage
}

// CacheUsage reports every cache the service keeps.
func (s *Service) CacheUsage() []CacheUsage {
	return []CacheUsage{
		{Name: "tokens", Usage: s.auth.tokens.Usage()},
		{Name: "users", Usage: s.auth.users.Usage()},
		{Name: "verified", Usage: s.verified.c.Usage()},
		{Name: "views", Usage: s.meViews.c.Usage()},
	}
}
