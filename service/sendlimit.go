package service

import (
	"fmt"
	"sync"
	"time"

	"github.com/accountd/accountd"
)

// verifyResendEvery is how often a user may ask for another verification
// message: the endpoint sends mail, so without a limit a user (or a stolen
// token) could flood the address.
const verifyResendEvery = time.Minute

// resendLimited is the answer to a request for another message within
// verifyResendEvery of the last: it says what the limit is, since nothing
// failed.
func resendLimited(wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &accountd.Error{
		Code:       accountd.CodeTooManyRequests,
		Message:    fmt.Sprintf("verification messages are sent at most one a minute; try again in %d seconds", secs),
		RetryAfter: time.Duration(secs) * time.Second,
	}
}

// sendLimit remembers when each user was last sent a message.
type sendLimit struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func newSendLimit() *sendLimit { return &sendLimit{last: map[string]time.Time{}} }

// take reports how long userID must wait, or records a send and returns 0.
func (l *sendLimit) take(userID string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if at, ok := l.last[userID]; ok && now.Sub(at) < verifyResendEvery {
		return verifyResendEvery - now.Sub(at)
	}
	l.last[userID] = now
	return 0
}

func (l *sendLimit) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, at := range l.last {
		if now.Sub(at) >= verifyResendEvery {
			delete(l.last, id)
		}
	}
}
