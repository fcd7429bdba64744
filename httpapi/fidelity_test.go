package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/internal/apicheck"
	"github.com/accountd/accountd/internal/testenv"
)

// fidelityFixture is what a case's preparation works with: a fresh user
// signed in, on a server of its own clock.
type fidelityFixture struct {
	t     *testing.T
	env   *testenv.Env
	clock *testenv.Clock
	email string
	c     *client.Client
	token string
	// orgID and memberID are what an organization case made.
	orgID, memberID string
}

// fidelityCase says how one action is checked.
type fidelityCase struct {
	// prepare makes what the body refers to; it returns the request path
	// and the values of the properties that must name real things (an
	// organization, an application, the user's password), which replace
	// the generated ones.
	prepare func(f *fidelityFixture) (path string, fixed map[string]any)
	// status is the answer wanted.
	status int
	// answerOf picks the resource out of an answer that holds more (an
	// invitation in the organization's list, a member in the
	// organization); nil when the answer is the resource.
	answerOf func(f *fidelityFixture, answer map[string]any) map[string]any
	// readBack gives the resource as GET shows it after the action, given
	// the action's answer; nil when the answer alone shows it.
	readBack func(f *fidelityFixture, answer map[string]any) (path string)
	// list, when set, gives the list (with its query) whose items must
	// show the resource as GET does.
	list func(answer map[string]any) (path string)
	// renamed maps a property to the answer's property that shows it
	// (orgId is shown as ownerId).
	renamed map[string]string
	// shown checks properties shown in another form (a dashboard password
	// as isPasswordProtected).
	shown map[string]func(sent any, answer map[string]any) error
	// notShown names the properties that cannot be read back, and why.
	notShown map[string]string
}

