package benchkit

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// Memory is a process's resident set from /proc/PID/status, in KiB: RSS
// now (VmRSS) and its high-water mark (VmHWM). Both are -1 when they could
// not be read (no /proc, or the process is gone).
type Memory struct {
	RSS, HWM int64
}

// PidMemory reads the resident set of process pid.
func PidMemory(pid int) Memory {
	m := Memory{RSS: -1, HWM: -1}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return m
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		default:
			continue
		}
		// "  123456 kB"
		if f := strings.Fields(v); len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				*dst = n
			}
		}
	}
	return m
}

// MiB formats a KiB figure as MiB with one decimal, or "n/a" if negative.
func MiB(kib int64) string {
	if kib < 0 {
		return "n/a"
	}
	return strconv.FormatFloat(float64(kib)/1024, 'f', 1, 64) + " MiB"
}
