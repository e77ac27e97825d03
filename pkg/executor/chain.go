package executor

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/executor/action"
)

// Reading the chain an execution must come from (watched, slimmed to what verifyChain reads;
// read live again before anything is refused):
// +kubebuilder:rbac:groups=remediation.kubernaut.io,resources=remediationrequests,verbs=get;list;watch
// +kubebuilder:rbac:groups=workflowexecution.kubernaut.io,resources=workflowexecutions,verbs=get;list;watch
// +kubebuilder:rbac:groups=aianalysis.kubernaut.io,resources=aianalyses,verbs=get;list;watch

// chainGrace is how long a new execution waits for its RemediationRequest to name it: the
// orchestrator creates the execution, then records it in the request's status.
const chainGrace = time.Minute

// chainPoll is how often a new execution checks whether its request names it yet.
const chainPoll = 250 * time.Millisecond

// chain is what an intact chain tells about the execution.
type chain struct {
	// dryRun: the workflow was a dry run, so is the execution.
	dryRun bool
}

// verifyChain checks the chain (verifyChainWith) from the watched copies (ChainReader), and when
// they do not show it intact, live from the API server (Reader): the watched copies only save the
// three reads of an intact chain, they never refuse an execution. A watched copy lags the API
// server by a watch event; the one thing it can show that no longer holds is a request that
// ended or an analysis whose approval changed within that lag, the same race a live read has
// with a change made right after it. A new execution whose request's watched copy does not name
// it yet waits (chainPoll) without reading live: the request's watch wakes it (namedExecution).
func (r *Reconciler) verifyChain(ctx context.Context, s *scope) (*chain, *action.Refusal, time.Duration, error) {
	if r.ChainReader != nil && r.ChainReader != r.Reader {
		ch, rf, wait, err := r.verifyChainWith(ctx, s, r.ChainReader)
		if err == nil && rf == nil {
			return ch, nil, wait, nil
		}
		chainLiveReads.Inc()
	}
	return r.verifyChainWith(ctx, s, r.Reader)
}

// verifyChainWith checks that the execution is the one its RemediationRequest's approved and
// validated workflow produced, reading every link with reader:
//   - the execution's controller owner is the RemediationRequest its spec names, in its own
//     namespace, and that request names it (status.kubernetesExecutionRef) and has not ended;
//   - the request's WorkflowExecution (status.workflowExecutionRef) is the request's own child,
//     Completed, and validated exactly these operations (names, actions, targets, target UIDs,
//     parameters, preconditions, dependencies, timeouts);
//   - the request's AIAnalysis (status.aiAnalysisRef) is its own child, Completed, recommended
//     the steps the workflow planned, and was approved: by the policy (approval not required),
//     or, when approval was required, by a person (decision Approved, decidedBy set).
//
// It returns a ChainNotApproved refusal when a link is missing or does not match, or wait > 0
// while a new execution's request does not name it yet.
func (r *Reconciler) verifyChainWith(ctx context.Context, s *scope, reader client.Reader) (*chain, *action.Refusal, time.Duration, error) {
	ke := s.ke
	broken := func(format string, args ...any) (*chain, *action.Refusal, time.Duration, error) {
		return nil, refusal(action.ReasonChainNotApproved, format, args...), 0, nil
	}
	ref := ke.Spec.RemediationRequestRef
	if ref.Namespace != ke.Namespace {
		return broken("the execution names RemediationRequest %s/%s, outside its namespace %s", ref.Namespace, ref.Name, ke.Namespace)
	}
	owner := metav1.GetControllerOf(ke)
	if owner == nil || owner.Kind != "RemediationRequest" || owner.APIVersion != remediationv1.GroupVersion.String() || owner.Name != ref.Name {
		return broken("the execution is not controlled by its RemediationRequest %s (controller owner: %s)", ref.Name, describeOwner(owner))
	}
	rr := &remediationv1.RemediationRequest{}
	if found, err := get(ctx, reader, ke.Namespace, ref.Name, rr); err != nil || !found {
		if err != nil {
			return nil, nil, 0, err
		}
		return broken("RemediationRequest %s/%s does not exist", ke.Namespace, ref.Name)
	}
	switch {
	case rr.UID != owner.UID:
		return broken("RemediationRequest %s has UID %s, the execution's owner is %s", rr.Name, rr.UID, owner.UID)
	case rr.DeletionTimestamp != nil:
		return broken("RemediationRequest %s is being deleted", rr.Name)
	case rr.Status.OverallPhase.IsTerminal():
		return broken("RemediationRequest %s has ended (%s): nothing is changed for it any more", rr.Name, rr.Status.OverallPhase)
	}
	switch named := rr.Status.KubernetesExecutionRef; {
	case named == nil:
		if wait := ke.CreationTimestamp.Add(chainGrace).Sub(s.now); wait > 0 && s.ke.Status.Phase != kev1.PhaseExecuting {
			return nil, nil, wait, nil
		}
		return broken("RemediationRequest %s does not name this execution (status.kubernetesExecutionRef is empty)", rr.Name)
	case named.Name != ke.Name || named.Namespace != ke.Namespace:
		return broken("RemediationRequest %s names execution %s/%s, not this one", rr.Name, named.Namespace, named.Name)
	}

	wref := rr.Status.WorkflowExecutionRef
	if wref == nil {
		return broken("RemediationRequest %s names no WorkflowExecution", rr.Name)
	}
	wfe := &workflowv1.WorkflowExecution{}
	if found, err := get(ctx, reader, wref.Namespace, wref.Name, wfe); err != nil || !found {
		if err != nil {
			return nil, nil, 0, err
		}
		return broken("WorkflowExecution %s/%s does not exist", wref.Namespace, wref.Name)
	}
	if msg := childOf(wfe, wfe.Spec.RemediationRequestRef, rr); msg != "" {
		return broken("WorkflowExecution %s %s", wfe.Name, msg)
	}
	if wfe.Status.Phase != workflowv1.PhaseCompleted {
		return broken("WorkflowExecution %s is %q, not Completed: its operations were not validated", wfe.Name, wfe.Status.Phase)
	}
	if msg := sameOperations(wfe.Status.Operations, ke.Spec.Operations); msg != "" {
		return broken("the operations are not those WorkflowExecution %s validated: %s", wfe.Name, msg)
	}

	aref := rr.Status.AIAnalysisRef
	if aref == nil {
		return broken("RemediationRequest %s names no AIAnalysis", rr.Name)
	}
	aia := &aiv1.AIAnalysis{}
	if found, err := get(ctx, reader, aref.Namespace, aref.Name, aia); err != nil || !found {
		if err != nil {
			return nil, nil, 0, err
		}
		return broken("AIAnalysis %s/%s does not exist", aref.Namespace, aref.Name)
	}
	if msg := childOf(aia, aia.Spec.RemediationRequestRef, rr); msg != "" {
		return broken("AIAnalysis %s %s", aia.Name, msg)
	}
	if aia.Status.Phase != aiv1.PhaseCompleted || aia.Status.Outcome != aiv1.OutcomeActionRecommended || len(aia.Status.Recommendations) == 0 {
		return broken("AIAnalysis %s is %q with outcome %q: it recommends no action to run", aia.Name, aia.Status.Phase, aia.Status.Outcome)
	}
	if !equality.Semantic.DeepEqual(aia.Status.Recommendations[0].WorkflowSteps, wfe.Spec.WorkflowDefinition.Steps) {
		return broken("WorkflowExecution %s planned other steps than AIAnalysis %s recommended", wfe.Name, aia.Name)
	}
	ap := aia.Status.Approval
	switch {
	case ap == nil:
		return broken("AIAnalysis %s records no approval", aia.Name)
	case ap.Required && (ap.Decision != aiv1.DecisionApproved || ap.DecidedBy == ""):
		return broken("AIAnalysis %s required a person's approval and records decision %q by %q", aia.Name, ap.Decision, ap.DecidedBy)
	case !ap.Required && ap.Decision != aiv1.DecisionNone && ap.Decision != aiv1.DecisionApproved:
		return broken("AIAnalysis %s records decision %q", aia.Name, ap.Decision)
	}
	return &chain{dryRun: wfe.Spec.ExecutionConfig.DryRun}, nil, 0, nil
}

