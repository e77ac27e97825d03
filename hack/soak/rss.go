package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kubernaut/kubernaut/internal/launcher"
)

// rssSample is one reading of a service's resident set.
type rssSample struct {
	at  time.Time
	pid int
	kib int64
}

// rssSampler reads each service's VmRSS from /proc every interval.
type rssSampler struct {
	mu        sync.Mutex
	samples   map[string][]rssSample
	restarts  map[string]time.Time // last restart by the soak
	sys       *launcher.System
	interval  time.Duration
	sampleErr map[string]string
}

func newRSSSampler(sys *launcher.System, interval time.Duration) *rssSampler {
	return &rssSampler{samples: map[string][]rssSample{}, restarts: map[string]time.Time{}, sys: sys, interval: interval, sampleErr: map[string]string{}}
}

func (r *rssSampler) restarted(service string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.restarts[service] = time.Now()
	r.mu.Unlock()
}

func (r *rssSampler) run(ctx context.Context) {
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		r.sample()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (r *rssSampler) sample() {
	now := time.Now()
	for _, name := range launcher.Services {
		pid := r.sys.Services[name].Pid()
		if pid == 0 || !r.sys.Services[name].Running() {
			continue
		}
		kib, err := vmRSS(pid)
		r.mu.Lock()
		if err != nil {
			r.sampleErr[name] = err.Error()
		} else {
			r.samples[name] = append(r.samples[name], rssSample{at: now, pid: pid, kib: kib})
		}
		r.mu.Unlock()
	}
}

// vmRSS reads VmRSS (KiB) of a process.
func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// rssFigures are one service's figures.
type rssFigures struct {
	service                string
	baseline, last, peak   rssSample
	baselineNote           string
	growthMiB, growthShare float64
	samples                int
	flat                   bool
	restartedAfterWarmup   bool
}

// figures returns, per service, the first sample after warm-up (or, for a service the soak
// restarted, the first sample a warm-up's length after its last restart, when there is one),
// the last sample and the peak after that baseline.
func (r *rssSampler) figures(warmupEnd time.Time, warmup time.Duration, limitShare, floorMiB float64) []rssFigures {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []rssFigures
	for _, name := range launcher.Services {
		ss := r.samples[name]
		f := rssFigures{service: name}
		if len(ss) == 0 {
			f.baselineNote = "no samples: " + r.sampleErr[name]
			out = append(out, f)
			continue
		}
		from := warmupEnd
		if rs, ok := r.restarts[name]; ok && rs.Add(warmup).After(from) {
			from = rs.Add(warmup)
			f.restartedAfterWarmup = true
		}
		var after []rssSample
		for _, s := range ss {
			if !s.at.Before(from) {
				after = append(after, s)
			}
		}
		if f.restartedAfterWarmup && len(after) < 2 {
			// Restarted too late for a warm-up of its own: the samples of the last process only.
			rs := r.restarts[name]
			after = nil
			for _, s := range ss {
				if !s.at.Before(rs) {
					after = append(after, s)
				}
			}
			f.baselineNote = "restarted late: from its restart, no warm-up"
		}
		if len(after) == 0 {
			after = ss[len(ss)-1:]
		}
		f.baseline, f.last, f.peak, f.samples = after[0], after[len(after)-1], after[0], len(after)
		for _, s := range after {
			if s.kib > f.peak.kib {
				f.peak = s
			}
		}
		f.growthMiB = float64(f.last.kib-f.baseline.kib) / 1024
		if f.baseline.kib > 0 {
			f.growthShare = float64(f.last.kib-f.baseline.kib) / float64(f.baseline.kib)
		}
		f.flat = !(f.growthShare > limitShare && f.growthMiB > floorMiB)
		out = append(out, f)
	}
	return out
}

func mib(kib int64) string { return fmt.Sprintf("%.1f", float64(kib)/1024) }
