package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/jsonpattern"
)

func mustSchemas(t *testing.T) *schemas {
	t.Helper()
	s, err := newSchemas()
	if err != nil {
		t.Fatalf("newSchemas: %v", err)
	}
	return s
}

// decodeBody decodes as the server does, numbers kept as json.Number.
func decodeBody(t *testing.T, body string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("test body %q is not JSON: %v", body, err)
	}
	return v
}

func TestNewSchemasCompilesEveryComponent(t *testing.T) {
	s := mustSchemas(t)
	for _, name := range []string{
		"authedUser", "userCredentials", "me", "mePatch", "changePassword",
		"apiToken", "apiTokenPost", "apiTokenPatch", "apiTokens", "success", "error",
	} {
		if s.byName[name] == nil {
			t.Errorf("component %s is missing", name)
		}
	}
}

// The lookahead pattern must reach the engine verbatim, or it would be
// handed to Go's regexp and fail to compile (or, worse, be dropped).
func TestPasswordPatternIsTheReferenceText(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Pattern string `json:"pattern"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ schema, prop string }{{"changePassword", "newPassword"}, {"mePatch", "password"}} {
		if got := doc.Components.Schemas[c.schema].Properties[c.prop].Pattern; got != jsonpattern.Password {
			t.Errorf("%s.%s pattern = %q, want %q", c.schema, c.prop, got, jsonpattern.Password)
		}
	}
}

const goodPassword = "Correct-Horse9"

func TestValidate(t *testing.T) {
	s := mustSchemas(t)
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name      string
		schema    string
		body      string
		wantField string
		wantMsg   string // "" means the body is valid
	}{
		// userCredentials
		{"credentials minimal", "userCredentials", `{"email":"ada@example.com","password":"12345678"}`, "", ""},
		{"credentials full", "userCredentials", `{"email":"ada@example.com","password":"12345678","twoFactorCode":"123456","requestedScopes":["all.User","me.get"],"tokenTTL":3600}`, "", ""},
		{"credentials empty object", "userCredentials", `{}`, "email", "email: is required"},
		{"credentials no password", "userCredentials", `{"email":"ada@example.com"}`, "password", "password: is required"},
		{"credentials bad email", "userCredentials", `{"email":"ada.example.com","password":"12345678"}`, "email", "email: must be a valid email address"},
		{"credentials email too long fails the format first", "userCredentials", `{"email":"` + long(1020) + `@x.io","password":"12345678"}`, "email", "email: must be a valid email address"},
		{"credentials short password", "userCredentials", `{"email":"ada@example.com","password":"1234567"}`, "password", "password: must be at least 8 characters"},
		{"credentials duplicate scope", "userCredentials", `{"email":"ada@example.com","password":"12345678","requestedScopes":["me.get","all.User","me.get"]}`, "requestedScopes[2]", "requestedScopes[2]: must not repeat requestedScopes[0]"},
		{"credentials empty scope", "userCredentials", `{"email":"ada@example.com","password":"12345678","requestedScopes":["all.User",""]}`, "requestedScopes[1]", "requestedScopes[1]: must be at least 1 character"},
		{"credentials scopes not array", "userCredentials", `{"email":"ada@example.com","password":"12345678","requestedScopes":"all.User"}`, "requestedScopes", "requestedScopes: must be an array"},
		{"credentials negative ttl", "userCredentials", `{"email":"ada@example.com","password":"12345678","tokenTTL":-1}`, "tokenTTL", "tokenTTL: must be at least 0"},
		{"credentials fractional ttl", "userCredentials", `{"email":"ada@example.com","password":"12345678","tokenTTL":1.5}`, "tokenTTL", "tokenTTL: must be a whole number"},
		{"credentials extra property", "userCredentials", `{"email":"ada@example.com","password":"12345678","remember":true}`, "remember", "remember: is not an allowed property"},
		{"credentials misspelt property beats required", "userCredentials", `{"email":"ada@example.com","pasword":"12345678"}`, "pasword", "pasword: is not an allowed property"},
		{"credentials array body", "userCredentials", `[]`, "", "body: must be a JSON object"},
		{"credentials null body", "userCredentials", `null`, "", "body: must be a JSON object"},
		{"credentials string body", "userCredentials", `"hello"`, "", "body: must be a JSON object"},

		// mePatch
		{"mePatch empty", "mePatch", `{}`, "", ""},
		{"mePatch profile", "mePatch", `{"firstName":"Ada","lastName":"","url":"https://ada.example","tokenCutoff":"2024-01-02T03:04:05.000Z"}`, "", ""},
		{"mePatch password change", "mePatch", `{"password":"` + goodPassword + `","currentCredentials":{"password":"old-password"}}`, "", ""},
		{"mePatch empty first name", "mePatch", `{"firstName":""}`, "firstName", "firstName: must be at least 1 character"},
		{"mePatch weak password", "mePatch", `{"password":"correcthorsebattery"}`, "password", "password: " + accountd.PasswordRule},
		{"mePatch short password", "mePatch", `{"password":"Sh0rt!"}`, "password", "password: " + accountd.PasswordRule},
		{"mePatch long password", "mePatch", `{"password":"` + long(2049) + `"}`, "password", "password: must be at most 2048 characters"},
		{"mePatch credentials without password", "mePatch", `{"currentCredentials":{}}`, "currentCredentials.password", "currentCredentials.password: is required"},
		{"mePatch credentials extra", "mePatch", `{"currentCredentials":{"password":"old-password","otp":"1"}}`, "currentCredentials.otp", "currentCredentials.otp: is not an allowed property"},
		{"mePatch credentials not object", "mePatch", `{"currentCredentials":"old-password"}`, "currentCredentials", "currentCredentials: must be a JSON object"},
		{"mePatch cutoff not a date", "mePatch", `{"tokenCutoff":"yesterday"}`, "tokenCutoff", "tokenCutoff: must be a date and time such as 2006-01-02T15:04:05.000Z"},
		{"mePatch cutoff lower-case t", "mePatch", `{"tokenCutoff":"2024-01-02t03:04:05z"}`, "tokenCutoff", "tokenCutoff: must be a date and time such as 2006-01-02T15:04:05.000Z"},
		{"mePatch cutoff leap second", "mePatch", `{"tokenCutoff":"2016-12-31T23:59:60Z"}`, "tokenCutoff", "tokenCutoff: must be a date and time such as 2006-01-02T15:04:05.000Z"},
		{"mePatch last name not string", "mePatch", `{"lastName":5}`, "lastName", "lastName: must be a string"},
		{"mePatch email", "mePatch", `{"email":"ada@"}`, "email", "email: must be a valid email address"},
		{"mePatch id is read-only", "mePatch", `{"id":"575ec7417ae143cd83dc4a95"}`, "id", "id: is not an allowed property"},
		{"mePatch odd property name is quoted", "mePatch", `{"first name":"Ada"}`, `"first name"`, `"first name": is not an allowed property`},

		// changePassword
		{"changePassword valid", "changePassword", `{"password":"old-password","newPassword":"` + goodPassword + `","invalidateExistingTokens":true,"tokenTTL":60}`, "", ""},
		{"changePassword no new password", "changePassword", `{"password":"old-password"}`, "newPassword", "newPassword: is required"},
		{"changePassword weak new password", "changePassword", `{"password":"old-password","newPassword":"password1234"}`, "newPassword", "newPassword: " + accountd.PasswordRule},
		{"changePassword newline in new password", "changePassword", `{"password":"old-password","newPassword":"Correct-Horse9\n"}`, "newPassword", "newPassword: " + accountd.PasswordRule},
		{"changePassword flag not boolean", "changePassword", `{"password":"old-password","newPassword":"` + goodPassword + `","invalidateExistingTokens":"yes"}`, "invalidateExistingTokens", "invalidateExistingTokens: must be true or false"},

		// apiTokenPost
		{"apiTokenPost minimal", "apiTokenPost", `{"name":"ci"}`, "", ""},
		{"apiTokenPost full", "apiTokenPost", `{"name":"ci","description":"deploys","expirationDate":"2030-01-01T00:00:00Z","scope":["userApiTokens.get","me.get"],"status":"inactive"}`, "", ""},
		{"apiTokenPost any scope name passes the schema", "apiTokenPost", `{"name":"ci","scope":["no.such.scope"]}`, "", ""},
		{"apiTokenPost no name", "apiTokenPost", `{"description":"x"}`, "name", "name: is required"},
		{"apiTokenPost empty name", "apiTokenPost", `{"name":""}`, "name", "name: must be at least 1 character"},
		{"apiTokenPost long name", "apiTokenPost", `{"name":"` + long(256) + `"}`, "name", "name: must be at most 255 characters"},
		{"apiTokenPost long description", "apiTokenPost", `{"name":"ci","description":"` + long(32768) + `"}`, "description", "description: must be at most 32767 characters"},
		{"apiTokenPost bad status", "apiTokenPost", `{"name":"ci","status":"paused"}`, "status", "status: must be one of active, inactive"},
		{"apiTokenPost bad expiry", "apiTokenPost", `{"name":"ci","expirationDate":"2030-01-01"}`, "expirationDate", "expirationDate: must be a date and time such as 2006-01-02T15:04:05.000Z"},
		{"apiTokenPost scope not array", "apiTokenPost", `{"name":"ci","scope":"all.User"}`, "scope", "scope: must be an array"},
		{"apiTokenPost scope item not string", "apiTokenPost", `{"name":"ci","scope":["all.User",7]}`, "scope[1]", "scope[1]: must be a string"},
		{"apiTokenPost duplicate scope", "apiTokenPost", `{"name":"ci","scope":["me.get","me.patch","me.get"]}`, "scope[2]", "scope[2]: must not repeat scope[0]"},
		{"apiTokenPost long scope", "apiTokenPost", `{"name":"ci","scope":["` + long(1025) + `"]}`, "scope[0]", "scope[0]: must be at most 1024 characters"},
		{"apiTokenPost several errors: names in order", "apiTokenPost", `{"name":"","status":"paused"}`, "name", "name: must be at least 1 character"},
		{"apiTokenPost several errors: unknown first", "apiTokenPost", `{"name":"","status":"paused","token":"x"}`, "token", "token: is not an allowed property"},

		// apiTokenPatch
		{"apiTokenPatch empty", "apiTokenPatch", `{}`, "", ""},
		{"apiTokenPatch status", "apiTokenPatch", `{"status":"inactive"}`, "", ""},
		{"apiTokenPatch scope is fixed", "apiTokenPatch", `{"scope":["all.User"]}`, "scope", "scope: is not an allowed property"},
		{"apiTokenPatch null name", "apiTokenPatch", `{"name":null}`, "name", "name: must be a string"},
		{"apiTokenPatch bad status", "apiTokenPatch", `{"status":"ACTIVE"}`, "status", "status: must be one of active, inactive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.validate(tc.schema, decodeBody(t, tc.body))
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("validate(%s) = %v, want nil", tc.schema, err)
				}
				return
			}
			var e *accountd.Error
			if !errors.As(err, &e) {
				t.Fatalf("validate(%s) = %v, want an *accountd.Error", tc.schema, err)
			}
			if e.Code != accountd.CodeInvalid {
				t.Errorf("code = %s, want %s", e.Code, accountd.CodeInvalid)
			}
			if e.Field != tc.wantField {
				t.Errorf("field = %q, want %q", e.Field, tc.wantField)
			}
			if e.Message != tc.wantMsg {
				t.Errorf("message = %q, want %q", e.Message, tc.wantMsg)
			}
		})
	}
}

// Go's map order changes from run to run; the message must not.
func TestValidateIsDeterministic(t *testing.T) {
	s := mustSchemas(t)
	const body = `{"name":"","description":5,"status":"x","scope":["a","a",""],"zeta":1,"alpha":2,"expirationDate":"soon"}`
	first := s.validate("apiTokenPost", decodeBody(t, body)).Error()
	if want := "Validation: alpha: is not an allowed property"; first != want {
		t.Errorf("first = %q, want %q", first, want)
	}
	for range 200 {
		if got := s.validate("apiTokenPost", decodeBody(t, body)).Error(); got != first {
			t.Fatalf("got %q after %q", got, first)
		}
	}
}

func TestValidateMessagesLeakNothing(t *testing.T) {
	s := mustSchemas(t)
	for _, body := range []string{
		`[]`, `{"name":5}`, `{"name":"ci","scope":[{}]}`, `{"name":"ci","expirationDate":7}`,
		`{"name":"ci","status":null}`, `{"name":"ci","scope":[1,1]}`, `{"\u0000\n":1}`,
		`{"` + strings.Repeat("k", 10000) + `":1}`,
	} {
		err := s.validate("apiTokenPost", decodeBody(t, body))
		if err == nil {
			t.Errorf("%s: valid, want an error", body)
			continue
		}
		msg := err.(*accountd.Error).Message
		for _, bad := range []string{"http", "#/", "jsonschema", "json.Number", "float64", "map[", "[]interface", "\n", "\x00"} {
			if strings.Contains(msg, bad) {
				t.Errorf("%.40s: message %q contains %q", body, msg, bad)
			}
		}
		if len(msg) > 200 {
			t.Errorf("%.40s: message is %d bytes long", body, len(msg))
		}
	}
}

func TestValidateUnknownSchemaIsInternal(t *testing.T) {
	err := mustSchemas(t).validate("noSuchSchema", map[string]any{})
	if accountd.ErrorCode(err) != accountd.CodeInternal {
		t.Errorf("err = %v, want an internal error", err)
	}
}

// TestSchemasKeepReferenceConstraints guards the promise that the request
// schemas keep every rule of the reference's (bar the scope enums), and that
// the response schemas keep the rules of every property they share with it.
// It needs the reference folder, named by ACCOUNTD_REFERENCE_DIR.
func TestSchemasKeepReferenceConstraints(t *testing.T) {
	dir := os.Getenv("ACCOUNTD_REFERENCE_DIR")
	if dir == "" {
		t.Skip("ACCOUNTD_REFERENCE_DIR is not set")
	}
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	// The reference's scope enums list the whole platform's scopes; ours
	// bound the names and leave the list to the server.
	relaxed := []string{"apiTokenPost.scope.items", "userCredentials.requestedScopes.items"}
	for _, tc := range []struct {
		name    string
		request bool
	}{
		{"userCredentials", true}, {"mePatch", true}, {"changePassword", true},
		{"apiTokenPost", true}, {"apiTokenPatch", true},
		{"authedUser", false}, {"me", false}, {"apiToken", false}, {"success", false}, {"error", false},
		{"org", false}, {"orgs", false}, {"orgInviteUser", false}, {"orgInviteResultUser", false}, {"recentItemList", false},
		{"application", false}, {"applications", false}, {"dashboard", false}, {"dashboards", false},
		{"device", false}, {"devices", false}, {"flow", false}, {"flows", false}, {"orgInviteActionUser", true},
		{"recentItem", true}, {"resourceTransfer", true},
		{"payloadStats", false}, {"payloadCountsBreakdown", false}, {"deviceCounts", false}, {"notebookMinuteCounts", false},
		{"deviceStateOrStates", true},
		{"applicationPost", true}, {"dashboardPost", true}, {"devicePost", true}, {"flowPost", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "schemas", tc.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var ref map[string]any
			if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&ref); err != nil {
				t.Fatal(err)
			}
			ours := doc.Components.Schemas[tc.name]
			if ours == nil {
				t.Fatalf("our document has no schema %s", tc.name)
			}
			if tc.name == "deviceStateOrStates" {
				// one state or an array of them: ours names the state
				// deviceState and refers to it from both forms
				forms := ref["oneOf"].([]any)
				compareConstraints(t, "deviceState", forms[0].(map[string]any), doc.Components.Schemas["deviceState"], true, relaxed)
				compareConstraints(t, "deviceState[]", forms[1].(map[string]any)["items"].(map[string]any), doc.Components.Schemas["deviceState"], true, relaxed)
				return
			}
			compareConstraints(t, tc.name, ref, ours, tc.request, relaxed)
		})
	}
}

// ourSchema is a component schema of our document, for following $ref.
func ourSchema(t *testing.T, name string) map[string]any {
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Components.Schemas[name]
}

// asObjectForms is the one place our response schemas differ from the
// reference's on purpose: a device's tags and attributes are arrays in the
// reference, and also objects in ours, the form the device get and list
// answer with tagsAsObject and attributesAsObject (documented parameters
// of those actions; internal/apicheck's overlayObjectForms patches the
// reference the same way). Ours must be exactly oneOf [the reference's
// array form, an object].
var asObjectForms = []string{"device.tags", "device.attributes", "devices.items.items.tags", "devices.items.items.attributes"}

func compareConstraints(t *testing.T, at string, ref, ours map[string]any, request bool, relaxed []string) {
	t.Helper()
	if slices.Contains(relaxed, at) {
		return
	}
	if name, ok := strings.CutPrefix(fmt.Sprint(ours["$ref"]), "#/components/schemas/"); ok {
		ours = ourSchema(t, name)
	}
	if slices.Contains(asObjectForms, at) {
		forms, _ := ours["oneOf"].([]any)
		if len(forms) != 2 {
			t.Errorf("%s: want oneOf [the reference's form, an object], got %v", at, ours)
			return
		}
		arrayForm, _ := forms[0].(map[string]any)
		objectForm, _ := forms[1].(map[string]any)
		if objectForm["type"] != "object" {
			t.Errorf("%s: the second form is %v, want an object", at, objectForm)
		}
		compareConstraints(t, at+"(array form)", ref, arrayForm, request, relaxed)
		return
	}
	for _, kw := range []string{"type", "minLength", "maxLength", "format", "pattern", "enum", "minimum", "maximum", "uniqueItems", "additionalProperties"} {
		r, inRef := ref[kw]
		o, inOurs := ours[kw]
		switch {
		case inRef && !reflect.DeepEqual(r, o):
			t.Errorf("%s: %s is %v in the reference, %v in ours", at, kw, r, o)
		case !inRef && inOurs && request:
			t.Errorf("%s: %s = %v is not in the reference", at, kw, o)
		}
	}
	refReq, _ := ref["required"].([]any)
	ourReq, _ := ours["required"].([]any)
	for _, r := range refReq {
		if !slices.Contains(ourReq, r) {
			t.Errorf("%s: the reference requires %v, ours does not", at, r)
		}
	}
	if request && len(ourReq) != len(refReq) {
		t.Errorf("%s: required is %v, the reference's is %v", at, ourReq, refReq)
	}
	refProps, _ := ref["properties"].(map[string]any)
	ourProps, _ := ours["properties"].(map[string]any)
	for name, rp := range refProps {
		op, ok := ourProps[name].(map[string]any)
		if !ok {
			// A response may leave out what accountd never sends; a request
			// must accept whatever the reference accepts.
			if request {
				t.Errorf("%s: property %s is missing", at, name)
			}
			continue
		}
		compareConstraints(t, at+"."+name, rp.(map[string]any), op, request, relaxed)
	}
	if request {
		for name := range ourProps {
			if _, ok := refProps[name]; !ok {
				t.Errorf("%s: property %s is not in the reference", at, name)
			}
		}
	}
	if ri, ok := ref["items"].(map[string]any); ok {
		if oi, ok := ours["items"].(map[string]any); ok {
			compareConstraints(t, at+".items", ri, oi, request, relaxed)
		} else {
			t.Errorf("%s: items is missing", at)
		}
	}
}
