package httpapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/accountd/accountd/internal/jsonpattern"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// maximal builds, from a reference request schema, the largest body the
// schema allows: every property, at every depth, with a valid value; an
// array whose items take one of several forms gets one item of each form.
// It is the generator of TestRequestFidelity.
type maximal struct {
	dir      string
	name     string         // schemas/<name>.json
	doc      map[string]any // the schema as published
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema // by JSON pointer
}

const refSchemaURL = "https://reference.invalid/schemas/"

func newMaximal(dir, name string) (*maximal, error) {
	f, err := os.Open(filepath.Join(dir, "schemas", name+".json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("schemas/%s.json: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	c.UseRegexpEngine(jsonpattern.Compile)
	if err := c.AddResource(refSchemaURL+name+".json", v); err != nil {
		return nil, err
	}
	// the generator reads the plain form: numbers as float64
	raw, err := os.ReadFile(filepath.Join(dir, "schemas", name+".json"))
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	return &maximal{dir: dir, name: name, doc: doc, compiler: c, compiled: map[string]*jsonschema.Schema{}}, nil
}

// valid reports whether v (a plain JSON value) matches the schema at ptr
// ("" for the whole document).
func (m *maximal) valid(ptr string, v any) error {
	m.mu.Lock()
	sch, ok := m.compiled[ptr]
	if !ok {
		var err error
		sch, err = m.compiler.Compile(refSchemaURL + m.name + ".json#" + ptr)
		if err != nil {
			m.mu.Unlock()
			return err
		}
		m.compiled[ptr] = sch
	}
	m.mu.Unlock()
	// the validator wants its own number form
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// body generates the maximal body.
func (m *maximal) body() (any, error) { return m.gen(m.doc, "", 0) }

const maxDepth = 24

func (m *maximal) gen(s map[string]any, ptr string, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: schema nests deeper than %d", ptr, maxDepth)
	}
	if ref, ok := s["$ref"].(string); ok {
		target, ok := strings.CutPrefix(ref, "#")
		if !ok {
			return nil, fmt.Errorf("%s: only local references are followed, not %q", ptr, ref)
		}
		return m.gen(lookupPointer(m.doc, target), target, depth+1)
	}
	if c, ok := s["const"]; ok {
		return c, nil
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0], nil
	}
	for _, kw := range []string{"oneOf", "anyOf"} {
		if forms, ok := s[kw].([]any); ok {
			if typeOf(s) != "" {
				// the forms only add rules to a schema of its own (required
				// sets, say): the whole of it may satisfy them already
				if v, err := m.gen(without(s, kw), ptr, depth+1); err == nil && m.valid(ptr, v) == nil {
					return v, nil
				}
			}
			vs, err := m.forms(forms, ptr+"/"+kw, ptr, depth)
			if err != nil {
				return nil, err
			}
			return vs[0], nil
		}
	}
	switch typeOf(s) {
	case "object":
		return m.object(s, ptr, depth)
	case "array":
		return m.array(s, ptr, depth)
	case "string":
		return genString(s, ptr)
	case "integer":
		return genNumber(s, true), nil
	case "number":
		return genNumber(s, false), nil
	case "boolean":
		// true, as most documented booleans default to false
		return true, nil
	case "null":
		return nil, nil
	}
	// an empty schema allows anything: send an object, the richest form
	return map[string]any{"note": "any value"}, nil
}

// forms generates a value of each form of a oneOf or anyOf (at formsPtr)
// that the whole schema at ptr accepts, in order; it fails when none does.
func (m *maximal) forms(forms []any, formsPtr, ptr string, depth int) ([]any, error) {
	var out []any
	var errs []string
	for i, f := range forms {
		fs, _ := f.(map[string]any)
		if typeOf(fs) == "null" {
			continue // null stands for none: not a value to keep
		}
		v, err := m.gen(fs, fmt.Sprintf("%s/%d", formsPtr, i), depth+1)
		if err == nil {
			err = m.valid(ptr, v)
		}
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no form could be generated: %s", formsPtr, strings.Join(errs, "; "))
	}
	return out, nil
}

func (m *maximal) object(s map[string]any, ptr string, depth int) (any, error) {
	out := map[string]any{}
	props, _ := s["properties"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(props)) {
		ps, _ := props[name].(map[string]any)
		v, err := m.gen(ps, ptr+"/properties/"+escapePointer(name), depth+1)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	pprops, _ := s["patternProperties"].(map[string]any)
	for _, pattern := range slices.Sorted(maps.Keys(pprops)) {
		key, err := sampleFor(pattern, 1, 255)
		if err != nil {
			return nil, fmt.Errorf("%s/patternProperties: %w", ptr, err)
		}
		ps, _ := pprops[pattern].(map[string]any)
		v, err := m.gen(ps, ptr+"/patternProperties/"+escapePointer(pattern), depth+1)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	if extra, ok := s["additionalProperties"].(map[string]any); ok && len(pprops) == 0 {
		v, err := m.gen(extra, ptr+"/additionalProperties", depth+1)
		if err != nil {
			return nil, err
		}
		out["extra"] = v
	}
	return out, nil
}

func (m *maximal) array(s map[string]any, ptr string, depth int) (any, error) {
	maxItems := -1
	if n, ok := s["maxItems"].(float64); ok {
		maxItems = int(n)
	}
	if maxItems == 0 {
		return []any{}, nil
	}
	items, _ := s["items"].(map[string]any)
	if items == nil {
		return []any{"value"}, nil
	}
	itemsPtr := ptr + "/items"
	// one item of each form the items may take, as far as maxItems allows
	for _, kw := range []string{"oneOf", "anyOf"} {
		if forms, ok := items[kw].([]any); ok && typeOf(items) == "" {
			vs, err := m.forms(forms, itemsPtr+"/"+kw, itemsPtr, depth)
			if err != nil {
				return nil, err
			}
			if maxItems > 0 && len(vs) > maxItems {
				vs = vs[:maxItems]
			}
			return vs, nil
		}
	}
	v, err := m.gen(items, itemsPtr, depth+1)
	if err != nil {
		return nil, err
	}
	return []any{v}, nil
}

// without is s less one keyword.
func without(s map[string]any, kw string) map[string]any {
	out := maps.Clone(s)
	delete(out, kw)
	return out
}

func typeOf(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if x != "null" {
				return x.(string)
			}
		}
		return "null"
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	return ""
}

// stringSamples are tried, in order, against a string's pattern and
// lengths; a schema none of them fits fails the generator, naming the
// pattern, so that a new pattern gets a sample here.
var stringSamples = []string{
	"5f0c2b2e9d1a4c0012345678", // an id
	"fidelity-slug",
	"key_1",
	"Sup3r-secret-pw!", // meets the password rule
	"data:image/png;base64,iVBORw0KGgo=",
	"#336699",
	"1.2.3",
	"value",
}

func genString(s map[string]any, ptr string) (any, error) {
	minLen, maxLen := 0, 1<<20
	if n, ok := s["minLength"].(float64); ok {
		minLen = int(n)
	}
	if n, ok := s["maxLength"].(float64); ok {
		maxLen = int(n)
	}
	switch s["format"] {
	case "date-time":
		return "2030-01-02T03:04:05.000Z", nil
	case "email":
		return "fidelity@example.com", nil
	case "uri", "url":
		return "https://example.com/fidelity", nil
	}
	if p, ok := s["pattern"].(string); ok {
		v, err := sampleFor(p, minLen, maxLen)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ptr, err)
		}
		return v, nil
	}
	v := "value"
	for len(v) < minLen {
		v += "x"
	}
	if len(v) > maxLen {
		v = v[:maxLen]
	}
	return v, nil
}

