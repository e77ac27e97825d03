package orchestrator

import (
	"context"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
)

// Field indexes on RemediationRequests.
const (
	// indexActive holds "all" and the target namespace for requests that count against the caps.
	indexActive = "orchestrator.active"
	// indexBlocked holds "true" for requests waiting in Blocked.
	indexBlocked = "orchestrator.blocked"
)

// CacheOptions narrows the manager's cache to the system namespace, to the children the
// orchestrator created (label kubernaut.io/remediation-request) that have not finished yet
// (field selector on status.phase), and to the fields the
// orchestrator reads from the cache: 10,000 requests stay small. The fields dropped are read
// from the API server in the rare reconciles that need them (APIReader): a request's payload,
// signal labels and annotations when its RemediationProcessing is created, its providerData when
// it is escalated, and the processing's Kubernetes context when the AIAnalysis is created. Call
// it on the manager options before creating the manager.
func CacheOptions(opts *cache.Options, namespace string) {
	opts.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	strip := cache.TransformStripManagedFields()
	if opts.ByObject == nil {
		opts.ByObject = map[client.Object]cache.ByObject{}
	}
	ours, err := labels.NewRequirement(common.LabelRemediationRequest, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant label key: cannot fail
	}
	children := labels.NewSelector().Add(*ours)
	// Approval and manual-review notifications are watched; completion notifications (one per
	// finished request, and nothing follows them) are not cached at all.
	watched, err := labels.NewRequirement(notificationv1.LabelNotificationType, selection.In,
		[]string{string(notificationv1.TypeApproval), string(notificationv1.TypeManualReview)})
	if err != nil {
		panic(err) // constant key and values: cannot fail
	}
	notifications := labels.NewSelector().Add(*ours, *watched)
	opts.ByObject[&remediationv1.RemediationRequest{}] = cache.ByObject{Transform: chain(strip, func(o any) (any, error) {
		if rr, ok := o.(*remediationv1.RemediationRequest); ok {
			if v, ok := rr.Annotations[remediationv1.AnnotationSkipAuditFlush]; ok {
				rr.Annotations = map[string]string{remediationv1.AnnotationSkipAuditFlush: v} // read on deletion
			} else {
				rr.Annotations = nil
			}
			rr.Labels = nil
			rr.Spec.OriginalPayload = nil
			rr.Spec.SignalLabels = nil
			rr.Spec.SignalAnnotations = nil
			rr.Spec.ProviderData = nil
			rr.Spec.SignalSource = ""
			if verificationSettled(rr) {
				rr.Status.Verification = nil // kept in the API server, the audit record and the notification
			}
			internRequest(rr)
		}
		return o, nil
	})}
	opts.ByObject[&processingv1.RemediationProcessing{}] = cache.ByObject{Label: children, Field: unfinished(processingv1.TerminalPhases()...), Transform: chain(strip, func(o any) (any, error) {
		if rp, ok := o.(*processingv1.RemediationProcessing); ok {
			slimChildMeta(&rp.ObjectMeta)
			rp.Spec = processingv1.RemediationProcessingSpec{RemediationRequestRef: rp.Spec.RemediationRequestRef}
			if rp.Status.EnrichedSignal != nil {
				rp.Status.EnrichedSignal.KubernetesContext = nil
			}
		}
		return o, nil
	})}
	opts.ByObject[&aiv1.AIAnalysis{}] = cache.ByObject{Label: children, Field: unfinished(aiv1.TerminalPhases()...), Transform: chain(strip, func(o any) (any, error) {
		if a, ok := o.(*aiv1.AIAnalysis); ok {
			slimChildMeta(&a.ObjectMeta)
			a.Spec = aiv1.AIAnalysisSpec{RemediationRequestRef: a.Spec.RemediationRequestRef}
		}
		return o, nil
	})}
	opts.ByObject[&workflowv1.WorkflowExecution{}] = cache.ByObject{Label: children, Field: unfinished(workflowv1.TerminalPhases()...), Transform: chain(strip, func(o any) (any, error) {
		if w, ok := o.(*workflowv1.WorkflowExecution); ok {
			slimChildMeta(&w.ObjectMeta)
			w.Spec = workflowv1.WorkflowExecutionSpec{RemediationRequestRef: w.Spec.RemediationRequestRef,
				ExecutionConfig: workflowv1.ExecutionConfig{DryRun: w.Spec.ExecutionConfig.DryRun}}
			w.Status.ValidationResults = nil
		}
		return o, nil
	})}
	opts.ByObject[&kev1.KubernetesExecution{}] = cache.ByObject{Label: children, Field: unfinished(kev1.TerminalPhases()...), Transform: chain(strip, func(o any) (any, error) {
		if k, ok := o.(*kev1.KubernetesExecution); ok {
			slimChildMeta(&k.ObjectMeta)
			for i := range k.Status.OperationResults {
				if k.Status.OperationResults[i].Rollback != nil {
					k.Status.OperationResults[i].Rollback.PreviousState = ""
				}
			}
		}
		return o, nil
	})}
	// Notifications are watched as metadata only.
	opts.ByObject[&notificationv1.NotificationRequest{}] = cache.ByObject{Label: notifications, Transform: chain(strip, func(o any) (any, error) {
		if m, ok := o.(*metav1.PartialObjectMetadata); ok {
			// The watch maps a notification to its controller owner: only that reference is kept.
			var owner []metav1.OwnerReference
			if c := metav1.GetControllerOfNoCopy(m); c != nil {
				owner = []metav1.OwnerReference{{APIVersion: unique.Make(c.APIVersion).Value(), Kind: unique.Make(c.Kind).Value(),
					Name: c.Name, Controller: &isController}}
			}
			slimChildMeta(&m.ObjectMeta)
			m.OwnerReferences = owner
		}
		return o, nil
	})}
}

