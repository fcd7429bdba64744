package httpapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/jsonpattern"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// schemas holds every component schema of the embedded OpenAPI document,
// compiled once. It is read-only after newSchemas, so one value serves all
// requests at once.
type schemas struct {
	byName map[string]*jsonschema.Schema
}

// documentURL names the embedded document inside the compiler; it is never
// fetched and never shown to callers.
const documentURL = "https://accountd.invalid/openapi.json"

// newSchemas compiles every #/components/schemas/* of OpenAPIDocument, with
// format assertions on. A schema that cannot be compiled (a typo, a pattern
// Go cannot run) is an error here, at startup, rather than a surprise on
// the first request that reaches it.
func newSchemas() (*schemas, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(OpenAPIDocument()))
	if err != nil {
		return nil, fmt.Errorf("httpapi: openapi.json: %w", err)
	}
	components, _ := doc.(map[string]any)["components"].(map[string]any)
	all, _ := components["schemas"].(map[string]any)
	if len(all) == 0 {
		return nil, errors.New("httpapi: openapi.json has no components.schemas")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseRegexpEngine(jsonpattern.Compile)
	c.RegisterFormat(&jsonschema.Format{Name: "date-time", Validate: validDateTime})
	if err := c.AddResource(documentURL, doc); err != nil {
		return nil, fmt.Errorf("httpapi: openapi.json: %w", err)
	}
	s := &schemas{byName: make(map[string]*jsonschema.Schema, len(all))}
	for name := range all {
		sch, err := c.Compile(documentURL + "#/components/schemas/" + name)
		if err != nil {
			return nil, fmt.Errorf("httpapi: openapi.json: schema %s: %w", name, err)
		}
		s.byName[name] = sch
	}
	return s, nil
}

