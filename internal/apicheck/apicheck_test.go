package apicheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/accountd/accountd/httpapi"
)

const (
	tokenID = "575ec7417ae143cd83dc4a95"
	userID  = "575ec8687ae143cd83dc4a97"
)

var apiToken = `{"id":"` + tokenID + `","apiTokenId":"` + tokenID + `","ownerId":"` + userID + `","ownerType":"user",` +
	`"creatorId":"` + userID + `","creatorType":"user","creatorName":"Ada Lovelace","name":"ci","description":"",` +
	`"creationDate":"2024-01-02T03:04:05.000Z","lastUpdated":"2024-01-02T03:04:05.000Z",` +
	`"lastUsed":"2024-01-03T00:00:00.000Z","scope":["all.User"],"status":"active"}`

var me = `{"id":"` + userID + `","userId":"` + userID + `","creationDate":"2024-01-02T03:04:05.000Z",` +
	`"lastUpdated":"2024-01-02T03:04:05.000Z","passwordLastUpdated":"2024-01-02T03:04:05.000Z",` +
	`"email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","companyName":"","title":"","phoneNumber":"",` +
	`"location":"","url":"","fullName":"Ada Lovelace","emailVerified":true,"needsToVerifyEmail":false,` +
	`"twoFactorAuthEnabled":false,"summary":{"apiTokenCount":1}}`

