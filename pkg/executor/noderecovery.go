package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/executor/action"
)

// nodeRecovery uncordons the nodes Kubernaut cordoned (annotation kubernaut.io/cordoned, written
// with the cordon) once they are healthy again: Ready, without memory, disk or PID pressure and
// with their network available, since a time after the cordon and for at least
// uncordonRecoveredNodesAfter. A node that was healthy when cordoned (cordoned for another
// reason than its health) is left to a person. It acts only once the execution that cordoned
// the node has finished, never while another node action runs, never while paused, in dry-run
// or without a valid safety ConfigMap; the uncordon tests that the node is still cordoned with
// Kubernaut's annotation in the same request. A node someone else uncordoned loses the annotation,
// so that a later cordon by someone else is never undone. Each uncordon is logged, recorded as an
// Event on the execution that cordoned the node (related: the node) and counted in
// kubernaut_executor_node_uncordons_total.
type nodeRecovery struct {
	r *Reconciler
}

const nodeRecoveryName = "noderecovery"

func (n *nodeRecovery) setup(mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).
		Named(nodeRecoveryName).
		For(&corev1.Node{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			_, ok := o.GetAnnotations()[action.AnnotationCordoned]
			return ok
		}))).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(n.cordoned)).
		Complete(n)
}

// slimNode keeps of a cached Node what the recovery reads: name, Kubernaut's cordon
// annotation, spec.unschedulable and the conditions without their heartbeats.
func slimNode(o any) (any, error) {
	node, ok := o.(*corev1.Node)
	if !ok {
		return o, nil
	}
	slim := &corev1.Node{
		TypeMeta:   node.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Name: node.Name, UID: node.UID, ResourceVersion: node.ResourceVersion},
		Spec:       corev1.NodeSpec{Unschedulable: node.Spec.Unschedulable},
	}
	if v, ok := node.Annotations[action.AnnotationCordoned]; ok {
		slim.Annotations = map[string]string{action.AnnotationCordoned: v}
	}
	for _, c := range node.Status.Conditions {
		slim.Status.Conditions = append(slim.Status.Conditions, corev1.NodeCondition{Type: c.Type, Status: c.Status, LastTransitionTime: c.LastTransitionTime})
	}
	return slim, nil
}

// cordoned lists the nodes carrying Kubernaut's cordon annotation (woken by a ConfigMap change).
func (n *nodeRecovery) cordoned(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetNamespace() != n.r.Namespace || o.GetName() != n.r.ConfigMapName {
		return nil
	}
	var list corev1.NodeList
	if err := n.r.Client.List(ctx, &list); err != nil {
		log.FromContext(ctx).Error(err, "Listing the nodes Kubernaut cordoned")
		return nil
	}
	var out []reconcile.Request
	for _, node := range list.Items {
		if _, ok := node.Annotations[action.AnnotationCordoned]; ok {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: node.Name}})
		}
	}
	return out
}

func (n *nodeRecovery) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r := n.r
	cfg, err := r.safetyConfig(ctx)
	if err != nil || cfg.Paused || cfg.DryRun {
		return ctrl.Result{}, nil // the ConfigMap watch brings the node back
	}
	node := &corev1.Node{}
	if err := r.Env.Client.Get(ctx, req.NamespacedName, node); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	value, ok := node.Annotations[action.AnnotationCordoned]
	if !ok {
		return ctrl.Result{}, nil
	}
	logger := log.FromContext(ctx).WithValues("node", node.Name)
	id, err := action.ParseIdentity(value)
	if err != nil {
		logger.Error(err, "Unreadable cordon annotation; the node is left to a person")
		return ctrl.Result{}, nil
	}
	if !node.Spec.Unschedulable {
		// Uncordoned by someone else: the annotation no longer describes the node.
		return ctrl.Result{}, n.patch(ctx, node, value, false)
	}
	if running, err := n.executionRunning(ctx, id); err != nil || running {
		return ctrl.Result{RequeueAfter: 10 * time.Second}, err
	}
	since, healthy := healthySince(node)
	if !healthy || since.Before(id.Time) {
		// Not healthy, or healthy since before the cordon (cordoned for another reason than its
		// health): left to a person. Both times are kept to the second; a node healthy again
		// within the second of its cordon was unhealthy moments before it, so it counts as
		// recovered. The node's conditions wake it.
		return ctrl.Result{}, nil
	}
	if wait := since.Add(cfg.UncordonRecoveredAfter).Sub(r.Now()); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	// One node action at a time, as the executions' node actions.
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	var list kev1.KubernetesExecutionList
	if err := r.Reader.List(ctx, &list, client.InNamespace(r.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the executions before uncordoning node %s: %w", node.Name, err)
	}
	if rf := nodeActionRunning(&scope{ke: &kev1.KubernetesExecution{}}, list.Items); rf != nil {
		logger.Info("Waiting to uncordon the recovered node", "reason", rf.Message)
		return ctrl.Result{RequeueAfter: 10 * time.Second}, nil
	}
	if err := n.patch(ctx, node, value, true); err != nil {
		nodeUncordons.WithLabelValues("failed").Inc()
		return ctrl.Result{}, err
	}
	nodeUncordons.WithLabelValues("uncordoned").Inc()
	msg := fmt.Sprintf("uncordoned node %s, which operation %s of %s cordoned at %s: healthy again since %s",
		node.Name, id.Operation, id.Execution, id.Time.Format(time.RFC3339), since.Format(time.RFC3339))
	logger.Info("Uncordoned a recovered node", "cordonedBy", id.Execution, "operation", id.Operation, "healthySince", since)
	if ns, name, ok := strings.Cut(id.Execution, "/"); ok {
		regarding := &kev1.KubernetesExecution{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(id.UID)}}
		r.Recorder.Eventf(regarding, node, corev1.EventTypeNormal, "NodeUncordoned", "Uncordon", "%s", msg)
	}
	return ctrl.Result{}, nil
}

