package httpapi_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
)

func ptr[T any](v T) *T { return &v }

func TestAPITokenLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		uid := env.User(t, "grace@example.com")
		c := env.Login(t, "grace@example.com")

		created, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "ci", Description: "for CI", Scope: []string{"me.get", "userApiTokens.get"}})
		if err != nil {
			t.Fatal(err)
		}
		if created.Token == "" || created.ID == "" || created.Status != "active" || created.OwnerID != uid ||
			created.CreatorType != "user" || created.CreatorID != uid || !slices.Equal(created.Scope, []string{"me.get", "userApiTokens.get"}) {
			t.Fatalf("created = %+v", created)
		}
		tc := env.Client(t, created.Token)
		if _, err := tc.Me.Get(ctx, nil); err != nil {
			t.Fatalf("GET /me with the API token: %v", err)
		}
		// outside its scope: 403
		_, err = tc.Me.Patch(ctx, client.MePatch{Title: ptr("x")}, nil)
		wantError(t, err, 403, "me.patch")
		// the value is shown once only
		got, err := c.UserAPIToken.Get(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Token != "" || got.Name != "ci" || got.Description != "for CI" {
			t.Errorf("get = %+v", got)
		}
		list, err := c.UserAPITokens.Get(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if list.Count != 1 || list.TotalCount != 1 || list.Items[0].ID != created.ID || list.Items[0].Token != "" {
			t.Errorf("list = %+v", list)
		}
		me, _ := c.Me.Get(ctx, nil)
		if me.Summary["apiTokenCount"] != float64(1) {
			t.Errorf("apiTokenCount = %v, want 1", me.Summary["apiTokenCount"])
		}

		// inactive: refused at once; active again: accepted
		if _, err := c.UserAPIToken.Patch(ctx, created.ID, client.APITokenPatch{Status: ptr("inactive")}); err != nil {
			t.Fatal(err)
		}
		_, err = tc.Me.Get(ctx, nil)
		wantError(t, err, 401)
		if _, err := c.UserAPIToken.Patch(ctx, created.ID, client.APITokenPatch{Status: ptr("active"), Name: ptr("ci-2")}); err != nil {
			t.Fatal(err)
		}
		if _, err := tc.Me.Get(ctx, nil); err != nil {
			t.Fatalf("reactivated token refused: %v", err)
		}
		// deleted: refused at once, and gone
		if err := c.UserAPIToken.Delete(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		_, err = tc.Me.Get(ctx, nil)
		wantError(t, err, 401)
		_, err = c.UserAPIToken.Get(ctx, created.ID)
		wantError(t, err, 404)
		err = c.UserAPIToken.Delete(ctx, created.ID)
		wantError(t, err, 404)
	})
}

func TestAPITokenScopeCannotGrow(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "heidi@example.com")
	c := env.Login(t, "heidi@example.com")
	narrow, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "narrow", Scope: []string{"userApiTokens.*", "me.get"}})
	if err != nil {
		t.Fatal(err)
	}
	nc := env.Client(t, narrow.Token)
	_, err = nc.UserAPITokens.Post(ctx, client.APITokenPost{Name: "wide", Scope: []string{"all.User"}})
	wantError(t, err, 403, "scope")
	// no scope asked: the default all.User is broader than the creator's too
	_, err = nc.UserAPITokens.Post(ctx, client.APITokenPost{Name: "default"})
	wantError(t, err, 403, "scope")
	sub, err := nc.UserAPITokens.Post(ctx, client.APITokenPost{Name: "sub", Scope: []string{"me.get"}})
	if err != nil {
		t.Fatalf("a narrower token: %v", err)
	}
	if sub.CreatorType != "apiToken" || sub.CreatorID != narrow.ID || sub.CreatorName != "narrow" {
		t.Errorf("creator = %s %s %s, want apiToken %s narrow", sub.CreatorType, sub.CreatorID, sub.CreatorName, narrow.ID)
	}
	_, err = c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "bad", Scope: []string{"all.Application"}})
	wantError(t, err, 400, "scope[0]", "all.Application")
}

