package accountd

import "slices"

// Catalog maps every action the service serves ("me.get",
// "userApiToken.delete") to the scopes that grant it. httpapi/routes.go
// builds it from its table of routes, so the table is the one place scopes
// are declared.
type Catalog map[string][]string

// Allows reports whether a token holding have may perform action.
func (c Catalog) Allows(have []string, action string) bool {
	for _, s := range c[action] {
		if slices.Contains(have, s) {
			return true
		}
	}
	return false
}

// Known reports whether scope grants at least one action we serve.
func (c Catalog) Known(scope string) bool {
	for _, scopes := range c {
		if slices.Contains(scopes, scope) {
			return true
		}
	}
	return false
}

// Covers reports whether every action that want grants is also granted by
// have: a token may only hand out what it holds.
func (c Catalog) Covers(have, want []string) bool {
	for action := range c {
		if c.Allows(want, action) && !c.Allows(have, action) {
			return false
		}
	}
	return true
}

// Scopes lists every scope that grants some action, sorted.
func (c Catalog) Scopes() []string {
	var out []string
	for _, scopes := range c {
		for _, s := range scopes {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}
