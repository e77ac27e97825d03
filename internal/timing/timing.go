// Package timing holds what the demo, the soak and the benchmarks share to report time: progress
// lines stamped with the time since start, and percentiles of durations.
package timing

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Clock prints lines prefixed with the time since Start.
type Clock struct {
	mu    sync.Mutex
	start time.Time
	w     io.Writer
}

// NewClock starts a clock that writes to w.
func NewClock(w io.Writer) *Clock { return &Clock{start: time.Now(), w: w} }

// Printf prints one stamped line.
func (c *Clock) Printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, "[%6.1fs] %s\n", time.Since(c.start).Seconds(), fmt.Sprintf(format, args...))
}

// Write makes the clock an io.Writer for progress lines (the launcher's): each line is stamped.
func (c *Clock) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		c.Printf("%s", line)
	}
	return len(p), nil
}

// Percentile is the nearest-rank percentile p (0 < p ≤ 1) of ds; 0 for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}
