package httpapi_test

import (
	"crypto/rand"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
)

// totp is an authenticator app on the test's clock: code gives the code an
// app shows now.
type totp struct {
	t     *testing.T
	key   string
	clock *testenv.Clock
}

func (a totp) code() string {
	a.t.Helper()
	c, err := secret.TOTPCode(a.key, a.clock.Now())
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

// next moves the clock to the next step, where the app shows a new code.
func (a totp) next() string {
	a.clock.Add(secret.TOTPPeriod * time.Second)
	return a.code()
}

// enable2FA turns two-factor auth on for the client's user and returns the
// app and the recovery codes.
func enable2FA(t *testing.T, c *client.Client, clock *testenv.Clock) (totp, []string) {
	t.Helper()
	info, err := c.Me.GenerateTwoFactorAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	app := totp{t: t, key: info.Key, clock: clock}
	me, err := c.Me.EnableTwoFactorAuth(ctx, client.MultiFactorAuthEnable{Password: testenv.Password, TwoFactorCode: app.code(), TwoFactorAuthKey: info.Key})
	if err != nil {
		t.Fatal(err)
	}
	return app, me.RecoveryCodes
}

func TestTwoFactorAuth(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		clock := testenv.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
		env := testenv.Start(t, backend, testenv.Options{Clock: clock.Now})
		id := env.User(t, "tess@example.com")
		c := env.Login(t, "tess@example.com")
		anon := env.Client(t, "")
		login := func(code string) (*client.AuthedUser, error) {
			return anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "tess@example.com", Password: testenv.Password, TwoFactorCode: code})
		}

		_, err := c.Me.EnableTwoFactorAuth(ctx, client.MultiFactorAuthEnable{Password: testenv.Password, TwoFactorCode: "123456"})
		wantError(t, err, 400, "generateTwoFactorAuth first")

		info, err := c.Me.GenerateTwoFactorAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Key) != 52 {
			t.Errorf("key %q has %d characters, want 52", info.Key, len(info.Key))
		}
		u, err := url.Parse(info.KeyURI)
		if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/accountd:tess@example.com" ||
			u.Query().Get("secret") != info.Key || u.Query().Get("issuer") != "accountd" {
			t.Errorf("keyUri = %q", info.KeyURI)
		}
		tf, err := env.Store.TwoFactor(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if tf.Pending == "" || strings.Contains(tf.Pending, info.Key) || tf.Enabled() {
			t.Errorf("stored state = %+v: the pending key must be kept, encrypted, and not enabled", tf)
		}
		app := totp{t: t, key: info.Key, clock: clock}

		for _, tc := range []struct {
			name  string
			body  client.MultiFactorAuthEnable
			parts []string
		}{
			{"wrong password", client.MultiFactorAuthEnable{Password: "wrong-password", TwoFactorCode: app.code()}, []string{"password: is incorrect"}},
			{"wrong code", client.MultiFactorAuthEnable{Password: testenv.Password, TwoFactorCode: "000000"}, []string{"twoFactorCode", "incorrect"}},
			{"code of another step", client.MultiFactorAuthEnable{Password: testenv.Password, TwoFactorCode: mustCode(t, info.Key, clock.Now().Add(-2*time.Minute))}, []string{"twoFactorCode"}},
			{"other key", client.MultiFactorAuthEnable{Password: testenv.Password, TwoFactorCode: app.code(), TwoFactorAuthKey: strings.Repeat("A", 52)}, []string{"twoFactorAuthKey"}},
			{"short key", client.MultiFactorAuthEnable{Password: testenv.Password, TwoFactorCode: app.code(), TwoFactorAuthKey: "ABC"}, []string{"twoFactorAuthKey"}},
		} {
			t.Run("enable/"+tc.name, func(t *testing.T) {
				_, err := c.Me.EnableTwoFactorAuth(ctx, tc.body)
				wantError(t, err, 400, tc.parts...)
			})
		}

		me, err := c.Me.EnableTwoFactorAuth(ctx, client.MultiFactorAuthEnable{Password: testenv.Password, TwoFactorCode: app.code(), TwoFactorAuthKey: info.Key})
		if err != nil {
			t.Fatal(err)
		}
		if !me.TwoFactorAuthEnabled || len(me.RecoveryCodes) != 10 {
			t.Fatalf("enable = %+v", me)
		}
		codes := me.RecoveryCodes
		if got, err := c.Me.Get(ctx, nil); err != nil || !got.TwoFactorAuthEnabled {
			t.Errorf("GET /me = %+v, %v; want twoFactorAuthEnabled", got, err)
		}
		_, err = c.Me.GenerateTwoFactorAuth(ctx)
		wantError(t, err, 400, "already enabled")

		t.Run("login", func(t *testing.T) {
			_, err := login("")
			wantError(t, err, 401, "twoFactorCode", "required")
			// the code enabling accepted cannot be used again
			_, err = login(app.code())
			wantError(t, err, 401, "twoFactorCode", "incorrect")
			code := app.next()
			a, err := login(code)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := env.Client(t, a.Token).Me.Get(ctx, nil); err != nil {
				t.Error(err)
			}
			_, err = login(code)
			wantError(t, err, 401, "incorrect")
			_, err = anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "tess@example.com", Password: "wrong-password", TwoFactorCode: app.next()})
			wantError(t, err, 401, "email or password")
			// one step of drift either way
			clock.Add(time.Minute)
			if _, err := login(mustCode(t, info.Key, clock.Now().Add(-30*time.Second))); err != nil {
				t.Errorf("a code one step old: %v", err)
			}
			if _, err := login(mustCode(t, info.Key, clock.Now().Add(30*time.Second))); err != nil {
				t.Errorf("a code one step ahead: %v", err)
			}
			clock.Add(time.Minute)
			_, err = login(mustCode(t, info.Key, clock.Now().Add(-61*time.Second)))
			wantError(t, err, 401, "incorrect")
		})

		t.Run("recovery codes", func(t *testing.T) {
			if _, err := login(codes[0]); err != nil {
				t.Fatalf("recovery code: %v", err)
			}
			_, err := login(codes[0])
			wantError(t, err, 401, "incorrect")
			if _, err := login(strings.ToUpper(strings.ReplaceAll(codes[1], "-", " "))); err != nil {
				t.Errorf("recovery code typed loosely: %v", err)
			}
			_, err = c.Me.RegenerateRecoveryCodes(ctx, client.MultiFactorAuthDisable{Password: testenv.Password, TwoFactorCode: "000000"})
			wantError(t, err, 400, "twoFactorCode", "incorrect")
			_, err = c.Me.RegenerateRecoveryCodes(ctx, client.MultiFactorAuthDisable{Password: "wrong-password", TwoFactorCode: app.next()})
			wantError(t, err, 400, "password: is incorrect")
			fresh, err := c.Me.RegenerateRecoveryCodes(ctx, client.MultiFactorAuthDisable{Password: testenv.Password, TwoFactorCode: app.next()})
			if err != nil {
				t.Fatal(err)
			}
			if len(fresh) != 10 {
				t.Fatalf("%d fresh codes", len(fresh))
			}
			_, err = login(codes[2])
			wantError(t, err, 401, "incorrect")
			if _, err := login(fresh[0]); err != nil {
				t.Errorf("fresh recovery code: %v", err)
			}
			codes = fresh[1:]
		})

		t.Run("sensitive changes", func(t *testing.T) {
			_, err := c.Me.ChangePassword(ctx, client.ChangePassword{Password: testenv.Password, NewPassword: newPassword})
			wantError(t, err, 400, "twoFactorCode", "required")
			_, err = c.Me.ChangePassword(ctx, client.ChangePassword{Password: testenv.Password, NewPassword: newPassword, TwoFactorCode: "000000"})
			wantError(t, err, 400, "twoFactorCode", "incorrect")
			_, err = c.Me.Patch(ctx, client.MePatch{Password: ptr(newPassword), CurrentCredentials: &client.CurrentCredentials{Password: testenv.Password}}, nil)
			wantError(t, err, 400, "currentCredentials.twoFactorCode", "required")
			_, err = c.Me.Patch(ctx, client.MePatch{Email: ptr("tess2@example.com"), CurrentCredentials: &client.CurrentCredentials{Password: testenv.Password, TwoFactorCode: "000000"}}, nil)
			wantError(t, err, 400, "currentCredentials.twoFactorCode", "incorrect")
			err = c.Me.Delete(ctx, client.UserCredentials{Email: "tess@example.com", Password: testenv.Password})
			wantError(t, err, 400, "twoFactorCode", "required")
			// profile fields other than email and password need no code
			if _, err := c.Me.Patch(ctx, client.MePatch{Title: ptr("Tester")}, nil); err != nil {
				t.Error(err)
			}
			a, err := c.Me.ChangePassword(ctx, client.ChangePassword{Password: testenv.Password, NewPassword: newPassword, TwoFactorCode: app.next()})
			if err != nil {
				t.Fatal(err)
			}
			c.SetToken(a.Token)
			if _, err := c.Me.Patch(ctx, client.MePatch{Password: ptr(testenv.Password), CurrentCredentials: &client.CurrentCredentials{Password: newPassword, TwoFactorCode: codes[0]}}, nil); err != nil {
				t.Errorf("PATCH /me password with a recovery code: %v", err)
			}
		})

		t.Run("disable", func(t *testing.T) {
			_, err := c.Me.DisableTwoFactorAuth(ctx, client.MultiFactorAuthDisable{Password: testenv.Password, TwoFactorCode: "000000"})
			wantError(t, err, 400, "twoFactorCode", "incorrect")
			_, err = c.Me.DisableTwoFactorAuth(ctx, client.MultiFactorAuthDisable{Password: "wrong-password", TwoFactorCode: app.next()})
			wantError(t, err, 400, "password: is incorrect")
			me, err := c.Me.DisableTwoFactorAuth(ctx, client.MultiFactorAuthDisable{Password: testenv.Password, TwoFactorCode: app.next()})
			if err != nil {
				t.Fatal(err)
			}
			if me.TwoFactorAuthEnabled {
				t.Error("still enabled")
			}
			if _, err := login(""); err != nil {
				t.Errorf("login without a code after disabling: %v", err)
			}
			_, err = c.Me.DisableTwoFactorAuth(ctx, client.MultiFactorAuthDisable{Password: testenv.Password, TwoFactorCode: app.next()})
			wantError(t, err, 400, "not enabled")
			_, err = c.Me.RegenerateRecoveryCodes(ctx, client.MultiFactorAuthDisable{Password: testenv.Password, TwoFactorCode: app.next()})
			wantError(t, err, 400, "not enabled")
			if left, _ := env.Store.RecoveryCodes(ctx, id); len(left) != 0 {
				t.Errorf("%d recovery codes left after disabling", len(left))
			}
		})

		t.Run("delete with a code", func(t *testing.T) {
			app, _ := enable2FA(t, c, clock)
			if err := c.Me.Delete(ctx, client.UserCredentials{Email: "tess@example.com", Password: testenv.Password, TwoFactorCode: app.next()}); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func mustCode(t *testing.T, key string, at time.Time) string {
	t.Helper()
	c, err := secret.TOTPCode(key, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTwoFactorThrottle: wrong codes count as failed attempts, and a right
// password does not clear them.
func TestTwoFactorThrottle(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	env := testenv.Start(t, "sqlite", testenv.Options{
		Clock:    clock.Now,
		Throttle: service.ThrottleConfig{Window: time.Hour, PerPair: 3, PerAddress: 100, PerAccount: 100},
	})
	env.User(t, "tom@example.com")
	c := env.Login(t, "tom@example.com")
	app, _ := enable2FA(t, c, clock)
	anon := env.Client(t, "")
	login := func(code string) error {
		_, err := anon.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "tom@example.com", Password: testenv.Password, TwoFactorCode: code})
		return err
	}
	for range 3 {
		wantError(t, login("000000"), 401, "incorrect")
	}
	wantError(t, login(app.next()), 429)
	_, err := c.Me.DisableTwoFactorAuth(ctx, client.MultiFactorAuthDisable{Password: testenv.Password, TwoFactorCode: app.next()})
	wantError(t, err, 429)
	clock.Add(time.Hour)
	if err := login(app.next()); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

// TestTwoFactorAfterKeyRotation: a key sealed under the old signing key
// still opens after a new key is put first.
func TestTwoFactorAfterKeyRotation(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	old, err := secret.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	oldRing, _ := secret.NewKeyring(old)
	a := testenv.Start(t, "sqlite", testenv.Options{Clock: clock.Now, Keys: oldRing})
	id := a.User(t, "rita@example.com")
	app, _ := enable2FA(t, a.Login(t, "rita@example.com"), clock)

	fresh, err := secret.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := secret.NewKeyring(fresh, old)
	b := testenv.Start(t, "sqlite", testenv.Options{Clock: clock.Now, Keys: rotated, Store: a.Store})
	if _, err := b.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "rita@example.com", Password: testenv.Password, TwoFactorCode: app.next()}); err != nil {
		t.Fatalf("login after rotation: %v", err)
	}
	tf, err := a.Store.TwoFactor(ctx, id)
	if err != nil || !strings.HasPrefix(tf.Secret, old.ID+":") {
		t.Errorf("stored secret %q, %v; want it sealed under %s", tf.Secret, err, old.ID)
	}
}
