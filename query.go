package accountd

import (
	"encoding/json"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// An advanced query (the query parameter of the device and flow lists, as
// the reference's advancedDeviceQuery and advancedFlowQuery describe it) is
// a Mongo-style object: each property a field with a value or an object of
// operators, or $and, $or, $nor with a list of such objects. ParseQuery
// checks one against the reference's rules and the bounds below and turns
// it into a tree of Query nodes, with every value cast to the type of its
// field; the stores turn the tree into SQL, each field through a fixed
// expression and each value as a parameter.

// Bounds of one advanced query, beyond the reference's 100 items per list:
// they keep what one request may ask of the database small.
const (
	MaxQueryBytes      = 16384 // the parameter's length
	MaxQueryDepth      = 4     // $and, $or and $nor nested in one another
	MaxQueryConditions = 100   // operators on fields, in all
	MaxQueryValues     = 500   // values in all, each of an $in or $nin counted
)

// QueryType is the type a field's values are cast to, as the platform casts
// them: a number given for a name is its text, a date may be given as
// RFC 3339 text or as milliseconds since the epoch.
type QueryType int

const (
	QueryText     QueryType = iota // text; $startsWith, $endsWith, $contains and $ci apply
	QueryID                        // 24 hex characters, compared in lower case
	QueryDate                      // an instant, kept as milliseconds since the epoch
	QueryBool                      // true or false
	QueryTags                      // a device's tags: key and value pairs
	QueryElements                  // a flow's triggers or nodes: objects matched by type, key and config
)

// DeviceQueryFields and FlowQueryFields are the fields the reference's
// advanced queries name, with their types.
var (
	DeviceQueryFields = map[string]QueryType{
		"id": QueryID, "creationDate": QueryDate, "lastUpdated": QueryDate, "deletedAt": QueryDate,
		"name": QueryText, "deviceClass": QueryText, "gatewayId": QueryID, "parentId": QueryID,
		"ancestorId": QueryID, "attributeName": QueryText, "experienceUserId": QueryID,
		"experienceGroupId": QueryID, "tags": QueryTags, "disconnectedAt": QueryDate,
		"connectedAt": QueryDate, "connectionStatus": QueryText,
	}
	FlowQueryFields = map[string]QueryType{
		"name": QueryText, "id": QueryID, "creationDate": QueryDate, "lastUpdated": QueryDate,
		"flowClass": QueryText, "enabled": QueryBool, "defaultVersion": QueryID,
		"triggers": QueryElements, "nodes": QueryElements, "customNodeSupports": QueryText,
	}
)

// Query is one node of a parsed advanced query: a group (Op "$and", "$or"
// or "$nor" over Items) or a condition on one field (Op "").
type Query struct {
	Op    string
	Items []*Query
	Cond  *QueryCond
}

// QueryCond is one condition on a field.
type QueryCond struct {
	Field string
	Type  QueryType
	// Op is one of $eq $ne $gt $lt $gte $lte $in $nin $startsWith
	// $endsWith $contains for a value condition; "$tags" for Tags,
	// "$element" for Element.
	Op string
	// Values are cast to the field's type: string, int64 (milliseconds),
	// bool, or nil for null. One value except for $in and $nin.
	Values []any
	// CI compares text without regard to case ($ci).
	CI bool
	// Not negates a tags or element condition ($ne).
	Not bool
	// Tags must each be matched by one tag of the device.
	Tags []TagQuery
	// Element must be matched by one trigger or node of the flow.
	Element *ElementQuery
}

// TagQuery matches one tag: its key and its value each as StringMatch says.
type TagQuery struct {
	Key, Value StringMatch
}

// StringMatch is a key or value of a tag query: Any when not given,
// otherwise one of In (or none of them, with Not).
type StringMatch struct {
	Any bool
	In  []string
	Not bool
}

// ElementQuery matches a trigger or node: its type, its key when given, and
// each config property given (a JSON value compared as it is).
type ElementQuery struct {
	Type   string
	Key    *string
	Config map[string]any // string, json.Number, bool or nil
}

// tagKeyPrefix is the reference's pattern of the tag keys of a tag query,
// unanchored at the end as the reference has it.
var tagKeyPrefix = regexp.MustCompile(`^[0-9a-zA-Z_-]{1,255}`)

// queryParser carries the counts one query spends against the bounds.
type queryParser struct {
	fields             map[string]QueryType
	conditions, values int
}

// ParseQuery checks doc (a JSON value decoded with UseNumber) as an advanced
// query over fields (DeviceQueryFields or FlowQueryFields) and returns its
// tree. Errors are CodeInvalid and name the parameter ("query"), the place
// in the query and the rule.
func ParseQuery(doc any, fields map[string]QueryType) (*Query, error) {
	if err := refuseNUL(doc, "query"); err != nil {
		return nil, err
	}
	p := &queryParser{fields: fields}
	return p.object(doc, "query", 0)
}

// refuseNUL refuses the character U+0000 anywhere in a query, names
// included: no stored text holds it, and PostgreSQL takes no text
// parameter that does.
func refuseNUL(v any, at string) error {
	switch x := v.(type) {
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return Invalid(at, "must not contain the character U+0000")
		}
	case []any:
		for i, e := range x {
			if err := refuseNUL(e, at+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if strings.IndexByte(k, 0) >= 0 {
				return Invalid(at, "must not have a property name with the character U+0000")
			}
			if err := refuseNUL(x[k], at+"."+queryLabel(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *queryParser) object(v any, at string, depth int) (*Query, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, Invalid(at, "must be a JSON object")
	}
	q := &Query{Op: "$and"}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		here := at + "." + queryLabel(name)
		switch name {
		case "$and", "$or", "$nor":
			if depth >= MaxQueryDepth {
				return nil, Invalid(here, "nests $and, $or and $nor more than %d deep", MaxQueryDepth)
			}
			list, ok := obj[name].([]any)
			if !ok {
				return nil, Invalid(here, "must be an array")
			}
			if len(list) == 0 {
				return nil, Invalid(here, "must not be empty")
			}
			if len(list) > 100 {
				return nil, Invalid(here, "must have at most 100 items")
			}
			g := &Query{Op: name}
			for i, item := range list {
				sub, err := p.object(item, here+"["+strconv.Itoa(i)+"]", depth+1)
				if err != nil {
					return nil, err
				}
				g.Items = append(g.Items, sub)
			}
			q.Items = append(q.Items, g)
			continue
		}
		typ, ok := p.fields[name]
		if !ok {
			return nil, Invalid(here, "is not a field of the query; the fields are %s", strings.Join(slices.Sorted(maps.Keys(p.fields)), ", "))
		}
		var conds []*QueryCond
		var err error
		switch typ {
		case QueryTags:
			conds, err = p.tags(obj[name], name, here)
		case QueryElements:
			conds, err = p.elements(obj[name], name, here)
		default:
			conds, err = p.field(obj[name], name, typ, here)
		}
		if err != nil {
			return nil, err
		}
		for _, c := range conds {
			q.Items = append(q.Items, &Query{Cond: c})
		}
	}
	return q, nil
}

// spend counts a condition and its values against the bounds.
func (p *queryParser) spend(at string, values int) error {
	p.conditions++
	p.values += values
	if p.conditions > MaxQueryConditions {
		return Invalid(at, "makes the query hold more than %d conditions", MaxQueryConditions)
	}
	if p.values > MaxQueryValues {
		return Invalid(at, "makes the query hold more than %d values", MaxQueryValues)
	}
	return nil
}

var (
	compareOps = []string{"$eq", "$ne", "$gt", "$lt", "$gte", "$lte"}
	listOps    = []string{"$in", "$nin"}
	textOps    = []string{"$startsWith", "$endsWith", "$contains"}
)

// field reads a value field: a value ($eq), or an object of operators
// ($ci applies to every one of them).
func (p *queryParser) field(v any, name string, typ QueryType, at string) ([]*QueryCond, error) {
	ops, isObject := v.(map[string]any)
	if !isObject {
		val, err := castValue(v, typ, at)
		if err != nil {
			return nil, err
		}
		return []*QueryCond{{Field: name, Type: typ, Op: "$eq", Values: []any{val}}}, p.spend(at, 1)
	}
	if typ == QueryID && len(ops) != 1 {
		return nil, Invalid(at, "must have exactly 1 operator")
	}
	ci := false
	if c, given := ops["$ci"]; given {
		b, ok := c.(bool)
		if !ok || typ == QueryID {
			return nil, Invalid(at+".$ci", "must be true or false, on a text field")
		}
		ci = b
	}
	var out []*QueryCond
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		here := at + "." + queryLabel(op)
		c := &QueryCond{Field: name, Type: typ, Op: op, CI: ci && typ == QueryText}
		switch {
		case op == "$ci":
			continue
		case slices.Contains(compareOps, op):
			val, err := castValue(ops[op], typ, here)
			if err != nil {
				return nil, err
			}
			c.Values = []any{val}
		case slices.Contains(listOps, op):
			list, ok := ops[op].([]any)
			if !ok {
				return nil, Invalid(here, "must be an array")
			}
			if len(list) > 100 {
				return nil, Invalid(here, "must have at most 100 items")
			}
			for i, item := range list {
				if item == nil {
					return nil, Invalid(here+"["+strconv.Itoa(i)+"]", "must not be null")
				}
				val, err := castValue(item, typ, here+"["+strconv.Itoa(i)+"]")
				if err != nil {
					return nil, err
				}
				c.Values = append(c.Values, val)
			}
		case slices.Contains(textOps, op) && typ != QueryID:
			s, ok := ops[op].(string)
			if !ok || s == "" {
				return nil, Invalid(here, "must be a string of at least 1 character")
			}
			if typ != QueryText {
				return nil, Invalid(here, "applies to text fields only")
			}
			c.Values = []any{s}
		default:
			return nil, Invalid(here, "is not an operator of %s; the operators are %s", name, strings.Join(operatorsOf(typ), ", "))
		}
		if err := p.spend(here, max(len(c.Values), 1)); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func operatorsOf(typ QueryType) []string {
	ops := slices.Concat(compareOps, listOps)
	if typ != QueryID {
		ops = append(append(ops, textOps...), "$ci")
	}
	return ops
}

// castValue casts one value to a field's type, as the platform does, or
// says why it cannot.
func castValue(v any, typ QueryType, at string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case QueryID:
		s, ok := v.(string)
		if !ok || !ValidID(s) {
			return nil, Invalid(at, "must be 24 hex characters or null")
		}
		return strings.ToLower(s), nil
	case QueryText:
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
	case QueryDate:
		switch x := v.(type) {
		case string:
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return nil, Invalid(at, "must be a date and time such as 2006-01-02T15:04:05.000Z, or milliseconds since 1970")
			}
			return t.UnixMilli(), nil
		case json.Number:
			ms, err := x.Int64()
			if err != nil {
				f, ferr := x.Float64()
				if ferr != nil || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
					return nil, Invalid(at, "must be whole milliseconds since 1970")
				}
				ms = int64(f)
			}
			return ms, nil
		}
		return nil, Invalid(at, "must be a date and time such as 2006-01-02T15:04:05.000Z, or milliseconds since 1970")
	case QueryBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		case json.Number:
			switch x.String() {
			case "1":
				return true, nil
			case "0":
				return false, nil
			}
		}
		return nil, Invalid(at, "must be true or false")
	}
	return nil, Invalid(at, "must be a string, number, boolean or null")
}

