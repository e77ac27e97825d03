package actions

import (
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
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
