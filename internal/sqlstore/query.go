package sqlstore

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/accountd/accountd"
)

// An advanced query (accountd.ParseQuery) becomes one SQL condition here.
// Every field reaches the SQL through the fixed expression its table gives
// it below, and every value the caller sent as a parameter; nothing the
// caller wrote is put into the SQL text. Text matching uses substr, instr
// and strpos, not LIKE, so %, _ and \ in a value are plain characters.
//
// The platform's semantics, as Mongo has them, are kept where accountd
// keeps the field: a field accountd does not keep (deletedAt,
// connectionStatus, ...) is null on every row, so only null matches it; a
// field of several values (a device's attribute names, its ancestors)
// matches when one of them does, and $ne and $nin when none does.

// fieldKind says how a field is read from a row.
type fieldKind int

const (
	fieldColumn    fieldKind = iota // a column that always holds a value
	fieldBlankNull                  // a text column where '' stands for none
	fieldNull                       // not kept: null on every row
	fieldSet                        // values of a JSON array in the row's data
	fieldAncestors                  // the devices up the parentId chain
	fieldTags                       // the device_tags rows
	fieldElements                   // objects of a JSON array in the row's data
)

// queryField is one field of a table's advanced query: its kind, and the
// column, or for the JSON arrays the property of data, and for fieldSet
// the property of each element ("" for the element itself).
type queryField struct {
	kind     fieldKind
	column   string
	elemProp string
}

// deviceQueryFields and flowQueryFields map every field of
// accountd.DeviceQueryFields and accountd.FlowQueryFields.
var (
	deviceQueryFields = map[string]queryField{
		"id":                {kind: fieldColumn, column: "devices.id"},
		"creationDate":      {kind: fieldColumn, column: "devices.created_at"},
		"lastUpdated":       {kind: fieldColumn, column: "devices.updated_at"},
		"name":              {kind: fieldColumn, column: "devices.name"},
		"deviceClass":       {kind: fieldColumn, column: "devices.device_class"},
		"parentId":          {kind: fieldBlankNull, column: "devices.parent_id"},
		"gatewayId":         {kind: fieldBlankNull, column: "devices.gateway_id"},
		"ancestorId":        {kind: fieldAncestors},
		"attributeName":     {kind: fieldSet, column: "attributes", elemProp: "name"},
		"tags":              {kind: fieldTags},
		"deletedAt":         {kind: fieldNull},
		"disconnectedAt":    {kind: fieldNull},
		"connectedAt":       {kind: fieldNull},
		"connectionStatus":  {kind: fieldNull},
		"experienceUserId":  {kind: fieldNull},
		"experienceGroupId": {kind: fieldNull},
	}
	flowQueryFields = map[string]queryField{
		"id":                 {kind: fieldColumn, column: "flows.id"},
		"creationDate":       {kind: fieldColumn, column: "flows.created_at"},
		"lastUpdated":        {kind: fieldColumn, column: "flows.updated_at"},
		"name":               {kind: fieldColumn, column: "flows.name"},
		"flowClass":          {kind: fieldColumn, column: "flows.flow_class"},
		"enabled":            {kind: fieldColumn, column: "flows.enabled"},
		"defaultVersion":     {kind: fieldNull},
		"customNodeSupports": {kind: fieldSet, column: "customNodeSupports"},
		"triggers":           {kind: fieldElements, column: "triggers"},
		"nodes":              {kind: fieldElements, column: "nodes"},
	}
)

// queryBuilder writes one query's condition and collects its parameters.
type queryBuilder struct {
	s      *Store
	table  string // "devices" or "flows"
	appID  string // the application listed, for the ancestor lookups
	fields map[string]queryField
	args   []any
}

const (
	sqlTrue  = "1 = 1"
	sqlFalse = "1 = 0"
)

// queryCondition returns the SQL condition of q over table's rows, and its
// parameters in order.
func (s *Store) queryCondition(q *accountd.Query, table, appID string, fields map[string]queryField) (string, []any, error) {
	b := &queryBuilder{s: s, table: table, appID: appID, fields: fields}
	cond, err := b.node(q)
	return cond, b.args, err
}

func (b *queryBuilder) node(q *accountd.Query) (string, error) {
	if q.Cond != nil {
		return b.cond(q.Cond)
	}
	parts := make([]string, 0, len(q.Items))
	for _, it := range q.Items {
		p, err := b.node(it)
		if err != nil {
			return "", err
		}
		parts = append(parts, "("+p+")")
	}
	switch {
	case len(parts) == 0:
		return sqlTrue, nil
	case q.Op == "$and":
		return strings.Join(parts, " AND "), nil
	case q.Op == "$or":
		return strings.Join(parts, " OR "), nil
	case q.Op == "$nor":
		return "NOT (" + strings.Join(parts, " OR ") + ")", nil
	}
	return "", accountd.Internal(errors.New("sqlstore: query group " + q.Op))
}

