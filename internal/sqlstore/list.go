package sqlstore

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"

	"github.com/accountd/accountd"
)

// listSpec says how one collection is listed: the columns selected, the
// FROM ... WHERE ... that picks its rows, and the API's sort and filter
// fields mapped to columns (the only way a caller's words reach a query).
type listSpec struct {
	what    string // for error logs: "listing applications"
	columns string
	from    string // " FROM t WHERE ..." with ? placeholders
	// countFrom, when set, counts the same rows more cheaply than from
	// (without a join that adds columns but no rows), with the same
	// placeholders.
	countFrom string
	args      []any
	sort      map[string]string
	filter    map[string]string
	idCol     string // the tie-breaker, e.g. "a.id"
}

// listPage returns one page of rows, scanned by scan, sorted with the id as
// the tie-breaker in the same direction so that pages never overlap, and
// how many rows match in all. Unknown sort or filter fields are refused
// naming the ones allowed.
//
// It is one query. On the first page no count is asked for: when the
// page is not full it shows every match, so its length is the total; only
// a full first page costs a count query after it. On a later page the
// total rides on every row as an uncorrelated scalar subquery, which both
// databases compute once, off the same index the page is read from in
// order. (COUNT(*) OVER () would read and sort every matching row in full
// before the LIMIT.) Only a page past the end, which has no row to carry
// the total, costs a second query.
func (s *Store) listPage(ctx context.Context, l listSpec, q accountd.ListQuery, scan func(scanner) error) (int, error) {
	order, ok := l.sort[cmpOr(q.SortField, "name")]
	if !ok {
		return 0, accountd.Invalid("sortField", "must be one of %s", strings.Join(sortedKeys(l.sort), ", "))
	}
	dir := " ASC"
	switch q.SortDirection {
	case "", "asc":
	case "desc":
		dir = " DESC"
	default:
		return 0, accountd.Invalid("sortDirection", "must be asc or desc")
	}
	where, countWhere, args := l.from, cmpOr(l.countFrom, l.from), l.args
	if q.FilterField != "" && q.Filter != "" {
		col, ok := l.filter[q.FilterField]
		if !ok {
			return 0, accountd.Invalid("filterField", "must be one of %s", strings.Join(sortedKeys(l.filter), ", "))
		}
		cond := " AND LOWER(" + col + `) LIKE ? ESCAPE '\'`
		where, countWhere = where+cond, countWhere+cond
		args = append(slices.Clip(args), likePattern(q.Filter))
	}
	perPage := q.PerPage
	if perPage <= 0 {
		perPage = accountd.DefaultPerPage
	}
	page := max(q.Page, 0)
	if page > math.MaxInt/perPage {
		return s.count(ctx, l.what, "SELECT COUNT(*)"+countWhere, args...)
	}
	orderBy := " ORDER BY " + order + dir
	if order != l.idCol {
		orderBy += ", " + l.idCol + dir
	}
	first := page == 0
	all := make([]any, 0, 2*len(args)+2)
	query := "SELECT " + l.columns + where + orderBy + " LIMIT ? OFFSET ?"
	if !first {
		all = append(all, args...)
		query = "SELECT " + l.columns + ", (SELECT COUNT(*)" + countWhere + ")" + where + orderBy + " LIMIT ? OFFSET ?"
	}
	all = append(append(all, args...), perPage, page*perPage)
	rows, err := s.query(ctx, query, all...)
	if err != nil {
		return 0, internal(l.what, err)
	}
	defer rows.Close()
	var sc scanner = rows
	ts := &totalScanner{rows: rows}
	if !first {
		sc = ts
	}
	n := 0
	for rows.Next() {
		if err := scan(sc); err != nil {
			return 0, internal(l.what, err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, internal(l.what, err)
	}
	switch {
	case first && n < perPage:
		return n, nil
	case !first && n > 0:
		return ts.total, nil
	}
	rows.Close()
	return s.count(ctx, l.what, "SELECT COUNT(*)"+countWhere, args...)
}

// totalScanner scans a row of a list page: the columns the caller asks for,
// then the total listPage added after them.
type totalScanner struct {
	rows  *sql.Rows
	dest  []any
	total int
}

func (t *totalScanner) Scan(dest ...any) error {
	t.dest = append(append(t.dest[:0], dest...), &t.total)
	return t.rows.Scan(t.dest...)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// count runs a COUNT query.
func (s *Store) count(ctx context.Context, doing, query string, args ...any) (int, error) {
	var n int
	if err := s.queryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, internal(doing, err)
	}
	return n, nil
}
