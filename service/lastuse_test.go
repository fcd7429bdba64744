package service

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

type countingSource struct{ n int }

func (c *countingSource) Client() accountd.Client {
	c.n++
	return accountd.Client{Address: "192.0.2.1", UserAgent: "agent"}
}

// TestMarkUsedHotPath: a token whose use was noted within the minute costs
// no allocation, no lock and no look at the client; the first use after it
// is noted once, with the client the source gives.
func TestMarkUsedHotPath(t *testing.T) {
	s := &Service{auth: newAuthState(DefaultCacheBudget)}
	id := accountd.NewID(time.Now())
	e := &tokenEntry{}
	src := &countingSource{}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ctx := context.Background()

	s.markUsed(ctx, src, id, e, t0)
	if u, ok := s.auth.uses.pending(id); !ok || !u.At.Equal(t0) || u.Address != "192.0.2.1" || u.UserAgent != "agent" || src.n != 1 {
		t.Fatalf("first use: pending %+v %v, source asked %d times", u, ok, src.n)
	}
	later := t0.Add(59 * time.Second)
	if allocs := testing.AllocsPerRun(1000, func() { s.markUsed(ctx, src, id, e, later) }); allocs != 0 {
		t.Errorf("a use within the minute allocates %v times, want 0", allocs)
	}
	if u, _ := s.auth.uses.pending(id); !u.At.Equal(t0) || src.n != 1 {
		t.Errorf("a use within the minute was noted: pending %+v, source asked %d times", u, src.n)
	}
	// a client in the context wins over the source
	next := t0.Add(time.Minute)
	s.markUsed(accountd.WithClient(ctx, accountd.Client{Address: "198.51.100.9", UserAgent: "ctx"}), src, id, e, next)
	if u, _ := s.auth.uses.pending(id); !u.At.Equal(next) || u.Address != "198.51.100.9" || src.n != 1 {
		t.Errorf("use after the minute: pending %+v, source asked %d times", u, src.n)
	}
}

// TestLastUsesBounded: the uses held between flushes stay under the byte
// bound, a token already held is still updated, and take empties every
// shard.
func TestLastUsesBounded(t *testing.T) {
	var l lastUses
	l.init()
	at := time.Unix(1700000000, 0)
	ua := strings.Repeat("u", 256)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20_000 {
				l.put(fmt.Sprintf("%08x%016x", w, i), accountd.TokenUse{At: at, Address: "2001:db8::1", UserAgent: ua})
			}
		}()
	}
	wg.Wait()
	held, bytes := 0, 0
	var someID string
	for i := range l.shards {
		held += len(l.shards[i].m)
		for id, u := range l.shards[i].m {
			someID = id
			bytes += pendingUseSize(id, u)
		}
		if l.shards[i].bytes > maxPendingBytes/lastUseShards {
			t.Errorf("shard %d holds %d bytes, over its share %d", i, l.shards[i].bytes, maxPendingBytes/lastUseShards)
		}
	}
	if bytes > maxPendingBytes || bytes < maxPendingBytes*9/10 {
		t.Errorf("holding %d bytes of uses; want at most %d and near it", bytes, maxPendingBytes)
	}
	l.put(someID, accountd.TokenUse{At: at.Add(time.Minute)})
	if u, _ := l.pending(someID); !u.At.Equal(at.Add(time.Minute)) {
		t.Errorf("a held token's newer use was dropped: %+v", u)
	}
	if got := l.take(); len(got) != held {
		t.Errorf("take returned %d uses, want %d", len(got), held)
	}
	if got := l.take(); len(got) != 0 {
		t.Errorf("second take returned %d uses, want none", len(got))
	}
	for i := range l.shards {
		if l.shards[i].bytes != 0 {
			t.Errorf("shard %d counts %d bytes after take", i, l.shards[i].bytes)
		}
	}
}

// touchRecorder is a store whose TouchTokens takes hold to write and
// records when each call began and ended, and what it wrote.
type touchRecorder struct {
	accountd.Store
	hold time.Duration

	mu      sync.Mutex
	written map[string]int
	calls   [][2]time.Time
}

func (r *touchRecorder) TouchTokens(_ context.Context, uses map[string]accountd.TokenUse) error {
	start := time.Now()
	time.Sleep(r.hold)
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range uses {
		r.written[id]++
	}
	r.calls = append(r.calls, [2]time.Time{start, time.Now()})
	return nil
}

// TestFlushLastUsedChunked: a flush writes its uses lastUseChunk to a
// call, each once; a background flush leaves the store alone between
// calls at least as long as the last call took, the flush from Close does
// not wait, and one Close interrupts writes the rest at once.
func TestFlushLastUsedChunked(t *testing.T) {
	t.Parallel()
	const uses, hold = 2*lastUseChunk + 234, 30 * time.Millisecond
	for _, tc := range []struct {
		name         string
		paced, close bool
	}{{"background", true, false}, {"close", false, false}, {"background interrupted by close", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &touchRecorder{hold: hold, written: map[string]int{}}
			s := &Service{auth: newAuthState(DefaultCacheBudget), store: rec, log: slog.New(slog.DiscardHandler), stop: make(chan struct{})}
			at := time.Unix(1700000000, 0)
			for i := range uses {
				s.auth.uses.put(fmt.Sprintf("%024x", i), accountd.TokenUse{At: at})
			}
			if tc.close {
				time.AfterFunc(hold+hold/2, func() { close(s.stop) }) // during the first pause
			}
			s.flushLastUsed(context.Background(), tc.paced)
			if len(rec.written) != uses {
				t.Fatalf("%d uses written; want %d", len(rec.written), uses)
			}
			for id, n := range rec.written {
				if n != 1 {
					t.Fatalf("use of %s written %d times", id, n)
				}
			}
			if len(rec.calls) != 3 {
				t.Fatalf("%d calls; want 3 of at most %d uses", len(rec.calls), lastUseChunk)
			}
			for i := 1; i < len(rec.calls); i++ {
				gap := rec.calls[i][0].Sub(rec.calls[i-1][1])
				held := rec.calls[i-1][1].Sub(rec.calls[i-1][0])
				wantPause := tc.paced && !tc.close // Close cuts the first pause short and skips the next
				switch {
				case wantPause && gap < held:
					t.Errorf("pause before call %d: %v; want at least the %v the call before took", i+1, gap, held)
				case !wantPause && gap >= hold:
					t.Errorf("pause before call %d: %v; want none", i+1, gap)
				}
			}
		})
	}
}
