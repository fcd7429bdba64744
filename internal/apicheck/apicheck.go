// Package apicheck lets end-to-end tests hold real responses to the API
// document: every status a test sees must be documented for its operation,
// every body must match the documented schema and carry no property the
// schema does not describe, and, when the reference folder is at hand,
// every body must also match the reference's schema for that action and
// status. A test calls New once and Check after each request.
package apicheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/internal/jsonpattern"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// EnvVar names the environment variable that points at the reference
// folder (the one holding api.json and schemas/). Unset, only our own
// document is checked.
const EnvVar = "ACCOUNTD_REFERENCE_DIR"

// Checker is immutable once built, so parallel tests may share one.
type Checker struct {
	doc map[string]any // our document, for the undocumented-property walk
	ops []*operation
	ref []*refAction // nil without the reference
}

type operation struct {
	method, path string // path is the document's template, e.g. /me/tokens/{apiTokenId}
	segments     []string
	responses    map[string]*response // by status key: "200", "4XX", "default"
}

type response struct {
	hasBody bool               // the document describes content
	schema  *jsonschema.Schema // nil when that content is not JSON
	raw     map[string]any     // the schema as written
}

type refAction struct {
	name      string // resource.action, for messages
	method    string
	segments  []string
	responses map[string]*jsonschema.Schema // by status; nil value: no schema listed
}

// New loads our document and, when EnvVar is set, the reference; it fails
// t at once if either cannot be loaded, since every later check would be
// meaningless.
func New(t testing.TB) *Checker {
	t.Helper()
	c, err := newChecker(os.Getenv(EnvVar))
	if err != nil {
		t.Fatalf("apicheck: %v", err)
	}
	return c
}

// ourURL and refURL name the documents inside the compilers; nothing is
// fetched from them.
const (
	ourURL = "https://accountd.invalid/openapi.json"
	refURL = "https://reference.invalid/schemas/"
)

func newChecker(refDir string) (*Checker, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(httpapi.OpenAPIDocument()))
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("openapi.json is not an object")
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.AssertFormat()
	comp.UseRegexpEngine(jsonpattern.Compile)
	if err := comp.AddResource(ourURL, doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	c := &Checker{doc: doc}
	paths, _ := doc["paths"].(map[string]any)
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item, _ := paths[path].(map[string]any)
		for _, method := range slices.Sorted(maps.Keys(item)) {
			opDoc, ok := item[method].(map[string]any)
			if !ok || !isMethod(method) {
				continue
			}
			op := &operation{method: strings.ToUpper(method), path: path, segments: split(path), responses: map[string]*response{}}
			responses, _ := opDoc["responses"].(map[string]any)
			for status, r := range responses {
				ptr := "/paths/" + escape(path) + "/" + method + "/responses/" + escape(status)
				ptr, rd, err := c.follow(ptr, r)
				if err != nil {
					return nil, fmt.Errorf("openapi.json: %s %s %s: %w", op.method, path, status, err)
				}
				resp := &response{}
				if content, ok := rd["content"].(map[string]any); ok {
					resp.hasBody = true
					if media, ok := content["application/json"].(map[string]any); ok {
						resp.raw, _ = media["schema"].(map[string]any)
						resp.schema, err = comp.Compile(ourURL + "#" + ptr + "/content/application~1json/schema")
						if err != nil {
							return nil, fmt.Errorf("openapi.json: %s %s %s: %w", op.method, path, status, err)
						}
					}
				}
				op.responses[status] = resp
			}
			c.ops = append(c.ops, op)
		}
	}
	if len(c.ops) == 0 {
		return nil, errors.New("openapi.json documents no operation")
	}
	if refDir != "" {
		if c.ref, err = c.loadReference(refDir); err != nil {
			return nil, fmt.Errorf("reference in %s: %w", refDir, err)
		}
	}
	return c, nil
}

// follow resolves a Response Object that is a $ref into our document,
// returning where the object really is and the object itself.
func (c *Checker) follow(ptr string, v any) (string, map[string]any, error) {
	for range 8 {
		m, ok := v.(map[string]any)
		if !ok {
			return "", nil, errors.New("response is not an object")
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return ptr, m, nil
		}
		if !strings.HasPrefix(ref, "#/") {
			return "", nil, fmt.Errorf("only local references are supported, not %q", ref)
		}
		ptr = ref[1:]
		if v = lookup(c.doc, ptr); v == nil {
			return "", nil, fmt.Errorf("dangling reference %q", ref)
		}
	}
	return "", nil, errors.New("reference chain too long")
}

