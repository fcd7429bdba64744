package accountd

import (
	"context"
	"time"
)

// ThrottleCounter is one count of attempts at guessing a secret (per
// account, per address, per account and address) an attempt is checked
// and counted against. Keys are opaque to the store.
type ThrottleCounter struct {
	Key   string
	Limit int // attempts a window allows; at least 1
	// Exempt counters are neither checked nor counted while the attempt's
	// trust mark lasts.
	Exempt bool
}

// ThrottleAttempt is one attempt to reserve.
type ThrottleAttempt struct {
	Counters []ThrottleCounter
	Trust    string        // key of the trust mark exempting Exempt counters; "" for none
	Window   time.Duration // a counter counts from its first attempt for this long
	At       time.Time
}

// ThrottleCount is a counter an attempt was counted on, and the start of
// the window it was counted in.
type ThrottleCount struct {
	Key   string
	Start time.Time
}

// ThrottleEnd gives back a reserved attempt and, after a success, clears
// counters and sets a trust mark.
type ThrottleEnd struct {
	// Release takes the attempt off the counters it was counted on; a
	// counter whose window has started again since keeps its count.
	Release []ThrottleCount
	Clear   []string  // counters to delete outright
	Trust   string    // trust mark to set; "" for none
	At      time.Time // when the trust mark starts
	Until   time.Time // when it ends
}

// ThrottleStore keeps failed-attempt counters where every instance using
// the database sees them, so that guesses spread over instances are
// counted together. service keeps the same state in memory when a single
// instance owns the database (SQLite).
type ThrottleStore interface {
	// ReserveThrottle counts the attempt on every counter at once, unless
	// one of them has reached its limit within its window: then it counts
	// it on none and returns how long until the last such window ends.
	// Concurrent reservations are serialised, so of N racing attempts at
	// most a counter's limit are counted and let through. It returns the
	// counters it counted the attempt on, sorted by key (Exempt counters
	// are skipped while the trust mark lasts).
	ReserveThrottle(ctx context.Context, a ThrottleAttempt) (counted []ThrottleCount, wait time.Duration, err error)
	// EndThrottle applies e in one transaction.
	EndThrottle(ctx context.Context, e ThrottleEnd) error
	// PruneThrottle removes counters whose window ended and trust marks
	// that lapsed by now, through an index rather than a scan, and says
	// how many went.
	PruneThrottle(ctx context.Context, now time.Time) (int, error)
}
