package benchkit

import (
	"slices"
	"testing"
)

func TestFlagsBackends(t *testing.T) {
	tests := []struct {
		args []string
		want []string // nil: an error
	}{
		{nil, []string{"sqlite", "postgres"}},
		{[]string{"--backends", "postgres"}, []string{"postgres"}},
		{[]string{"--backends", " postgres, sqlite,postgres,"}, []string{"postgres", "sqlite"}},
		{[]string{"--backends", ","}, nil},
		{[]string{"--backends", "mysql"}, nil},
		{[]string{"extra"}, nil},
	}
	for _, tt := range tests {
		fs := NewFlags("test")
		err := fs.Parse(tt.args)
		switch {
		case tt.want == nil && err == nil:
			t.Errorf("%q: no error, backends %q", tt.args, fs.Backends)
		case tt.want != nil && err != nil:
			t.Errorf("%q: %v", tt.args, err)
		case tt.want != nil && !slices.Equal(fs.Backends, tt.want):
			t.Errorf("%q: backends %q, want %q", tt.args, fs.Backends, tt.want)
		}
	}
}
