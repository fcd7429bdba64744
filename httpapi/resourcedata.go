package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/accountd/accountd"
)

// decodeWithData is decode for the bodies of new resources: besides filling
// dst, it returns as one JSON object every documented property that is not
// among core (the ones dst and the service give behaviour to), so that the
// resource keeps them as data; nil when there is none. The schema has
// already checked those properties, so only known names get in. A null
// value means "none" and is not kept; drop names further values that stand
// for none (a flow's blank category, which the response schema does not
// allow).
func (s *Server) decodeWithData(r *http.Request, schema string, dst any, core []string, drop map[string]string) ([]byte, error) {
	raw, doc, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if err := s.schemas.validate(schema, doc); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return nil, accountd.Invalid("body", "has a value out of range")
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, accountd.Invalid("body", "must be a JSON object")
	}
	for name, v := range all {
		v = bytes.TrimSpace(v)
		blank, isDropped := drop[name]
		if slices.Contains(core, name) || string(v) == "null" || (isDropped && string(v) == strconv.Quote(blank)) {
			delete(all, name)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	data, err := marshalPlain(all)
	if err != nil {
		return nil, accountd.Internal(err)
	}
	return data, nil
}

// marshalPlain is json.Marshal without the HTML escaping, as every answer
// is encoded (encodeJSONTo).
func marshalPlain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// withData appends the properties of data (a JSON object, or nil) to obj,
// the JSON object encoding/json made of a response body.
func withData(obj, data []byte) []byte {
	if len(data) <= 2 {
		return obj
	}
	obj = bytes.TrimRight(obj, "\n")
	out := make([]byte, 0, len(obj)+len(data))
	out = append(out, obj[:len(obj)-1]...)
	out = append(out, ',')
	return append(out, data[1:]...)
}

// appendData is withData for the hand-written encoders: it appends the
// properties of data, each after a comma, before the caller's closing
// brace.
func appendData(dst, data []byte) []byte {
	if len(data) <= 2 {
		return dst
	}
	dst = append(dst, ',')
	return append(dst, data[1:len(data)-1]...)
}

// queryList reads a list-valued query parameter in the forms clients send
// it: repeated (name=a&name=b), with brackets (name[]=a, name[0]=a), or
// comma-separated (name=a,b). Blank values are left out.
func queryList(qv url.Values, name string) []string {
	var out []string
	add := func(vs []string) {
		for _, v := range vs {
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
		}
	}
	add(qv[name])
	add(qv[name+"[]"])
	for _, k := range slices.Sorted(maps.Keys(qv)) {
		if rest, ok := strings.CutPrefix(k, name+"["); ok && indexKey.MatchString(rest) {
			add(qv[k])
		}
	}
	return out
}

// indexKey matches what follows "name[" in an indexed list item: "3]".
var indexKey = regexp.MustCompile(`^\d{1,4}\]$`)

// pairParam is a list parameter of {key, other} pairs (tagFilter of
// devices, triggerFilter of flows), sent in the bracket form
// (name[0][key]=...&name[0][other]=...) or as one JSON array of objects.
type pairParam struct {
	name, other string
	bracket     *regexp.Regexp // name[N][key] and name[N][other]
	// strict refuses JSON objects with other properties than the two.
	strict bool
}

func newPairParam(name, other string, strict bool) pairParam {
	return pairParam{name: name, other: other, strict: strict,
		bracket: regexp.MustCompile(`^` + name + `\[(\d{1,4})\]\[(key|` + other + `)\]$`)}
}

var (
	tagFilterParam     = newPairParam("tagFilter", "value", false)
	triggerFilterParam = newPairParam("triggerFilter", "type", true)
)

// read returns the pairs as [key, other], the bracket form's in index
// order, then the JSON array's.
func (p pairParam) read(qv url.Values) ([][2]string, error) {
	byIndex := map[int]*[2]string{}
	for k, vs := range qv {
		m := p.bracket.FindStringSubmatch(k)
		if m == nil {
			if strings.HasPrefix(k, p.name+"[") {
				return nil, accountd.Invalid(p.name, "must be given as %s[N][key] and %s[N][%s]", p.name, p.name, p.other)
			}
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if byIndex[i] == nil {
			byIndex[i] = &[2]string{}
		}
		if m[2] == "key" {
			byIndex[i][0] = vs[0]
		} else {
			byIndex[i][1] = vs[0]
		}
	}
	var out [][2]string
	for _, i := range slices.Sorted(maps.Keys(byIndex)) {
		out = append(out, *byIndex[i])
	}
	if v := qv.Get(p.name); v != "" {
		var objs []map[string]any
		bad := json.Unmarshal([]byte(v), &objs) != nil
		for _, o := range objs {
			var pair [2]string
			for k, x := range o {
				s, isString := x.(string)
				switch {
				case k == "key":
					bad = bad || x != nil && !isString // null reads as ""
					pair[0] = s
				case k == p.other:
					bad = bad || x != nil && !isString
					pair[1] = s
				case p.strict:
					bad = true
				}
			}
			out = append(out, pair)
		}
		if bad {
			return nil, accountd.Invalid(p.name, "must be a JSON array of {key, %s} pairs", p.other)
		}
	}
	return out, nil
}

// tagFilterQuery reads the tagFilter of a devices list
// (tagFilter[0][key]=floor&tagFilter[0][value]=2, or
// tagFilter=[{"key":"floor","value":"2"}]), as deviceTagFilter describes.
func tagFilterQuery(qv url.Values) ([]accountd.TagFilter, error) {
	pairs, err := tagFilterParam.read(qv)
	var out []accountd.TagFilter
	for _, p := range pairs {
		out = append(out, accountd.TagFilter{Key: p[0], Value: p[1]})
	}
	return out, err
}

// triggerFilterQuery reads the triggerFilter of a flows list
// (triggerFilter[0][type]=timer, or triggerFilter=[{"type":"timer"}]), as
// flowTriggerFilter describes.
func triggerFilterQuery(qv url.Values) ([]accountd.TriggerFilter, error) {
	pairs, err := triggerFilterParam.read(qv)
	var out []accountd.TriggerFilter
	for _, p := range pairs {
		out = append(out, accountd.TriggerFilter{Key: p[0], Type: p[1]})
	}
	return out, err
}

// refuseNULParams refuses a list's parameters when a value holds the
// character U+0000: PostgreSQL takes no text parameter that does (the
// statement would fail, answering 500), and no stored text holds it.
// Every list reads its parameters through listQuery, which calls this
// before anything reaches a store.
func refuseNULParams(qv url.Values) error {
	for _, name := range slices.Sorted(maps.Keys(qv)) {
		for _, v := range qv[name] {
			if strings.IndexByte(v, 0) < 0 {
				continue
			}
			if len(name) > 64 || strings.IndexFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
				name = "a query parameter"
			}
			return accountd.Invalid(name, "must not contain the character U+0000")
		}
	}
	return nil
}

// optionalQuery reads a query parameter whose absence and blankness mean
// different things (orgId, applicationId, parentId): given reports
// whether it was sent at all.
func optionalQuery(qv url.Values, name string) (v string, given bool) {
	if !qv.Has(name) {
		return "", false
	}
	return strings.TrimSpace(qv.Get(name)), true
}

// boolQuery reads a documented true/false flag of a list (false when
// absent).
func boolQuery(qv url.Values, name string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(qv.Get(name))) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, accountd.Invalid(name, "must be true or false")
}

