package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

// securityTests are the SecurityStore cases; Run runs them with the rest.
var securityTests = []struct {
	name string
	fn   func(t *testing.T, st accountd.Store)
}{
	{"TwoFactor", testTwoFactor},
	{"TwoFactorStepRace", testTwoFactorStepRace},
	{"RecoveryCodes", testRecoveryCodes},
	{"EmailVerification", testEmailVerification},
	{"GithubLink", testGithubLink},
	{"SecurityGoesWithUser", testSecurityGoesWithUser},
}

func testTwoFactor(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("tfa@example.com"))
	got, err := st.TwoFactor(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, &accountd.TwoFactor{UserID: u.ID})
	if got.Enabled() {
		t.Error("a fresh user has two-factor auth enabled")
	}
	want := &accountd.TwoFactor{UserID: u.ID, Secret: "k1:sealed", Pending: "k1:pending", LastStep: 7, UpdatedAt: base}
	requireAllSet(t, want)
	for _, step := range []string{"create", "update"} {
		t.Run(step, func(t *testing.T) {
			if err := st.PutTwoFactor(ctx, want); err != nil {
				t.Fatal(err)
			}
			got, err := st.TwoFactor(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, got, want)
			want = &accountd.TwoFactor{UserID: u.ID, Secret: "k2:other", LastStep: 9, UpdatedAt: base.Add(time.Hour)}
		})
	}
	t.Run("steps only move forward", func(t *testing.T) {
		for _, tc := range []struct {
			step int64
			want bool
		}{{9, false}, {8, false}, {10, true}, {10, false}, {12, true}} {
			ok, err := st.UseTwoFactorStep(ctx, u.ID, tc.step)
			if err != nil || ok != tc.want {
				t.Errorf("UseTwoFactorStep(%d) = %v, %v; want %v", tc.step, ok, err, tc.want)
			}
		}
		if got, _ := st.TwoFactor(ctx, u.ID); got.LastStep != 12 {
			t.Errorf("LastStep = %d, want 12", got.LastStep)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		err := st.PutTwoFactor(ctx, &accountd.TwoFactor{UserID: accountd.NewID(base), UpdatedAt: base})
		checkNotFound(t, err, "user")
		if ok, err := st.UseTwoFactorStep(ctx, accountd.NewID(base), 5); ok || err != nil {
			t.Errorf("UseTwoFactorStep on unknown user = %v, %v", ok, err)
		}
	})
}