// tags reads the tags field: one tag match, or {$eq: match} or {$ne:
// match}. A match is {$tagKey, $tagValue} (either a string, {$in: [...]}
// or {$nin: [...]}), or tag keys each with such a value; every tag it
// names must be on the device.
func (p *queryParser) tags(v any, name, at string) ([]*QueryCond, error) {
	c := &QueryCond{Field: name, Type: QueryTags, Op: "$tags"}
	obj, at, not, err := matchObject(v, at)
	if err != nil {
		return nil, err
	}
	c.Not = not
	_, byKey := obj["$tagKey"]
	_, byValue := obj["$tagValue"]
	values := 0
	if byKey || byValue {
		var tq TagQuery
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			m, err := stringMatch(obj[k], at+"."+queryLabel(k))
			if err != nil {
				return nil, err
			}
			switch k {
			case "$tagKey":
				tq.Key = m
			case "$tagValue":
				tq.Value = m
			default:
				return nil, Invalid(at+"."+queryLabel(k), "is not allowed beside $tagKey and $tagValue")
			}
			values += max(len(m.In), 1)
		}
		if !byKey {
			tq.Key.Any = true
		}
		if !byValue {
			tq.Value.Any = true
		}
		c.Tags = []TagQuery{tq}
	} else {
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			here := at + "." + queryLabel(k)
			if !tagKeyPrefix.MatchString(k) {
				return nil, Invalid(here, "is not a tag key (letters, digits, _ and -)")
			}
			m, err := stringMatch(obj[k], here)
			if err != nil {
				return nil, err
			}
			c.Tags = append(c.Tags, TagQuery{Key: StringMatch{In: []string{k}}, Value: m})
			values += 1 + len(m.In)
		}
	}
	if len(c.Tags) == 0 && c.Not {
		return nil, Invalid(at, "must name at least 1 tag")
	}
	return []*QueryCond{c}, p.spend(at, values)
}

