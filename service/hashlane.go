package service

import (
	"runtime"
	"sync"
)

// Password hashing runs on OS threads of its own at a lower scheduling
// priority (nice hashNice), so that when the machine's CPUs are contended
// (a login flood while other requests are served, with the database or
// other processes beside) the kernel gives the threads serving other
// requests the CPU first. The concurrency bound (hashSem) still decides
// how many hashes run at once; the lane only decides where: each of its
// workers holds a thread for life (runtime.LockOSThread, never unlocked),
// so a lowered priority never reaches a thread that goes back to Go's
// pool (and the runtime makes new threads from a template thread, not
// from a locked one, so none inherits it); when the lane stops, the
// workers return and their threads end with them.
type hashLane struct {
	jobs     chan func()
	stop     chan struct{}
	stopOnce sync.Once
}

// hashNice is the nice value of hashing threads: lower priority than the
// process's others (0 by default), within what an unprivileged process may
// set.
const hashNice = 10

func newHashLane(workers int) *hashLane {
	l := &hashLane{jobs: make(chan func()), stop: make(chan struct{})}
	for range workers {
		go l.work()
	}
	return l
}

func (l *hashLane) work() {
	runtime.LockOSThread()
	// no UnlockOSThread: the thread ends with this goroutine
	lowerThreadPriority(hashNice)
	for {
		select {
		case job := <-l.jobs:
			job()
		case <-l.stop:
			return
		}
	}
}

// run runs f on a hashing thread and returns when it has; once the lane
// has stopped, on the caller's own.
func (l *hashLane) run(f func()) {
	done := make(chan struct{})
	select {
	case l.jobs <- func() { defer close(done); f() }:
		<-done
	case <-l.stop:
		f()
	}
}

func (l *hashLane) close() { l.stopOnce.Do(func() { close(l.stop) }) }
