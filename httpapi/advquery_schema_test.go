package httpapi

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/jsonpattern"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestAdvancedQueryAgreesWithReference holds accountd.ParseQuery and our
// document's advancedDeviceQuery and advancedFlowQuery to the reference's
// schemas: what the reference accepts, both accept (but for the rules
// accountd adds, listed apart); what it refuses, both refuse. The
// reference's $and, $or and $nor items refer to a definition the documents
// do not hold ("#/definitions/advancedDeviceQuery"); the test reads them as
// the recursion they plainly mean (the document itself).
func TestAdvancedQueryAgreesWithReference(t *testing.T) {
	dir := os.Getenv("ACCOUNTD_REFERENCE_DIR")
	if dir == "" {
		t.Skip("ACCOUNTD_REFERENCE_DIR is not set")
	}
	ours := mustSchemas(t)
	id := `"5f0000000000000000000001"`
	for _, tc := range []struct {
		schema string
		fields map[string]accountd.QueryType
		// valid: every rule holds; invalid: a rule of the reference is
		// broken; added: only a rule accountd adds is broken
		valid, invalid, added []string
	}{
		{"advancedDeviceQuery", accountd.DeviceQueryFields,
			[]string{
				`{}`, `{"name":"alpha"}`, `{"name":5}`, `{"name":null}`, `{"name":{"$ne":"a","$ci":true}}`,
				`{"name":{"$in":["a",1,true]},"deviceClass":{"$nin":[]}}`, `{"name":{"$startsWith":"a","$endsWith":"b","$contains":"%"}}`,
				`{"id":` + id + `}`, `{"id":{"$gte":` + id + `}}`, `{"id":{"$in":[` + id + `]}}`, `{"parentId":null}`, `{"ancestorId":{"$ne":null}}`,
				`{"creationDate":{"$gt":0,"$lt":"2024-01-02T03:04:05Z"}}`, `{"deletedAt":null}`, `{"connectionStatus":"connected"}`,
				`{"tags":{"floor":"2"}}`, `{"tags":{"floor":{"$in":["2"]},"room":{"$nin":["a"]}}}`, `{"tags":{"$tagKey":"floor"}}`,
				`{"tags":{"$tagKey":{"$in":["a"]},"$tagValue":{"$nin":["b"]}}}`, `{"tags":{"$eq":{"floor":"2"}}}`, `{"tags":{"$ne":{"$tagValue":"2"}}}`,
				`{"attributeName":{"$startsWith":"te"}}`, `{"$or":[{"name":"a"},{"$and":[{"name":"b"},{"$nor":[{"name":"c"}]}]}]}`,
			},
			[]string{
				`[]`, `{"colour":"red"}`, `{"name":{"$regex":"^a"}}`, `{"name":{"$startsWith":""}}`, `{"name":{"$startsWith":5}}`,
				`{"name":{"$in":[null]}}`, `{"name":{"$in":[["a"]]}}`, `{"name":{"$ci":"yes"}}`, `{"name":["a"]}`, `{"name":{"$eq":{"a":1}}}`,
				`{"id":"nope"}`, `{"id":5}`, `{"id":{"$gt":` + id + `,"$lt":` + id + `}}`, `{"id":{}}`, `{"id":{"$startsWith":"5f"}}`,
				`{"id":{"$in":[null]}}`, `{"$or":{"name":"a"}}`, `{"$and":[1]}`, `{"$nor":["a"]}`,
				`{"$or":[` + strings.TrimSuffix(strings.Repeat(`{"name":"a"},`, 101), ",") + `]}`,
				`{"name":{"$in":[` + strings.TrimSuffix(strings.Repeat(`"a",`, 101), ",") + `]}}`,
				`{"tags":"floor"}`, `{"tags":{"floor":{"$all":["2"]}}}`, `{"tags":{"floor":2}}`, `{"tags":{"$tagKey":"a","floor":"2"}}`,
				`{"tags":{"$eq":{"floor":"2"},"$ne":{"floor":"3"}}}`, `{"tags":{"floor":"` + strings.Repeat("v", 256) + `"}}`,
				`{"tags":{"$tagKey":{"$in":["a"],"$nin":["b"]}}}`, `{"tags":{"!x":"2"}}`,
			},
			[]string{
				`{"$or":[]}`, `{"creationDate":"yesterday"}`, `{"creationDate":true}`, `{"creationDate":{"$contains":"2024"}}`,
				`{"$and":[{"$and":[{"$and":[{"$and":[{"$and":[{"name":"a"}]}]}]}]}]}`,
				`{"$or":[` + strings.TrimSuffix(strings.Repeat(`{"name":{"$in":[`+strings.TrimSuffix(strings.Repeat(`"a",`, 100), ",")+`]}},`, 6), ",") + `]}`,
			},
		},
		{"advancedFlowQuery", accountd.FlowQueryFields,
			[]string{
				`{"enabled":true}`, `{"enabled":"false"}`, `{"flowClass":{"$in":["cloud","edge"]}}`, `{"defaultVersion":null}`,
				`{"triggers":{"type":"timer"}}`, `{"triggers":{"type":"webhook","key":"abc","config":{"a":1,"b":null,"c":"x","d":true}}}`,
				`{"triggers":{"$eq":{"type":"timer"}}}`, `{"triggers":{"$ne":{"type":"timer"}}}`, `{"nodes":{"type":"DebugNode","config":{}}}`,
				`{"customNodeSupports":"cloud"}`, `{"$nor":[{"enabled":false}]}`,
			},
			[]string{
				`{"deviceClass":"gateway"}`, `{"triggers":{"key":"abc"}}`, `{"triggers":{"type":"timer","color":"red"}}`,
				`{"triggers":{"type":"timer","key":"a b"}}`, `{"nodes":{"type":"x","key":"abc"}}`, `{"triggers":"timer"}`,
				`{"triggers":{"$eq":{"type":"timer"},"type":"timer"}}`, `{"triggers":{"type":"timer","config":{"a":[1]}}}`,
				`{"defaultVersion":{"$in":["x"]}}`, `{"enabled":[true]}`,
			},
			[]string{`{"enabled":"maybe"}`, `{"enabled":{"$gt":2}}`, `{"$nor":[]}`},
		},
	} {
		ref := referenceQuerySchema(t, dir, tc.schema)
		check := func(text string, wantRef, wantOurs bool) {
			t.Helper()
			dec := json.NewDecoder(strings.NewReader(text))
			dec.UseNumber()
			var doc any
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("%s is not JSON: %v", text, err)
			}
			if got := ref.Validate(doc) == nil; got != wantRef {
				t.Errorf("%s: the reference accepts %.120s: %v, want %v", tc.schema, text, got, wantRef)
			}
			_, perr := accountd.ParseQuery(doc, tc.fields)
			if got := perr == nil; got != wantOurs {
				t.Errorf("%s: ParseQuery accepts %.120s: %v (%v), want %v", tc.schema, text, got, perr, wantOurs)
			}
			if perr == nil {
				if err := ours.validateParam("query", tc.schema, doc); err != nil {
					t.Errorf("%s: our document refuses %.120s, which ParseQuery accepts: %v", tc.schema, text, err)
				}
			}
			if perr != nil && !strings.HasPrefix(perr.Error(), "Validation: query") {
				t.Errorf("%s: %.120s: %v does not name the parameter", tc.schema, text, perr)
			}
		}
		for _, q := range tc.valid {
			check(q, true, true)
		}
		for _, q := range tc.invalid {
			check(q, false, false)
		}
		for _, q := range tc.added {
			check(q, true, false)
		}
	}
}

// referenceQuerySchema compiles the reference's schema with its dangling
// $ref read as the document itself.
func referenceQuerySchema(t *testing.T, dir, name string) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "schemas", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte(`"#/definitions/`+name+`"`), []byte(`"#"`))
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseRegexpEngine(jsonpattern.Compile)
	const url = "https://reference.invalid/" + "query.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
