package datastorage_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times on Linux.
const clockTicks = 100

// cpuTime is the CPU time used so far by this process and every PostgreSQL server process:
// on a machine with few cores it is what limits throughput, and unlike wall-clock rates it is
// hardly changed by other work on the machine.
func cpuTime() time.Duration {
	var ticks int64
	add := func(stat string) {
		raw, err := os.ReadFile(stat)
		if err != nil {
			return
		}
		s := string(raw)
		end := strings.LastIndexByte(s, ')')
		if end < 0 {
			return
		}
		if !strings.HasSuffix(stat, "self/stat") && !strings.Contains(s[:end], "(postgres") {
			return
		}
		f := strings.Fields(s[end+1:])
		// fields after the command: state(0) ... utime(11) stime(12)
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + st
		}
	}
	add("/proc/self/stat")
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	self := strconv.Itoa(os.Getpid())
	for _, p := range stats {
		if filepath.Base(filepath.Dir(p)) != self {
			add(p)
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}
