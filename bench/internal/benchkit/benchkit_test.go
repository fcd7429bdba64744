package benchkit

import (
	"os"
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

func TestPidMemoryReadsOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	m := PidMemory(os.Getpid())
	if m.RSS <= 0 || m.HWM < m.RSS {
		t.Fatalf("PidMemory(self) = %+v, want 0 < RSS <= HWM", m)
	}
	if got := PidMemory(-1); got.RSS != -1 || got.HWM != -1 {
		t.Errorf("PidMemory(-1) = %+v, want both -1", got)
	}
	if got, want := MiB(1536), "1.5 MiB"; got != want {
		t.Errorf("MiB(1536) = %q, want %q", got, want)
	}
}
