// Package mutate is the former home of the catalog actions' mutations, which now live with their
// action in pkg/shared/actions (one file per action, dispatched by actions.Mutate). It keeps its
// names for existing callers; new code calls pkg/shared/actions directly.
//
// Two services send the result, and they must send the same thing: the workflow service as a
// server-side dry-run (dryRun=All) whose diff it shows for approval and audit, and the executor
// for real. Both therefore call the same function on a copy of the live object and send
// Patch(live) — a JSON merge patch from the live object to the desired one, carrying the live
// resourceVersion so that a concurrent change makes the call fail instead of being overwritten:
//
//	desired := live.DeepCopyObject().(client.Object)
//	if err := actions.Mutate(actions.IncreaseResources, desired, params, actions.Inputs{}); err != nil { … }
//	err := c.Patch(ctx, desired, actions.Patch(live), client.DryRunAll) // the executor omits DryRunAll
package mutate

import (
	"math/big"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// The ways an action can fail to fit its target (see pkg/shared/actions).
var (
	ErrUnsupportedTarget  = actions.ErrUnsupportedTarget
	ErrNotMutating        = actions.ErrNotMutating
	ErrInvalidParameters  = actions.ErrInvalidParameters
	ErrContainerNotFound  = actions.ErrContainerNotFound
	ErrNoPreviousRevision = actions.ErrNoPreviousRevision
	ErrRevisionNotFound   = actions.ErrRevisionNotFound
	ErrTaintNotFound      = actions.ErrTaintNotFound
	ErrInvalidBounds      = actions.ErrInvalidBounds
	ErrNotAnIncrease      = actions.ErrNotAnIncrease
	ErrNoCurrentValue     = actions.ErrNoCurrentValue
)

// RevisionAnnotation is actions.RevisionAnnotation.
const RevisionAnnotation = actions.RevisionAnnotation

// RestartedAtAnnotation is actions.RestartedAtAnnotation.
const RestartedAtAnnotation = actions.RestartedAtAnnotation

// Inputs is actions.Inputs.
type Inputs = actions.Inputs

// Patch is actions.Patch.
func Patch(live client.Object) client.Patch { return actions.Patch(live) }

// Mutates is actions.Mutates.
func Mutates(action actions.Name) bool { return actions.Mutates(action) }

// Apply is actions.Mutate.
func Apply(action actions.Name, obj client.Object, params map[string]string, in Inputs) error {
	return actions.Mutate(action, obj, params, in)
}

// PodTemplate is actions.PodTemplate.
func PodTemplate(obj client.Object) (*corev1.PodTemplateSpec, error) { return actions.PodTemplate(obj) }

// IncreaseResources is actions.RaiseResources (increase_resources).
func IncreaseResources(tpl *corev1.PodTemplateSpec, params map[string]string) error {
	return actions.RaiseResources(tpl, params)
}

// Multiply is actions.Multiply.
func Multiply(q resource.Quantity, name corev1.ResourceName, f *big.Rat) resource.Quantity {
	return actions.Multiply(q, name, f)
}

// RolloutRestart is actions.StampRestart (rollout_restart).
func RolloutRestart(tpl *corev1.PodTemplateSpec, now time.Time) { actions.StampRestart(tpl, now) }

// ScaleReplicas is actions.ScaleReplicas.
func ScaleReplicas(s *autoscalingv1.Scale, params map[string]string) error {
	return actions.ScaleReplicas(s, params)
}

// RollbackTemplate is actions.RollbackTemplate.
func RollbackTemplate(d *appsv1.Deployment, replicaSets []appsv1.ReplicaSet, params map[string]string) (int64, error) {
	return actions.RollbackTemplate(d, replicaSets, params)
}

// Revisions is actions.Revisions.
func Revisions(d *appsv1.Deployment, replicaSets []appsv1.ReplicaSet) map[int64]*appsv1.ReplicaSet {
	return actions.Revisions(d, replicaSets)
}

// Cordon is actions.Cordon.
func Cordon(n *corev1.Node) { actions.Cordon(n) }

// Uncordon is actions.Uncordon.
func Uncordon(n *corev1.Node) { actions.Uncordon(n) }

// Taint is actions.Taint.
func Taint(n *corev1.Node, params map[string]string) error { return actions.Taint(n, params) }

// Untaint is actions.Untaint.
func Untaint(n *corev1.Node, params map[string]string) error { return actions.Untaint(n, params) }

// UpdateHPA is actions.SetHPABounds (update_hpa).
func UpdateHPA(h *autoscalingv2.HorizontalPodAutoscaler, params map[string]string) error {
	return actions.SetHPABounds(h, params)
}

// ExpandPVC is actions.GrowClaim (expand_pvc).
func ExpandPVC(p *corev1.PersistentVolumeClaim, params map[string]string) error {
	return actions.GrowClaim(p, params)
}
