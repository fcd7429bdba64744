package httpapi_test

import (
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

const newPassword = "An0ther-secret!"

func TestPatchMe(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "liz@example.com")
		env.User(t, "taken@example.com")
		c := env.Login(t, "liz@example.com")

		me, err := c.Me.Patch(ctx, client.MePatch{FirstName: ptr("Liz"), LastName: ptr("Lemon"), CompanyName: ptr("NBC"), Title: ptr("Head writer"),
			PhoneNumber: ptr("+1 555"), Location: ptr("NYC"), URL: ptr("https://example.com")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if me.FullName != "Liz Lemon" || me.CompanyName != "NBC" || me.Title != "Head writer" || me.PhoneNumber != "+1 555" || me.Location != "NYC" || me.URL != "https://example.com" {
			t.Errorf("me = %+v", me)
		}

		_, err = c.Me.Patch(ctx, client.MePatch{Email: ptr("liz2@example.com")}, nil)
		wantError(t, err, 400, "currentCredentials")
		_, err = c.Me.Patch(ctx, client.MePatch{Email: ptr("liz2@example.com"), CurrentCredentials: &client.CurrentCredentials{Password: "wrong-password"}}, nil)
		wantError(t, err, 400, "currentCredentials.password", "incorrect")
		_, err = c.Me.Patch(ctx, client.MePatch{Email: ptr("TAKEN@example.com"), CurrentCredentials: &client.CurrentCredentials{Password: testenv.Password}}, nil)
		wantError(t, err, 400, "email", "already in use")
		me, err = c.Me.Patch(ctx, client.MePatch{Email: ptr("liz2@example.com"), CurrentCredentials: &client.CurrentCredentials{Password: testenv.Password}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if me.Email != "liz2@example.com" || me.EmailVerified || !me.NeedsToVerifyEmail {
			t.Errorf("after an email change: email %s verified %v needsToVerify %v", me.Email, me.EmailVerified, me.NeedsToVerifyEmail)
		}

		_, err = c.Me.Patch(ctx, client.MePatch{Password: ptr("weakpassword")}, nil)
		wantError(t, err, 400, "password", "upper-case")
		if _, err := c.Me.Patch(ctx, client.MePatch{Password: ptr(newPassword), CurrentCredentials: &client.CurrentCredentials{Password: testenv.Password}}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "liz2@example.com", Password: newPassword}); err != nil {
			t.Errorf("login with the new password: %v", err)
		}

		_, err = c.Me.Patch(ctx, client.MePatch{TokenCutoff: ptr(time.Now().Add(2 * time.Minute))}, nil)
		wantError(t, err, 400, "tokenCutoff")
		_, err = c.Me.Patch(ctx, client.MePatch{FirstName: ptr("")}, nil)
		wantError(t, err, 400, "firstName")
	})
}

func TestTokenCutoff(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "mia@example.com")
		c := env.Login(t, "mia@example.com")
		api, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "old"})
		if err != nil {
			t.Fatal(err)
		}
		me, err := c.Me.Patch(ctx, client.MePatch{TokenCutoff: ptr(time.Now())}, nil)
		// the session that set the cut-off is itself cut off once it applies
		if err != nil {
			t.Fatal(err)
		}
		if me.TokenCutoff == nil {
			t.Error("tokenCutoff not shown")
		}
		_, err = c.Me.Get(ctx, nil)
		wantError(t, err, 401)
		_, err = env.Client(t, api.Token).Me.Get(ctx, nil)
		wantError(t, err, 401)
		fresh := env.Login(t, "mia@example.com")
		if _, err := fresh.Me.Get(ctx, nil); err != nil {
			t.Errorf("a login after the cut-off: %v", err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "ned@example.com")
		c := env.Login(t, "ned@example.com")
		other := env.Login(t, "ned@example.com")
		api, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "old"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Me.ChangePassword(ctx, client.ChangePassword{Password: "wrong-password", NewPassword: newPassword})
		wantError(t, err, 400, "password", "incorrect")
		_, err = c.Me.ChangePassword(ctx, client.ChangePassword{Password: testenv.Password, NewPassword: "alllowercase1!"})
		wantError(t, err, 400, "newPassword", "upper-case")
		_, err = c.Me.ChangePassword(ctx, client.ChangePassword{Password: testenv.Password, NewPassword: testenv.Password})
		wantError(t, err, 400, "newPassword", "differ")

		a, err := c.Me.ChangePassword(ctx, client.ChangePassword{Password: testenv.Password, NewPassword: newPassword, InvalidateExistingTokens: true})
		if err != nil {
			t.Fatal(err)
		}
		for name, tok := range map[string]string{"this session": c.Token(), "other session": other.Token(), "API token": api.Token} {
			_, err := env.Client(t, tok).Me.Get(ctx, nil)
			wantError(t, err, 401)
			if t.Failed() {
				t.Logf("%s still works", name)
			}
		}
		if _, err := env.Client(t, a.Token).Me.Get(ctx, nil); err != nil {
			t.Errorf("the token changePassword returned: %v", err)
		}
		_, err = env.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "ned@example.com", Password: testenv.Password})
		wantError(t, err, 401)

		// without invalidation, other tokens keep working
		c2 := env.Client(t, a.Token)
		keep := env.LoginWith(t, "ned@example.com", newPassword)
		if _, err := c2.Me.ChangePassword(ctx, client.ChangePassword{Password: newPassword, NewPassword: "Third-passw0rd!"}); err != nil {
			t.Fatal(err)
		}
		if _, err := keep.Me.Get(ctx, nil); err != nil {
			t.Errorf("a session after a change without invalidation: %v", err)
		}
	})
}

func TestRefreshToken(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "olga@example.com")
		c := env.Client(t, "")
		a, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "olga@example.com", Password: testenv.Password, RequestedScopes: []string{"me.*"}, TokenTTL: ptr(int64(60))})
		if err != nil {
			t.Fatal(err)
		}
		c.SetToken(a.Token)
		r, err := c.Me.RefreshToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Token == a.Token || r.UserID != a.UserID {
			t.Errorf("refresh = %+v", r)
		}
		rc := env.Client(t, r.Token)
		if _, err := rc.Me.Get(ctx, nil); err != nil {
			t.Errorf("refreshed token: %v", err)
		}
		// same scope: me.* does not reach the token list
		_, err = rc.UserAPITokens.Get(ctx, nil)
		wantError(t, err, 403)
		// me.get alone may not refresh
		b, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "olga@example.com", Password: testenv.Password, RequestedScopes: []string{"me.get"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = env.Client(t, b.Token).Me.RefreshToken(ctx)
		wantError(t, err, 403)
	})
}

func TestDeleteMe(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "pat@example.com")
		c := env.Login(t, "pat@example.com")
		api, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "x"})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Me.Delete(ctx, client.UserCredentials{Email: "pat@example.com", Password: "wrong-password"})
		wantError(t, err, 400, "password")
		err = c.Me.Delete(ctx, client.UserCredentials{Email: "someone@example.com", Password: testenv.Password})
		wantError(t, err, 400, "email")
		if err := c.Me.Delete(ctx, client.UserCredentials{Email: "pat@example.com", Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{c.Token(), api.Token} {
			_, err := env.Client(t, tok).Me.Get(ctx, nil)
			wantError(t, err, 401)
		}
		_, err = env.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{Email: "pat@example.com", Password: testenv.Password})
		wantError(t, err, 401)
		if n, _ := env.Store.CountTokens(ctx, api.OwnerID, "api"); n != 0 {
			t.Errorf("%d tokens left after deleting the user", n)
		}
	})
}