// fidelityCases covers every reference action with a request body that
// accountd serves.
var fidelityCases = map[string]fidelityCase{
	"applications.post": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			return "/applications", map[string]any{"orgId": f.org()}
		},
		status:   http.StatusCreated,
		readBack: func(_ *fidelityFixture, a map[string]any) string { return "/applications/" + a["id"].(string) },
		list:     func(map[string]any) string { return "/applications" },
		renamed:  map[string]string{"orgId": "ownerId"},
	},
	"dashboards.post": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			return "/dashboards", map[string]any{"orgId": f.org(), "applicationId": f.app()}
		},
		status:   http.StatusCreated,
		readBack: func(_ *fidelityFixture, a map[string]any) string { return "/dashboards/" + a["id"].(string) },
		list:     func(map[string]any) string { return "/dashboards" },
		renamed:  map[string]string{"orgId": "ownerId"},
		shown: map[string]func(any, map[string]any) error{
			"password": func(_ any, a map[string]any) error {
				if a["isPasswordProtected"] != true {
					return fmt.Errorf("isPasswordProtected = %v, want true", a["isPasswordProtected"])
				}
				if _, ok := a["password"]; ok {
					return fmt.Errorf("the password is shown")
				}
				return nil
			},
		},
	},
	"devices.post": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			app := f.app()
			parent := f.device(app)
			return "/applications/" + app + "/devices", map[string]any{"parentId": parent, "gatewayId": parent}
		},
		status: http.StatusCreated,
		readBack: func(_ *fidelityFixture, a map[string]any) string {
			return "/applications/" + a["applicationId"].(string) + "/devices/" + a["id"].(string)
		},
		list: func(a map[string]any) string { return "/applications/" + a["applicationId"].(string) + "/devices" },
	},
	"flows.post": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			return "/applications/" + f.app() + "/flows", nil
		},
		status: http.StatusCreated,
		readBack: func(_ *fidelityFixture, a map[string]any) string {
			return "/applications/" + a["applicationId"].(string) + "/flows/" + a["id"].(string)
		},
		// the generated flow takes the first flow class, which the list
		// must be asked for
		list: func(a map[string]any) string {
			return "/applications/" + a["applicationId"].(string) + "/flows?flowClass=" + a["flowClass"].(string)
		},
	},
	"userApiTokens.post": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			// the reference's scope enum lists the whole platform's; a user
			// token takes the user-level ones
			return "/me/tokens", map[string]any{"scope": []any{"all.User"},
				"expirationDate": f.clock.Now().Add(24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")}
		},
		status:   http.StatusCreated,
		readBack: func(_ *fidelityFixture, a map[string]any) string { return "/me/tokens/" + a["id"].(string) },
	},
	"userApiToken.patch": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			tok := must(f.c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "to patch", Scope: []string{"all.User"}})).of(f.t)
			return "/me/tokens/" + tok.ID, nil
		},
		status:   http.StatusOK,
		readBack: func(_ *fidelityFixture, a map[string]any) string { return "/me/tokens/" + a["id"].(string) },
	},
	"me.patch": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			return "/me", map[string]any{
				"email":              "renamed-" + f.email,
				"currentCredentials": map[string]any{"password": testenv.Password, "twoFactorCode": "123456"},
				// a cut-off in the past keeps the token the check goes on with
				"tokenCutoff": f.clock.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"),
			}
		},
		status:   http.StatusOK,
		readBack: func(*fidelityFixture, map[string]any) string { return "/me" },
		notShown: map[string]string{"password": "a credential", "currentCredentials": "credentials that authorize the change"},
	},
	"me.changePassword": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			return "/me/changePassword", map[string]any{"password": testenv.Password, "newPassword": "An0ther-secret-pw"}
		},
		status: http.StatusOK,
		notShown: map[string]string{"password": "a credential", "newPassword": "a credential", "twoFactorCode": "a credential",
			"invalidateExistingTokens": "acts on other tokens", "tokenTTL": "shapes the new token, answered in its place"},
	},
	"auth.authenticateUser": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			return "/auth/user", map[string]any{"email": f.email, "password": testenv.Password, "requestedScopes": []any{"all.User"}}
		},
		status: http.StatusOK,
		notShown: map[string]string{"email": "a credential", "password": "a credential", "twoFactorCode": "a credential",
			"requestedScopes": "shapes the token, answered in its place", "tokenTTL": "shapes the token, answered in its place"},
	},
	"me.delete": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			return "/me/delete", map[string]any{"email": f.email, "password": testenv.Password, "requestedScopes": []any{"all.User"}}
		},
		status: http.StatusOK,
		notShown: map[string]string{"email": "a credential", "password": "a credential", "twoFactorCode": "a credential",
			"requestedScopes": "part of the credentials", "tokenTTL": "part of the credentials"},
	},
	"me.enableTwoFactorAuth": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			info := must(f.c.Me.GenerateTwoFactorAuth(ctx)).of(f.t)
			app := totp{t: f.t, key: info.Key, clock: f.clock}
			return "/me/enableTwoFactorAuth", map[string]any{"twoFactorAuthKey": info.Key, "password": testenv.Password, "twoFactorCode": app.code()}
		},
		status:   http.StatusOK,
		notShown: map[string]string{"twoFactorAuthKey": "a secret", "password": "a credential", "twoFactorCode": "a credential"},
	},
	"me.disableTwoFactorAuth": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			app, _ := enable2FA(f.t, f.c, f.clock)
			return "/me/disableTwoFactorAuth", map[string]any{"password": testenv.Password, "twoFactorCode": app.next()}
		},
		status:   http.StatusOK,
		notShown: map[string]string{"password": "a credential", "twoFactorCode": "a credential"},
	},
	"orgs.post": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			return "/orgs", nil
		},
		status:   http.StatusCreated,
		readBack: func(_ *fidelityFixture, a map[string]any) string { return "/orgs/" + a["id"].(string) },
		list:     func(map[string]any) string { return "/orgs" },
		notShown: map[string]string{"cardToken": "a payment credential: checked, not kept"},
	},
	"org.inviteMember": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			org := f.org()
			app := must(f.c.Applications.Post(ctx, client.OwnedPost{Name: "shared app", OrgID: org})).of(f.t).ID
			dash := must(f.c.Dashboards.Post(ctx, client.OwnedPost{Name: "shared dashboard", OrgID: org})).of(f.t).ID
			f.orgID = org
			return "/orgs/" + org + "/invites", map[string]any{"email": "invited-" + f.email, "role": "none",
				"applicationRoles": []any{map[string]any{"resourceId": app, "role": "view"}},
				"dashboardRoles":   []any{map[string]any{"resourceId": dash, "role": "collaborate"}}}
		},
		status: http.StatusOK,
		answerOf: func(f *fidelityFixture, a map[string]any) map[string]any {
			return itemWith(a, "email", "invited-"+f.email)
		},
		readBack: func(f *fidelityFixture, _ map[string]any) string { return "/orgs/" + f.orgID + "/invites" },
	},
	"org.modifyMember": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			org := f.org()
			app := must(f.c.Applications.Post(ctx, client.OwnedPost{Name: "shared app", OrgID: org})).of(f.t).ID
			dash := must(f.c.Dashboards.Post(ctx, client.OwnedPost{Name: "shared dashboard", OrgID: org})).of(f.t).ID
			member := "member-" + f.email
			f.memberID = f.env.User(f.t, member)
			inv := must(f.c.Org.InviteMember(ctx, org, client.OrgInvitePost{Email: member, Role: "view"})).of(f.t)
			must(f.env.Login(f.t, member).Me.RespondToInvite(ctx, inv[len(inv)-1].ID, "accept")).of(f.t)
			f.orgID = org
			return "/orgs/" + org + "/member", map[string]any{"userId": f.memberID, "role": "none",
				"applicationRoles": []any{map[string]any{"resourceId": app, "role": "collaborate"}},
				"dashboardRoles":   []any{map[string]any{"resourceId": dash, "role": "view"}}}
		},
		status: http.StatusOK,
		answerOf: func(f *fidelityFixture, a map[string]any) map[string]any {
			members, _ := a["members"].([]any)
			return itemWith(map[string]any{"items": members}, "userId", f.memberID)
		},
		readBack: func(f *fidelityFixture, _ map[string]any) string { return "/orgs/" + f.orgID },
	},
	"me.addRecentItem": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			app := f.app()
			return "/me/recentItems", map[string]any{"itemType": "device", "parentId": app, "itemId": f.device(app)}
		},
		status: http.StatusOK,
		shown: map[string]func(any, map[string]any) error{
			"itemId": func(sent any, a map[string]any) error {
				items, _ := a["items"].([]any)
				if len(items) == 0 || items[0].(map[string]any)["id"] != sent {
					return fmt.Errorf("items = %v, want %v first", items, sent)
				}
				return nil
			},
		},
	},
	"me.respondToInvite": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			f.env.User(f.t, "inviter-"+f.email)
			inviter := f.env.Login(f.t, "inviter-"+f.email)
			org := must(inviter.Orgs.Post(ctx, client.OrgPost{Name: "Inviting"})).of(f.t)
			inv := must(inviter.Org.InviteMember(ctx, org.ID, client.OrgInvitePost{Email: f.email, Role: "view"})).of(f.t)
			return "/me/invites/" + inv[len(inv)-1].ID, map[string]any{"action": "accept"}
		},
		status:   http.StatusOK,
		notShown: map[string]string{"action": "acts on the invitation, which is answered"},
	},
	"me.transferResources": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			dash := must(f.c.Dashboards.Post(ctx, client.OwnedPost{Name: "moving"})).of(f.t)
			return "/me/transferResources", map[string]any{"destinationId": f.org(), "destinationType": "organization",
				"applicationIds": []any{f.app()}, "dashboardIds": []any{dash.ID}, "strict": true}
		},
		status: http.StatusOK,
		notShown: map[string]string{"destinationId": "acts on the resources", "destinationType": "acts on the resources",
			"applicationIds": "acts on the resources", "dashboardIds": "acts on the resources", "strict": "acts on the resources"},
	},
	"device.sendState": {
		prepare: func(f *fidelityFixture) (string, map[string]any) {
			app := f.app()
			return "/applications/" + app + "/devices/" + f.device(app) + "/state", map[string]any{"time": f.clock.Now().UnixMilli()}
		},
		status: http.StatusOK,
		notShown: map[string]string{"time": "state is counted, not kept", "data": "state is counted, not kept",
			"meta": "state is counted, not kept", "flowVersion": "state is counted, not kept"},
	},
}