func ours(t *testing.T) *Checker {
	t.Helper()
	c, err := newChecker("")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckAcceptsDocumentedResponses(t *testing.T) {
	c := ours(t)
	for _, tc := range []struct {
		name, method, path string
		status             int
		body               string
	}{
		{"sign in", "POST", "/auth/user", 200, `{"userId":"` + userID + `","token":"a.b.c","needsToVerifyEmail":false}`},
		{"sign-in refused", "POST", "/auth/user", 401, `{"type":"Unauthorized","message":"email or password is incorrect"}`},
		{"me", "GET", "/me", 200, me},
		{"me with flags", "GET", "/me?_actions=false&_links=true&_embedded=true", 200, me},
		{"token by id", "GET", "/me/tokens/" + tokenID, 200, apiToken},
		{"new token", "POST", "/me/tokens", 201, strings.TrimSuffix(apiToken, "}") + `,"token":"a.b.c"}`},
		{"token list", "GET", "/me/tokens?sortField=name", 200,
			`{"items":[` + apiToken + `],"count":1,"totalCount":1,"perPage":100,"page":0,"sortField":"name","sortDirection":"asc"}`},
		{"token not found", "DELETE", "/me/tokens/" + tokenID, 404, `{"type":"NotFound","message":"API token was not found"}`},
		{"token deleted", "delete", "/me/tokens/" + tokenID, 200, `{"success":true}`},
		{"forbidden", "PATCH", "/me", 403, `{"type":"Forbidden","message":"the token's scope does not grant me.patch"}`},
		{"health", "GET", "/healthz", 200, `{"status":"ok"}`},
		{"not ready", "GET", "/readyz", 503, `{"type":"Unavailable","message":"the database does not answer"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if errs := c.check(tc.method, tc.path, tc.status, []byte(tc.body)); len(errs) != 0 {
				t.Errorf("check = %v, want no errors", errs)
			}
		})
	}
}

func TestCheckRejects(t *testing.T) {
	c := ours(t)
	for _, tc := range []struct {
		name, method, path string
		status             int
		body               string
		want               string // part of the one error expected
	}{
		{"unknown path", "GET", "/nope", 200, `{}`, "no operation"},
		{"unknown method", "PUT", "/me", 200, me, "no operation"},
		{"id path too deep", "GET", "/me/tokens/" + tokenID + "/x", 200, apiToken, "no operation"},
		{"undocumented status", "GET", "/me", 404, `{"type":"NotFound","message":"x"}`, "status 404 is not documented for GET /me"},
		{"not JSON", "GET", "/me/tokens/" + tokenID, 200, `<html>`, "not one JSON value"},
		{"two values", "GET", "/healthz", 200, `{"status":"ok"}{}`, "not one JSON value"},
		{"bad enum", "GET", "/me/tokens/" + tokenID, 200, strings.Replace(apiToken, `"active"`, `"paused"`, 1), "does not match the API document"},
		{"bad date", "GET", "/me/tokens/" + tokenID, 200, strings.Replace(apiToken, `"2024-01-03T00:00:00.000Z"`, `"yesterday"`, 1), "does not match the API document"},
		{"missing required", "GET", "/me/tokens/" + tokenID, 404, `{"type":"NotFound"}`, "does not match the API document"},
		{"success false", "DELETE", "/me/tokens/" + tokenID, 200, `{"success":false}`, "does not match the API document"},
		{"undocumented property", "GET", "/me/tokens/" + tokenID, 200, strings.TrimSuffix(apiToken, "}") + `,"secretHash":"x"}`, "secretHash"},
		{"undocumented nested property", "GET", "/me", 200, strings.Replace(me, `"apiTokenCount":1`, `"apiTokenCount":1,"webhookCount":0`, 1), "summary.webhookCount"},
		{"undocumented property in list item", "GET", "/me/tokens", 200,
			`{"items":[` + strings.TrimSuffix(apiToken, "}") + `,"x":1}],"count":1,"totalCount":1,"perPage":100,"page":0,"sortField":"name","sortDirection":"asc"}`, "items[0].x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := c.check(tc.method, tc.path, tc.status, []byte(tc.body))
			if len(errs) != 1 {
				t.Fatalf("check = %v, want one error containing %q", errs, tc.want)
			}
			if !strings.Contains(errs[0].Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", errs[0], tc.want)
			}
		})
	}
}

// recorder stands in for a test so that Check's own reporting can be seen.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestCheckReportsThroughT(t *testing.T) {
	c := ours(t)
	r := &recorder{TB: t}
	c.Check(r, "GET", "/me/tokens/"+tokenID, 418, []byte(`{}`))
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "GET /me/tokens/"+tokenID+" -> 418") {
		t.Errorf("errors = %q, want one naming the request and status", r.errors)
	}
	r.errors = nil
	c.Check(r, "GET", "/healthz", 200, []byte(`{"status":"ok"}`))
	if len(r.errors) != 0 {
		t.Errorf("errors = %q, want none", r.errors)
	}
}

func TestLiteralPathBeatsParameter(t *testing.T) {
	ops := []*operation{
		{method: "GET", path: "/me/tokens/{apiTokenId}", segments: split("/me/tokens/{apiTokenId}")},
		{method: "GET", path: "/me/tokens/count", segments: split("/me/tokens/count")},
	}
	get := func(o *operation) ([]string, bool) { return o.segments, o.method == "GET" }
	if got := bestMatch(ops, split("/me/tokens/count"), get); got == nil || got.path != "/me/tokens/count" {
		t.Errorf("bestMatch(/me/tokens/count) = %v, want the literal path", got)
	}
	if got := bestMatch(ops, split("/me/tokens/"+tokenID), get); got == nil || got.path != "/me/tokens/{apiTokenId}" {
		t.Errorf("bestMatch(/me/tokens/ID) = %v, want the template", got)
	}
	if got := bestMatch(ops, split("/me/tokens/"), get); got != nil {
		t.Errorf("bestMatch(/me/tokens/) = %v, want none: an empty segment is no id", got.path)
	}
}

func referenceDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(EnvVar)
	if dir == "" {
		t.Skip(EnvVar + " is not set")
	}
	return dir
}

func TestReferenceCheck(t *testing.T) {
	referenceDir(t)
	c := New(t)
	if len(c.ref) == 0 {
		t.Fatal("no reference action was loaded")
	}
	// Our collection passes the reference's (single apiToken) schema for
	// GET /me/tokens, and our own: no errors at all.
	list := `{"items":[` + apiToken + `],"count":1,"totalCount":1,"perPage":100,"page":0,"sortField":"name","sortDirection":"asc"}`
	if errs := c.check("GET", "/me/tokens", 200, []byte(list)); len(errs) != 0 {
		t.Errorf("token list: %v", errs)
	}
	// A status the reference does not list (403 here) is checked against
	// ours alone.
	if errs := c.check("GET", "/me", 403, []byte(`{"type":"Forbidden","message":"no"}`)); len(errs) != 0 {
		t.Errorf("403: %v", errs)
	}
	// The reference's me.limits allows no unknown keys (nor does ours);
	// a property neither document names must be caught by ours, which
	// allows nothing it does not describe.
	bad := strings.TrimSuffix(me, "}") + `,"limits":{"bogus":1},"undocumented":1}`
	errs := c.check("GET", "/me", 200, []byte(bad))
	var sawRef, sawOurs bool
	for _, err := range errs {
		msg := err.Error()
		sawRef = sawRef || strings.HasPrefix(msg, "reference me.get:") && strings.Contains(msg, "bogus")
		sawOurs = sawOurs || !strings.HasPrefix(msg, "reference me.get:") && strings.Contains(msg, "undocumented")
	}
	if !sawRef || !sawOurs {
		t.Errorf("errors = %v, want one from the reference and one about the undocumented property", errs)
	}
}

// TestDocumentFollowsReference checks that each of our operations that the
// reference also defines is at the same method and path, is granted by the
// scopes the reference names for it, and documents every status the
// reference lists.
func TestDocumentFollowsReference(t *testing.T) {
	dir := referenceDir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "api.json"))
	if err != nil {
		t.Fatal(err)
	}
	var api map[string]struct {
		Path    string   `json:"path"`
		Auth    []string `json:"auth"`
		Actions map[string]struct {
			Method    string                     `json:"method"`
			Path      string                     `json:"path"`
			Auth      []string                   `json:"auth"`
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(raw, &api); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	c := ours(t)
	if err := json.Unmarshal(httpapi.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths {
		for method, rawOp := range item {
			var op struct {
				ID     string   `json:"operationId"`
				Scopes []string `json:"x-scopes"`
			}
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			resName, actName, _ := strings.Cut(op.ID, ".")
			res, ok := api[resName]
			if !ok {
				continue // ours alone, e.g. ops.healthz
			}
			act, ok := res.Actions[actName]
			if !ok {
				t.Errorf("%s: no such action in the reference", op.ID)
				continue
			}
			t.Run(op.ID, func(t *testing.T) {
				if !strings.EqualFold(method, act.Method) || !sameShape(split(path), split(res.Path+act.Path)) {
					t.Errorf("documented at %s %s, the reference has %s %s", strings.ToUpper(method), path, act.Method, res.Path+act.Path)
				}
				for _, s := range append(slices.Clone(res.Auth), act.Auth...) {
					if !slices.Contains(op.Scopes, s) {
						t.Errorf("x-scopes %v lacks %s, which the reference names", op.Scopes, s)
					}
				}
				var o *operation
				for _, cand := range c.ops {
					if cand.method == strings.ToUpper(method) && cand.path == path {
						o = cand
					}
				}
				for status := range act.Responses {
					if _, ok := o.responses[status]; !ok {
						t.Errorf("the reference lists status %s, our document does not", status)
					}
				}
			})
		}
	}
}