func (b *queryBuilder) cond(c *accountd.QueryCond) (string, error) {
	f, ok := b.fields[c.Field]
	if !ok {
		return "", accountd.Internal(errors.New("sqlstore: query field " + c.Field + " has no column"))
	}
	switch f.kind {
	case fieldTags:
		return b.tags(c), nil
	case fieldElements:
		return b.element(f, c), nil
	}
	if len(c.Values) == 1 && c.Values[0] == nil {
		return b.null(f, c.Op), nil
	}
	negative := c.Op == "$ne" || c.Op == "$nin"
	switch f.kind {
	case fieldColumn:
		return b.compare(f.column, c), nil
	case fieldBlankNull:
		if negative {
			return b.compare(f.column, c), nil
		}
		return f.column + " <> '' AND " + b.compare(f.column, c), nil
	case fieldNull:
		if negative {
			return sqlTrue, nil
		}
		return sqlFalse, nil
	case fieldSet:
		from, value := b.jsonArray(f.column, f.elemProp)
		if negative {
			return "NOT EXISTS (SELECT 1 FROM " + from + " WHERE " + b.compare(value, positive(c)) + ")", nil
		}
		return "EXISTS (SELECT 1 FROM " + from + " WHERE " + b.compare(value, c) + ")", nil
	case fieldAncestors:
		if negative {
			return b.table + ".id NOT IN (" + b.descendants(positive(c)) + ")", nil
		}
		return b.table + ".id IN (" + b.descendants(c) + ")", nil
	}
	return "", accountd.Internal(errors.New("sqlstore: query field kind"))
}

// positive turns $ne into $eq and $nin into $in: a field of several
// values matches $ne when none of them matches $eq.
func positive(c *accountd.QueryCond) *accountd.QueryCond {
	p := *c
	p.Op = map[string]string{"$ne": "$eq", "$nin": "$in"}[c.Op]
	return &p
}

// null is a comparison with null: a field is null when it holds nothing.
// $gte and $lte match what $eq does, $gt and $lt nothing.
func (b *queryBuilder) null(f queryField, op string) string {
	var isNull string
	switch f.kind {
	case fieldColumn:
		isNull = sqlFalse
	case fieldBlankNull:
		isNull = f.column + " = ''"
	case fieldNull:
		isNull = sqlTrue
	case fieldSet:
		from, _ := b.jsonArray(f.column, f.elemProp)
		isNull = "NOT EXISTS (SELECT 1 FROM " + from + ")"
	case fieldAncestors:
		isNull = b.table + ".parent_id = ''"
	}
	switch op {
	case "$eq", "$gte", "$lte":
		return isNull
	case "$ne":
		return "NOT (" + isNull + ")"
	}
	return sqlFalse
}

// param adds a parameter and returns its placeholder; text compared with
// functions is cast, so that PostgreSQL knows its type.
func (b *queryBuilder) param(v any) string {
	b.args = append(b.args, v)
	if _, ok := v.(string); ok {
		return "CAST(? AS TEXT)"
	}
	return "?"
}

// compare is c's operator on expr (never null), its values all non-null.
func (b *queryBuilder) compare(expr string, c *accountd.QueryCond) string {
	val := func(v any) string {
		if c.CI {
			return "LOWER(" + b.param(v) + ")"
		}
		return b.param(v)
	}
	if c.CI {
		expr = "LOWER(" + expr + ")"
	}
	switch c.Op {
	case "$eq":
		return expr + " = " + val(c.Values[0])
	case "$ne":
		return expr + " <> " + val(c.Values[0])
	case "$gt":
		return expr + " > " + val(c.Values[0])
	case "$lt":
		return expr + " < " + val(c.Values[0])
	case "$gte":
		return expr + " >= " + val(c.Values[0])
	case "$lte":
		return expr + " <= " + val(c.Values[0])
	case "$in", "$nin":
		if len(c.Values) == 0 {
			if c.Op == "$in" {
				return sqlFalse
			}
			return sqlTrue
		}
		list := make([]string, len(c.Values))
		for i, v := range c.Values {
			list[i] = val(v)
		}
		not := ""
		if c.Op == "$nin" {
			not = "NOT "
		}
		return expr + " " + not + "IN (" + strings.Join(list, ", ") + ")"
	case "$startsWith":
		return "substr(" + expr + ", 1, length(" + val(c.Values[0]) + ")) = " + val(c.Values[0])
	case "$endsWith":
		return "substr(" + expr + ", length(" + expr + ") - length(" + val(c.Values[0]) + ") + 1) = " + val(c.Values[0])
	case "$contains":
		if b.s.d.Name == "postgres" {
			return "strpos(" + expr + ", " + val(c.Values[0]) + ") > 0"
		}
		return "instr(" + expr + ", " + val(c.Values[0]) + ") > 0"
	}
	return sqlFalse // ParseQuery makes no other operator
}

