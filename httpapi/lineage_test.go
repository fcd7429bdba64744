package httpapi_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/service"
)

// TestLineage: a token obtained with a personal API token (a refreshed
// session, or an API token it created) is refused as soon as that token is
// deleted, deactivated or expired, or the user's cut-off passes, and
// expires no later; chains of any depth.
func TestLineage(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		clock := testenv.NewClock(time.Now().UTC().Truncate(time.Millisecond))
		env := testenv.Start(t, backend, testenv.Options{Clock: clock.Now})
		env.User(t, "lin@example.com")
		session := env.Login(t, "lin@example.com")

		// family makes an API token P with the given expiry, then through
		// P: a refreshed session R, an API token C, and through C a
		// refreshed session G (depth 2).
		type family struct {
			parent                 *client.APIToken
			refreshed, child, gran *client.Client
			childTok               *client.APIToken
		}
		mk := func(t *testing.T, name string, expires *time.Time) family {
			t.Helper()
			p, err := session.UserAPITokens.Post(ctx, client.APITokenPost{Name: name, Scope: []string{"all.User"}, ExpirationDate: expires})
			if err != nil {
				t.Fatal(err)
			}
			pc := env.Client(t, p.Token)
			r, err := pc.Me.RefreshToken(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c, err := pc.UserAPITokens.Post(ctx, client.APITokenPost{Name: name + " child", Scope: []string{"me.*"}})
			if err != nil {
				t.Fatal(err)
			}
			cc := env.Client(t, c.Token)
			g, err := cc.Me.RefreshToken(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f := family{parent: p, refreshed: env.Client(t, r.Token), child: cc, gran: env.Client(t, g.Token), childTok: c}
			for i, c := range []*client.Client{f.refreshed, f.child, f.gran} {
				if _, err := c.Me.Get(ctx, nil); err != nil {
					t.Fatalf("descendant %d before: %v", i, err)
				}
			}
			return f
		}
		refused := func(t *testing.T, f family, what string) {
			t.Helper()
			for i, c := range []*client.Client{f.refreshed, f.child, f.gran} {
				_, err := c.Me.Get(ctx, nil)
				if err == nil {
					t.Errorf("%s: descendant %d still works", what, i)
					continue
				}
				wantError(t, err, 401)
			}
		}

		t.Run("parent deleted", func(t *testing.T) {
			f := mk(t, "deleted", nil)
			if err := session.UserAPIToken.Delete(ctx, f.parent.ID); err != nil {
				t.Fatal(err)
			}
			refused(t, f, "parent deleted")
			// the child API token went with its parent
			_, err := session.UserAPIToken.Get(ctx, f.childTok.ID)
			wantError(t, err, 404)
		})
		t.Run("parent deactivated", func(t *testing.T) {
			f := mk(t, "deactivated", nil)
			if _, err := session.UserAPIToken.Patch(ctx, f.parent.ID, client.APITokenPatch{Status: ptr("inactive")}); err != nil {
				t.Fatal(err)
			}
			refused(t, f, "parent deactivated")
			// and back: the descendants follow their parent
			if _, err := session.UserAPIToken.Patch(ctx, f.parent.ID, client.APITokenPatch{Status: ptr("active")}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.gran.Me.Get(ctx, nil); err != nil {
				t.Errorf("after reactivation: %v", err)
			}
		})
		t.Run("parent expired", func(t *testing.T) {
			exp := clock.Now().Add(time.Hour)
			f := mk(t, "expiring", &exp)
			got, err := session.UserAPIToken.Get(ctx, f.childTok.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ExpirationDate == nil || !got.ExpirationDate.Equal(exp) {
				t.Errorf("child expires %v, want its parent's %v", got.ExpirationDate, exp)
			}
			// asking for a later expiry than the parent's is refused
			later := exp.Add(time.Hour)
			_, err = env.Client(t, f.parent.Token).UserAPITokens.Post(ctx, client.APITokenPost{Name: "too long", ExpirationDate: &later})
			wantError(t, err, 400, "expirationDate")
			clock.Add(time.Hour)
			refused(t, f, "parent expired")
		})
		t.Run("cut-off", func(t *testing.T) {
			f := mk(t, "cut", nil)
			clock.Add(time.Second)
			if _, err := session.Me.Patch(ctx, client.MePatch{TokenCutoff: ptr(clock.Now())}, nil); err != nil {
				t.Fatal(err)
			}
			refused(t, f, "cut-off")
		})
		t.Run("sessions stay independent", func(t *testing.T) {
			// a session refreshed from a login session is a new login: it
			// outlives the deletion of nothing and works on its own
			fresh := env.Login(t, "lin@example.com")
			r, err := fresh.Me.RefreshToken(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := env.Client(t, r.Token).Me.Get(ctx, nil); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// TestCutoffRace: while a stolen session keeps minting API tokens and
// refreshing, and another client keeps logging in with the old password,
// the owner changes the password with invalidateExistingTokens. Nothing
// minted or logged in by a request that started before the change may
// work after it answers.
func TestCutoffRace(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		// failed logins with the old password must not block the next round
		env := testenv.Start(t, backend, testenv.Options{Throttle: service.ThrottleConfig{
			Window: time.Minute, PerPair: 1 << 30, PerAddress: 1 << 30, PerAccount: 1 << 30}})
		const rounds, minters, loggers = 20, 6, 2
		for round := range rounds {
			email := fmt.Sprintf("race%d@example.com", round)
			env.User(t, email)
			owner := env.Login(t, email)
			stolen := env.Login(t, email)
			apiParent, err := stolen.UserAPITokens.Post(ctx, client.APITokenPost{Name: "parent"})
			if err != nil {
				t.Fatal(err)
			}
			var (
				mu  sync.Mutex
				got []string // every token handed out
			)
			keep := func(tok string) {
				mu.Lock()
				got = append(got, tok)
				mu.Unlock()
			}
			ctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			for i := range minters {
				c := stolen
				if i%2 == 1 {
					c = env.Client(t, apiParent.Token)
				}
				wg.Go(func() {
					for n := 0; ctx.Err() == nil; n++ {
						if n%3 == 2 {
							if a, err := c.Me.RefreshToken(ctx); err == nil {
								keep(a.Token)
							}
							continue
						}
						if tok, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: fmt.Sprintf("m%d-%d", i, n)}); err == nil {
							keep(tok.Token)
						}
					}
				})
			}
			for range loggers {
				wg.Go(func() {
					anon := env.Client(t, "")
					for ctx.Err() == nil {
						a, err := anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: email, Password: testenv.Password})
						if err == nil {
							keep(a.Token)
						}
					}
				})
			}
			time.Sleep(30 * time.Millisecond)
			a, err := owner.Me.ChangePassword(ctx, client.ChangePassword{
				Password: testenv.Password, NewPassword: "N3w-secret-password", InvalidateExistingTokens: true,
			})
			if err != nil {
				t.Fatalf("round %d: ChangePassword: %v", round, err)
			}
			// the racers keep going a little past the answer
			time.Sleep(30 * time.Millisecond)
			cancel()
			wg.Wait()
			// the new password's session works, and nothing else does
			if _, err := env.Client(t, a.Token).Me.Get(context.Background(), nil); err != nil {
				t.Fatalf("round %d: the new session: %v", round, err)
			}
			var survivors int
			for _, tok := range got {
				if _, err := env.Client(t, tok).Me.Get(context.Background(), nil); err == nil {
					survivors++
				}
			}
			if survivors > 0 {
				t.Errorf("round %d: %d of %d tokens issued around the change still work", round, survivors, len(got))
			}
			if round == 0 {
				t.Logf("%s: round 0 issued %d tokens around the change", backend, len(got))
			}
		}
	})
}
