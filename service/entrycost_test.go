//go:build !race

package service

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/lru"
)

// TestEntryCostsAccounted holds each cache's byte accounting to the heap:
// filled with 120,000 entries (the many-users benchmark's tokens) shaped as the request path makes them, a
// cache holds no more than it says. It runs in the sequential phase of the
// package's tests (no t.Parallel), so the heap is its own; the race
// detector changes allocations, hence the build tag.
func TestEntryCostsAccounted(t *testing.T) {
	const n = 120_000
	now := accountd.Millis(time.Now())
	ids := make([]string, n)
	for i := range ids {
		ids[i] = accountd.NewID(now)
	}
	// as read from a database: every string a fresh copy
	fresh := func(s string) string { return string([]byte(s)) }
	checkN := func(name string, n int, fill func() lru.Usage) {
		t.Helper()
		before := liveHeap()
		u := fill()
		real := int64(liveHeap() - before)
		t.Logf("%-8s real %4d bytes an entry, accounted %4d", name, real/int64(n), u.Bytes/int64(n))
		if u.Entries != n {
			t.Fatalf("%s: %d entries kept of %d", name, u.Entries, n)
		}
		if real > u.Bytes {
			t.Errorf("%s: %d entries take %d bytes of heap, accounted at %d", name, n, real, u.Bytes)
		}
	}
	var scopes scopeSets
	var tokens *lru.Cache[packedID, *tokenEntry]
	checkN("tokens", n, func() lru.Usage {
		tokens = lru.New[packedID, *tokenEntry](1 << 30)
		for i, id := range ids {
			k, _ := packID(id)
			e := newTokenEntry(&accountd.Token{ID: id, UserID: fresh(ids[i/10]), Kind: accountd.TokenKind(fresh("api")),
				Scope: []string{fresh("all.User")}, Status: accountd.StatusActive, CreatedAt: now}, &scopes)
			e.remember(&verifiedText{digest: digestOf(id)}) // as a verified request keeps it
			tokens.Put(k, e, int64(e.size), time.Time{}, tokens.Generation())
		}
		return tokens.Usage()
	})
	var views *meViewCache
	checkN("views", n, func() lru.Usage {
		views = newMeViewCache(1<<30, 1<<30)
		for i, id := range ids {
			u := &accountd.User{ID: fresh(id), Email: fmt.Sprintf("user%d@bench.example.com", i), FirstName: fresh("User"),
				LastName: fmt.Sprint(i), EmailVerified: true, CreatedAt: now, UpdatedAt: now, PasswordUpdatedAt: now,
				PasswordHash: fresh("$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")}
			st := &accountd.MeState{User: u, APITokens: 10}
			u.PasswordHash = "" // as meEntry keeps it
			e := &meEntry{st: st, avatar: AvatarURL(u.Email, "")}
			views.c.Put(u.ID, e, e.size(), time.Time{}, views.c.Generation())
			// one answer, about the size of a real one
			body := bytes.Clone(fmt.Appendf(nil, "%0900d", i))
			e.answers = append(e.answers, meAnswer{query: "", body: body})
			views.c.Charge(u.ID, answerSize("", body))
		}
		return views.c.Usage()
	})
	var targets *lru.Cache[targetKey, accountd.OwnerRef]
	checkN("devices", n, func() lru.Usage {
		targets = newTargetCache(1 << 30)
		for i, id := range ids {
			// a device of one of a thousand users' applications, its
			// owner read afresh from the database and interned
			k, _ := packTarget(ids[i%1000], id, ids[i%1000])
			targets.Put(k, accountd.OwnerRef{Type: canonicalOwnerType(fresh("user")), ID: internID(fresh(ids[i%1000]))},
				targetEntrySize, time.Time{}, targets.Generation())
		}
		return targets.Usage()
	})
	// list answers: fewer entries, each a body of about 2 KB (a page of
	// four tokens)
	checkN("lists", 10_000, func() lru.Usage {
		for i, id := range ids[:10_000] {
			body := bytes.Clone(fmt.Appendf(nil, "%02000d", i))
			k := listKey{user: fresh(id), query: fresh("tokens\x00name\x00asc\x000\x00100\x00\x00")}
			if !views.noteList(k) {
				t.Fatal("a first list answer was not noted")
			}
			views.lists.Put(k, body, int64(cap(body)+len(k.query))+listIndexCost, time.Time{}, views.lists.Generation())
		}
		return views.lists.Usage()
	})
	runtime.KeepAlive(tokens)
	runtime.KeepAlive(views)
	runtime.KeepAlive(targets)
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