// loadReference reads api.json and compiles, for each reference action we
// also serve, the schemas of its responses. Actions we do not serve are
// skipped: a few of their schemas hold references that lead nowhere.
func (c *Checker) loadReference(dir string) ([]*refAction, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "api.json"))
	if err != nil {
		return nil, err
	}
	var api map[string]struct {
		Path    string `json:"path"`
		Actions map[string]struct {
			Method    string `json:"method"`
			Path      string `json:"path"`
			Responses map[string]struct {
				Schema struct {
					Ref string `json:"$ref"`
				} `json:"schema"`
			} `json:"responses"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(raw, &api); err != nil {
		return nil, fmt.Errorf("api.json: %w", err)
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft7)
	comp.AssertFormat()
	comp.UseRegexpEngine(jsonpattern.Compile)
	loaded := map[string]*jsonschema.Schema{}
	schema := func(name string) (*jsonschema.Schema, error) {
		if s, ok := loaded[name]; ok {
			return s, nil
		}
		f, err := os.Open(filepath.Join(dir, "schemas", name+".json"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		v, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			return nil, fmt.Errorf("schemas/%s.json: %w", name, err)
		}
		v = overlayObjectForms(name, repairReference(name, v))
		if err := comp.AddResource(refURL+name+".json", v); err != nil {
			return nil, fmt.Errorf("schemas/%s.json: %w", name, err)
		}
		s, err := comp.Compile(refURL + name + ".json")
		if err != nil {
			return nil, fmt.Errorf("schemas/%s.json: %w", name, err)
		}
		loaded[name] = s
		return s, nil
	}
	var out []*refAction
	for _, resName := range slices.Sorted(maps.Keys(api)) {
		res := api[resName]
		for _, actName := range slices.Sorted(maps.Keys(res.Actions)) {
			act := res.Actions[actName]
			ra := &refAction{name: resName + "." + actName, method: strings.ToUpper(act.Method),
				segments: split(res.Path + act.Path), responses: map[string]*jsonschema.Schema{}}
			if !c.serves(ra) {
				continue
			}
			for status, r := range act.Responses {
				name, ok := strings.CutPrefix(r.Schema.Ref, "#/definitions/")
				if !ok {
					ra.responses[status] = nil
					continue
				}
				if ra.responses[status], err = schema(name); err != nil {
					return nil, fmt.Errorf("%s %s: %w", ra.name, status, err)
				}
			}
			out = append(out, ra)
		}
	}
	return out, nil
}

// serves reports whether one of our operations has the reference action's
// method and path shape.
func (c *Checker) serves(ra *refAction) bool {
	for _, op := range c.ops {
		if op.method == ra.method && sameShape(op.segments, ra.segments) {
			return true
		}
	}
	return false
}

// Check fails t unless the response is one our document allows for the
// request: the operation exists, the status is documented for it, and the
// body matches the documented schema without undocumented properties. If
// the reference is loaded and lists a schema for that action and status,
// the body must match it too; a status the reference does not list is not
// a failure, as the reference leaves out 401, 403, 429 and the like.
// path is the concrete request path; a query string is ignored.
func (c *Checker) Check(t testing.TB, method, path string, status int, body []byte) {
	t.Helper()
	for _, err := range c.check(method, path, status, body) {
		t.Errorf("apicheck: %s %s -> %d: %v", method, path, status, err)
	}
}

func (c *Checker) check(method, path string, status int, body []byte) []error {
	path, _, _ = strings.Cut(path, "?")
	segs := split(path)
	method = strings.ToUpper(method)
	op := bestMatch(c.ops, segs, func(o *operation) ([]string, bool) { return o.segments, o.method == method })
	if op == nil {
		return []error{errors.New("no operation of the API document matches the request")}
	}
	resp := op.response(status)
	if resp == nil {
		return []error{fmt.Errorf("status %d is not documented for %s %s (documented: %s)",
			status, op.method, op.path, strings.Join(slices.Sorted(maps.Keys(op.responses)), ", "))}
	}
	if !resp.hasBody {
		if len(bytes.TrimSpace(body)) > 0 {
			return []error{fmt.Errorf("the document describes no body, got %.200q", body)}
		}
		return nil
	}
	if resp.schema == nil {
		return nil
	}
	v, err := decode(body)
	if err != nil {
		return []error{fmt.Errorf("body is not one JSON value: %v; body %.200q", err, body)}
	}
	var errs []error
	if err := resp.schema.Validate(v); err != nil {
		errs = append(errs, fmt.Errorf("body does not match the API document: %v\nbody: %.500s", err, body))
	}
	var extra []string
	c.undocumented(resp.raw, v, "", &extra)
	if len(extra) > 0 {
		errs = append(errs, fmt.Errorf("body has properties the API document does not describe: %s", strings.Join(extra, ", ")))
	}
	ra := bestMatch(c.ref, segs, func(r *refAction) ([]string, bool) { return r.segments, r.method == method })
	if ra != nil {
		if sch := ra.responses[strconv.Itoa(status)]; sch != nil {
			if err := sch.Validate(v); err != nil {
				errs = append(errs, fmt.Errorf("reference %s: body does not match the reference schema: %v\nbody: %.500s", ra.name, err, body))
			}
		}
	}
	return errs
}

func (op *operation) response(status int) *response {
	code := strconv.Itoa(status)
	for _, key := range []string{code, code[:1] + "XX", "default"} {
		if r, ok := op.responses[key]; ok {
			return r
		}
	}
	return nil
}

// undocumented lists the properties of v that the schema neither describes
// nor explicitly allows. Responses leave additionalProperties open so that
// clients tolerate later additions, which would let a server send a field
// the document never mentions; this walk is what catches that.
func (c *Checker) undocumented(schema map[string]any, v any, at string, out *[]string) {
	schema = c.resolve(schema)
	if schema == nil {
		return
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf", "additionalProperties", "patternProperties", "unevaluatedProperties"} {
		if _, ok := schema[kw]; ok {
			// Composed or explicitly open: validation already judged it.
			return
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, ok := schema["properties"].(map[string]any)
		if !ok {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			p, ok := props[k].(map[string]any)
			if !ok {
				*out = append(*out, join(at, k))
				continue
			}
			c.undocumented(p, v[k], join(at, k), out)
		}
	case []any:
		items, ok := schema["items"].(map[string]any)
		if !ok {
			return
		}
		for i, x := range v {
			c.undocumented(items, x, at+"["+strconv.Itoa(i)+"]", out)
		}
	}
}

// resolve follows local $refs of a schema within our document.
func (c *Checker) resolve(schema map[string]any) map[string]any {
	for range 8 {
		ref, ok := schema["$ref"].(string)
		if !ok {
			return schema
		}
		if !strings.HasPrefix(ref, "#/") {
			return nil
		}
		schema, _ = lookup(c.doc, ref[1:]).(map[string]any)
		if schema == nil {
			return nil
		}
	}
	return nil
}

func join(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

func decode(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one value")
	}
	return v, nil
}

// bestMatch picks the candidate whose template matches segs with the most
// literal segments, so that a literal path wins over a {param} one that
// also matches.
func bestMatch[T any](cands []T, segs []string, get func(T) ([]string, bool)) T {
	var best T
	bestScore := -1
	for _, cand := range cands {
		tmpl, ok := get(cand)
		if !ok || len(tmpl) != len(segs) {
			continue
		}
		score := 0
		for i, s := range tmpl {
			switch {
			case isParam(s):
				if segs[i] == "" {
					score = -1
				}
			case s == segs[i]:
				score++
			default:
				score = -1
			}
			if score < 0 {
				break
			}
		}
		if score > bestScore {
			best, bestScore = cand, score
		}
	}
	return best
}

func sameShape(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if isParam(a[i]) != isParam(b[i]) || !isParam(a[i]) && a[i] != b[i] {
			return false
		}
	}
	return true
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// split cuts a path into its segments, unescaping concrete ones so that
// /me/tokens/a%20b compares as the value the server sees.
func split(path string) []string {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

// lookup follows a JSON pointer ("/a/b~1c") into v; nil when it leads
// nowhere.
func lookup(v any, ptr string) any {
	if ptr == "" {
		return v
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// escape makes s one JSON-pointer token.
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func isMethod(s string) bool {
	switch s {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}
