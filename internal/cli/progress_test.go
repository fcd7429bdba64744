package cli

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out strings.Builder
	p := &progress{w: &out, label: "importing users", total: 1000, start: start, active: true}
	now := start.Add(2 * time.Second)
	p.now = func() time.Time { return now }
	p.set(250)
	if got, want := out.String(), "\r\033[Kimporting users  250/1000  125/s  6s left"; got != want {
		t.Errorf("progress = %q, want %q", got, want)
	}
	out.Reset()
	now = now.Add(10 * time.Millisecond)
	p.set(260) // within 100 ms of the last draw: not redrawn
	if out.Len() != 0 {
		t.Errorf("redrawn within 100 ms: %q", out.String())
	}
	p.set(1000) // the last one always
	p.done()
	if !strings.Contains(out.String(), "1000/1000") || !strings.HasSuffix(out.String(), "\n") {
		t.Errorf("final draw = %q", out.String())
	}

	out.Reset()
	quiet := newProgress(&out, "x", 10) // not a terminal
	quiet.set(5)
	quiet.done()
	if out.Len() != 0 {
		t.Errorf("drew on a non-terminal: %q", out.String())
	}
}
