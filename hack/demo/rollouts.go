package main

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/internal/incident"
	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/timing"
)

// rolloutCost rolls out the round's Deployments once more without Kubernaut (a pod-template
// annotation patched by the administrator, all at once) and prints what that cost the API
// server: the part of a remediation's API server CPU that is the rollout itself (the Deployment
// and ReplicaSet controllers, the scheduler and kwok's pod status), not Kubernaut.
func rolloutCost(ctx context.Context, out *timing.Clock, sys *launcher.System, label string, ins []*incident.Incident, idle float64) error {
	out.Printf("benchmark %s: rolling the same %d Deployments out again without Kubernaut, for the rollout's own cost", label, len(ins))
	c := sys.Cluster.Client
	api := startAPIMeter(idle)
	if api.err != nil {
		return nil // no API server of ours to measure
	}
	start := time.Now()
	stamp := start.UTC().Format(time.RFC3339Nano)
	patch := fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{"bench.kubernaut.io/rollout":%q}}}}}`, stamp)
	want := map[types.NamespacedName]int64{}
	for _, in := range ins {
		d := &appsv1.Deployment{}
		d.Namespace, d.Name = in.Namespace, in.Deployment
		if err := c.Patch(ctx, d, client.RawPatch(types.StrategicMergePatchType, patch)); err != nil {
			return fmt.Errorf("patching %s/%s: %w", in.Namespace, in.Deployment, err)
		}
		want[client.ObjectKeyFromObject(d)] = d.Generation
	}
	// One list per check (not a get per Deployment), so that waiting costs the API server little.
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var list appsv1.DeploymentList
		if err := c.List(ctx, &list); err != nil {
			return false, err
		}
		for i := range list.Items {
			d := &list.Items[i]
			gen, ok := want[client.ObjectKeyFromObject(d)]
			if !ok {
				continue
			}
			st, replicas := d.Status, int32(1)
			if d.Spec.Replicas != nil {
				replicas = *d.Spec.Replicas
			}
			if st.ObservedGeneration >= gen && st.UpdatedReplicas == replicas && st.Replicas == replicas && st.AvailableReplicas == replicas {
				delete(want, client.ObjectKeyFromObject(d))
			}
		}
		return len(want) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the rollouts (%d left): %w", len(want), err)
	}
	took := time.Since(start)
	used, err := api.used()
	if err != nil {
		return err
	}
	fmt.Printf("%s, the same rollouts without Kubernaut: %d Deployments rolled out in %s = %.2f rollouts/s; API server CPU %.0f ms per rollout above the idle\n\n",
		label, len(ins), took.Round(time.Millisecond), float64(len(ins))/took.Seconds(), float64(used.Milliseconds())/float64(len(ins)))
	return nil
}
