package action

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=get;patch

func init() {
	register(actions.RolloutRestart, workloadActions(rolloutRestart, true, false))
}

// rolloutRestart stamps the pod template with the operation's start time (actions.StampRestart),
// so that repeating the change writes the same value and rolls out nothing more. Its
// post-condition is the new ReplicaSet (or revision) rolled out and available.
func rolloutRestart(_ *Env, op *Op, tpl *corev1.PodTemplateSpec) (string, error) {
	actions.StampRestart(tpl, op.ID.Time)
	return "restart: " + actions.RestartedAtAnnotation + "=" + tpl.Annotations[actions.RestartedAtAnnotation], nil
}
