package gateway_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times on Linux.
const clockTicks = 100

// cpuTime is the CPU time used so far by this test process (gateway, clients) and the API server
// and etcd it started: unlike a wall-clock rate, it is hardly changed by other work on a shared
// machine, and on a machine with few cores it is what bounds throughput.
func cpuTime() time.Duration {
	self := strconv.Itoa(os.Getpid())
	var ticks int64
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range append(stats, "/proc/self/stat") {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(raw)
		end := strings.LastIndexByte(s, ')')
		if end < 0 {
			continue
		}
		f := strings.Fields(s[end+1:]) // state(0) ppid(1) … utime(11) stime(12)
		if len(f) <= 12 {
			continue
		}
		child := f[1] == self && (strings.Contains(s[:end], "(kube-apiserver") || strings.Contains(s[:end], "(etcd"))
		if !child && p != "/proc/self/stat" {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	return time.Duration(ticks) * time.Second / clockTicks
}