// matchObject reads the value of the tags, triggers and nodes fields: a
// match, or {$eq: match} or {$ne: match}. It returns the match, where it
// is, and whether it is negated.
func matchObject(v any, at string) (map[string]any, string, bool, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, at, false, Invalid(at, "must be a JSON object")
	}
	for _, op := range []string{"$eq", "$ne"} {
		inner, given := obj[op]
		if !given || len(obj) != 1 {
			continue
		}
		at += "." + op
		m, ok := inner.(map[string]any)
		if !ok {
			return nil, at, false, Invalid(at, "must be a JSON object")
		}
		return m, at, op == "$ne", nil
	}
	return obj, at, false, nil
}

// stringMatch reads a string, {$in: [...]} or {$nin: [...]} of a tag query.
func stringMatch(v any, at string) (StringMatch, error) {
	if s, ok := v.(string); ok {
		if utf8.RuneCountInString(s) > 255 {
			return StringMatch{}, Invalid(at, "must be at most 255 characters")
		}
		return StringMatch{In: []string{s}}, nil
	}
	obj, ok := v.(map[string]any)
	if !ok || len(obj) != 1 {
		return StringMatch{}, Invalid(at, "must be a string, {\"$in\": [...]} or {\"$nin\": [...]}")
	}
	var m StringMatch
	for op, list := range obj {
		if op != "$in" && op != "$nin" {
			return StringMatch{}, Invalid(at+"."+queryLabel(op), "is not allowed: use $in or $nin")
		}
		at += "." + op
		m.Not = op == "$nin"
		items, ok := list.([]any)
		if !ok {
			return StringMatch{}, Invalid(at, "must be an array")
		}
		if len(items) > 100 {
			return StringMatch{}, Invalid(at, "must have at most 100 items")
		}
		m.In = []string{}
		for i, it := range items {
			s, ok := it.(string)
			if !ok || utf8.RuneCountInString(s) > 255 {
				return StringMatch{}, Invalid(at+"["+strconv.Itoa(i)+"]", "must be a string of at most 255 characters")
			}
			m.In = append(m.In, s)
		}
	}
	return m, nil
}