// jsonArray returns the FROM item that lists the elements of the array
// kept as prop of the row's data (none when it holds no array) and the
// expression of each element's elemProp, or of the element itself (as
// text when it is a string) when elemProp is "". prop and elemProp are
// ours, never the caller's.
func (b *queryBuilder) jsonArray(prop, elemProp string) (from, value string) {
	data := b.table + ".data"
	if b.s.d.Name == "postgres" {
		doc := "CAST(NULLIF(" + data + ", '') AS JSONB)"
		from = "jsonb_array_elements(CASE WHEN jsonb_typeof(" + doc + " -> '" + prop + "') = 'array' THEN " + doc + " -> '" + prop +
			"' ELSE CAST('[]' AS JSONB) END) e"
		if elemProp == "" {
			return from, "(e #>> '{}')"
		}
		return from, "(e ->> '" + elemProp + "')"
	}
	from = "json_each(CASE WHEN json_valid(" + data + ") AND json_type(" + data + ", '$." + prop + "') = 'array' THEN json_extract(" + data +
		", '$." + prop + "') ELSE '[]' END) e"
	if elemProp == "" {
		return from, "(CASE WHEN e.type = 'text' THEN e.value END)"
	}
	return from, "(CASE WHEN e.type = 'object' THEN json_extract(e.value, '$." + elemProp + "') END)"
}

// descendants selects the devices of the application one of whose
// ancestors meets c (c's operator on the parentId of a device below it),
// walking down the parentId links.
func (b *queryBuilder) descendants(c *accountd.QueryCond) string {
	sub := "WITH RECURSIVE sub(id) AS (SELECT c.id FROM devices c WHERE c.application_id = " + b.param(b.appID) +
		" AND c.parent_id <> '' AND " + b.compare("c.parent_id", c)
	return sub + " UNION SELECT c.id FROM devices c JOIN sub ON c.parent_id = sub.id WHERE c.application_id = " + b.param(b.appID) +
		") SELECT id FROM sub"
}

// tags is a tags condition: each tag query matched by one tag row of the
// device (any row for an empty list), negated for $ne.
func (b *queryBuilder) tags(c *accountd.QueryCond) string {
	parts := []string{}
	for _, t := range c.Tags {
		where := "t.device_id = devices.id"
		for _, m := range []struct {
			col   string
			match accountd.StringMatch
		}{{"t.key", t.Key}, {"t.value", t.Value}} {
			if m.match.Any {
				continue
			}
			op := "$in"
			if m.match.Not {
				op = "$nin"
			}
			vals := make([]any, len(m.match.In))
			for i, v := range m.match.In {
				vals[i] = v
			}
			where += " AND " + b.compare(m.col, &accountd.QueryCond{Op: op, Values: vals})
		}
		parts = append(parts, "EXISTS (SELECT 1 FROM device_tags t WHERE "+where+")")
	}
	cond := sqlTrue
	if len(parts) > 0 {
		cond = strings.Join(parts, " AND ")
	}
	if c.Not {
		return "NOT (" + cond + ")"
	}
	return cond
}

// element is a triggers or nodes condition: one element of the array has
// the type, the key when given and each config property given, with the
// same JSON value; negated for $ne.
func (b *queryBuilder) element(f queryField, c *accountd.QueryCond) string {
	e := c.Element
	from, _ := b.jsonArray(f.column, "")
	var conds []string
	pg := b.s.d.Name == "postgres"
	prop := func(name string) string {
		if pg {
			return "(e ->> '" + name + "')"
		}
		return "(CASE WHEN e.type = 'object' THEN json_extract(e.value, '$." + name + "') END)"
	}
	conds = append(conds, prop("type")+" = "+b.param(e.Type))
	if e.Key != nil {
		conds = append(conds, prop("key")+" = "+b.param(*e.Key))
	}
	for _, k := range slices.Sorted(maps.Keys(e.Config)) {
		v := e.Config[k]
		if pg {
			text, _ := json.Marshal(v)
			conds = append(conds, "(e -> 'config' -> "+b.param(k)+") = CAST("+b.param(string(text))+" AS JSONB)")
			continue
		}
		keyParam := b.param(k)
		var typed string
		switch x := v.(type) {
		case nil:
			typed = "c.type = 'null'"
		case bool:
			typed = "c.type = 'false'"
			if x {
				typed = "c.type = 'true'"
			}
		case string:
			typed = "c.type = 'text' AND c.value = " + b.param(x)
		case json.Number:
			f, _ := x.Float64()
			typed = "c.type IN ('integer', 'real') AND c.value = " + b.param(f)
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM json_each(CASE WHEN e.type = 'object' THEN e.value ELSE '{}' END, '$.config') c WHERE c.key = "+
			keyParam+" AND "+typed+")")
	}
	cond := "EXISTS (SELECT 1 FROM " + from + " WHERE " + strings.Join(conds, " AND ") + ")"
	if c.Not {
		return "NOT " + cond
	}
	return cond
}
