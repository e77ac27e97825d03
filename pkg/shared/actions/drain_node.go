package actions

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
)

// drain_node: cordon the Node (its change, Cordon, reverted by an uncordon) and evict the Pods
// SelectEvictions selects (pods.go), through the Eviction API. Post-condition: no Pod left to
// evict.
func drainNodeAction() Action {
	return Action{
		Name:    DrainNode,
		Timeout: 10 * time.Minute,
		Description: "Cordon a Node and evict its Pods (like `kubectl drain`), honouring " +
			"PodDisruptionBudgets, so that their controllers recreate them elsewhere. Disrupts " +
			"every workload on the Node. Undone, as far as scheduling goes, by uncordon_node; " +
			"evicted Pods do not move back by themselves.",
		TargetKinds: []TargetKind{KindNode},
		Params: []Param{
			gracePeriodParam("Seconds each evicted Pod is given to terminate gracefully"),
			{
				Name:        "timeout",
				Description: `How long to wait for the Node to be drained before giving up, e.g. "10m"; at most 1h.`,
				Type:        ParamDuration,
				Default:     "5m",
				MaxDuration: time.Hour,
			},
			{
				Name:        "ignoreDaemonSets",
				Description: "Leave DaemonSet-managed Pods in place instead of failing the drain.",
				Type:        ParamBool,
				Default:     "true",
			},
			{
				Name:        "deleteEmptyDirData",
				Description: "Also evict Pods using emptyDir volumes, whose data is lost.",
				Type:        ParamBool,
				Default:     "false",
			},
		},
		Risk:       RiskHigh,
		Reversible: true,
		ReversedBy: UncordonNode,
		Verbs: []Verb{
			{Group: "", Resource: "nodes", Verbs: getPatch()},
			// Pods are listed across namespaces by node name, evicted,
			// deleted when eviction is unavailable, and polled until gone.
			{Group: "", Resource: "pods", Verbs: []string{"get", "list", "delete"}},
			{Group: "", Resource: "pods/eviction", Verbs: []string{"create"}},
			// DaemonSet-managed Pods are recognised by their owner.
			{Group: "apps", Resource: "daemonsets", Verbs: []string{"get"}},
		},
		ClusterScoped: true,
	}
}

func mutateDrain(obj client.Object, _ map[string]string, _ Inputs) error {
	n, err := nodeOf(DrainNode, obj)
	if err != nil {
		return err
	}
	Cordon(n)
	return nil
}

// resolveDrain selects the Pods the drain evicts (SelectEvictions, the executor's selection). A
// drain the executor refuses whatever its limits (protected Pods; DaemonSet Pods with
// ignoreDaemonSets=false) is a Mismatch; one beyond the blast radius it allows (Pods without a
// controller, emptyDir data) is its own safety check, stated in Found so that the approver sees
// it.
func resolveDrain(ctx context.Context, c Cluster, live client.Object, params map[string]string, r *Resolution, _ *Inputs) error {
	ev, err := ListEvictions(ctx, c, live.GetName(), DrainEvictOptions(live.GetName(), params))
	if err != nil {
		return err
	}
	rf := ev.Refusal(0)
	switch {
	case rf != nil && rf.Reason == kev1.ReasonProtected:
		return mismatchf(ErrProtected, "%s", rf.Message)
	case rf != nil && rf.Reason == kev1.ReasonInvalidParameters:
		return mismatchf(ErrInvalidParameters, "%s", rf.Message)
	}
	r.Evictions = ev.Pods
	r.Found = fmt.Sprintf("%d Pods to evict%s", len(r.Evictions), PodList(r.Evictions))
	if n := len(ev.DaemonSetsKept); n > 0 {
		r.Found += fmt.Sprintf("; %d DaemonSet Pods left in place", n)
	}
	if rf != nil {
		r.Found += "; the executor refuses it (" + rf.Reason + "): " + rf.Message
	}
	return nil
}
