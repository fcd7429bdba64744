package service

import (
	"runtime"
	"sync"
	"testing"
)

// TestHashLane: work runs on a thread at the hashing priority, as many at
// once as there are workers; after close it runs on the caller's thread.
func TestHashLane(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("thread priorities are set on Linux only")
	}
	l := newHashLane(2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var nices []int
	for range 8 {
		wg.Go(func() {
			l.run(func() {
				n, err := threadPriority()
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				nices = append(nices, n)
				mu.Unlock()
			})
		})
	}
	wg.Wait()
	for _, n := range nices {
		if n < hashNice {
			t.Errorf("hashing ran at nice %d; want %d", n, hashNice)
		}
	}
	if len(nices) != 8 {
		t.Errorf("%d jobs ran of 8", len(nices))
	}
	l.close()
	ran := false
	l.run(func() { ran = true })
	if !ran {
		t.Error("after close, run did not run its job")
	}
}
