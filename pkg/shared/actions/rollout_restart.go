package actions

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// rollout_restart: stamp the Pod template with the restart time (StampRestart); a repeat with
// the same time rolls nothing. Post-condition: the new template rolled out and available.
func rolloutRestartAction() Action {
	return Action{
		Name:    RolloutRestart,
		Timeout: 5 * time.Minute,
		Description: "Restart every Pod of a Deployment, StatefulSet or DaemonSet through a rolling " +
			"update (like `kubectl rollout restart`), respecting the workload's update strategy.",
		TargetKinds: []TargetKind{KindDeployment, KindStatefulSet, KindDaemonSet},
		Risk:        RiskMedium,
		Reversible:  false,
		Verbs: []Verb{
			{Group: "apps", Resource: "deployments", Verbs: getPatch()},
			{Group: "apps", Resource: "statefulsets", Verbs: getPatch()},
			{Group: "apps", Resource: "daemonsets", Verbs: getPatch()},
		},
	}
}

// RestartedAtAnnotation is the Pod template annotation a rolling restart sets (as `kubectl rollout
// restart` does).
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// StampRestart stamps the Pod template with the restart time, which rolls out new Pods.
func StampRestart(tpl *corev1.PodTemplateSpec, now time.Time) {
	if now.IsZero() {
		now = time.Now()
	}
	if tpl.Annotations == nil {
		tpl.Annotations = map[string]string{}
	}
	tpl.Annotations[RestartedAtAnnotation] = now.UTC().Format(time.RFC3339)
}

func mutateRolloutRestart(obj client.Object, _ map[string]string, in Inputs) error {
	tpl, err := PodTemplate(obj)
	if err != nil {
		return err
	}
	StampRestart(tpl, in.Now)
	return nil
}

// resolveRolloutRestart names the containers of the Pod template.
func resolveRolloutRestart(_ context.Context, _ Cluster, live client.Object, _ map[string]string, r *Resolution, _ *Inputs) error {
	names, err := containerNames(live)
	if err != nil {
		return err
	}
	r.Found = "containers " + strings.Join(names, ", ")
	return nil
}

// DeploymentRolledOut is the post-condition of a template change: the Deployment controller saw
// the new generation and every replica runs the new template and is available.
func DeploymentRolledOut(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	switch {
	case st.ObservedGeneration < d.Generation:
		return false, fmt.Sprintf("waiting for the Deployment controller to observe generation %d", d.Generation)
	case st.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas updated", st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		return false, fmt.Sprintf("%d old replicas pending termination", st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < want:
		return false, fmt.Sprintf("%d of %d updated replicas available", st.AvailableReplicas, want)
	}
	return true, ""
}

// StatefulSetRolledOut is the post-condition of a template change (see DeploymentRolledOut).
func StatefulSetRolledOut(s *appsv1.StatefulSet) (bool, string) {
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	st := s.Status
	switch {
	case st.ObservedGeneration < s.Generation:
		return false, fmt.Sprintf("waiting for the StatefulSet controller to observe generation %d", s.Generation)
	case st.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas updated", st.UpdatedReplicas, want)
	case st.ReadyReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas ready", st.ReadyReplicas, want)
	}
	return true, ""
}

// DaemonSetRolledOut is the post-condition of a template change (see DeploymentRolledOut).
func DaemonSetRolledOut(ds *appsv1.DaemonSet) (bool, string) {
	st := ds.Status
	switch {
	case st.ObservedGeneration < ds.Generation:
		return false, fmt.Sprintf("waiting for the DaemonSet controller to observe generation %d", ds.Generation)
	case st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
		return false, fmt.Sprintf("%d of %d pods updated", st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	case st.NumberAvailable < st.DesiredNumberScheduled:
		return false, fmt.Sprintf("%d of %d pods available", st.NumberAvailable, st.DesiredNumberScheduled)
	}
	return true, ""
}