// rfc3339 is the date-time grammar narrowed to what time.Time decodes:
// handlers unmarshal date-times into time.Time, and a value the schema let
// through but json.Unmarshal refused (a lower-case "t", a leap second)
// would get a vague answer instead of one that names the field.
var rfc3339 = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$`)

func validDateTime(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	var t time.Time
	if !rfc3339.MatchString(s) || t.UnmarshalText([]byte(s)) != nil {
		return errors.New("not an RFC 3339 date-time")
	}
	return nil
}

// validate checks doc, a JSON value decoded with UseNumber, against the
// component schema name. A failure is a CodeInvalid *accountd.Error naming
// one field and one rule; when several rules are broken the same one is
// always chosen, so clients and tests see stable messages.
func (s *schemas) validate(name string, doc any) error {
	return s.validateParam("", name, doc)
}

// validateParam is validate for a JSON value sent as the query parameter
// root: the field a failure names starts with it ("query.$and[0]...").
func (s *schemas) validateParam(root, name string, doc any) error {
	sch, ok := s.byName[name]
	if !ok {
		return accountd.Internal(fmt.Errorf("httpapi: no schema named %q", name))
	}
	err := sch.Validate(doc)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return accountd.Internal(err)
	}
	var found []violation
	collect(verr, doc, &found)
	if len(found) == 0 {
		// Cannot happen with the library's error trees; answer sensibly anyway.
		return &accountd.Error{Code: accountd.CodeInvalid, Message: "body: is not valid", Err: err}
	}
	v := slices.MinFunc(found, compareViolations)
	field := v.field
	switch {
	case root == "":
	case field == "" || strings.HasPrefix(field, "["):
		field = root + field
	default:
		field = root + "." + field
	}
	label := field
	if label == "" {
		label = "body"
	}
	return &accountd.Error{Code: accountd.CodeInvalid, Field: field, Message: label + ": " + v.rule}
}

// violation is one broken rule, in the words the caller will read.
type violation struct {
	class int    // see the classes below: which kind of mistake to report first
	path  []elem // where in the body
	field string // path as "a.b[2]"; "" for the body itself
	rank  int    // among rules broken by the same value, which to report
	rule  string // e.g. "must be at least 1 character"
}

// Classes, most telling first: an unknown property is usually a misspelt
// one, which would also explain a "required" failure; a missing property
// matters more than the value of another.
const (
	classUnknown = iota
	classMissing
	classValue
)

// elem is one step of a path into the body: a property name or an index.
type elem struct {
	name  string
	index int
	isIdx bool
}

func compareViolations(a, b violation) int {
	if c := cmp.Compare(a.class, b.class); c != 0 {
		return c
	}
	for i := 0; i < len(a.path) && i < len(b.path); i++ {
		x, y := a.path[i], b.path[i]
		// Siblings are all indexes or all names; compare names whole, as
		// labels are cut short and two could look alike.
		if c := cmp.Or(cmp.Compare(x.index, y.index), strings.Compare(x.name, y.name)); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(len(a.path), len(b.path)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.rank, b.rank); c != 0 {
		return c
	}
	return strings.Compare(a.rule, b.rule)
}

// collect gathers the leaves of the library's error tree. The inner nodes
// (the whole schema, a $ref, allOf, several errors at one place) only group
// others. anyOf and oneOf are leaves: the failures inside their branches
// describe forms the caller never meant, and would mislead.
func collect(e *jsonschema.ValidationError, doc any, out *[]violation) {
	switch e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		for _, c := range e.Causes {
			collect(c, doc, out)
		}
		return
	}
	*out = append(*out, explain(e, locate(doc, e.InstanceLocation)))
}

// locate turns the library's string tokens into path elements, using the
// body to tell an array index from a property that happens to be numeric.
func locate(doc any, tokens []string) []elem {
	path := make([]elem, 0, len(tokens)+1)
	cur := doc
	for _, tok := range tokens {
		switch v := cur.(type) {
		case []any:
			i, _ := strconv.Atoi(tok)
			path = append(path, elem{index: i, isIdx: true})
			if i >= 0 && i < len(v) {
				cur = v[i]
			} else {
				cur = nil
			}
		case map[string]any:
			path = append(path, elem{name: tok})
			cur = v[tok]
		default:
			path = append(path, elem{name: tok})
			cur = nil
		}
	}
	return path
}

// explain words one leaf error. Rules are phrased to follow "field: ".
func explain(e *jsonschema.ValidationError, path []elem) violation {
	v := violation{class: classValue, path: path, rank: rankOther}
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		v.rank, v.rule = rankType, "must be "+typeNames(k.Want)
	case *kind.Enum:
		v.rank, v.rule = rankEnum, enumRule(k.Want)
	case *kind.Const:
		v.rank, v.rule = rankEnum, "must be "+jsonText(k.Want)
	case *kind.Format:
		v.rank, v.rule = rankFormat, formatRule(k.Want)
	case *kind.MaxLength:
		v.rank, v.rule = rankMaxLength, "must be at most "+plural(k.Want, "character")
	case *kind.Pattern:
		v.rank = rankPattern
		if k.Want == jsonpattern.Password {
			v.rule = accountd.PasswordRule
		} else {
			v.rule = "must match the pattern " + k.Want
		}
	case *kind.MinLength:
		v.rank, v.rule = rankMinLength, "must be at least "+plural(k.Want, "character")
	case *kind.Minimum:
		v.rule = "must be at least " + ratText(k.Want)
	case *kind.Maximum:
		v.rule = "must be at most " + ratText(k.Want)
	case *kind.ExclusiveMinimum:
		v.rule = "must be greater than " + ratText(k.Want)
	case *kind.ExclusiveMaximum:
		v.rule = "must be less than " + ratText(k.Want)
	case *kind.MultipleOf:
		v.rule = "must be a multiple of " + ratText(k.Want)
	case *kind.MinItems:
		v.rule = "must have at least " + plural(k.Want, "item")
	case *kind.MaxItems:
		v.rule = "must have at most " + plural(k.Want, "item")
	case *kind.AdditionalItems:
		v.rule = "has too many items"
	case *kind.UniqueItems:
		// Point at the repeat, as the service does for repeated scopes.
		first := fieldOf(append(slices.Clone(path), elem{index: k.Duplicates[0], isIdx: true}))
		v.path = append(path, elem{index: k.Duplicates[1], isIdx: true})
		v.rule = "must not repeat " + first
	case *kind.MinProperties:
		v.rule = "must have at least " + plural(k.Want, "property")
	case *kind.MaxProperties:
		v.rule = "must have at most " + plural(k.Want, "property")
	case *kind.Required:
		v.class, v.path, v.rule = classMissing, append(path, elem{name: k.Missing[0]}), "is required"
	case *kind.DependentRequired:
		v.class, v.path = classMissing, append(path, elem{name: k.Missing[0]})
		v.rule = "is required when " + fieldOf(append(slices.Clone(path), elem{name: k.Prop})) + " is present"
	case *kind.Dependency:
		v.class, v.path = classMissing, append(path, elem{name: k.Missing[0]})
		v.rule = "is required when " + fieldOf(append(slices.Clone(path), elem{name: k.Prop})) + " is present"
	case *kind.AdditionalProperties:
		v.class, v.path, v.rule = classUnknown, append(path, elem{name: slices.Min(k.Properties)}), "is not an allowed property"
	case *kind.PropertyNames:
		v.class, v.path, v.rule = classUnknown, append(path, elem{name: k.Property}), "is not an allowed property name"
	case *kind.FalseSchema:
		v.class, v.rule = classUnknown, "is not allowed"
	case *kind.OneOf:
		if k.Subschemas != nil {
			v.rule = "matches more than one of the allowed forms"
		} else {
			v.rule = "does not match any of the allowed forms"
		}
	case *kind.AnyOf:
		v.rule = "does not match any of the allowed forms"
	case *kind.Not:
		v.rule = "is not allowed"
	case *kind.Contains, *kind.MinContains, *kind.MaxContains:
		v.rule = "does not contain the items it must"
	default:
		v.rule = "is not valid"
	}
	v.field = fieldOf(v.path)
	return v
}

// Ranks of the rules one value can break at once, first reported first.
// (The library stops at the first failure of type, enum or format; the
// string rules after them can fail together.) maxLength goes before
// pattern because an over-long value may break the pattern for no other
// reason; pattern goes before minLength so that a short password is told
// the whole password rule.
const (
	rankType = iota
	rankEnum
	rankMaxLength
	rankFormat
	rankPattern
	rankMinLength
	rankOther
)

func fieldOf(path []elem) string {
	var b strings.Builder
	for i, p := range path {
		if p.isIdx {
			b.WriteString("[" + strconv.Itoa(p.index) + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p.label())
	}
	return b.String()
}

// maxNameLen bounds how much of a caller's property name is echoed back.
const maxNameLen = 64

// label is the property name as shown: plain when it reads as a name,
// otherwise quoted (and cut short) so that spaces, dots, control characters
// or a megabyte of key cannot garble the message.
func (p elem) label() string {
	if p.isIdx {
		return strconv.Itoa(p.index)
	}
	plain := p.name != "" && utf8.RuneCountInString(p.name) <= maxNameLen
	for _, r := range p.name {
		if !(r == '_' || r == '-' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			plain = false
			break
		}
	}
	if plain {
		return p.name
	}
	name := p.name
	if utf8.RuneCountInString(name) > maxNameLen {
		name = string([]rune(name)[:maxNameLen]) + "…"
	}
	return strconv.Quote(name)
}

func typeNames(want []string) string {
	names := make([]string, len(want))
	for i, w := range want {
		switch w {
		case "object":
			names[i] = "a JSON object"
		case "array":
			names[i] = "an array"
		case "string":
			names[i] = "a string"
		case "integer":
			names[i] = "a whole number"
		case "number":
			names[i] = "a number"
		case "boolean":
			names[i] = "true or false"
		case "null":
			names[i] = "null"
		default:
			names[i] = w
		}
	}
	return strings.Join(names, " or ")
}

// maxEnumShown keeps messages short for long lists; past it the caller is
// sent to the document.
const maxEnumShown = 10

func enumRule(want []any) string {
	if len(want) > maxEnumShown {
		return "must be one of the values the API document lists"
	}
	if len(want) == 1 {
		return "must be " + jsonText(want[0])
	}
	parts := make([]string, len(want))
	for i, w := range want {
		parts[i] = jsonText(w)
	}
	return "must be one of " + strings.Join(parts, ", ")
}

// jsonText shows a schema value: strings bare, anything else as JSON.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "the allowed value"
	}
	return string(b)
}

func formatRule(format string) string {
	switch format {
	case "email":
		return "must be a valid email address"
	case "date-time":
		return "must be a date and time such as 2006-01-02T15:04:05.000Z"
	case "uri":
		return "must be an absolute URI"
	}
	return "must be a valid " + format
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return strconv.Itoa(n) + " " + strings.TrimSuffix(noun, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func ratText(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}
