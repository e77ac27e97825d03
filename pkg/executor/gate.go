package executor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/executor/action"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/actions/preconditions"
)

// budgetWindow is the window of the change budgets.
const budgetWindow = time.Hour

type gateResult int

const (
	// gateGo: the change may be made.
	gateGo gateResult = iota
	// gateHold: paused, or the configuration is unusable; the reconcile stops and the
	// execution waits (s.held).
	gateHold
	// gateDryRun: the configuration switched to dry-run since the execution started; nothing
	// more is changed.
	gateDryRun
)

// gate reads the safety configuration again right before a change: the kill switch and
// dry-run take effect before the next change, not the next execution.
func (r *Reconciler) gate(ctx context.Context, s *scope) gateResult {
	cfg, err := r.safetyConfig(ctx)
	if err != nil {
		r.hold(ctx, s, kev1.ReasonSafetyConfigInvalid, fmt.Sprintf("holding before the next change: %v", err))
		return gateHold
	}
	s.cfg = cfg
	s.env.Limits = cfg.Limits
	switch {
	case cfg.Paused:
		r.hold(ctx, s, action.ReasonPaused, fmt.Sprintf("paused by %s=true in the safety ConfigMap %s/%s: holding before the next change", KeyPaused, r.Namespace, r.ConfigMapName))
		return gateHold
	case cfg.DryRun:
		return gateDryRun
	}
	return gateGo
}

// beforeChange runs right before each change of operation i: the safety configuration
// (gate) and the chain, read again. done reports that the operation reached a final phase
// (refused); s.held that the reconcile must stop and wait.
func (r *Reconciler) beforeChange(ctx context.Context, s *scope, i int) (done bool, err error) {
	switch r.gate(ctx, s) {
	case gateHold:
		return false, nil
	case gateDryRun:
		r.stopForDryRun(s, i)
		return true, nil
	}
	if s.chain != nil && !s.changed {
		return false, nil // verified in this reconcile, and nothing changed since
	}
	ch, rf, _, err := r.verifyChain(ctx, s)
	if err != nil {
		return false, err
	}
	if rf != nil {
		if s.ke.Status.OperationResults[i].AppliedTime != nil {
			r.failOp(s, i, rf.Reason, rf.Message)
		} else {
			r.refuseOp(s, i, rf)
		}
		return true, nil
	}
	s.chain = ch
	return false, nil
}

// stopForDryRun ends an execution whose configuration switched to dry-run while it ran: the
// operation about to change is refused, the others skipped, and nothing is reverted (dry-run
// changes nothing); what was changed is named.
func (r *Reconciler) stopForDryRun(s *scope, i int) {
	st := &s.ke.Status
	rf := refusal(action.ReasonDryRunEnforced, "the safety ConfigMap switched to %s=true while the execution ran: nothing more is changed", KeyDryRun)
	if st.OperationResults[i].AppliedTime != nil {
		r.failOp(s, i, rf.Reason, rf.Message)
	} else {
		r.refuseOp(s, i, rf)
	}
	r.skipFrom(s, i+1, "not run: "+rf.Message)
	var changed []string
	for _, res := range st.OperationResults {
		if res.AppliedTime != nil {
			changed = append(changed, res.Name)
		}
	}
	msg := rf.Message
	if len(changed) > 0 {
		msg += "; changed and not rolled back: " + strings.Join(changed, ", ")
	}
	r.finish(s, kev1.PhaseFailed, rf.Reason, msg)
}

