package service

import "golang.org/x/sys/unix"

// lowerThreadPriority sets the nice value of the calling thread (Linux
// applies PRIO_PROCESS with a thread id to that thread alone). Failing is
// harmless: hashing then runs at the process's priority.
func lowerThreadPriority(nice int) {
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice)
}

// threadPriority is the nice value of the calling thread, for tests.
func threadPriority() (int, error) {
	// getpriority(2) returns 20 - nice
	p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	return 20 - p, err
}
