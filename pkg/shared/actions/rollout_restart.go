package actions

import (
	"time"

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