// reserve makes the last checks before operation i is marked Running and, when they pass,
// reserves it: the change budgets and, for a node action, that no other node action runs and
// the share of unavailable nodes. The budgets are counted from the cached executions and the
// operations this executor reserved that the cache does not show yet (r.reserved), under
// r.changeMu, so that two reconciles never both pass them on the last change allowed; node
// actions, rare, are counted from the executions and nodes read live.
func (r *Reconciler) reserve(ctx context.Context, s *scope, i int, op *action.Op, c *checked) (*action.Refusal, error) {
	if c.plan.Apply == nil { // notify_only
		return nil, nil
	}
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	var list kev1.KubernetesExecutionList
	if err := r.Client.List(ctx, &list, client.InNamespace(r.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing the executions for the change budgets: %w", err)
	}
	unseen := r.unseen(s, list.Items)
	if rf := r.budgetRefusal(s, i, list.Items, unseen); rf != nil {
		return rf, nil
	}
	if cat, _ := actions.Lookup(op.Action); cat.ClusterScoped {
		for _, o := range unseen {
			if other, ok := actions.Lookup(o.Action); ok && other.ClusterScoped {
				return refusal(action.ReasonNodeActionInProgress, "%s on node %s is starting; node actions run one at a time", o.Action, o.Target.Name), nil
			}
		}
		var live kev1.KubernetesExecutionList
		if err := r.Reader.List(ctx, &live, client.InNamespace(r.Namespace)); err != nil {
			return nil, fmt.Errorf("listing the executions for the running node actions: %w", err)
		}
		if rf := nodeActionRunning(s, live.Items); rf != nil {
			return rf, nil
		}
		if rf, err := r.nodeChecks(ctx, s, op, c.plan); rf != nil || err != nil {
			return rf, err
		}
	}
	r.remember(s, i)
	return nil, nil
}

// forget drops the reservation of operation i (its status write failed).
func (r *Reconciler) forget(s *scope, i int) {
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	delete(r.reserved, fmt.Sprintf("%s/%d", s.ke.UID, i))
}

// reservation is an operation this executor reserved (about to be marked Running), kept until
// the cache shows it.
type reservation struct {
	keUID types.UID
	index int
	op    common.Operation
	at    time.Time
}

// remember reserves operation i (r.changeMu held).
func (r *Reconciler) remember(s *scope, i int) {
	if r.reserved == nil {
		r.reserved = map[string]reservation{}
	}
	r.reserved[fmt.Sprintf("%s/%d", s.ke.UID, i)] = reservation{keUID: s.ke.UID, index: i, op: s.ke.Spec.Operations[i], at: s.now}
}

// unseen returns the operations of other executions this executor reserved that the cached
// executions do not show yet, and forgets those they show (r.changeMu held).
func (r *Reconciler) unseen(s *scope, cached []kev1.KubernetesExecution) []common.Operation {
	byUID := make(map[types.UID]*kev1.KubernetesExecution, len(cached))
	for k := range cached {
		byUID[cached[k].UID] = &cached[k]
	}
	var out []common.Operation
	for key, res := range r.reserved {
		ke := byUID[res.keUID]
		seen := ke != nil && res.index < len(ke.Status.OperationResults) && ke.Status.OperationResults[res.index].Phase != kev1.OperationPending
		if seen || s.now.Sub(res.at) > budgetWindow {
			delete(r.reserved, key)
			continue
		}
		if res.keUID != s.ke.UID {
			out = append(out, res.op)
		}
	}
	return out
}

// budgetRefusal refuses operation i when it would exceed the changes allowed over the last hour
// in its namespace or in the cluster. A change counts when it was applied within the hour, or
// is under way (Running, in an unfinished execution, or marked Running and not yet in others:
// unseen); notify_only changes nothing. The execution's own earlier operations count unless
// refused or skipped.
func (r *Reconciler) budgetRefusal(s *scope, i int, others []kev1.KubernetesExecution, unseen []common.Operation) *action.Refusal {
	op := s.ke.Spec.Operations[i]
	if !changes(op) {
		return nil
	}
	ns := opNamespace(op)
	since := s.now.Add(-budgetWindow)
	cluster, inNamespace := 1, 1
	count := func(o common.Operation) {
		cluster++
		if ns != "" && opNamespace(o) == ns {
			inNamespace++
		}
	}
	for _, ke := range others {
		if ke.UID == s.ke.UID {
			continue
		}
		for k, res := range ke.Status.OperationResults {
			if k >= len(ke.Spec.Operations) || !changes(ke.Spec.Operations[k]) {
				continue
			}
			applied := res.AppliedTime != nil && res.AppliedTime.After(since)
			underWay := res.AppliedTime == nil && res.Phase == kev1.OperationRunning && !ke.Status.Phase.IsTerminal()
			if applied || underWay {
				count(ke.Spec.Operations[k])
			}
		}
	}
	for _, o := range unseen {
		if changes(o) {
			count(o)
		}
	}
	for j := range i {
		if res := s.ke.Status.OperationResults[j]; changes(s.ke.Spec.Operations[j]) && res.Phase != kev1.OperationRefused && res.Phase != kev1.OperationSkipped {
			count(s.ke.Spec.Operations[j])
		}
	}
	changesLastHour.Set(float64(cluster - 1))
	switch {
	case cluster > s.cfg.MaxChangesPerCluster:
		budgetRefusals.WithLabelValues("cluster").Inc()
		return refusal(action.ReasonChangeBudgetExceeded, "%d changes in the cluster within an hour, with this one; at most %d (%s)",
			cluster, s.cfg.MaxChangesPerCluster, KeyMaxChangesPerCluster)
	case ns != "" && inNamespace > s.cfg.MaxChangesPerNamespace:
		budgetRefusals.WithLabelValues("namespace").Inc()
		return refusal(action.ReasonChangeBudgetExceeded, "%d changes in namespace %s within an hour, with this one; at most %d (%s)",
			inNamespace, ns, s.cfg.MaxChangesPerNamespace, KeyMaxChangesPerNamespace)
	}
	return nil
}

// changes reports whether an operation changes the cluster (every action but notify_only).
func changes(o common.Operation) bool { return o.Action != string(actions.NotifyOnly) }

// opNamespace is the namespace an operation changes: its target's, the target itself for a
// Namespace, none for a Node.
func opNamespace(o common.Operation) string {
	if o.Target.Kind == actions.KindNamespace.Kind {
		return o.Target.Name
	}
	return o.Target.Namespace
}

// nodeActionRunning refuses a node action while another execution runs one: node actions are
// serialized cluster-wide (the executor is leader-elected, so its executions are all of them).
func nodeActionRunning(s *scope, others []kev1.KubernetesExecution) *action.Refusal {
	for _, ke := range others {
		if ke.UID == s.ke.UID || ke.Status.Phase.IsTerminal() {
			continue
		}
		for k, res := range ke.Status.OperationResults {
			if k >= len(ke.Spec.Operations) || res.Phase != kev1.OperationRunning {
				continue
			}
			o := ke.Spec.Operations[k]
			if cat, ok := actions.Lookup(o.Action); ok && cat.ClusterScoped {
				return refusal(action.ReasonNodeActionInProgress, "execution %s is running %s on node %s; node actions run one at a time",
					ke.Name, o.Action, o.Target.Name)
			}
		}
	}
	return nil
}

// staleRefusal refuses operation i when its target is not as it was validated. When an
// earlier operation of this execution changed the same target, the validated preconditions
// no longer describe it: the target must then be as that operation left it (the generation its
// change produced), so that its own change, and the rollout that follows, are not held against
// this operation while a change by anyone else in between still is.
func (r *Reconciler) staleRefusal(ctx context.Context, s *scope, i int, op *action.Op, live client.Object) (*action.Refusal, error) {
	o := s.ke.Spec.Operations[i]
	if op.TargetUID == "" || o.Preconditions == nil {
		return refusal(action.ReasonStaleTarget, "%s %s carries no validated UID and preconditions: the workflow did not validate it", o.Target.Kind, objName(op)), nil
	}
	for j := i - 1; j >= 0; j-- {
		prev, res := s.ke.Spec.Operations[j], s.ke.Status.OperationResults[j]
		if prev.Target != o.Target || res.AppliedTime == nil {
			continue
		}
		gen := int64(0)
		if res.Rollback != nil {
			gen = action.StateGeneration(res.Rollback.PreviousState)
		}
		if gen > 0 && live.GetGeneration() != gen {
			return refusal(action.ReasonStaleTarget, "%s %s changed since operation %s changed it: generation %d → %d",
				o.Target.Kind, objName(op), prev.Name, gen, live.GetGeneration()), nil
		}
		return nil, nil
	}
	diffs, err := preconditions.ChangedSince(ctx, s.env.Client, o.Preconditions, live)
	if err != nil {
		return nil, err
	}
	if len(diffs) > 0 {
		return refusal(action.ReasonStaleTarget, "%s %s changed since the workflow validated it: %s", o.Target.Kind, objName(op), strings.Join(diffs, ", ")), nil
	}
	return nil, nil
}

// liveTarget reads an operation's target live (nil for kinds no action changes).
func (r *Reconciler) liveTarget(ctx context.Context, s *scope, t common.TargetResource) (client.Object, error) {
	var obj client.Object
	switch t.Kind {
	case "Deployment":
		obj = &appsv1.Deployment{}
	case "StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "DaemonSet":
		obj = &appsv1.DaemonSet{}
	case "Node":
		obj = &corev1.Node{}
	case "PersistentVolumeClaim":
		obj = &corev1.PersistentVolumeClaim{}
	case "HorizontalPodAutoscaler":
		obj = &autoscalingv2.HorizontalPodAutoscaler{}
	default:
		return nil, nil
	}
	if err := s.env.Client.Get(ctx, types.NamespacedName{Namespace: t.Namespace, Name: t.Name}, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// deniedNamespaces are the configured ones and those always denied.
func (r *Reconciler) deniedNamespaces(cfg SafetyConfig) []string {
	out := slices.Clone(cfg.DeniedNamespaces)
	for _, ns := range append(slices.Clone(AlwaysDenied), r.Namespace) {
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	return out
}
