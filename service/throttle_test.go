package service

import (
	"testing"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/storetest"
)

// The in-memory throttle keeps the contract the stores keep.
func TestMemThrottle(t *testing.T) {
	t.Parallel()
	storetest.RunThrottle(t, func(*testing.T) accountd.ThrottleStore { return newMemThrottle() })
}
