package actions

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// cordon_node: mark the Node unschedulable (Cordon). Post-condition: unschedulable.
func cordonNodeAction() Action {
	return Action{
		Name:    CordonNode,
		Timeout: time.Minute,
		Description: "Mark a Node unschedulable so that no new Pods are placed on it; Pods already " +
			"running there are left alone. Undone by uncordon_node.",
		TargetKinds:   []TargetKind{KindNode},
		Risk:          RiskLow,
		Reversible:    true,
		ReversedBy:    UncordonNode,
		Verbs:         nodeGetPatch(),
		ClusterScoped: true,
	}
}

// Cordon marks the Node unschedulable (cordon_node, and the first step of drain_node).
func Cordon(n *corev1.Node) { n.Spec.Unschedulable = true }

func mutateCordon(obj client.Object, _ map[string]string, _ Inputs) error {
	n, err := nodeOf(CordonNode, obj)
	if err != nil {
		return err
	}
	Cordon(n)
	return nil
}

// nodeOf returns obj as a Node, or ErrUnsupportedTarget.
func nodeOf(action Name, obj client.Object) (*corev1.Node, error) {
	return targetAs[*corev1.Node](action, "a Node", obj)
}

// resolveNode says what the node actions find on the Node (cordon_node, uncordon_node,
// taint_node, untaint_node).
func resolveNode(_ context.Context, _ Cluster, live client.Object, _ map[string]string, r *Resolution, _ *Inputs) error {
	n, ok := live.(*corev1.Node)
	if !ok {
		return &Mismatch{Err: fmt.Errorf("%w: node actions act on a Node, got %T", ErrUnsupportedTarget, live)}
	}
	r.Found = fmt.Sprintf("Node unschedulable=%t with %d taints", n.Spec.Unschedulable, len(n.Spec.Taints))
	return nil
}

// Cordoned is the post-condition of cordon_node: the Node is unschedulable.
func Cordoned(n *corev1.Node) (bool, string) {
	return n.Spec.Unschedulable, "waiting for node " + n.Name + " to be unschedulable"
}
