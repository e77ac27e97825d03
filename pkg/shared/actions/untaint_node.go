package actions

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// untaint_node: remove a taint from the Node (Untaint).
func untaintNodeAction() Action {
	return Action{
		Name:    UntaintNode,
		Timeout: time.Minute,
		Description: "Remove a taint that Kubernaut added to a Node (with taint_node). Taints " +
			"anyone else added, and every key of the kubernetes.io and k8s.io domains (the " +
			"node.kubernetes.io/* condition taints, the control-plane taint), are never removed. " +
			"Undone by taint_node with the recorded key, value and effect.",
		TargetKinds: []TargetKind{KindNode},
		Params: []Param{
			{
				Name:        "key",
				Description: "Key of the taint to remove.",
				Type:        ParamString,
				Required:    true,
				Format:      FormatLabelKey,
			},
			{
				Name:        "effect",
				Description: "Effect of the taint to remove; when omitted, taints with the key are removed whatever their effect.",
				Type:        ParamEnum,
				Enum:        taintEffects(),
			},
		},
		Risk:          RiskLow,
		Reversible:    true,
		ReversedBy:    TaintNode,
		Verbs:         nodeGetPatch(),
		ClusterScoped: true,
		Check:         checkTaintKey,
	}
}

// Untaint removes the taints with the key (and the effect, when given) from the Node.
func Untaint(n *corev1.Node, params map[string]string) error {
	key, effect := params["key"], corev1.TaintEffect(params["effect"])
	if key == "" {
		return fmt.Errorf("%w: key is required", ErrInvalidParameters)
	}
	kept := n.Spec.Taints[:0:0]
	for _, t := range n.Spec.Taints {
		if t.Key == key && (effect == "" || t.Effect == effect) {
			continue
		}
		kept = append(kept, t)
	}
	if len(kept) == len(n.Spec.Taints) {
		what := key
		if effect != "" {
			what += ":" + string(effect)
		}
		return fmt.Errorf("%w: Node %s has no taint %s", ErrTaintNotFound, n.Name, what)
	}
	n.Spec.Taints = kept
	return nil
}

func mutateUntaint(obj client.Object, params map[string]string, _ Inputs) error {
	n, err := nodeOf(UntaintNode, obj)
	if err != nil {
		return err
	}
	return Untaint(n, params)
}