func TestAPITokenExpiry(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(time.Now())
	env := testenv.Start(t, "sqlite", testenv.Options{Clock: clock.Now})
	env.User(t, "ivan@example.com")
	c := env.Login(t, "ivan@example.com")
	_, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "past", ExpirationDate: ptr(clock.Now().Add(-time.Minute))})
	wantError(t, err, 400, "expirationDate")
	tok, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "soon", ExpirationDate: ptr(clock.Now().Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	tc := env.Client(t, tok.Token)
	if _, err := tc.Me.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	_, err = tc.Me.Get(ctx, nil)
	wantError(t, err, 401)
}

func TestAPITokenList(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "judy@example.com")
		env.User(t, "other@example.com")
		c := env.Login(t, "judy@example.com")
		other := env.Login(t, "other@example.com")
		if _, err := other.UserAPITokens.Post(ctx, client.APITokenPost{Name: "not judy's"}); err != nil {
			t.Fatal(err)
		}
		ids := map[string]string{}
		for _, n := range []string{"deploy b", "Deploy a", "reader", "50%_off"} {
			tok, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: n})
			if err != nil {
				t.Fatal(err)
			}
			ids[n] = tok.ID
		}
		if _, err := c.UserAPIToken.Patch(ctx, ids["reader"], client.APITokenPatch{Status: ptr("inactive")}); err != nil {
			t.Fatal(err)
		}
		names := func(l *client.APITokens) []string {
			var out []string
			for _, it := range l.Items {
				out = append(out, it.Name)
			}
			return out
		}
		tests := []struct {
			name  string
			p     client.ListParams
			want  []string
			total int
		}{
			{"default by name", client.ListParams{}, []string{"50%_off", "Deploy a", "deploy b", "reader"}, 4},
			{"desc", client.ListParams{SortDirection: "desc"}, []string{"reader", "deploy b", "Deploy a", "50%_off"}, 4},
			{"glob", client.ListParams{FilterField: "name", Filter: "deploy*"}, []string{"Deploy a", "deploy b"}, 2},
			{"literal percent", client.ListParams{FilterField: "name", Filter: "50%*"}, []string{"50%_off"}, 1},
			{"status", client.ListParams{FilterField: "status", Filter: "inactive"}, []string{"reader"}, 1},
			{"page", client.ListParams{PerPage: 2, Page: 1}, []string{"deploy b", "reader"}, 4},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l, err := c.UserAPITokens.Get(ctx, &tt.p)
				if err != nil {
					t.Fatal(err)
				}
				if got := names(l); !slices.Equal(got, tt.want) || l.TotalCount != tt.total || l.Count != len(tt.want) {
					t.Errorf("got %v (count %d, total %d), want %v (total %d)", got, l.Count, l.TotalCount, tt.want, tt.total)
				}
			})
		}
		byID, err := c.UserAPITokens.Get(ctx, &client.ListParams{SortField: "id", SortDirection: "desc"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(byID.Items, func(a, b client.APIToken) int { return -strings.Compare(a.ID, b.ID) }) {
			t.Errorf("sortField=id desc is not sorted: %v", byID.Items)
		}
		for _, bad := range []client.ListParams{{SortField: "owner"}, {SortDirection: "up"}, {FilterField: "scope", Filter: "x"}, {PerPage: 5000}} {
			_, err := c.UserAPITokens.Get(ctx, &bad)
			wantError(t, err, 400)
		}
	})
}

func TestLastUsed(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "ken@example.com")
	c := env.Login(t, "ken@example.com")
	tok, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "used"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.LastUsed != nil {
		t.Errorf("a new token has lastUsed %v", tok.LastUsed)
	}
	before := time.Now().Add(-time.Second)
	if _, err := env.Client(t, tok.Token).Me.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := c.UserAPIToken.Get(ctx, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastUsed != nil {
			if got.LastUsed.Before(before) {
				t.Errorf("lastUsed = %v, before the use at %v", got.LastUsed, before)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("lastUsed not recorded within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