// advancedQuery reads the query parameter of a device or flow list (nil
// when it is absent or blank): one JSON object, sent as JSON text, as the
// official clients send it (they JSON.stringify it). It must be at most
// accountd.MaxQueryBytes long and nest at most maxQueryNesting levels of
// objects and arrays; accountd.ParseQuery then checks every rule of the
// reference and the bounds on conditions and values, naming where in the
// query a rule is broken, and the schema of our document (name) checks the
// same value again.
func (s *Server) advancedQuery(qv url.Values, name string, fields map[string]accountd.QueryType) (*accountd.Query, error) {
	for k := range qv {
		if strings.HasPrefix(k, "query[") {
			return nil, accountd.Invalid("query", "must be one JSON object sent as JSON text (query={...}), not in brackets")
		}
	}
	vs := qv["query"]
	if len(vs) > 1 {
		return nil, accountd.Invalid("query", "must be given once")
	}
	if len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
		return nil, nil
	}
	if len(vs[0]) > accountd.MaxQueryBytes {
		return nil, accountd.Invalid("query", "must be at most %d bytes", accountd.MaxQueryBytes)
	}
	dec := json.NewDecoder(strings.NewReader(vs[0]))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, accountd.Invalid("query", "must be a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, accountd.Invalid("query", "must be one JSON object, with nothing after it")
	}
	if tooDeep(doc, maxQueryNesting) {
		return nil, accountd.Invalid("query", "must nest at most %d levels of objects and arrays", maxQueryNesting)
	}
	q, err := accountd.ParseQuery(doc, fields)
	if err != nil {
		return nil, err
	}
	if err := s.schemas.validateParam("query", name, doc); err != nil {
		return nil, err
	}
	return q, nil
}

