package actions

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
)

// taint_node: add a taint to the Node (Taint); a NoExecute taint evicts the Pods that do not
// tolerate it, selected as a drain's (NoExecuteEvictOptions).
func taintNodeAction() Action {
	return Action{
		Name:    TaintNode,
		Timeout: time.Minute,
		Description: "Add a taint to a Node so that Pods without a matching toleration are not " +
			"scheduled there (NoSchedule, PreferNoSchedule) or are also evicted (NoExecute). A " +
			"NoExecute taint is a drain: it passes the drain's checks (no protected Pods, no Pods " +
			"without a controller or with emptyDir data, no DaemonSet Pods among those it evicts, " +
			"at most the configured number of Pods). Keys of the kubernetes.io and k8s.io domains " +
			"belong to Kubernetes and are refused. Undone by untaint_node.",
		TargetKinds: []TargetKind{KindNode},
		Params: []Param{
			{
				Name:        "key",
				Description: `Taint key, a label key such as "example.com/degraded".`,
				Type:        ParamString,
				Required:    true,
				Format:      FormatLabelKey,
			},
			{
				Name:        "value",
				Description: "Taint value, a label value; may be omitted.",
				Type:        ParamString,
				Format:      FormatLabelValue,
			},
			{
				Name:        "effect",
				Description: "Taint effect: NoSchedule, PreferNoSchedule or NoExecute (NoExecute evicts running Pods).",
				Type:        ParamEnum,
				Required:    true,
				Enum:        taintEffects(),
			},
		},
		Risk:       RiskMedium,
		Reversible: true,
		ReversedBy: UntaintNode,
		Verbs: []Verb{
			{Group: "", Resource: "nodes", Verbs: getPatch()},
			// A NoExecute taint evicts the Pods that do not tolerate it: they are listed
			// by node name and checked as a drain checks them.
			{Group: "", Resource: "pods", Verbs: []string{"list"}},
		},
		ClusterScoped: true,
		Check:         checkTaintKey,
	}
}

// taintEffects returns the Kubernetes taint effects.
func taintEffects() []string { return []string{"NoSchedule", "PreferNoSchedule", "NoExecute"} }

// ReservedTaintKey reports whether a taint key belongs to Kubernetes: its prefix is in the
// kubernetes.io or k8s.io domain (node.kubernetes.io/not-ready, node-role.kubernetes.io/control-plane,
// node.cloudprovider.kubernetes.io/uninitialized, ...). Kubernaut neither adds nor removes such
// taints.
func ReservedTaintKey(key string) bool {
	prefix, _, ok := strings.Cut(key, "/")
	if !ok {
		return false
	}
	for _, domain := range []string{"kubernetes.io", "k8s.io"} {
		if prefix == domain || strings.HasSuffix(prefix, "."+domain) {
			return true
		}
	}
	return false
}

func checkTaintKey(params map[string]string) []Problem {
	if key := params["key"]; ReservedTaintKey(key) {
		return []Problem{{Param: "key", Message: fmt.Sprintf("%s is a taint of Kubernetes (the kubernetes.io and k8s.io domains), which Kubernaut never adds or removes", quote(key))}}
	}
	return nil
}

// Taint adds the taint key=value:effect to the Node, replacing the value of a taint with the
// same key and effect.
func Taint(n *corev1.Node, params map[string]string) error {
	key, effect := params["key"], corev1.TaintEffect(params["effect"])
	if key == "" || effect == "" {
		return fmt.Errorf("%w: key and effect are required", ErrInvalidParameters)
	}
	t := corev1.Taint{Key: key, Value: params["value"], Effect: effect}
	for i := range n.Spec.Taints {
		if n.Spec.Taints[i].Key == key && n.Spec.Taints[i].Effect == effect {
			n.Spec.Taints[i] = t
			return nil
		}
	}
	n.Spec.Taints = append(n.Spec.Taints, t)
	return nil
}

func mutateTaint(obj client.Object, params map[string]string, _ Inputs) error {
	n, err := nodeOf(TaintNode, obj)
	if err != nil {
		return err
	}
	return Taint(n, params)
}

// resolveTaintNode says what the taint_node finds on the Node and, for a NoExecute taint, which
// Pods it evicts (SelectEvictions with NoExecuteEvictOptions, the executor's selection; the node
// controller evicts them, not the Eviction API, so they are listed, not dry-run). A taint that
// would evict protected Pods is a Mismatch; one beyond the executor's blast radius (Pods without
// a controller, DaemonSet Pods, emptyDir data) is stated in Found.
func resolveTaintNode(ctx context.Context, c Cluster, live client.Object, params map[string]string, r *Resolution, in *Inputs) error {
	if err := resolveNode(ctx, c, live, params, r, in); err != nil {
		return err
	}
	if corev1.TaintEffect(params["effect"]) != corev1.TaintEffectNoExecute {
		return nil
	}
	taint := corev1.Taint{Key: params["key"], Value: params["value"], Effect: corev1.TaintEffectNoExecute}
	ev, err := ListEvictions(ctx, c, live.GetName(), NoExecuteEvictOptions(taint))
	if err != nil {
		return err
	}
	rf := ev.Refusal(0)
	if rf != nil && rf.Reason == kev1.ReasonProtected {
		return mismatchf(ErrProtected, "%s", rf.Message)
	}
	r.Found += fmt.Sprintf("; the NoExecute taint evicts %d Pods%s", len(ev.Pods), PodList(ev.Pods))
	if rf != nil {
		r.Found += "; the executor refuses it (" + rf.Reason + "): " + rf.Message
	}
	return nil
}
