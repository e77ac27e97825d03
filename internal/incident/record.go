package incident

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// ExecutionCompleted is the key Recorder uses for the moment the request's KubernetesExecution
// was seen Completed.
const ExecutionCompleted = "Execution:Completed"

// ExecutionApplied is the key Recorder uses for the moment the request's KubernetesExecution was
// first seen with a change applied (an operation's appliedTime set): the change is in the
// cluster, its post-condition (a rollout, for example) not yet checked.
const ExecutionApplied = "Execution:Applied"

// Recorder watches RemediationRequests and KubernetesExecutions in a namespace and remembers
// when each request was first seen in each phase, with the watch's precision (the API's
// timestamps have whole seconds only).
type Recorder struct {
	mu    sync.Mutex
	times map[string]map[string]time.Time
	cond  *sync.Cond
}

// Record starts watching namespace ns; the watches end with ctx.
func Record(ctx context.Context, cfg *rest.Config, ns string) (*Recorder, error) {
	r := &Recorder{times: map[string]map[string]time.Time{}}
	r.cond = sync.NewCond(&r.mu)
	c, err := cache.New(cfg, cache.Options{Scheme: app.NewScheme(), DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		return nil, err
	}
	for _, obj := range []client.Object{&remediationv1.RemediationRequest{}, &kev1.KubernetesExecution{}} {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return nil, err
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    r.observe,
			UpdateFunc: func(_, obj any) { r.observe(obj) },
		}); err != nil {
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the recorder's watches did not sync")
	}
	return r, nil
}

func (r *Recorder) observe(obj any) {
	now := time.Now()
	var rr, key string
	switch o := obj.(type) {
	case *remediationv1.RemediationRequest:
		rr, key = o.Name, string(o.Status.OverallPhase)
	case *kev1.KubernetesExecution:
		rr = o.Spec.RemediationRequestRef.Name
		if slices.ContainsFunc(o.Status.OperationResults, func(res kev1.OperationResult) bool { return res.AppliedTime != nil }) {
			r.stamp(rr, ExecutionApplied, now)
		}
		if o.Status.Phase == kev1.PhaseCompleted {
			key = ExecutionCompleted
		}
	default:
		return
	}
	if key != "" {
		r.stamp(rr, key, now)
	}
}

// stamp remembers the first time rr was seen with key.
func (r *Recorder) stamp(rr, key string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.times[rr]
	if m == nil {
		m = map[string]time.Time{}
		r.times[rr] = m
	}
	if _, ok := m[key]; !ok {
		m[key] = now
		r.cond.Broadcast()
	}
}

// Times returns when the request was first seen in each phase (and ExecutionCompleted).
func (r *Recorder) Times(rr string) map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]time.Time, len(r.times[rr]))
	for k, v := range r.times[rr] {
		out[k] = v
	}
	return out
}

// Wait returns when the request has been seen with key, or false after timeout.
func (r *Recorder) Wait(rr, key string, timeout time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { r.mu.Lock(); r.cond.Broadcast(); r.mu.Unlock() })
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if t, ok := r.times[rr][key]; ok {
			return t, true
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
		r.cond.Wait()
	}
}