// maxQueryNesting bounds the objects and arrays of a query nested in one
// another, before anything else reads it: accountd.MaxQueryDepth groups
// take two levels each, and a field's deepest form ({"tags": {"$ne":
// {"$tagKey": {"$in": [...]}}}}) five more.
const maxQueryNesting = 2*accountd.MaxQueryDepth + 8

// tooDeep reports whether v nests more than limit levels of objects and
// arrays.
func tooDeep(v any, limit int) bool {
	var items []any
	switch x := v.(type) {
	case map[string]any:
		items = slices.Collect(maps.Values(x))
	case []any:
		items = x
	default:
		return false
	}
	if limit == 0 {
		return true
	}
	for _, e := range items {
		if tooDeep(e, limit-1) {
			return true
		}
	}
	return false
}

// asObjectFlags reads the tagsAsObject and attributesAsObject flags of the
// device list and device get.
func asObjectFlags(qv url.Values) (deviceForm, error) {
	var f deviceForm
	var err error
	if f.tagsAsObject, err = boolQuery(qv, "tagsAsObject"); err != nil {
		return f, err
	}
	f.attributesAsObject, err = boolQuery(qv, "attributesAsObject")
	return f, err
}

// deviceForm is how a device's tags and attributes are answered: as the
// arrays they were sent as, or (tagsAsObject, attributesAsObject) as
// objects: each tag key with the list of its values (a key may have
// several), each attribute under its name.
type deviceForm struct{ tagsAsObject, attributesAsObject bool }

// apply rewrites the device's kept data in the form asked for.
func (f deviceForm) apply(data []byte) []byte {
	if !f.tagsAsObject && !f.attributesAsObject || len(data) == 0 {
		return data
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(data, &all) != nil {
		return data
	}
	if raw, ok := all["tags"]; ok && f.tagsAsObject {
		var tags []struct{ Key, Value string }
		if json.Unmarshal(raw, &tags) == nil {
			obj := map[string][]string{}
			for _, t := range tags {
				obj[t.Key] = append(obj[t.Key], t.Value)
			}
			all["tags"], _ = marshalPlain(obj)
		}
	}
	if raw, ok := all["attributes"]; ok && f.attributesAsObject {
		var attrs []json.RawMessage
		if json.Unmarshal(raw, &attrs) == nil {
			obj := map[string]json.RawMessage{}
			for _, a := range attrs {
				var named struct{ Name string }
				if json.Unmarshal(a, &named) == nil {
					obj[named.Name] = a
				}
			}
			all["attributes"], _ = marshalPlain(obj)
		}
	}
	out, err := marshalPlain(all)
	if err != nil {
		return data
	}
	return out
}
