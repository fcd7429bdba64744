package jsonpattern

import (
	"regexp"
	"testing"
)

func TestPasswordRule(t *testing.T) {
	re, err := Compile(Password)
	if err != nil {
		t.Fatal(err)
	}
	if re.String() != Password {
		t.Errorf("String() = %q, want the pattern", re.String())
	}
	for _, tc := range []struct {
		name, in string
		want     bool
	}{
		{"all four classes", "Correct-Horse9", true},
		{"exactly twelve", "Abcdefgh12!x", true},
		{"eleven", "Abcdefg12!x", false},
		{"no upper", "correct-horse9", false},
		{"no lower", "CORRECT-HORSE9", false},
		{"no digit", "Correct-Horse!", false},
		{"no symbol", "CorrectHorse99", false},
		{"non-ASCII counts as a symbol", "Correcthorse9é", true},
		{"runes, not bytes", "Aé9aéééééééé", true},
		{"too few runes though enough bytes", "Aé9aééééééé", false},
		{"newline breaks the dot", "Correct-Horse9\n", false},
		{"carriage return breaks the dot", "Correct\rHorse9", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := re.MatchString(tc.in); got != tc.want {
				t.Errorf("MatchString(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestOtherPatternsUseGo(t *testing.T) {
	const id = `^[A-Fa-f\d]{24}$`
	re, err := Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := re.(*regexp.Regexp); !ok {
		t.Errorf("Compile(%q) = %T, want a *regexp.Regexp", id, re)
	}
	if !re.MatchString("575ec7417ae143cd83dc4a95") || re.MatchString("575ec7417ae143cd83dc4a9") {
		t.Errorf("the id pattern does not behave")
	}
}

func TestUnsupportedPatternIsAnError(t *testing.T) {
	// Any lookahead other than the password rule's exact text.
	if _, err := Compile(`^(?=.*[A-Z]).{8,}$`); err == nil {
		t.Error("Compile of a lookahead pattern succeeded, want an error")
	}
}