// executionRunning reports whether the execution that cordoned the node still runs.
func (n *nodeRecovery) executionRunning(ctx context.Context, id action.Identity) (bool, error) {
	ns, name, ok := strings.Cut(id.Execution, "/")
	if !ok {
		return false, nil
	}
	ke := &kev1.KubernetesExecution{}
	found, err := n.r.getLive(ctx, ns, name, ke)
	if err != nil || !found {
		return false, err
	}
	return string(ke.UID) == id.UID && !ke.Status.Phase.IsTerminal(), nil
}

// patch removes Kubernaut's cordon annotation and, with uncordon, the cordon, testing in the
// same request that the annotation (and the cordon) are still what was read.
func (n *nodeRecovery) patch(ctx context.Context, node *corev1.Node, value string, uncordon bool) error {
	key := "/metadata/annotations/" + strings.ReplaceAll(action.AnnotationCordoned, "/", "~1")
	ops := []map[string]any{
		{"op": "test", "path": "/metadata/uid", "value": string(node.UID)},
		{"op": "test", "path": key, "value": value},
		{"op": "remove", "path": key},
	}
	if uncordon {
		id := action.Identity{Execution: "node-recovery", UID: string(node.UID), Operation: "uncordon-recovered", Time: n.r.Now().UTC().Truncate(time.Second)}
		if prev, err := action.ParseIdentity(value); err == nil {
			id.Execution, id.UID, id.Operation = prev.Execution, prev.UID, "uncordon-recovered:"+prev.Operation
		}
		ops = append(ops,
			map[string]any{"op": "test", "path": "/spec/unschedulable", "value": true},
			map[string]any{"op": "remove", "path": "/spec/unschedulable"},
			map[string]any{"op": "add", "path": "/metadata/annotations/" + strings.ReplaceAll(kev1.AnnotationLastRemediation, "/", "~1"), "value": id.Encode()},
		)
	}
	body, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	if err := n.r.Env.Client.Patch(ctx, node, client.RawPatch(types.JSONPatchType, body)); err != nil {
		if apierrors.IsInvalid(err) || apierrors.IsNotFound(err) {
			return nil // changed in between: the watch brings the node back
		}
		return fmt.Errorf("uncordoning node %s: %w", node.Name, err)
	}
	return nil
}

// healthySince returns since when the node has been healthy (Ready, no memory, disk or PID
// pressure, network available): the latest transition among those conditions.
func healthySince(node *corev1.Node) (time.Time, bool) {
	var since time.Time
	ready := false
	for _, c := range node.Status.Conditions {
		switch c.Type {
		case corev1.NodeReady:
			if c.Status != corev1.ConditionTrue {
				return time.Time{}, false
			}
			ready = true
		case corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure, corev1.NodeNetworkUnavailable:
			if c.Status == corev1.ConditionTrue {
				return time.Time{}, false
			}
		default:
			continue
		}
		if c.LastTransitionTime.After(since) {
			since = c.LastTransitionTime.Time
		}
	}
	return since, ready
}