// itemWith returns the element of answer's items whose key is value (an
// empty object when none is).
func itemWith(answer map[string]any, key, value string) map[string]any {
	items, _ := answer["items"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m != nil && m[key] == value {
			return m
		}
	}
	return map[string]any{}
}

func (f *fidelityFixture) org() string {
	f.t.Helper()
	return must(f.c.Orgs.Post(ctx, client.OrgPost{Name: "Fidelity"})).of(f.t).ID
}

func (f *fidelityFixture) app() string {
	f.t.Helper()
	return must(f.c.Applications.Post(ctx, client.OwnedPost{Name: "fidelity app"})).of(f.t).ID
}

func (f *fidelityFixture) device(appID string) string {
	f.t.Helper()
	return must(f.c.Devices.Post(ctx, appID, client.DevicePost{Name: "fidelity device"})).of(f.t).ID
}

// bodyAction is a reference action with a request body.
type bodyAction struct {
	name, method, path, schema string
}

// refAPI is api.json as far as the fidelity checks read it: each
// resource's path and actions, each action's method, path and parameters.
type refAPI map[string]struct {
	Path    string `json:"path"`
	Actions map[string]struct {
		Method string `json:"method"`
		Path   string `json:"path"`
		Params []struct {
			Name    string `json:"name"`
			In      string `json:"in"`
			Example any    `json:"example"`
			Schema  struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"params"`
	} `json:"actions"`
}

func readAPI(t *testing.T, dir string) refAPI {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "api.json"))
	if err != nil {
		t.Fatal(err)
	}
	var api refAPI
	if err := json.Unmarshal(raw, &api); err != nil {
		t.Fatal(err)
	}
	return api
}

// servedBodyActions lists the reference actions with a request body that
// our document serves.
func servedBodyActions(t *testing.T, dir string) []bodyAction {
	t.Helper()
	api := readAPI(t, dir)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	served := func(method, path string) bool {
		for p, ops := range doc.Paths {
			if _, ok := ops[strings.ToLower(method)]; ok && sameTemplate(p, path) {
				return true
			}
		}
		return false
	}
	var out []bodyAction
	for _, resName := range slices.Sorted(maps.Keys(api)) {
		res := api[resName]
		for _, actName := range slices.Sorted(maps.Keys(res.Actions)) {
			act := res.Actions[actName]
			for _, p := range act.Params {
				name, ok := strings.CutPrefix(p.Schema.Ref, "#/definitions/")
				if p.In != "body" || !ok {
					continue
				}
				path := res.Path + act.Path
				if served(act.Method, path) {
					out = append(out, bodyAction{resName + "." + actName, strings.ToUpper(act.Method), path, name})
				}
			}
		}
	}
	return out
}

// sameTemplate compares two path templates, ignoring parameter names.
func sameTemplate(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		ap, bp := strings.HasPrefix(as[i], "{"), strings.HasPrefix(bs[i], "{")
		if ap != bp || (!ap && as[i] != bs[i]) {
			return false
		}
	}
	return true
}

// TestRequestFidelity is the generated conformance check: for every action
// of the reference with a request body that accountd serves, it builds from
// the reference schema the largest valid body (every documented property,
// at every depth, each form of a oneOf), sends it over real HTTP, and
// checks that it is accepted and that every property comes back as sent,
// in the answer and in the resource's GET. It fails when a documented
// property is refused or dropped. It needs the reference folder.
func TestRequestFidelity(t *testing.T) {
	dir := os.Getenv(apicheck.EnvVar)
	if dir == "" {
		t.Skip(apicheck.EnvVar + " is not set")
	}
	t.Parallel()
	actions := servedBodyActions(t, dir)
	if len(actions) < len(fidelityCases) {
		t.Fatalf("only %d served actions with a body found; the reference or our document changed shape", len(actions))
	}
	for _, a := range actions {
		if _, ok := fidelityCases[a.name]; !ok {
			t.Errorf("%s (%s %s) has a request body but no case in fidelityCases", a.name, a.method, a.path)
		}
	}
	forEachBackend(t, func(t *testing.T, backend string) {
		clock := testenv.NewClock(time.Now().UTC().Truncate(time.Second))
		env := testenv.Start(t, backend, testenv.Options{Clock: clock.Now})
		for i, a := range actions {
			t.Run(a.name, func(t *testing.T) {
				tc := fidelityCases[a.name]
				gen, err := newMaximal(dir, a.schema)
				if err != nil {
					t.Fatal(err)
				}
				generated, err := gen.body()
				if err != nil {
					t.Fatalf("generating a body from schemas/%s.json: %v", a.schema, err)
				}
				email := fmt.Sprintf("fidelity%d@example.com", i)
				env.User(t, email)
				c := env.Login(t, email)
				f := &fidelityFixture{t: t, env: env, clock: clock, email: email, c: c, token: c.Token()}
				path, fixed := tc.prepare(f)
				body, _ := generated.(map[string]any)
				if body == nil {
					// a body of another form (one state or several): sent as made
					body = map[string]any{}
				} else {
					maps.Copy(body, fixed)
				}
				var sent any = body
				if len(body) == 0 {
					sent = generated
				}
				if err := gen.valid("", sent); err != nil {
					t.Fatalf("the generated body breaks schemas/%s.json (a generator or fixture bug): %v", a.schema, err)
				}
				if raw, err := json.Marshal(sent); err == nil {
					t.Logf("%s %s: a body of %d properties, %d bytes", a.method, path, len(body), len(raw))
				}
				status, answer := fidelitySend(t, env, a.method, path, f.token, sent)
				if status != tc.status {
					t.Fatalf("%s %s with the maximal body = %d %v, want %d", a.method, path, status, answer, tc.status)
				}
				pick := func(m map[string]any) map[string]any { return m }
				if tc.answerOf != nil {
					pick = func(m map[string]any) map[string]any { return tc.answerOf(f, m) }
				}
				views := map[string]map[string]any{"answer": pick(answer)}
				if tc.readBack != nil {
					p := tc.readBack(f, answer)
					st, got := fidelitySend(t, env, http.MethodGet, p, f.token, nil)
					if st != http.StatusOK {
						t.Fatalf("GET %s = %d %v", p, st, got)
					}
					views["GET "+p] = pick(got)
				}
				if tc.list != nil {
					p := tc.list(answer)
					st, got := fidelitySend(t, env, http.MethodGet, p, f.token, nil)
					if st != http.StatusOK {
						t.Fatalf("GET %s = %d %v", p, st, got)
					}
					items, _ := got["items"].([]any)
					for _, it := range items {
						if m, _ := it.(map[string]any); m != nil && m["id"] == answer["id"] {
							views["GET "+p] = m
						}
					}
					if views["GET "+p] == nil {
						t.Errorf("GET %s does not list %v", p, answer["id"])
					}
				}
				for _, name := range slices.Sorted(maps.Keys(body)) {
					if why, ok := tc.notShown[name]; ok {
						t.Logf("%s: not read back (%s)", name, why)
						continue
					}
					for _, view := range slices.Sorted(maps.Keys(views)) {
						got := views[view]
						if check, ok := tc.shown[name]; ok {
							if err := check(body[name], got); err != nil {
								t.Errorf("%s: %s: %v", view, name, err)
							}
							continue
						}
						field := name
						if r, ok := tc.renamed[name]; ok {
							field = r
						}
						g, present := got[field]
						if !present {
							t.Errorf("%s: %s was dropped (sent %s)", view, name, jsonText(body[name]))
							continue
						}
						if !sameJSON(body[name], g) {
							t.Errorf("%s: %s = %s, sent %s", view, field, jsonText(g), jsonText(body[name]))
						}
					}
				}
			})
		}
	})
}

// fidelitySend sends a JSON request through a client whose every answer is
// held to the API document, and decodes an object answer.
func fidelitySend(t *testing.T, env *testenv.Env, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, env.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := env.HTTPClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	var items []any
	if out == nil && json.Unmarshal(b, &items) == nil && items != nil {
		out = map[string]any{"items": items} // an array answer
	}
	if out == nil && len(b) > 0 {
		out = map[string]any{"(body)": string(b)}
	}
	return resp.StatusCode, out
}

// sameJSON compares two JSON values, date-times by the instant they name.
func sameJSON(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		at, aerr := time.Parse(time.RFC3339Nano, as)
		bt, berr := time.Parse(time.RFC3339Nano, bs)
		if aerr == nil && berr == nil {
			return at.Equal(bt)
		}
		return as == bs
	}
	return reflect.DeepEqual(normalize(a), normalize(b))
}

// normalize puts a value through JSON, so that numbers compare alike.
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// queryParamValues gives the documented query parameters of the checked
// actions that have no usable example in api.json a valid value; overrides
// the example where it names something that does not exist here or turns
// a flag off.
var queryParamValues = map[string]string{
	"query":              `{"$or":[{"name":{"$startsWith":"fid","$ci":true}},{"id":{"$ne":null}}],"creationDate":{"$gt":0}}`,
	"deviceClass":        "standalone",
	"tagFilter":          `[{"key":"floor","value":"2"}]`,
	"triggerFilter":      `[{"type":"timer"}]`,
	"orgId":              "",
	"attributesAsObject": "true",
	"summaryExclude":     "flowCount",
}

// queryFidelityActions are the reference's GET actions whose every
// documented query parameter TestQueryParameterFidelity sends.
var queryFidelityActions = []string{"applications.get", "application.get", "devices.get", "device.get", "flows.get"}

// TestQueryParameterFidelity is the generated check of documented query
// parameters: for each action of queryFidelityActions it reads every query
// parameter api.json documents and sends it alone, with its example (or a
// value of queryParamValues), over real HTTP, and fails unless the answer
// is 200. It fails when a documented parameter (an advanced query,
// tagsAsObject, attributesAsObject, summaryInclude, ...) is refused again.
func TestQueryParameterFidelity(t *testing.T) {
	dir := os.Getenv(apicheck.EnvVar)
	if dir == "" {
		t.Skip(apicheck.EnvVar + " is not set")
	}
	t.Parallel()
	api := readAPI(t, dir)
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "qfidelity@example.com")
		c := env.Login(t, "qfidelity@example.com")
		app := must(c.Applications.Post(ctx, client.OwnedPost{Name: "fidelity app"})).of(t)
		dev := must(c.Devices.Post(ctx, app.ID, client.DevicePost{Name: "fidelity device", Tags: []client.Tag{{Key: "floor", Value: "2"}}})).of(t)
		ids := map[string]string{"applicationId": app.ID, "deviceId": dev.ID}
		for _, name := range queryFidelityActions {
			res, act, _ := strings.Cut(name, ".")
			a, ok := api[res].Actions[act]
			if !ok || a.Method != "GET" {
				t.Fatalf("api.json has no GET action %s", name)
			}
			path := api[res].Path + a.Path
			for param, id := range ids {
				path = strings.ReplaceAll(path, "{"+param+"}", id)
			}
			sent := 0
			for _, p := range a.Params {
				if p.In != "query" {
					continue
				}
				value, ok := queryParamValues[p.Name]
				if !ok {
					if p.Example == nil {
						t.Errorf("%s: %s has no example and no value in queryParamValues", name, p.Name)
						continue
					}
					value = fmt.Sprint(p.Example)
				}
				sent++
				target := path + "?" + url.Values{p.Name: {value}}.Encode()
				status, answer := fidelitySend(t, env, http.MethodGet, target, c.Token(), nil)
				if status != http.StatusOK {
					t.Errorf("%s: GET %s = %d %v, want 200: the documented parameter %s is refused", name, target, status, answer, p.Name)
				}
			}
			if sent == 0 {
				t.Errorf("%s: api.json documents no query parameter; the reference changed shape", name)
			}
		}
	})
}