func sampleFor(pattern string, minLen, maxLen int) (string, error) {
	re, err := jsonpattern.Compile(pattern)
	if err != nil {
		return "", fmt.Errorf("pattern %s: %w", pattern, err)
	}
	for _, c := range stringSamples {
		if len(c) >= minLen && len(c) <= maxLen && re.MatchString(c) {
			return c, nil
		}
	}
	return "", fmt.Errorf("no sample string matches the pattern %s (lengths %d to %d): add one to stringSamples", pattern, minLen, maxLen)
}

func genNumber(s map[string]any, integer bool) any {
	var v float64 = 1
	switch {
	case s["minimum"] != nil:
		v = s["minimum"].(float64)
	case s["exclusiveMinimum"] != nil:
		v = s["exclusiveMinimum"].(float64) + 1
	case s["maximum"] != nil:
		v = s["maximum"].(float64)
	case s["exclusiveMaximum"] != nil:
		v = s["exclusiveMaximum"].(float64) - 1
	}
	if m, ok := s["multipleOf"].(float64); ok && m > 0 {
		v = m * float64(int(v/m)+1)
	}
	if integer {
		return float64(int64(v))
	}
	return v
}

func lookupPointer(doc map[string]any, ptr string) map[string]any {
	var cur any = doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			var i int
			fmt.Sscan(tok, &i)
			cur = c[i]
		}
	}
	m, _ := cur.(map[string]any)
	return m
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
