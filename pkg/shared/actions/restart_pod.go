package actions

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// restart_pod: delete one Pod (with its UID as precondition) so that its controller recreates it.
// Validation and the executor refuse a Pod without a controller (resolveRestartPod).
func restartPodAction() Action {
	return Action{
		Name:    RestartPod,
		Timeout: 2 * time.Minute,
		Description: "Delete one Pod so that its controller (Deployment, StatefulSet, DaemonSet, Job) " +
			"recreates it. Use for a single stuck or misbehaving replica; a Pod without a controller " +
			"is not recreated.",
		TargetKinds: []TargetKind{KindPod},
		Params:      []Param{gracePeriodParam("Seconds the Pod is given to terminate gracefully before it is killed")},
		Risk:        RiskLow,
		Reversible:  false,
		Verbs:       []Verb{{Group: "", Resource: "pods", Verbs: []string{"get", "delete"}}},
	}
}

// resolveRestartPod deletes the Pod, and refuses one without a controller: nothing would
// recreate it.
func resolveRestartPod(_ context.Context, _ Cluster, live client.Object, _ map[string]string, r *Resolution, _ *Inputs) error {
	p, err := liveAs[*corev1.Pod](RestartPod, "a Pod", live)
	if err != nil {
		return err
	}
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return mismatchf(ErrNoController, "Pod %s has no controller: deleted, it would not be recreated", describeKey(p))
	}
	r.Found = "Pod controlled by " + ref.Kind + " " + ref.Name
	r.Deletes = []corev1.Pod{*p}
	return nil
}
