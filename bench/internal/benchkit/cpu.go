package benchkit

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// CPUUsage is CPU time (user+system) used by the server under test, by the
// PostgreSQL server's processes and by this load generator. A field is
// negative when it could not be read (no /proc, say).
type CPUUsage struct {
	Server, DB, Client time.Duration
}

// Sub is the CPU time used between sample b and sample a; a field is
// negative if it is in either.
func (a CPUUsage) Sub(b CPUUsage) CPUUsage {
	d := func(x, y time.Duration) time.Duration {
		if x < 0 || y < 0 {
			return -1
		}
		return x - y
	}
	return CPUUsage{Server: d(a.Server, b.Server), DB: d(a.DB, b.DB), Client: d(a.Client, b.Client)}
}

// ClockTick is USER_HZ, the unit of /proc/PID/stat times; 100 on every
// Linux the benchmark is meant for.
const ClockTick = 10 * time.Millisecond

// procCPU reads utime+stime of one process and its name, from
// /proc/PID/stat.
func procCPU(dir string) (name string, cpu time.Duration, ok bool) {
	raw, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return "", 0, false
	}
	// pid (comm) state ppid ... field 14 utime, 15 stime; comm may hold
	// spaces and parentheses, so split after the last ')'.
	open, end := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
	if open < 0 || end < open {
		return "", 0, false
	}
	fields := bytes.Fields(raw[end+1:])
	if len(fields) < 13 {
		return "", 0, false
	}
	utime, err1 := strconv.ParseInt(string(fields[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(fields[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, false
	}
	return string(raw[open+1 : end]), time.Duration(utime+stime) * ClockTick, true
}

// PidCPU is the CPU time of one process, or -1.
func PidCPU(pid int) time.Duration {
	_, cpu, ok := procCPU(filepath.Join("/proc", strconv.Itoa(pid)))
	if !ok {
		return -1
	}
	return cpu
}

// PostgresCPU sums the CPU time of the PostgreSQL backend processes
// connected to database db: the work done for the benchmark's requests,
// and not what other users of the same cluster make it do. (Shared
// processes such as the WAL writer and the checkpointer are left out.)
// Backends that exit during the window take their time with them; the
// pool's connections stay open through a run, so the sum is close.
func PostgresCPU(db string) time.Duration {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil || len(dirs) == 0 {
		return -1
	}
	var total time.Duration
	for _, dir := range dirs {
		name, cpu, ok := procCPU(dir)
		if !ok || name != "postgres" {
			continue
		}
		// A backend's title: "postgres: 15/main: USER DB HOST(PORT) STATE".
		title, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err == nil && bytes.Contains(title, []byte(" "+db+" ")) {
			total += cpu
		}
	}
	return total
}

// SelfCPU is this process's CPU time: during a run, the load generator's.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
