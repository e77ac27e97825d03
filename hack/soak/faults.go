package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
)

// faultRecord is one injected fault, as printed at the end.
type faultRecord struct {
	name       string
	at, until  time.Duration // since posting started
	detail     string
	err        error
	landed     bool // the fault hit what it was meant to (the executor: an operation Running)
	killedKE   string
	killedRR   string
	restartFor time.Duration
}

// faults injects, at fixed shares of the run: the API server paused (15%), datastorage killed
// (40%) and notification killed (55%), each restarted after --outage, and the executor killed
// while an operation runs (70%), restarted at once.
func (s *soak) injectFaults(ctx context.Context) {
	plan := []struct {
		share float64
		run   func(context.Context) faultRecord
	}{
		{0.15, s.pauseAPIServer},
		{0.40, func(ctx context.Context) faultRecord { return s.killService(ctx, "datastorage") }},
		{0.55, func(ctx context.Context) faultRecord { return s.killService(ctx, "notification") }},
		{0.70, s.killExecutorMidOperation},
	}
	for _, f := range plan {
		at := s.postStart.Add(time.Duration(f.share * float64(s.o.duration)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(at)):
		}
		r := f.run(ctx)
		r.at, r.until = at.Sub(s.postStart), time.Since(s.postStart)
		s.mu.Lock()
		s.faultLog = append(s.faultLog, r)
		s.mu.Unlock()
		msg := fmt.Sprintf("fault %s: %s", r.name, r.detail)
		if r.err != nil {
			msg += fmt.Sprintf(" (error: %v)", r.err)
		}
		s.out.Printf("%s", msg)
	}
}

// apiServerPid finds the local cluster's kube-apiserver: the process whose program is named
// kube-apiserver and whose command line names the cluster's work directory (its certificates).
func (s *soak) apiServerPid() (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	dir := []byte(s.sys.Cluster.WorkDir)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		args := bytes.Split(bytes.TrimRight(raw, "\x00"), []byte{0})
		if filepath.Base(string(args[0])) == "kube-apiserver" && bytes.Contains(raw, dir) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no kube-apiserver process under %s", s.sys.Cluster.WorkDir)
}

// pauseAPIServer stops the kube-apiserver process (SIGSTOP) for --api-pause and lets it go on
// (SIGCONT): every client's calls hang, as when an API server stalls.
func (s *soak) pauseAPIServer(ctx context.Context) faultRecord {
	r := faultRecord{name: "API server paused"}
	pid, err := s.apiServerPid()
	if err != nil {
		r.err = err
		return r
	}
	s.out.Printf("fault: pausing kube-apiserver (pid %d) for %s", pid, s.o.apiPause)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		r.err = err
		return r
	}
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(s.o.apiPause):
	}
	r.err = syscall.Kill(pid, syscall.SIGCONT)
	r.landed = r.err == nil
	r.detail = fmt.Sprintf("kube-apiserver pid %d stopped (SIGSTOP) for %s, then SIGCONT", pid, time.Since(start).Round(100*time.Millisecond))
	return r
}

// killService kills a service (SIGKILL), keeps it down for --outage, starts it again and waits
// until it is ready.
func (s *soak) killService(ctx context.Context, name string) faultRecord {
	r := faultRecord{name: name + " killed"}
	svc := s.sys.Services[name]
	pid := svc.Pid()
	s.out.Printf("fault: killing %s (pid %d), down for %s", name, pid, s.o.outage)
	if r.err = svc.Kill(); r.err != nil {
		return r
	}
	killed := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(s.o.outage):
	}
	if r.err = svc.Start(); r.err != nil {
		return r
	}
	s.rss.restarted(name)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	r.err = svc.WaitReady(wctx)
	r.restartFor = time.Since(killed)
	r.landed = r.err == nil
	r.detail = fmt.Sprintf("pid %d SIGKILLed, started again after %s, ready %s after the kill (pid %d)",
		pid, s.o.outage, r.restartFor.Round(100*time.Millisecond), svc.Pid())
	return r
}

// killExecutorMidOperation kills the executor, waits for an execution to be created while it is
// down, starts it again with a watch in place and kills it (SIGKILL) the moment the watch sees an
// operation Running, then starts it for good. Up to three attempts when the executor finishes an
// operation before the watch sees it Running.
func (s *soak) killExecutorMidOperation(ctx context.Context) faultRecord {
	r := faultRecord{name: "executor killed during an operation"}
	ex := s.sys.Services["executor"]
	defer func() {
		s.onKE.Store(nil)
		if !ex.Running() {
			if err := ex.Start(); err != nil && r.err == nil {
				r.err = err
			}
		}
		s.rss.restarted("executor")
		wctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := ex.WaitReady(wctx); err != nil && r.err == nil {
			r.err = err
		}
	}()
	for attempt := 1; attempt <= 3 && ctx.Err() == nil; attempt++ {
		if r.err = ex.Kill(); r.err != nil {
			return r
		}
		killedAt := time.Now()
		// An execution created while the executor is down is where the next operation runs.
		var pendingKE string
		for deadline := time.Now().Add(60 * time.Second); pendingKE == "" && time.Now().Before(deadline) && ctx.Err() == nil; {
			s.mu.Lock()
			for name, ke := range s.kes {
				if ke.CreationTimestamp.After(killedAt.Add(-time.Second)) && !ke.Status.Phase.IsTerminal() {
					pendingKE = name
				}
			}
			s.mu.Unlock()
			if pendingKE == "" {
				time.Sleep(200 * time.Millisecond)
			}
		}
		if pendingKE == "" {
			r.detail = fmt.Sprintf("attempt %d: no execution was created within 60 s of the kill", attempt)
			continue
		}
		var once sync.Once
		type kill struct{ what, rr string }
		hit := make(chan kill, 1)
		f := func(ke *kev1.KubernetesExecution) {
			for _, op := range ke.Status.OperationResults {
				if op.Phase == kev1.OperationRunning {
					once.Do(func() {
						_ = ex.Kill()
						hit <- kill{fmt.Sprintf("%s/%s (request %s)", ke.Name, op.Name, ke.Spec.RemediationRequestRef.Name), ke.Spec.RemediationRequestRef.Name}
					})
					return
				}
			}
		}
		s.onKE.Store(&f)
		downFor := time.Since(killedAt)
		if r.err = ex.Start(); r.err != nil {
			return r
		}
		select {
		case k := <-hit:
			what := k.what
			r.landed = true
			r.killedKE, r.killedRR = what, k.rr
			r.detail = fmt.Sprintf("attempt %d: down %s until execution %s was waiting; started, then SIGKILLed with operation %s Running; started again",
				attempt, downFor.Round(100*time.Millisecond), pendingKE, what)
			s.onKE.Store(nil)
			return r
		case <-time.After(30 * time.Second):
			s.onKE.Store(nil)
			r.detail = fmt.Sprintf("attempt %d: the watch saw no operation Running within 30 s (the executor was faster)", attempt)
		case <-ctx.Done():
			return r
		}
	}
	return r
}
