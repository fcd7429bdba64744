package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// progress draws "label  n/total  rate/s  time left" on one terminal line,
// redrawn at most ten times a second. On anything but a terminal it says
// nothing, so logs and pipes stay clean.
type progress struct {
	w      io.Writer
	label  string
	total  int
	start  time.Time
	last   time.Time
	now    func() time.Time
	drawn  bool
	active bool
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, label: label, total: total, now: time.Now, active: isTerminal(w)}
	p.start = p.now()
	return p
}

// set records that n of total are done.
func (p *progress) set(n int) {
	if !p.active {
		return
	}
	now := p.now()
	if n < p.total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "\r\033[K%s", p.line(n, now))
	p.drawn = true
}

func (p *progress) line(n int, now time.Time) string {
	elapsed := now.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(n) / elapsed
	}
	left := "?"
	if rate > 0 {
		left = time.Duration(float64(p.total-n) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("%s  %d/%d  %.0f/s  %s left", p.label, n, p.total, rate, left)
}

// done ends the line the bar was drawn on.
func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
