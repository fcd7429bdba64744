package httpapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/internal/testenv"
)

type openAPIOperation struct {
	OperationID string   `json:"operationId"`
	Scopes      []string `json:"x-scopes"`
}

// TestOpenAPICoversRoutes checks that the document and the route table
// agree: every action is documented with its scopes, and nothing else is.
func TestOpenAPICoversRoutes(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                                 `json:"openapi"`
		Paths   map[string]map[string]openAPIOperation `json:"paths"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	documented := map[string]openAPIOperation{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = op
		}
	}
	served := map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /openapi.json": true}
	for _, a := range httpapi.Actions() {
		key := a.Method + " " + a.Path
		served[key] = true
		op, ok := documented[key]
		if !ok {
			t.Errorf("%s (%s) is not in openapi.json", key, a.Name)
			continue
		}
		if op.OperationID != a.Name {
			t.Errorf("%s: operationId %q, want %q", key, op.OperationID, a.Name)
		}
		if got, want := slices.Sorted(slices.Values(op.Scopes)), slices.Sorted(slices.Values(a.Scopes)); !slices.Equal(got, want) {
			t.Errorf("%s: x-scopes %v, route table %v", key, got, want)
		}
	}
	for key := range documented {
		if !served[key] {
			t.Errorf("openapi.json documents %s, which is not served", key)
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, "sqlite", testenv.Options{})
	status, h, body := raw(t, env, "GET", "/openapi.json", "", "", nil)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || string(body) != string(httpapi.OpenAPIDocument()) {
		t.Errorf("GET /openapi.json = %d %s, %d bytes", status, h.Get("Content-Type"), len(body))
	}
}
