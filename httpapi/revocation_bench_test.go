package httpapi_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

// BenchmarkRevocationElsewhere measures how long a token deleted through
// one instance is still accepted by another that had it cached, over ten
// revocations per backend: min, median and max. Run it with
//
//	go test -run '^$' -bench RevocationElsewhere -benchtime 1x ./httpapi
func BenchmarkRevocationElsewhere(b *testing.B) {
	for _, backend := range testenv.Backends() {
		b.Run(backend, func(b *testing.B) {
			a := testenv.Start(b, backend, testenv.Options{})
			other := testenv.Start(b, backend, testenv.Options{Store: a.Store, Keys: a.Keys})
			a.User(b, "bench@example.com")
			owner := a.Login(b, "bench@example.com")
			for range b.N {
				var took []time.Duration
				for i := range 10 {
					tok, err := owner.UserAPITokens.Post(ctx, client.APITokenPost{Name: fmt.Sprintf("r%d", i)})
					if err != nil {
						b.Fatal(err)
					}
					there := other.Client(b, tok.Token)
					if _, err := there.Me.Get(ctx, nil); err != nil {
						b.Fatal(err)
					}
					if err := owner.UserAPIToken.Delete(ctx, tok.ID); err != nil {
						b.Fatal(err)
					}
					revoked := time.Now()
					for {
						if _, err := there.Me.Get(ctx, nil); err != nil {
							break
						}
						if time.Since(revoked) > 5*time.Second {
							b.Fatal("still accepted after 5 s")
						}
						time.Sleep(time.Millisecond)
					}
					took = append(took, time.Since(revoked))
				}
				slices.Sort(took)
				b.ReportMetric(float64(took[0].Microseconds())/1000, "min-ms")
				b.ReportMetric(float64((took[4]+took[5]).Microseconds())/2000, "median-ms")
				b.ReportMetric(float64(took[9].Microseconds())/1000, "max-ms")
			}
		})
	}
}
