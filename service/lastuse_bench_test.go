package service

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/sqlite"
)

// BenchmarkLastUseFlush: what writing the last uses of 110,000 tokens
// costs a writer that needs SQLite's write lock meanwhile (a token created
// every 5 ms): written in one transaction, in chunks, and in chunks with
// the background flush's pauses. Seeding the file takes about ten
// seconds; run with -benchtime 1x.
func BenchmarkLastUseFlush(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "p.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := accountd.Millis(time.Now().Add(-time.Minute))
	var ids []string
	var uid string
	for u := 0; u < 11000; u++ {
		err := st.InTx(ctx, func(tx accountd.Store) error {
			usr := &accountd.User{ID: accountd.NewID(now), Email: fmt.Sprintf("u%d@x.example.com", u), FirstName: "U", PasswordHash: "x", CreatedAt: now, UpdatedAt: now, PasswordUpdatedAt: now}
			if err := tx.CreateUser(ctx, usr); err != nil {
				return err
			}
			uid = usr.ID
			for j := 0; j < 10; j++ {
				tk := &accountd.Token{ID: accountd.NewID(now), UserID: usr.ID, Kind: accountd.KindAPI, Name: fmt.Sprint(j), Scope: []string{"all.User"}, Status: accountd.StatusActive, CreatorType: "user", CreatorID: usr.ID, CreatedAt: now, UpdatedAt: now}
				if err := tx.CreateToken(ctx, tk); err != nil {
					return err
				}
				ids = append(ids, tk.ID)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, mode := range []string{"one transaction", "chunks", "chunks paced"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				flushWhileWriting(b, st, ids, uid, now, mode)
			}
		})
	}
}

func flushWhileWriting(b *testing.B, st accountd.Store, ids []string, uid string, now time.Time, mode string) {
	ctx := context.Background()
	{
		s := &Service{auth: newAuthState(DefaultCacheBudget), store: st, log: slog.New(slog.DiscardHandler), stop: make(chan struct{})}
		at := time.Now()
		for _, id := range ids {
			s.auth.uses.put(id, accountd.TokenUse{At: at, Address: "203.0.113.7", UserAgent: "probe/1.0"})
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var worst time.Duration
		var n int
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s0 := time.Now()
				tk := &accountd.Token{ID: accountd.NewID(now), UserID: uid, Kind: accountd.KindAPI, Name: "w", Scope: []string{"all.User"}, Status: accountd.StatusActive, CreatorType: "user", CreatorID: uid, CreatedAt: now, UpdatedAt: now}
				if err := st.CreateToken(ctx, tk); err != nil {
					b.Error(err)
					return
				}
				worst = max(worst, time.Since(s0))
				n++
				time.Sleep(5 * time.Millisecond)
			}
		})
		time.Sleep(50 * time.Millisecond)
		s0 := time.Now()
		if mode == "one transaction" {
			uses := s.auth.uses.take()
			if err := st.TouchTokens(ctx, uses); err != nil {
				b.Fatal(err)
			}
		} else {
			s.flushLastUsed(ctx, mode == "chunks paced")
		}
		d := time.Since(s0)
		time.Sleep(50 * time.Millisecond)
		close(stop)
		wg.Wait()
		b.ReportMetric(d.Seconds(), "flush-s")
		b.ReportMetric(float64(worst.Microseconds())/1000, "worst-write-ms")
		b.ReportMetric(float64(n), "writes")
	}
}
