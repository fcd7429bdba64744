package httpapi_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
)

// BenchmarkLists serves list pages of 20 items in process (no network),
// from a SQLite file, with a warm token cache: what the server spends on a
// list beyond HTTP itself, and a hello-world handler on the same path as
// the baseline.
//
//	go test ./httpapi -run '^$' -bench Lists -benchmem -count 5
func BenchmarkLists(b *testing.B) {
	ctx := context.Background()
	st := testenv.OpenStore(b, "sqlite")
	k, err := secret.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	keys, _ := secret.NewKeyring(k)
	svc, err := service.New(service.Config{Store: st, Keys: keys, Catalog: httpapi.Catalog(), Hash: testenv.CheapHash})
	if err != nil {
		b.Fatal(err)
	}
	// started, so the token cache is trusted as in a server
	svc.Start()
	b.Cleanup(svc.Close)
	api, err := httpapi.NewServer(httpapi.Config{Service: svc})
	if err != nil {
		b.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, service.NewUser{Email: "lists@example.com", Password: testenv.Password, FirstName: "L", Verified: true})
	if err != nil {
		b.Fatal(err)
	}
	p := accountd.Principal{UserID: u.ID, Kind: accountd.KindSession, Scope: []string{"all.User"}, EmailVerified: true}
	var token string
	for i := range 20 {
		_, signed, err := svc.CreateAPIToken(ctx, p, service.NewAPIToken{Name: fmt.Sprintf("token %02d", i), Scope: []string{"all.User"}})
		if err != nil {
			b.Fatal(err)
		}
		token = signed
		if _, err := svc.CreateApplication(ctx, p, service.NewOwned{Name: fmt.Sprintf("application %02d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("Hello, world!\n")) })
	for _, tc := range []struct {
		name string
		h    http.Handler
		path string
	}{
		{"hello", hello, "/"},
		{"me.tokens", api, "/me/tokens"},
		{"applications", api, "/applications"},
	} {
		b.Run(tc.name, func(b *testing.B) { benchGet(b, tc.h, tc.path, token) })
	}
}

// processCPU is the CPU time this process has used (all its threads,
// background work included).
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