// elements reads the triggers or nodes field: one element ({type, key,
// config}; nodes have no key), or {$eq: element} or {$ne: element}.
func (p *queryParser) elements(v any, name, at string) ([]*QueryCond, error) {
	c := &QueryCond{Field: name, Type: QueryElements, Op: "$element"}
	obj, at, not, err := matchObject(v, at)
	if err != nil {
		return nil, err
	}
	c.Not = not
	e := &ElementQuery{}
	typ, given := obj["type"]
	if !given {
		return nil, Invalid(at+".type", "is required")
	}
	s, ok := typ.(string)
	if !ok || utf8.RuneCountInString(s) > 255 {
		return nil, Invalid(at+".type", "must be a string of at most 255 characters")
	}
	e.Type = s
	values := 1
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		here := at + "." + queryLabel(k)
		switch {
		case k == "type":
		case k == "key" && name == "triggers":
			key, ok := obj[k].(string)
			if !ok || !elementKey.MatchString(key) {
				return nil, Invalid(here, "must be 1 to 255 letters, digits, _ or -")
			}
			e.Key = &key
			values++
		case k == "config":
			cfg, ok := obj[k].(map[string]any)
			if !ok {
				return nil, Invalid(here, "must be a JSON object")
			}
			e.Config = map[string]any{}
			for ck, cv := range cfg {
				switch x := cv.(type) {
				case nil, bool, json.Number:
				case string:
					if utf8.RuneCountInString(x) > 1024 {
						return nil, Invalid(here+"."+queryLabel(ck), "must be at most 1024 characters")
					}
				default:
					return nil, Invalid(here+"."+queryLabel(ck), "must be a string, number, boolean or null")
				}
				e.Config[ck] = cv
				values++
			}
		default:
			return nil, Invalid(here, "is not an allowed property")
		}
	}
	c.Element = e
	return []*QueryCond{c}, p.spend(at, values)
}

var elementKey = regexp.MustCompile(`^[0-9a-zA-Z_-]{1,255}$`)

// queryLabel shows a caller's property name in a message: as it is when it
// reads as a name, otherwise quoted and cut short.
func queryLabel(name string) string {
	plain := name != "" && len(name) <= 64
	for _, r := range name {
		if !(r == '_' || r == '-' || r == '$' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	if utf8.RuneCountInString(name) > 64 {
		name = string([]rune(name)[:64]) + "…"
	}
	return strconv.Quote(name)
}
