// Package jsonpattern runs the "pattern" keywords of accountd's schemas and
// of the reference's on Go's regexp package. JSON Schema patterns are
// ECMAScript regular expressions; RE2 runs most of the ones we meet, but not
// the reference's password rule, which is written with lookaheads. That one
// pattern is recognised and evaluated in code with the same meaning, so the
// schemas keep the reference's exact text.
package jsonpattern

import (
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/accountd/accountd"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Password is the reference's password pattern, verbatim.
const Password = `^(?=.*[A-Z])(?=.*[^A-Za-z0-9])(?=.*[0-9])(?=.*[a-z]).{12,}$`

// passwordMinRunes is the pattern's ".{12,}", tied to the text above rather
// than to accountd.MinPasswordLen so that the two cannot drift apart
// unnoticed: the schema says 12 whatever the service's own limit is.
const passwordMinRunes = 12

// Compile is a jsonschema.RegexpEngine: pass it to
// (*jsonschema.Compiler).UseRegexpEngine. A pattern RE2 cannot run is an
// error, so a schema with one fails to compile instead of half-working.
func Compile(pattern string) (jsonschema.Regexp, error) {
	if pattern == Password {
		return passwordRule{}, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("jsonpattern: Go cannot run the pattern %q: %w", pattern, err)
	}
	return re, nil
}

var _ jsonschema.RegexpEngine = Compile

type passwordRule struct{}

func (passwordRule) String() string { return Password }

func (passwordRule) MatchString(s string) bool {
	return utf8.RuneCountInString(s) >= passwordMinRunes && accountd.PasswordMeetsRule(s)
}
