package httpapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/internal/testenv"
)

// matrixBodies are requests that pass the scope check and then stop at
// validation or a missing thing, so walking the matrix changes nothing.
var matrixBodies = map[string]string{
	"me.patch":             `{}`,
	"me.changePassword":    `{"password":"only-the-old-one"}`,
	"me.delete":            `{"email":"x@example.com"}`,
	"userApiTokens.post":   `{"name":""}`,
	"userApiToken.patch":   `{"name":""}`,
	"me.addRecentItem":     `{}`,
	"me.transferResources": `{}`,
	"orgs.post":            `{"name":""}`,
	"applications.post":    `{"name":""}`,
	"dashboards.post":      `{"name":""}`,
	// two-factor actions stop at the schema (no code); the rest change
	// nothing for a verified user without 2FA or GitHub
	"me.enableTwoFactorAuth":   `{"password":"wrong-password"}`,
	"me.disableTwoFactorAuth":  `{"password":"wrong-password"}`,
	"recoveryCodes.regenerate": `{"password":"wrong-password"}`,
}

// TestScopeMatrix sends every action with a token of every scope the
// service knows, and checks allow or deny against the route table.
func TestScopeMatrix(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "matrix@example.com")
	owner := env.Login(t, "matrix@example.com")
	tok, err := owner.UserAPITokens.Post(ctx, client.APITokenPost{Name: "target"})
	if err != nil {
		t.Fatal(err)
	}
	catalog := httpapi.Catalog()
	for _, scope := range catalog.Scopes() {
		a, err := env.Client(t, "").Auth.AuthenticateUser(ctx, client.UserCredentials{
			Email: "matrix@example.com", Password: testenv.Password, RequestedScopes: []string{scope}})
		if err != nil {
			t.Fatalf("login with scope %s: %v", scope, err)
		}
		for _, act := range httpapi.Actions() {
			if _, forUsers := catalog[act.Name]; !forUsers {
				continue // no token needed, or a platform service's (usage_test.go)
			}
			path := strings.ReplaceAll(act.Path, "{apiTokenId}", tok.ID)
			if act.Name == "userApiToken.delete" {
				path = strings.ReplaceAll(act.Path, "{apiTokenId}", "5f0000000000000000000000")
			}
			// an unknown session: allowed, then 404
			path = strings.ReplaceAll(path, "{sessionId}", "5f0000000000000000000000")
			t.Run(scope+"/"+act.Name, func(t *testing.T) {
				status, _, body := raw(t, env, act.Method, path, a.Token, matrixBodies[act.Name], nil)
				if slices.Contains(act.Scopes, scope) {
					if status == 401 || status == 403 {
						t.Errorf("%s %s with %s = %d %s, want allowed", act.Method, path, scope, status, body)
					}
				} else if status != 403 || !strings.Contains(string(body), act.Name) {
					t.Errorf("%s %s with %s = %d %s, want 403 naming %s", act.Method, path, scope, status, body, act.Name)
				}
			})
		}
	}
}