var isController = true

// verificationSettled reports whether nothing the orchestrator still does with a finished
// request needs its verification evidence: its audit records are all acknowledged and its
// outcome notification exists. The cache then drops the evidence (about a kilobyte), so
// 10,000 finished requests cost no more than before verification recorded it.
func verificationSettled(rr *remediationv1.RemediationRequest) bool {
	st := &rr.Status
	if st.Verification == nil || !st.OverallPhase.IsTerminal() || len(st.Audit.PendingPhases) > 0 {
		return false
	}
	if st.OverallPhase != remediationv1.PhaseCompleted {
		return true
	}
	return hasRef(st.NotificationRequestRefs, completionName(rr.Name)) || hasRef(st.NotificationRequestRefs, manualReviewName(rr.Name))
}

// unfinished selects children whose status.phase (a selectable field of the child CRDs) is none
// of the final phases given. A child that reaches one leaves the cache: the watch reports it
// deleted, which wakes its request, and the reconcile reads its final state once from the API
// server (see finishedChildren). With 10,000 finished remediations the child caches are empty.
func unfinished[P ~string](final ...P) fields.Selector {
	sel := make([]fields.Selector, len(final))
	for i, p := range final {
		sel[i] = fields.OneTermNotEqualSelector("status.phase", string(p))
	}
	return fields.AndSelectors(sel...)
}

// slimChildMeta drops the metadata of a child the orchestrator never reads: labels, annotations
// and owner references (the watches map children through spec.remediationRequestRef).
func slimChildMeta(m *metav1.ObjectMeta) {
	m.Labels, m.Annotations, m.OwnerReferences = nil, nil, nil
	m.Namespace = unique.Make(m.Namespace).Value()
}

// internRequest makes the cached requests share one copy of the strings most of them repeat
// (namespace, enums, signal names, target kinds), instead of one copy per decoded object.
func internRequest(rr *remediationv1.RemediationRequest) {
	rr.Namespace = unique.Make(rr.Namespace).Value()
	rr.Spec.SignalName = unique.Make(rr.Spec.SignalName).Value()
	rr.Spec.Severity = remediationv1.Severity(unique.Make(string(rr.Spec.Severity)).Value())
	rr.Spec.Environment = remediationv1.Environment(unique.Make(string(rr.Spec.Environment)).Value())
	rr.Spec.Priority = remediationv1.Priority(unique.Make(string(rr.Spec.Priority)).Value())
	rr.Spec.SignalType = remediationv1.SignalType(unique.Make(string(rr.Spec.SignalType)).Value())
	t := &rr.Spec.TargetResource
	t.APIVersion, t.Kind, t.Namespace = unique.Make(t.APIVersion).Value(), unique.Make(t.Kind).Value(), unique.Make(t.Namespace).Value()
	rr.Status.OverallPhase = remediationv1.Phase(unique.Make(string(rr.Status.OverallPhase)).Value())
	rr.Status.Outcome = remediationv1.Outcome(unique.Make(string(rr.Status.Outcome)).Value())
	rr.Status.Message = unique.Make(rr.Status.Message).Value()
	for i := range rr.Status.Conditions {
		c := &rr.Status.Conditions[i]
		c.Type, c.Reason, c.Message = unique.Make(c.Type).Value(), unique.Make(c.Reason).Value(), unique.Make(c.Message).Value()
	}
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
	if !rr.DeletionTimestamp.IsZero() {
		return false // a deleted request (held by its audit finalizer) frees its slot
	}
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
	return idx.IndexField(ctx, &remediationv1.RemediationRequest{}, indexBlocked, func(o client.Object) []string {
		if o.(*remediationv1.RemediationRequest).Status.OverallPhase == remediationv1.PhaseBlocked {
			return []string{"true"}
		}
		return nil
	})
}
