package actions

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// uncordon_node: mark the Node schedulable (Uncordon). Post-condition: schedulable.
func uncordonNodeAction() Action {
	return Action{
		Name:          UncordonNode,
		Timeout:       time.Minute,
		Description:   "Mark a Node schedulable again, e.g. once it has recovered. Undone by cordon_node.",
		TargetKinds:   []TargetKind{KindNode},
		Risk:          RiskLow,
		Reversible:    true,
		ReversedBy:    CordonNode,
		Verbs:         nodeGetPatch(),
		ClusterScoped: true,
	}
}

// Uncordon marks the Node schedulable.
func Uncordon(n *corev1.Node) { n.Spec.Unschedulable = false }

func mutateUncordon(obj client.Object, _ map[string]string, _ Inputs) error {
	n, err := nodeOf(UncordonNode, obj)
	if err != nil {
		return err
	}
	Uncordon(n)
	return nil
}

// Uncordoned is the post-condition of uncordon_node: the Node is schedulable.
func Uncordoned(n *corev1.Node) (bool, string) {
	return !n.Spec.Unschedulable, "waiting for node " + n.Name + " to be schedulable"
}
