//go:build !race

package memtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
)

// TestCacheCostHonest holds the accounting the byte budget rests on: with
// the caches warm for a population like the many-users benchmark's (users
// with ten API tokens each, every token used for GET /me), the heap holds
// no more than the caches say their entries cost, and it reports what a
// warm token and a warm user cost (real and accounted), so a change to an
// entry's layout shows here first.
func TestCacheCostHonest(t *testing.T) {
	const users, tokensPer = 400, 10
	env := testenv.Start(t, "sqlite", testenv.Options{Cache: service.SplitCacheBudget(256 << 20)})
	tokens := seedTokens(t, env, users, tokensPer)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	get := func(token string) {
		req, _ := http.NewRequest("GET", env.URL+"/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /me: %d", resp.StatusCode)
		}
	}
	// every code path once, so lazily built tables are not counted
	get(tokens[0])
	before, accBefore := heapInUse(), accounted(env)
	for _, tok := range tokens[1:] {
		get(tok)
	}
	after, accAfter := heapInUse(), accounted(env)
	for _, u := range env.Service.CacheUsage() {
		t.Logf("%-8s %6d entries, %5.0f accounted bytes each, %.2f of %.0f MiB", u.Name, u.Entries,
			float64(u.Bytes)/float64(max(1, u.Entries)), float64(u.Bytes)/(1<<20), float64(u.Budget)/(1<<20))
	}
	growth, acc := int64(after)-int64(before), accAfter-accBefore
	n := int64(len(tokens) - 1)
	t.Logf("heap grew %.2f MiB for %d tokens of %d users: %d bytes a token in all (caches account %d)",
		float64(growth)/(1<<20), n, users, growth/n, acc/n)
	// the allowance: the index of organizations and what the HTTP
	// connection and the runtime keep between the two measures
	const allowance = 256 << 10
	if growth > acc+allowance {
		t.Errorf("the heap grew by %d bytes, the caches account %d: entries cost more than they say", growth, acc)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// accounted is what the service's caches say they hold.
func accounted(env *testenv.Env) int64 {
	var n int64
	for _, u := range env.Service.CacheUsage() {
		n += u.Bytes
	}
	return n
}

// seedTokens writes users with tokensPer API tokens each straight into the
// store (as the benchmark seeds them) and returns the signed tokens.
func seedTokens(t *testing.T, env *testenv.Env, users, tokensPer int) []string {
	t.Helper()
	ctx := context.Background()
	now := accountd.Millis(time.Now().Add(-time.Minute))
	var signed []string
	err := env.Store.InTx(ctx, func(tx accountd.Store) error {
		for i := range users {
			u := &accountd.User{ID: accountd.NewID(now), Email: fmt.Sprintf("user%d@cost.example.com", i), FirstName: "User",
				LastName: fmt.Sprint(i), PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo",
				EmailVerified: true, CreatedAt: now, UpdatedAt: now, PasswordUpdatedAt: now}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			for j := range tokensPer {
				tk := &accountd.Token{ID: accountd.NewID(now), UserID: u.ID, Kind: accountd.KindAPI, Name: fmt.Sprintf("token %02d", j),
					Scope: []string{"all.User"}, Status: accountd.StatusActive, CreatorType: "user", CreatorID: u.ID,
					CreatorName: u.Email, CreatedAt: now, UpdatedAt: now}
				if err := tx.CreateToken(ctx, tk); err != nil {
					return err
				}
				s, err := env.Keys.Sign(secret.Claims{UserID: u.ID, TokenID: tk.ID, Scope: tk.Scope, IssuedAt: tk.CreatedAt})
				if err != nil {
					return err
				}
				signed = append(signed, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return signed
}
