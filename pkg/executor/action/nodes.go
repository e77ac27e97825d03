package action

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/actions/mutate"
)

// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;patch

func newNode() *corev1.Node { return &corev1.Node{} }

// cordonAction marks the node unschedulable; drain_node starts with it.
var cordonAction = &patchAction[*corev1.Node]{
	newObj: newNode,
	mutate: func(_ context.Context, _ *Env, _ *Op, n *corev1.Node) (string, error) {
		mutate.Cordon(n)
		return "cordon node " + n.Name, nil
	},
	verify: func(n *corev1.Node) (bool, string) {
		return n.Spec.Unschedulable, "waiting for node " + n.Name + " to be unschedulable"
	},
	reversible:    true,
	unschedulable: NodeUnschedulable,
}

func init() {
	register(actions.CordonNode, cordonAction)
	register(actions.UncordonNode, &patchAction[*corev1.Node]{
		newObj: newNode,
		mutate: func(_ context.Context, _ *Env, _ *Op, n *corev1.Node) (string, error) {
			mutate.Uncordon(n)
			return "uncordon node " + n.Name, nil
		},
		verify: func(n *corev1.Node) (bool, string) {
			return !n.Spec.Unschedulable, "waiting for node " + n.Name + " to be schedulable"
		},
		reversible:    true,
		unschedulable: NodeUnschedulable,
	})
	register(actions.TaintNode, &patchAction[*corev1.Node]{
		newObj: newNode,
		mutate: func(_ context.Context, _ *Env, op *Op, n *corev1.Node) (string, error) {
			if err := mutate.Taint(n, op.Params); err != nil {
				return "", mutateErr(err)
			}
			return fmt.Sprintf("taint node %s with %s=%s:%s", n.Name, op.Params["key"], op.Params["value"], op.Params["effect"]), nil
		},
		reversible:    true,
		unschedulable: NodeUnschedulable,
	})
	register(actions.UntaintNode, &patchAction[*corev1.Node]{
		newObj: newNode,
		mutate: func(_ context.Context, _ *Env, op *Op, n *corev1.Node) (string, error) {
			if err := mutate.Untaint(n, op.Params); err != nil {
				return "", mutateErr(err)
			}
			return fmt.Sprintf("remove taint %s:%s from node %s", op.Params["key"], op.Params["effect"], n.Name), nil
		},
		reversible:    true,
		unschedulable: NodeUnschedulable,
	})
}

// NodeUnschedulable reports whether no new pod without tolerations lands on the node: cordoned,
// or tainted NoSchedule or NoExecute.
func NodeUnschedulable(n *corev1.Node) bool {
	if n.Spec.Unschedulable {
		return true
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			return true
		}
	}
	return false
}
