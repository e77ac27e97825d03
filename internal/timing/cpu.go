package timing

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ChildCPU is the CPU time (user and system) used so far by the child process of this process
// whose command name is comm, for example the kube-apiserver a test or the demo started, so that
// a benchmark can report what its work cost that process. It reads /proc (Linux).
func ChildCPU(comm string) (time.Duration, error) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	self := strconv.Itoa(os.Getpid())
	for _, d := range dirs {
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid … utime stime: fields 14 and 15, counted after the comm, which
		// may itself hold spaces and parentheses.
		s := string(stat)
		end := strings.LastIndexByte(s, ')')
		open := strings.IndexByte(s, '(')
		if open < 0 || end < open || s[open+1:end] != comm {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 13 || f[1] != self {
			continue
		}
		utime, err1 := strconv.ParseInt(f[11], 10, 64)
		stime, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, fmt.Errorf("reading the CPU time of %s (pid %s): %q", comm, d.Name(), s)
		}
		return time.Duration(utime+stime) * time.Second / 100, nil // USER_HZ is 100 on Linux
	}
	return 0, fmt.Errorf("no child process named %s", comm)
}