// getLive reads an object from the API server; found is false when it does not exist.
func (r *Reconciler) getLive(ctx context.Context, namespace, name string, obj client.Object) (bool, error) {
	return get(ctx, r.Reader, namespace, name, obj)
}

// get reads an object with reader; found is false when it does not exist.
func get(ctx context.Context, reader client.Reader, namespace, name string, obj client.Object) (bool, error) {
	err := reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, obj)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading %T %s/%s: %w", obj, namespace, name, err)
	}
	return true, nil
}

// childOf says what is wrong with obj as a child of rr (owner and spec reference), or "".
func childOf(obj client.Object, ref common.ObjectReference, rr *remediationv1.RemediationRequest) string {
	owner := metav1.GetControllerOf(obj)
	switch {
	case owner == nil || owner.UID != rr.UID:
		return fmt.Sprintf("is not controlled by RemediationRequest %s (controller owner: %s)", rr.Name, describeOwner(owner))
	case ref.Name != rr.Name || ref.Namespace != rr.Namespace:
		return fmt.Sprintf("belongs to RemediationRequest %s/%s, not %s", ref.Namespace, ref.Name, rr.Name)
	}
	return ""
}

func describeOwner(o *metav1.OwnerReference) string {
	if o == nil {
		return "none"
	}
	return fmt.Sprintf("%s %s %s (uid %s)", o.APIVersion, o.Kind, o.Name, o.UID)
}

// sameOperations says how the execution's operations differ from the validated ones, or "".
func sameOperations(validated, got []common.Operation) string {
	if len(validated) != len(got) {
		return fmt.Sprintf("%d operations, the workflow validated %d", len(got), len(validated))
	}
	for i := range got {
		v, g := validated[i], got[i]
		var what string
		switch {
		case v.Name != g.Name:
			what = "name"
		case v.Action != g.Action:
			what = "action"
		case v.Target != g.Target:
			what = "target"
		case v.TargetUID != g.TargetUID:
			what = "targetUID"
		case !equality.Semantic.DeepEqual(v.Parameters, g.Parameters):
			what = "parameters"
		case !equality.Semantic.DeepEqual(v.Preconditions, g.Preconditions):
			what = "preconditions"
		case !equality.Semantic.DeepEqual(v.DependsOn, g.DependsOn):
			what = "dependsOn"
		case !equality.Semantic.DeepEqual(v.Timeout, g.Timeout):
			what = "timeout"
		case !equality.Semantic.DeepEqual(g, v):
			what = "fields"
		default:
			continue
		}
		return fmt.Sprintf("operation %d (%s) differs in its %s", i+1, g.Name, what)
	}
	return ""
}
