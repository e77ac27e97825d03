package action

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=list

func newNode() *corev1.Node { return &corev1.Node{} }

// cordon marks the node unschedulable and, when it was schedulable, records that Kubernaut
// cordoned it (AnnotationCordoned), so that it is uncordoned once healthy again.
func cordon(op *Op, n *corev1.Node) {
	if !n.Spec.Unschedulable {
		setNodeAnnotation(n, AnnotationCordoned, op.ID.Encode())
	}
	actions.Cordon(n)
}

// cordonAction marks the node unschedulable; drain_node starts with it.
var cordonAction = &patchAction[*corev1.Node]{
	newObj: newNode,
	mutate: func(_ context.Context, _ *Env, op *Op, n *corev1.Node) (string, error) {
		cordon(op, n)
		return "cordon node " + n.Name, nil
	},
	verify:        actions.Cordoned,
	reversible:    true,
	unschedulable: NodeUnschedulable,
}

func init() {
	register(actions.CordonNode, cordonAction)
	register(actions.UncordonNode, &patchAction[*corev1.Node]{
		newObj: newNode,
		mutate: func(_ context.Context, _ *Env, _ *Op, n *corev1.Node) (string, error) {
			actions.Uncordon(n)
			delete(n.Annotations, AnnotationCordoned)
			return "uncordon node " + n.Name, nil
		},
		verify:        actions.Uncordoned,
		reversible:    true,
		unschedulable: NodeUnschedulable,
	})
	register(actions.TaintNode, &patchAction[*corev1.Node]{
		newObj:        newNode,
		mutate:        taintNode,
		reversible:    true,
		unschedulable: NodeUnschedulable,
	})
	register(actions.UntaintNode, &patchAction[*corev1.Node]{
		newObj:        newNode,
		mutate:        untaintNode,
		reversible:    true,
		unschedulable: NodeUnschedulable,
	})
}

// taintNode adds the taint and records it as Kubernaut's (AnnotationTaints). A taint of
// Kubernetes, or a taint with the same key and effect that someone else added, is refused. A
// NoExecute taint evicts the pods that do not tolerate it: it is checked as a drain is.
func taintNode(ctx context.Context, env *Env, op *Op, n *corev1.Node) (string, error) {
	key, effect := op.Params["key"], corev1.TaintEffect(op.Params["effect"])
	if actions.ReservedTaintKey(key) {
		return "", refuse(ReasonTaintNotOwned, "taint %s belongs to Kubernetes: Kubernaut never adds or removes it", key)
	}
	owned := ownedTaints(n)
	for _, t := range n.Spec.Taints {
		if t.Key == key && t.Effect == effect && !slices.Contains(owned, taintID(t)) {
			return "", refuse(ReasonTaintNotOwned, "node %s already has taint %s, which Kubernaut did not add", n.Name, taintID(t))
		}
	}
	taint := corev1.Taint{Key: key, Value: op.Params["value"], Effect: effect}
	if effect == corev1.TaintEffectNoExecute {
		if _, err := evictable(ctx, env, n.Name, actions.NoExecuteEvictOptions(taint)); err != nil {
			return "", err
		}
	}
	if err := actions.Taint(n, op.Params); err != nil {
		return "", mutateErr(err)
	}
	if !slices.Contains(owned, taintID(taint)) {
		owned = append(owned, taintID(taint))
	}
	setOwnedTaints(n, owned)
	return fmt.Sprintf("taint node %s with %s=%s:%s", n.Name, key, op.Params["value"], effect), nil
}

// untaintNode removes taints Kubernaut added, never one of Kubernetes or anyone else's.
func untaintNode(_ context.Context, _ *Env, op *Op, n *corev1.Node) (string, error) {
	key, effect := op.Params["key"], corev1.TaintEffect(op.Params["effect"])
	if actions.ReservedTaintKey(key) {
		return "", refuse(ReasonTaintNotOwned, "taint %s belongs to Kubernetes: Kubernaut never removes it", key)
	}
	owned := ownedTaints(n)
	var foreign []string
	for _, t := range n.Spec.Taints {
		if t.Key == key && (effect == "" || t.Effect == effect) {
			if !slices.Contains(owned, taintID(t)) {
				foreign = append(foreign, taintID(t))
			}
		}
	}
	if len(foreign) > 0 {
		return "", refuse(ReasonTaintNotOwned, "node %s: taint %s was not added by Kubernaut (it added: %s); it is never removed",
			n.Name, strings.Join(foreign, ", "), strings.Join(orNone(owned), ", "))
	}
	if err := actions.Untaint(n, op.Params); err != nil {
		return "", mutateErr(err)
	}
	owned = slices.DeleteFunc(owned, func(id string) bool {
		k, e, _ := strings.Cut(id, ":")
		return k == key && (effect == "" || corev1.TaintEffect(e) == effect)
	})
	setOwnedTaints(n, owned)
	what := key
	if effect != "" {
		what += ":" + string(effect)
	}
	return fmt.Sprintf("remove taint %s from node %s", what, n.Name), nil
}

func taintID(t corev1.Taint) string { return t.Key + ":" + string(t.Effect) }

// ownedTaints reads AnnotationTaints; an unreadable value owns nothing.
func ownedTaints(n *corev1.Node) []string {
	var ids []string
	if v, ok := n.Annotations[AnnotationTaints]; ok {
		if err := json.Unmarshal([]byte(v), &ids); err != nil {
			return nil
		}
	}
	return ids
}

func setOwnedTaints(n *corev1.Node, ids []string) {
	if len(ids) == 0 {
		delete(n.Annotations, AnnotationTaints)
		return
	}
	slices.Sort(ids)
	raw, _ := json.Marshal(ids) // strings always marshal
	setNodeAnnotation(n, AnnotationTaints, string(raw))
}

func setNodeAnnotation(n *corev1.Node, key, value string) {
	if n.Annotations == nil {
		n.Annotations = map[string]string{}
	}
	n.Annotations[key] = value
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"none"}
	}
	return s
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

// NodeUnavailable reports whether the node takes no new pods: unschedulable (cordoned or
// tainted NoSchedule/NoExecute, whoever did it) or not Ready (a Ready condition that is not
// True). A node without a Ready condition yet counts as available.
func NodeUnavailable(n *corev1.Node) bool {
	if NodeUnschedulable(n) {
		return true
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status != corev1.ConditionTrue
		}
	}
	return false
}
