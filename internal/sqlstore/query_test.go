package sqlstore

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/accountd/accountd"
)

// Every field the domain lets a query name has exactly one way into the
// SQL, and no other field has one.
func TestQueryFieldsAreMapped(t *testing.T) {
	for _, tc := range []struct {
		name   string
		domain map[string]accountd.QueryType
		sql    map[string]queryField
	}{
		{"devices", accountd.DeviceQueryFields, deviceQueryFields},
		{"flows", accountd.FlowQueryFields, flowQueryFields},
	} {
		if got, want := slices.Sorted(maps.Keys(tc.sql)), slices.Sorted(maps.Keys(tc.domain)); !slices.Equal(got, want) {
			t.Errorf("%s: mapped fields %v, the domain's %v", tc.name, got, want)
		}
		for name, f := range tc.sql {
			typ := tc.domain[name]
			if (f.kind == fieldTags) != (typ == accountd.QueryTags) || (f.kind == fieldElements) != (typ == accountd.QueryElements) {
				t.Errorf("%s.%s: kind %d for type %d", tc.name, name, f.kind, typ)
			}
		}
	}
}

// No value of a query reaches the SQL text: a hostile value changes only
// the parameters.
func TestQueryValuesAreParameters(t *testing.T) {
	const hostile = `x'); DROP TABLE devices; --`
	for _, dialect := range []string{"sqlite", "postgres"} {
		s := &Store{d: &Dialect{Name: dialect}}
		for _, op := range []string{"$eq", "$ne", "$gt", "$in", "$nin", "$startsWith", "$endsWith", "$contains"} {
			for _, field := range []string{"name", "attributeName", "parentId", "ancestorId"} {
				c := &accountd.QueryCond{Field: field, Op: op, Values: []any{hostile}, CI: true}
				cond, args, err := s.queryCondition(&accountd.Query{Cond: c}, "devices", "app", deviceQueryFields)
				if err != nil || strings.Contains(cond, "DROP") || !slices.Contains(args, any(hostile)) {
					t.Errorf("%s %s %s: %q %v %v", dialect, field, op, cond, args, err)
				}
				if n := strings.Count(cond, "?"); n != len(args) {
					t.Errorf("%s %s %s: %d placeholders for %d parameters in %q", dialect, field, op, n, len(args), cond)
				}
			}
		}
		e := &accountd.QueryCond{Field: "triggers", Op: "$element", Element: &accountd.ElementQuery{Type: hostile, Key: new(string),
			Config: map[string]any{hostile: hostile}}}
		cond, args, err := s.queryCondition(&accountd.Query{Cond: e}, "flows", "app", flowQueryFields)
		if err != nil || strings.Contains(cond, "DROP") || strings.Count(cond, "?") != len(args) {
			t.Errorf("%s triggers: %q %v %v", dialect, cond, args, err)
		}
	}
}
