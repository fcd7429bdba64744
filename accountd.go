// Package accountd is the domain of the accountd user-account service: its
// types, their invariants, the Store interface that persistence implements,
// and the error codes every layer shares. It imports nothing of ours.
package accountd

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"time"
)

// NewID returns a 24-hex-character id: four bytes of seconds since the epoch
// followed by eight random bytes, so ids sort roughly by creation time, as the
// reference API's ids do.
func NewID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
	if _, err := rand.Read(b[4:]); err != nil {
		panic("accountd: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

var idPattern = regexp.MustCompile(`^[A-Fa-f0-9]{24}$`)

// ValidID reports whether s has the form of an id: 24 hex characters.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// TimeFormat is how every timestamp crosses the wire: ISO-8601 in UTC with
// milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime renders t in TimeFormat.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Millis truncates t to the millisecond, the precision every store keeps.
func Millis(t time.Time) time.Time { return t.Truncate(time.Millisecond) }
