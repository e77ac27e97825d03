package action

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// The catalog grants the /scale subresource too; the executor writes spec.replicas on the
// workload itself, so that the replicas and the last-remediation annotation change in one write.
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets,verbs=get;patch
// +kubebuilder:rbac:groups=apps,resources=deployments/scale;statefulsets/scale,verbs=get;update;patch

func init() {
	register(actions.ScaleDeployment, &patchAction[*appsv1.Deployment]{
		newObj: func() *appsv1.Deployment { return &appsv1.Deployment{} },
		mutate: func(_ context.Context, env *Env, op *Op, d *appsv1.Deployment) (string, error) {
			return scale(env, op, &d.Spec.Replicas)
		},
		verify:     actions.DeploymentScaled,
		reversible: true,
	})
	register(actions.ScaleStatefulSet, &patchAction[*appsv1.StatefulSet]{
		newObj: func() *appsv1.StatefulSet { return &appsv1.StatefulSet{} },
		mutate: func(_ context.Context, env *Env, op *Op, s *appsv1.StatefulSet) (string, error) {
			return scale(env, op, &s.Spec.Replicas)
		},
		verify:     actions.StatefulSetScaled,
		reversible: true,
	})
}

// scale sets the replicas (actions.ScaleReplicas), at least 1, within Limits.MaxReplicas and
// MaxScaleFactor.
func scale(env *Env, op *Op, replicas **int32) (string, error) {
	cur := int32(1)
	if *replicas != nil {
		cur = **replicas
	}
	s := &autoscalingv1.Scale{Spec: autoscalingv1.ScaleSpec{Replicas: cur}}
	if err := actions.ScaleReplicas(s, op.Params); err != nil {
		return "", mutateErr(err)
	}
	want := s.Spec.Replicas
	if want < 1 {
		return "", refuse(kev1.ReasonBlastRadius, "scaling to %d replicas stops every pod; a remediation never does", want)
	}
	if m := env.Limits.MaxReplicas; m > 0 && want > m {
		return "", refuse(kev1.ReasonBlastRadius, "%d replicas is above the limit of %d", want, m)
	}
	if f := env.Limits.MaxScaleFactor; f > 0 {
		hi, lo := float64(max(want, cur)), float64(max(min(want, cur), 1))
		if hi/lo > f {
			return "", refuse(kev1.ReasonBlastRadius, "scaling from %d to %d replicas is a factor of %.2f, above the limit %.2f", cur, want, hi/lo, f)
		}
	}
	*replicas = &want
	return fmt.Sprintf("replicas %d → %d", cur, want), nil
}
