package executor

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// chainCacheOptions adds the chain's kinds to the manager's cache, each slimmed to what
// verifyChainWith reads; of the RemediationRequests only those that have not ended (an ended
// request never lets anything run, and the live read that follows a miss says so). With 10,000
// finished remediations the executor holds 10,000 slim analyses and workflows and no requests.
func chainCacheOptions(opts *cache.Options) {
	var notEnded []fields.Selector
	for _, p := range remediationv1.TerminalPhases() {
		notEnded = append(notEnded, fields.OneTermNotEqualSelector("status.overallPhase", string(p)))
	}
	opts.ByObject[&remediationv1.RemediationRequest{}] = cache.ByObject{Field: fields.AndSelectors(notEnded...), Transform: transform(slimRequest)}
	opts.ByObject[&workflowv1.WorkflowExecution{}] = cache.ByObject{Transform: transform(slimWorkflow)}
	opts.ByObject[&aiv1.AIAnalysis{}] = cache.ByObject{Transform: transform(slimAnalysis)}
}

// transform applies slim to the objects of its kind and passes anything else unchanged.
func transform[T client.Object](slim func(T) T) toolscache.TransformFunc {
	return func(o any) (any, error) {
		if t, ok := o.(T); ok {
			return slim(t), nil
		}
		return o, nil
	}
}

// chainMeta is the identity of a chain link and its controller owner.
func chainMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	out := app.IdentityMeta(m)
	for _, o := range m.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			out.OwnerReferences = []metav1.OwnerReference{o}
		}
	}
	return out
}

func slimRequest(rr *remediationv1.RemediationRequest) *remediationv1.RemediationRequest {
	out := &remediationv1.RemediationRequest{TypeMeta: rr.TypeMeta, ObjectMeta: chainMeta(&rr.ObjectMeta)}
	out.Status.OverallPhase = rr.Status.OverallPhase
	out.Status.KubernetesExecutionRef = rr.Status.KubernetesExecutionRef
	out.Status.WorkflowExecutionRef = rr.Status.WorkflowExecutionRef
	out.Status.AIAnalysisRef = rr.Status.AIAnalysisRef
	return out
}

func slimWorkflow(wfe *workflowv1.WorkflowExecution) *workflowv1.WorkflowExecution {
	out := &workflowv1.WorkflowExecution{TypeMeta: wfe.TypeMeta, ObjectMeta: chainMeta(&wfe.ObjectMeta)}
	out.Spec.RemediationRequestRef = wfe.Spec.RemediationRequestRef
	out.Spec.ExecutionConfig.DryRun = wfe.Spec.ExecutionConfig.DryRun
	out.Spec.WorkflowDefinition.Steps = wfe.Spec.WorkflowDefinition.Steps
	out.Status.Phase = wfe.Status.Phase
	out.Status.Operations = wfe.Status.Operations
	return out
}

func slimAnalysis(aia *aiv1.AIAnalysis) *aiv1.AIAnalysis {
	out := &aiv1.AIAnalysis{TypeMeta: aia.TypeMeta, ObjectMeta: chainMeta(&aia.ObjectMeta)}
	out.Spec.RemediationRequestRef = aia.Spec.RemediationRequestRef
	out.Status.Phase = aia.Status.Phase
	out.Status.Outcome = aia.Status.Outcome
	out.Status.Approval = aia.Status.Approval
	if len(aia.Status.Recommendations) > 0 {
		out.Status.Recommendations = []aiv1.Recommendation{{WorkflowSteps: aia.Status.Recommendations[0].WorkflowSteps}}
	}
	return out
}

// namedExecution wakes the execution a request names while the request is Executing and the
// execution has not started: a new execution whose request's watched copy did not name it yet
// waits for this. A started one is not woken (the request's later status writes would only
// repeat its post-condition checks).
func (r *Reconciler) namedExecution(ctx context.Context, o client.Object) []reconcile.Request {
	rr, ok := o.(*remediationv1.RemediationRequest)
	if !ok || rr.Status.OverallPhase != remediationv1.PhaseExecuting || rr.Status.KubernetesExecutionRef == nil {
		return nil
	}
	ref := rr.Status.KubernetesExecutionRef
	if ref.Namespace != r.Namespace {
		return nil
	}
	key := client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
	ke := &kev1.KubernetesExecution{}
	if err := r.Client.Get(ctx, key, ke); err != nil {
		return nil // not in the cache yet: its creation wakes it
	}
	switch ke.Status.Phase {
	case "", kev1.PhasePending, kev1.PhaseValidating:
		return []reconcile.Request{{NamespacedName: key}}
	}
	return nil
}
