package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
)

// Child names are deterministic, so a repeated reconcile never creates a second child.
func processingName(rr string) string   { return rr + "-processing" }
func analysisName(rr string) string     { return rr + "-analysis" }
func workflowName(rr string) string     { return rr + "-workflow" }
func executionName(rr string) string    { return rr + "-execution" }
func approvalName(rr string) string     { return rr + "-approval" }
func completionName(rr string) string   { return rr + "-completion" }
func manualReviewName(rr string) string { return rr + "-manual-review" }

func keyOf(o client.Object) types.NamespacedName { return client.ObjectKeyFromObject(o) }

func parentRef(rr *remediationv1.RemediationRequest) common.ObjectReference {
	return common.ObjectReference{Name: rr.Name, Namespace: rr.Namespace}
}

func childMeta(rr *remediationv1.RemediationRequest, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      name,
		Namespace: rr.Namespace,
		Labels: map[string]string{
			common.LabelRemediationRequest:       common.LabelValue(rr.Name),
			remediationv1.LabelSignalFingerprint: truncateNoDots(rr.Spec.SignalFingerprint, 63),
		},
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rr, remediationv1.GroupVersion.WithKind("RemediationRequest"))},
	}
}

func truncateNoDots(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// childInvalidError is a child the API server refused as invalid (HTTP 422): the same request
// would be refused again, so the RemediationRequest fails at once instead of retrying.
type childInvalidError struct {
	err  error
	kind string
	name string
}

func (e *childInvalidError) Error() string { return e.err.Error() }
func (e *childInvalidError) Unwrap() error { return e.err }

// reason is the API server's answer in a line: the child and each refused field with why.
func (e *childInvalidError) reason() string {
	var status apierrors.APIStatus
	if !errors.As(e.err, &status) {
		return e.err.Error()
	}
	st := status.Status()
	if st.Details == nil || len(st.Details.Causes) == 0 {
		return st.Message
	}
	causes := make([]string, 0, len(st.Details.Causes))
	for _, c := range st.Details.Causes {
		causes = append(causes, c.Field+": "+c.Message)
	}
	return fmt.Sprintf("the API server refused %s %s as invalid: %s", e.kind, e.name, strings.Join(causes, "; "))
}

// ensureChild creates obj unless it exists already and returns its reference.
func (r *Reconciler) ensureChild(ctx context.Context, rr *remediationv1.RemediationRequest, obj client.Object) (*common.ObjectReference, error) {
	if err := r.Client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		err = fmt.Errorf("creating %T %s for %s: %w", obj, obj.GetName(), klog.KObj(rr), err)
		if apierrors.IsInvalid(err) {
			kind := fmt.Sprintf("%T", obj)
			kind = kind[strings.LastIndex(kind, ".")+1:]
			return nil, &childInvalidError{err: err, kind: kind, name: obj.GetName()}
		}
		return nil, err
	}
	return &common.ObjectReference{Name: obj.GetName(), Namespace: obj.GetNamespace()}, nil
}

func (r *Reconciler) buildProcessing(rr *remediationv1.RemediationRequest) *processingv1.RemediationProcessing {
	return &processingv1.RemediationProcessing{
		ObjectMeta: childMeta(rr, processingName(rr.Name)),
		Spec: processingv1.RemediationProcessingSpec{
			RemediationRequestRef: parentRef(rr),
			Alert: processingv1.Alert{
				Fingerprint:    rr.Spec.SignalFingerprint,
				Payload:        rr.Spec.OriginalPayload,
				Severity:       string(rr.Spec.Severity),
				SignalName:     rr.Spec.SignalName,
				Environment:    string(rr.Spec.Environment),
				Priority:       string(rr.Spec.Priority),
				Labels:         rr.Spec.SignalLabels,
				Annotations:    rr.Spec.SignalAnnotations,
				TargetResource: rr.Spec.TargetResource,
			},
		},
	}
}

// buildAnalysis snapshots the enriched signal into the AIAnalysis with the seed's investigation scope.
func (r *Reconciler) buildAnalysis(rr *remediationv1.RemediationRequest, rp *processingv1.RemediationProcessing) *aiv1.AIAnalysis {
	es := rp.Status.EnrichedSignal
	return &aiv1.AIAnalysis{
		ObjectMeta: childMeta(rr, analysisName(rr.Name)),
		Spec: aiv1.AIAnalysisSpec{
			RemediationRequestRef: parentRef(rr),
			AnalysisRequest: aiv1.AnalysisRequest{
				AlertContext: aiv1.SignalContext{
					Fingerprint:       es.Fingerprint,
					SignalName:        rr.Spec.SignalName,
					Severity:          es.Severity,
					Environment:       es.Environment,
					BusinessPriority:  es.BusinessPriority,
					Namespace:         es.Namespace,
					ResourceKind:      es.ResourceKind,
					ResourceName:      es.ResourceName,
					KubernetesContext: es.KubernetesContext,
					SignalLabels:      rp.Spec.Alert.Labels,
					FiringTime:        firingTime(rr),
					NamedTarget:       namedTarget(rr),
				},
				AnalysisTypes: []aiv1.AnalysisType{"investigation", "root-cause", "recovery-analysis"},
				InvestigationScope: aiv1.InvestigationScope{
					TimeWindow:                "24h",
					ResourceScope:             []aiv1.ResourceScopeItem{{Kind: es.ResourceKind, Namespace: es.Namespace, Name: es.ResourceName}},
					CorrelationDepth:          "detailed",
					IncludeHistoricalPatterns: true,
				},
			},
		},
	}
}

