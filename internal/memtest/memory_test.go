//go:build !race

// Package memtest holds the memory budget README promises against hostile
// traffic, in a package of its own so that the heap it measures is the
// server's alone. The race detector changes what allocations cost, so the
// test runs without it (scripts/test.sh runs this package on its own).
package memtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/service"
)

// summaryNamesForTest are names GET /me accepts in summaryInclude.
var summaryNamesForTest = []string{"apiTokenCount", "appCount", "dashCount", "deviceCount", "flowCount", "orgCount",
	"certificateCount", "credentialCount", "dataTableCount", "eventCount", "fileCount", "keyCount", "notebookCount",
	"webhookCount", "integrationCount", "instanceCount"}

// TestHostileMemory holds the memory budget README promises: after 10,000
// requests that each try to leave something behind (distinct summary
// queries, huge parameters, forged tokens, unknown logins, many real
// tokens each used once), the heap has grown by no more than the cache
// budget and a fixed allowance. It does not run in parallel, so the heap is
// the server's.
func TestHostileMemory(t *testing.T) {
	budget := service.CacheBudget{Tokens: 3 << 19, Users: 512 << 10, Views: 2 << 20}
	env := testenv.Start(t, "sqlite", testenv.Options{Cache: budget,
		Throttle: service.ThrottleConfig{Window: 1e9, PerPair: 1 << 30, PerAddress: 1 << 30, PerAccount: 1 << 30}})
	env.User(t, "mallory@example.com")
	c := env.Login(t, "mallory@example.com")
	hc := &http.Client{}
	get := func(path, token string) int {
		req, _ := http.NewRequest("GET", env.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	// warm up: every code path once, so lazily built tables are not counted
	get("/me?summaryInclude=appCount", c.Token())
	get("/me", "x.y.z")
	before := heap()

	const workers = 8
	var wg sync.WaitGroup
	run := func(n int, f func(i int)) {
		for w := range workers {
			wg.Go(func() {
				for i := w; i < n; i += workers {
					f(i)
				}
			})
		}
		wg.Wait()
	}
	statuses := map[string]map[int]int{}
	var mu sync.Mutex
	count := func(kind string, status int) {
		mu.Lock()
		defer mu.Unlock()
		if statuses[kind] == nil {
			statuses[kind] = map[int]int{}
		}
		statuses[kind][status]++
	}
	// 4,000 distinct valid summary queries: each could be its own view
	run(4000, func(i int) {
		var names []string
		for b := range summaryNamesForTest {
			if (i+1)&(1<<b) != 0 {
				names = append(names, summaryNamesForTest[b])
			}
		}
		count("summary", get("/me?summaryInclude="+strings.Join(names, ","), c.Token()))
	})
	// 2,000 huge unknown summary names
	junk := strings.Repeat("x", 100<<10)
	run(2000, func(i int) {
		count("junk", get(fmt.Sprintf("/me?summaryInclude=%d%s", i, junk), c.Token()))
	})
	// 2,000 forged tokens
	run(2000, func(i int) {
		b := make([]byte, 300)
		rand.Read(b)
		count("forged", get("/me", "eyJhbGciOiJIUzI1NiJ9."+base64.RawURLEncoding.EncodeToString(b)+".sig"))
	})
	// 1,000 logins of unknown accounts
	run(1000, func(i int) {
		anon := env.Client(t, "")
		_, err := anon.Auth.AuthenticateUser(context.Background(), client.UserCredentials{
			Email: fmt.Sprintf("nobody%d-%s@example.com", i, junk[:40]), Password: "Wr0ng-password-1"})
		status := 200
		if e, ok := err.(*client.Error); ok {
			status = e.StatusCode
		}
		count("login", status)
	})
	// 1,000 real API tokens, each used once
	run(1000, func(i int) {
		tok, err := c.UserAPITokens.Post(context.Background(), client.APITokenPost{Name: fmt.Sprintf("t%d", i), Description: junk[:2000]})
		if err != nil {
			t.Error(err)
			return
		}
		count("token", get("/me", tok.Token))
	})
	after := heap()
	t.Logf("statuses: %v", statuses)
	if statuses["summary"][200] != 4000 || statuses["junk"][400] != 2000 || statuses["forged"][401] != 2000 ||
		statuses["login"][401] != 1000 || statuses["token"][200] != 1000 {
		t.Errorf("unexpected answers: %v", statuses)
	}
	const allowance = 8 << 20
	growth := int64(after) - int64(before)
	t.Logf("heap %d MiB -> %d MiB (growth %.1f MiB; cache budget %.1f MiB)", before>>20, after>>20,
		float64(growth)/(1<<20), float64(budget.Total())/(1<<20))
	if growth > budget.Total()+allowance {
		t.Errorf("heap grew by %.1f MiB after 10,000 hostile requests; budget %.1f MiB + %.0f MiB allowance",
			float64(growth)/(1<<20), float64(budget.Total())/(1<<20), float64(allowance)/(1<<20))
	}
}
