package orchestrator

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
)

// Field indexes on RemediationRequests.
const (
	// indexActive holds "all" and the target namespace for requests that count against the caps.
	indexActive = "orchestrator.active"
	// indexFingerprint holds spec.signalFingerprint.
	indexFingerprint = "orchestrator.fingerprint"
	// indexBlocked holds "true" for requests waiting in Blocked.
	indexBlocked = "orchestrator.blocked"
)

// CacheOptions narrows the manager's cache to the system namespace and drops the fields the
// orchestrator never reads from the cache (the original payload, the Kubernetes context and
// previous states): 10,000 requests stay small. Call it on the manager options before creating
// the manager.
func CacheOptions(opts *cache.Options, namespace string) {
	opts.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	strip := cache.TransformStripManagedFields()
	if opts.ByObject == nil {
		opts.ByObject = map[client.Object]cache.ByObject{}
	}
	opts.ByObject[&remediationv1.RemediationRequest{}] = cache.ByObject{Transform: chain(strip, func(o any) (any, error) {
		if rr, ok := o.(*remediationv1.RemediationRequest); ok {
			rr.Spec.OriginalPayload = nil
			rr.Annotations = nil
		}
		return o, nil
	})}
	opts.ByObject[&processingv1.RemediationProcessing{}] = cache.ByObject{Transform: chain(strip, func(o any) (any, error) {
		if rp, ok := o.(*processingv1.RemediationProcessing); ok {
			rp.Spec.Alert.Payload = nil
			rp.Spec.Alert.Annotations = nil
			if rp.Status.EnrichedSignal != nil {
				rp.Status.EnrichedSignal.KubernetesContext = nil
			}
		}
		return o, nil
	})}
	opts.ByObject[&aiv1.AIAnalysis{}] = cache.ByObject{Transform: chain(strip, func(o any) (any, error) {
		if a, ok := o.(*aiv1.AIAnalysis); ok {
			a.Spec.AnalysisRequest.AlertContext.KubernetesContext = nil
		}
		return o, nil
	})}
	opts.ByObject[&workflowv1.WorkflowExecution{}] = cache.ByObject{Transform: chain(strip, func(o any) (any, error) {
		if w, ok := o.(*workflowv1.WorkflowExecution); ok {
			w.Spec.WorkflowDefinition.Steps = nil
			w.Status.ValidationResults = nil
		}
		return o, nil
	})}
	opts.ByObject[&kev1.KubernetesExecution{}] = cache.ByObject{Transform: chain(strip, func(o any) (any, error) {
		if k, ok := o.(*kev1.KubernetesExecution); ok {
			for i := range k.Status.OperationResults {
				if k.Status.OperationResults[i].Rollback != nil {
					k.Status.OperationResults[i].Rollback.PreviousState = ""
				}
			}
		}
		return o, nil
	})}
}

func chain(fs ...func(any) (any, error)) func(any) (any, error) {
	return func(o any) (any, error) {
		var err error
		for _, f := range fs {
			if o, err = f(o); err != nil {
				return nil, err
			}
		}
		return o, nil
	}
}

// isActive reports whether a request counts against the concurrency caps.
func isActive(rr *remediationv1.RemediationRequest) bool {
	switch rr.Status.OverallPhase {
	case "", remediationv1.PhasePending, remediationv1.PhaseBlocked:
		return false
	}
	return !rr.Status.OverallPhase.IsTerminal()
}

func setupIndexes(ctx context.Context, idx client.FieldIndexer) error {
	if err := idx.IndexField(ctx, &remediationv1.RemediationRequest{}, indexActive, func(o client.Object) []string {
		rr := o.(*remediationv1.RemediationRequest)
		if !isActive(rr) {
			return nil
		}
		return []string{"all", "ns/" + rr.Spec.TargetResource.Namespace}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &remediationv1.RemediationRequest{}, indexFingerprint, func(o client.Object) []string {
		return []string{o.(*remediationv1.RemediationRequest).Spec.SignalFingerprint}
	}); err != nil {
		return err
	}
	return idx.IndexField(ctx, &remediationv1.RemediationRequest{}, indexBlocked, func(o client.Object) []string {
		if o.(*remediationv1.RemediationRequest).Status.OverallPhase == remediationv1.PhaseBlocked {
			return []string{"true"}
		}
		return nil
	})
}