// buildWorkflow turns the top recommendation into a WorkflowExecution with the seed's execution config.
func (r *Reconciler) buildWorkflow(rr *remediationv1.RemediationRequest, a *aiv1.AIAnalysis) *workflowv1.WorkflowExecution {
	top := a.Status.Recommendations[0]
	target := rr.Spec.TargetResource
	return &workflowv1.WorkflowExecution{
		ObjectMeta: childMeta(rr, workflowName(rr.Name)),
		Spec: workflowv1.WorkflowExecutionSpec{
			RemediationRequestRef: parentRef(rr),
			TargetResource:        &target,
			WorkflowDefinition:    workflowv1.WorkflowDefinition{Steps: top.WorkflowSteps},
			AnalyzedTarget:        analyzedTarget(a),
			ExecutionConfig: workflowv1.ExecutionConfig{
				DryRun: r.Config.DryRun,
				// Each step's timeout is its action's in the catalog (a drain ten minutes); this is
				// the default for an action without one.
				StepTimeout:      &metav1.Duration{Duration: 5 * time.Minute},
				WorkflowTimeout:  &metav1.Duration{Duration: 20 * time.Minute},
				ConcurrencyLimit: 1,
			},
		},
	}
}

// buildExecution copies the workflow's validated operations into a KubernetesExecution.
func (r *Reconciler) buildExecution(rr *remediationv1.RemediationRequest, w *workflowv1.WorkflowExecution) *kev1.KubernetesExecution {
	return &kev1.KubernetesExecution{
		ObjectMeta: childMeta(rr, executionName(rr.Name)),
		Spec: kev1.KubernetesExecutionSpec{
			RemediationRequestRef: parentRef(rr),
			Operations:            w.Status.Operations,
			ExecutionConfig: kev1.ExecutionConfig{
				DryRun:           r.Config.DryRun || w.Spec.ExecutionConfig.DryRun,
				SafetyValidation: boolPtr(true),
				Timeout:          &metav1.Duration{Duration: executionTimeout(w)},
			},
		},
	}
}

func boolPtr(b bool) *bool { return &b }

// defaultExecutionTimeout bounds an execution whose plan is estimated shorter.
const defaultExecutionTimeout = 10 * time.Minute

// executionTimeout is the plan's estimated duration (every step taking its whole timeout, from the
// catalog) and at least defaultExecutionTimeout, so that a step is never cut short by the
// execution's own deadline before its timeout.
func executionTimeout(w *workflowv1.WorkflowExecution) time.Duration {
	if e := w.Status.EstimatedDuration; e != nil && e.Duration > defaultExecutionTimeout {
		return e.Duration
	}
	return defaultExecutionTimeout
}

// analyzedTarget is the workload the analysis examined and the state processing read then: for a
// Deployment, the revision and pod-template-hash of its current ReplicaSet. The workflow's
// validation refuses a plan against that workload once it runs another template (a person's
// roll-forward while the request awaited approval), so a recommendation is never applied to a
// state it was not made for. Nil when the analysis saw no Deployment revision.
func analyzedTarget(a *aiv1.AIAnalysis) *workflowv1.AnalyzedTarget {
	ac := a.Spec.AnalysisRequest.AlertContext
	kc := ac.KubernetesContext
	if kc == nil || kc.Workload == nil || kc.Workload.Kind != "Deployment" || kc.Rollout == nil || kc.Rollout.Current == nil || kc.Rollout.Current.Revision <= 0 {
		return nil
	}
	cur := kc.Rollout.Current
	pre := common.Preconditions{Revision: strconv.FormatInt(cur.Revision, 10)}
	// A Deployment's ReplicaSet is named <deployment>-<pod-template-hash>.
	if hash, ok := strings.CutPrefix(cur.Name, kc.Workload.Name+"-"); ok && hash != "" && !strings.Contains(hash, "-") {
		pre.PodTemplateHash = hash
	}
	return &workflowv1.AnalyzedTarget{Kind: kc.Workload.Kind, Namespace: ac.Namespace, Name: kc.Workload.Name, Preconditions: pre}
}

// firingTime is the signal's startsAt, when the gateway recorded one.
func firingTime(rr *remediationv1.RemediationRequest) *metav1.Time {
	if rr.Spec.FiringTime.IsZero() {
		return nil
	}
	t := rr.Spec.FiringTime
	return &t
}

// namedTarget is the object the alert's labels named before the gateway followed its owners.
func namedTarget(rr *remediationv1.RemediationRequest) *common.TargetResource {
	if tr := rr.Spec.TargetResolution; tr != nil && tr.NamedTarget != nil {
		t := *tr.NamedTarget
		return &t
	}
	return nil
}