// TestScopesMatchReference checks the route table against the scopes the
// reference documents for each action: the seed documents list them in
// full; api.json names each action's own scope.
func TestScopesMatchReference(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("ACCOUNTD_REFERENCE_DIR")
	if dir == "" {
		t.Skip("ACCOUNTD_REFERENCE_DIR is not set")
	}
	ours := map[string][]string{}
	for _, a := range httpapi.Actions() {
		ours[a.Name] = a.Scopes
	}
	heading := regexp.MustCompile(`(?m)^## (.+)$`)
	scopesLine := regexp.MustCompile(`following scopes:\s*\n([^\n]+)\.`)
	for file, resource := range map[string]string{"me.md": "me", "userApiToken.md": "userApiToken"} {
		raw, err := os.ReadFile(filepath.Join(dir, "seeds", file))
		if err != nil {
			t.Fatal(err)
		}
		doc := string(raw)
		locs := heading.FindAllStringSubmatchIndex(doc, -1)
		for i, loc := range locs {
			end := len(doc)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			action := resource + "." + lowerCamel(doc[loc[2]:loc[3]])
			m := scopesLine.FindStringSubmatch(doc[loc[1]:end])
			if m == nil {
				t.Fatalf("%s: no scopes for %s", file, action)
			}
			var want []string
			for _, s := range strings.Split(strings.ReplaceAll(m[1], " or ", " "), ",") {
				if s = strings.TrimSpace(s); s != "" {
					want = append(want, s)
				}
			}
			got, served := ours[action]
			if !served {
				continue // a later piece of work serves it
			}
			slices.Sort(want)
			got = slices.Sorted(slices.Values(got))
			if !slices.Equal(got, want) {
				t.Errorf("%s: scopes %v, reference %v", action, got, want)
			}
		}
	}
	var api map[string]struct {
		Actions map[string]struct {
			Auth []string `json:"auth"`
		} `json:"actions"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "api.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &api); err != nil {
		t.Fatal(err)
	}
	for resource, r := range api {
		for name, a := range r.Actions {
			got, served := ours[resource+"."+name]
			for _, s := range a.Auth {
				if served && !slices.Contains(got, s) {
					t.Errorf("%s.%s: scopes %v lack the reference's %s", resource, name, got, s)
				}
			}
		}
	}
}

func lowerCamel(title string) string {
	words := strings.Fields(title)
	for i, w := range words {
		r := []rune(strings.ToLower(w))
		if i > 0 {
			r[0] = unicode.ToUpper(r[0])
		}
		words[i] = string(r)
	}
	return strings.Join(words, "")
}

// TestRevocationAcrossInstances runs two servers on one database: a token
// deactivated through one must fail on the other within a second, though
// the other had it cached.
func TestRevocationAcrossInstances(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		a := testenv.Start(t, backend, testenv.Options{})
		b := testenv.Start(t, backend, testenv.Options{Store: a.Store, Keys: a.Keys})
		a.User(t, "quinn@example.com")
		ca := a.Login(t, "quinn@example.com")
		tok, err := ca.UserAPITokens.Post(ctx, client.APITokenPost{Name: "shared"})
		if err != nil {
			t.Fatal(err)
		}
		cb := b.Client(t, tok.Token)
		if _, err := cb.Me.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := ca.UserAPIToken.Patch(ctx, tok.ID, client.APITokenPatch{Status: ptr("inactive")}); err != nil {
			t.Fatal(err)
		}
		revoked := time.Now()
		// on the instance that revoked: at once
		_, err = a.Client(t, tok.Token).Me.Get(ctx, nil)
		wantError(t, err, 401)
		for {
			_, err := cb.Me.Get(ctx, nil)
			if err != nil {
				wantError(t, err, 401)
				break
			}
			if time.Since(revoked) > time.Second {
				t.Fatal("the other instance still accepts the token a second after revocation")
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%s: refused on the other instance after %v", backend, time.Since(revoked).Round(time.Millisecond))
	})
}

// TestMeAcrossInstances checks the GET /me cache: a change made through one
// instance shows on the other within a second, and at once on the one that
// made it.
func TestMeAcrossInstances(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		a := testenv.Start(t, backend, testenv.Options{})
		b := testenv.Start(t, backend, testenv.Options{Store: a.Store, Keys: a.Keys})
		a.User(t, "rita@example.com")
		ca := a.Login(t, "rita@example.com")
		cb := b.Client(t, ca.Token())
		if _, err := cb.Me.Get(ctx, nil); err != nil { // cached on b now
			t.Fatal(err)
		}
		if _, err := ca.Me.Patch(ctx, client.MePatch{Title: ptr("Captain")}, nil); err != nil {
			t.Fatal(err)
		}
		if me, err := ca.Me.Get(ctx, nil); err != nil || me.Title != "Captain" {
			t.Fatalf("on the instance that changed it: %+v, %v", me, err)
		}
		changed := time.Now()
		for {
			me, err := cb.Me.Get(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if me.Title == "Captain" {
				break
			}
			if time.Since(changed) > time.Second {
				t.Fatal("the other instance still shows the old profile a second later")
			}
			time.Sleep(10 * time.Millisecond)
		}
		// a new API token counts at once where it was made
		if _, err := ca.UserAPITokens.Post(ctx, client.APITokenPost{Name: "n"}); err != nil {
			t.Fatal(err)
		}
		if me, _ := ca.Me.Get(ctx, nil); me.Summary["apiTokenCount"] != float64(1) {
			t.Errorf("apiTokenCount right after creating one = %v, want 1", me.Summary["apiTokenCount"])
		}
	})
}
