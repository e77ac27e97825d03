// Package loadtest drives an operation from many goroutines for benchmarks, and sums the
// results of several rounds, so that a measured path and its ceiling can be run in alternating
// short rounds under the same machine load.
package loadtest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Result is what one or more rounds measured.
type Result struct {
	// N is the number of calls.
	N int
	// Calls is free for the caller to count something per round (API requests, say).
	Calls int
	// Elapsed is the wall-clock time of the rounds.
	Elapsed time.Duration
	// CPU is the CPU time read from Run's clock over the rounds (zero without a clock).
	CPU time.Duration
	// Latencies holds one duration per call.
	Latencies []time.Duration
}

// Add sums another round into r.
func (r *Result) Add(o Result) {
	r.N += o.N
	r.Calls += o.Calls
	r.Elapsed += o.Elapsed
	r.CPU += o.CPU
	r.Latencies = append(r.Latencies, o.Latencies...)
}

// Rate is calls per second.
func (r *Result) Rate() float64 { return float64(r.N) / r.Elapsed.Seconds() }

// Percentile is the p-quantile (0..1) of the latencies, in milliseconds.
func (r *Result) Percentile(p float64) float64 {
	if len(r.Latencies) == 0 {
		return 0
	}
	slices.Sort(r.Latencies)
	return float64(r.Latencies[int(p*float64(len(r.Latencies)-1))].Microseconds()) / 1000
}

// CPUPerOp is the CPU time per call, in microseconds.
func (r *Result) CPUPerOp() float64 { return float64(r.CPU.Microseconds()) / float64(r.N) }

// Run calls op n times from workers goroutines and fails tb on the first error. cpu, when not
// nil, is a CPU-time clock read before and after.
func Run(tb testing.TB, workers, n int, op func() error, cpu func() time.Duration) Result {
	tb.Helper()
	var (
		next   atomic.Int64
		mu     sync.Mutex
		out    = Result{N: n, Latencies: make([]time.Duration, 0, n)}
		wg     sync.WaitGroup
		failed atomic.Value
		cpu0   time.Duration
	)
	if cpu != nil {
		cpu0 = cpu()
	}
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, n/workers+1)
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				if err := op(); err != nil {
					failed.Store(err)
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			out.Latencies = append(out.Latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.Elapsed = time.Since(start)
	if cpu != nil {
		out.CPU = cpu() - cpu0
	}
	if err, _ := failed.Load().(error); err != nil {
		tb.Fatal(err)
	}
	return out
}
