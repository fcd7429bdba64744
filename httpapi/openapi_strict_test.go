package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/internal/testenv"
)

// losantParams are the platform's query parameters every Losant action
// takes; the operational endpoints are not Losant actions.
var losantParams = []string{"losantdomain", "acceptVersion", "actionsFlag", "linksFlag", "embeddedFlag"}

type strictOperation struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	RequestBody json.RawMessage            `json:"requestBody"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

// TestOpenAPIStrict checks what a strict reader of the document needs: a
// server and a license, and for every operation each status it can answer,
// derived from how the route table serves it, each with a description.
func TestOpenAPIStrict(t *testing.T) {
	t.Parallel()
	var doc struct {
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
		Info struct {
			License struct {
				Name       string `json:"name"`
				Identifier string `json:"identifier"`
				URL        string `json:"url"`
			} `json:"license"`
		} `json:"info"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Responses  map[string]json.RawMessage `json:"responses"`
			Parameters map[string]struct {
				In string `json:"in"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) == 0 || doc.Servers[0].URL == "" {
		t.Error("no servers")
	}
	if doc.Info.License.Name == "" {
		t.Error("info.license has no name")
	}
	ops := map[string]strictOperation{}
	for path, methods := range doc.Paths {
		for method, raw := range methods {
			if method == "parameters" {
				continue
			}
			var op strictOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	describe := func(raw json.RawMessage) string {
		var r struct {
			Ref         string `json:"$ref"`
			Description string `json:"description"`
		}
		json.Unmarshal(raw, &r)
		if name, ok := strings.CutPrefix(r.Ref, "#/components/responses/"); ok {
			json.Unmarshal(doc.Components.Responses[name], &r)
		}
		return r.Description
	}
	check := func(key string, want []string) {
		op, ok := ops[key]
		if !ok {
			t.Errorf("%s is not documented", key)
			return
		}
		for _, status := range want {
			if _, ok := op.Responses[status]; !ok {
				t.Errorf("%s (%s) can answer %s, which is not documented", key, op.OperationID, status)
			}
		}
		for status, raw := range op.Responses {
			if describe(raw) == "" {
				t.Errorf("%s answer %s has no description", key, status)
			}
		}
	}

	for _, a := range httpapi.Actions() {
		key := a.Method + " " + a.Path
		op := ops[key]
		want := []string{"500"} // any failure of the database
		hasQuery := false
		for _, p := range op.Parameters {
			name, isRef := strings.CutPrefix(p.Ref, "#/components/parameters/")
			in := p.In
			if isRef {
				in = doc.Components.Parameters[name].In
			}
			// the platform's flags are accepted and ignored: never a 400
			if in == "query" && !slices.Contains(losantParams, name) {
				hasQuery = true
			}
		}
		// The verification page looks its token up without parsing it: a
		// bad one is a 404, never a 400.
		if a.Name == "emailVerification.page" {
			hasQuery = false
		}
		if a.Method != http.MethodGet || hasQuery || strings.Contains(a.Path, "{") {
			want = append(want, "400") // a body, a query value or a path id that breaks a rule
		}
		if a.Method != http.MethodGet {
			want = append(want, "413") // every body is read under the limit
		}
		if strings.Contains(a.Path, "{") {
			want = append(want, "404")
		}
		if a.Scopes != nil {
			want = append(want, "401")
			if !slices.Contains(a.Scopes, "usage.record") {
				// a bearer token: checked against the change feed, 503
				// while the instance cannot confirm it is still valid
				want = append(want, "403", "503")
			}
		}
		check(key, want)
	}
	check("GET /healthz", []string{"200"})
	check("GET /readyz", []string{"200", "503"})
	check("GET /openapi.json", []string{"200"})
	for _, key := range []string{"GET /healthz", "GET /readyz", "GET /openapi.json"} {
		for _, p := range ops[key].Parameters {
			for _, lp := range losantParams {
				if strings.HasSuffix(p.Ref, "/"+lp) || p.Name == lp {
					t.Errorf("%s takes the Losant parameter %s; operational endpoints are not Losant actions", key, lp)
				}
			}
		}
	}
}

// TestMethodNotAllowed: a 405 names the methods the path allows in Allow.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	tests := []struct{ method, path, allow string }{
		{"PUT", "/me", "GET, HEAD, PATCH"},
		{"DELETE", "/me/tokens", "GET, HEAD, POST"},
		{"POST", "/me/tokens/0123456789abcdef01234567", "DELETE, GET, HEAD, PATCH"},
		{"POST", "/healthz", "GET, HEAD"},
		{"DELETE", "/openapi.json", "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			status, h, body := raw(t, env, tt.method, tt.path, "", "", nil)
			if status != http.StatusMethodNotAllowed || h.Get("Allow") != tt.allow || !strings.Contains(string(body), `"type"`) {
				t.Errorf("= %d, Allow %q, %s; want 405 with Allow %q", status, h.Get("Allow"), body, tt.allow)
			}
		})
	}
}

// TestGetMeBadQuery backs the 400 the document gives GET /me.
func TestGetMeBadQuery(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	env.User(t, "q@example.com")
	c := env.Login(t, "q@example.com")
	status, _, body := raw(t, env, "GET", "/me?includeRecent=maybe", c.Token(), "", nil)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "includeRecent") {
		t.Errorf("GET /me?includeRecent=maybe = %d %s, want 400 naming includeRecent", status, body)
	}
}