// testTwoFactorStepRace: of many requests racing with one step, one wins.
func testTwoFactorStepRace(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("race@example.com"))
	if err := st.PutTwoFactor(ctx, &accountd.TwoFactor{UserID: u.ID, Secret: "s", UpdatedAt: base}); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 8 {
		wg.Go(func() {
			ok, err := st.UseTwoFactorStep(ctx, u.ID, 100)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d requests accepted one step, want 1", wins)
	}
}

func testRecoveryCodes(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("codes@example.com"))
	other := createUser(t, st, fullUser("other@example.com"))
	check := func(t *testing.T, userID string, want ...string) {
		t.Helper()
		got, err := st.RecoveryCodes(ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("RecoveryCodes = %v, want %v", got, want)
		}
	}
	check(t, u.ID)
	if err := st.SetRecoveryCodes(ctx, u.ID, []string{"b", "a", "c"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetRecoveryCodes(ctx, other.ID, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	check(t, u.ID, "a", "b", "c")
	for _, tc := range []struct {
		user, hash string
		want       bool
	}{{u.ID, "b", true}, {u.ID, "b", false}, {u.ID, "zz", false}, {other.ID, "c", false}} {
		if ok, err := st.UseRecoveryCode(ctx, tc.user, tc.hash); err != nil || ok != tc.want {
			t.Errorf("UseRecoveryCode(%s) = %v, %v; want %v", tc.hash, ok, err, tc.want)
		}
	}
	check(t, u.ID, "a", "c")
	check(t, other.ID, "a")
	if err := st.SetRecoveryCodes(ctx, u.ID, []string{"d"}); err != nil {
		t.Fatal(err)
	}
	check(t, u.ID, "d")
	if err := st.SetRecoveryCodes(ctx, u.ID, nil); err != nil {
		t.Fatal(err)
	}
	check(t, u.ID)
	checkNotFound(t, st.SetRecoveryCodes(ctx, accountd.NewID(base), []string{"x"}), "user")
}

func testEmailVerification(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("verify@example.com"))
	first := &accountd.EmailVerification{TokenHash: "h1", UserID: u.ID, Email: u.Email, ExpiresAt: base.Add(24 * time.Hour), CreatedAt: base}
	requireAllSet(t, first)
	if err := st.PutEmailVerification(ctx, first); err != nil {
		t.Fatal(err)
	}
	got, err := st.EmailVerification(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, first)
	second := &accountd.EmailVerification{TokenHash: "h2", UserID: u.ID, Email: "new@example.com", ExpiresAt: base.Add(48 * time.Hour), CreatedAt: base.Add(time.Hour)}
	if err := st.PutEmailVerification(ctx, second); err != nil {
		t.Fatal(err)
	}
	_, err = st.EmailVerification(ctx, "h1")
	checkNotFound(t, err, "email verification")
	got, err = st.EmailVerification(ctx, "h2")
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, second)
	if err := st.DeleteEmailVerifications(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = st.EmailVerification(ctx, "h2")
	checkNotFound(t, err, "email verification")
	checkNotFound(t, st.PutEmailVerification(ctx, &accountd.EmailVerification{TokenHash: "h3", UserID: accountd.NewID(base), ExpiresAt: base, CreatedAt: base}), "user")
}

func testGithubLink(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("gh@example.com"))
	other := createUser(t, st, fullUser("gh2@example.com"))
	_, err := st.GithubLink(ctx, u.ID)
	checkNotFound(t, err, "GitHub link")
	checkNotFound(t, st.UnlinkGithub(ctx, u.ID), "GitHub link")
	l := &accountd.GithubLink{UserID: u.ID, GithubID: "583231", Login: "octocat", CreatedAt: base}
	requireAllSet(t, l)
	if err := st.LinkGithub(ctx, l); err != nil {
		t.Fatal(err)
	}
	for name, get := range map[string]func() (*accountd.GithubLink, error){
		"by user":   func() (*accountd.GithubLink, error) { return st.GithubLink(ctx, u.ID) },
		"by GitHub": func() (*accountd.GithubLink, error) { return st.GithubLinkByGithubID(ctx, "583231") },
	} {
		t.Run(name, func(t *testing.T) {
			got, err := get()
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, got, l)
		})
	}
	t.Run("one user per GitHub account", func(t *testing.T) {
		err := st.LinkGithub(ctx, &accountd.GithubLink{UserID: other.ID, GithubID: "583231", Login: "octocat", CreatedAt: base})
		if !errors.Is(err, accountd.ErrConflict) {
			t.Errorf("linking a GitHub account twice: %v, want Conflict", err)
		}
		_, err = st.GithubLink(ctx, other.ID)
		checkNotFound(t, err, "GitHub link")
	})
	t.Run("relink replaces", func(t *testing.T) {
		l2 := &accountd.GithubLink{UserID: u.ID, GithubID: "9", Login: "hubot", CreatedAt: base.Add(time.Hour)}
		if err := st.LinkGithub(ctx, l2); err != nil {
			t.Fatal(err)
		}
		_, err := st.GithubLinkByGithubID(ctx, "583231")
		checkNotFound(t, err, "GitHub link")
		got, err := st.GithubLink(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, got, l2)
	})
	if err := st.UnlinkGithub(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = st.GithubLink(ctx, u.ID)
	checkNotFound(t, err, "GitHub link")
	checkNotFound(t, st.LinkGithub(ctx, &accountd.GithubLink{UserID: accountd.NewID(base), GithubID: "1", Login: "x", CreatedAt: base}), "user")
}

func testSecurityGoesWithUser(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("gone@example.com"))
	for _, err := range []error{
		st.PutTwoFactor(ctx, &accountd.TwoFactor{UserID: u.ID, Secret: "s", UpdatedAt: base}),
		st.SetRecoveryCodes(ctx, u.ID, []string{"a"}),
		st.PutEmailVerification(ctx, &accountd.EmailVerification{TokenHash: "h", UserID: u.ID, Email: u.Email, ExpiresAt: base, CreatedAt: base}),
		st.LinkGithub(ctx, &accountd.GithubLink{UserID: u.ID, GithubID: "1", Login: "x", CreatedAt: base}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	tf, err := st.TwoFactor(ctx, u.ID)
	if err != nil || tf.Enabled() {
		t.Errorf("TwoFactor after delete = %+v, %v", tf, err)
	}
	if codes, err := st.RecoveryCodes(ctx, u.ID); err != nil || len(codes) != 0 {
		t.Errorf("RecoveryCodes after delete = %v, %v", codes, err)
	}
	if _, err := st.EmailVerification(ctx, "h"); !errors.Is(err, accountd.ErrNotFound) {
		t.Errorf("EmailVerification after delete: %v", err)
	}
	if _, err := st.GithubLinkByGithubID(ctx, "1"); !errors.Is(err, accountd.ErrNotFound) {
		t.Errorf("GithubLinkByGithubID after delete: %v", err)
	}
}
