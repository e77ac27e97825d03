package action

import (
	"context"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;patch

func init() {
	register(actions.UpdateHPA, &patchAction[*autoscalingv2.HorizontalPodAutoscaler]{
		newObj:     func() *autoscalingv2.HorizontalPodAutoscaler { return &autoscalingv2.HorizontalPodAutoscaler{} },
		mutate:     updateHPA,
		reversible: true,
	})
}

// updateHPA sets the bounds (actions.SetHPABounds); raising maxReplicas above Limits.MaxReplicas or
// by more than Limits.MaxScaleFactor is refused, as a scale would be.
func updateHPA(_ context.Context, env *Env, op *Op, h *autoscalingv2.HorizontalPodAutoscaler) (string, error) {
	curMin, curMax := int32(1), h.Spec.MaxReplicas
	if h.Spec.MinReplicas != nil {
		curMin = *h.Spec.MinReplicas
	}
	if err := actions.SetHPABounds(h, op.Params); err != nil {
		return "", mutateErr(err)
	}
	newMin, newMax := int32(1), h.Spec.MaxReplicas
	if h.Spec.MinReplicas != nil {
		newMin = *h.Spec.MinReplicas
	}
	if m := env.Limits.MaxReplicas; m > 0 && newMax > curMax && newMax > m {
		return "", refuse(kev1.ReasonBlastRadius, "maxReplicas %d is above the limit of %d", newMax, m)
	}
	if m := env.Limits.MaxReplicas; m > 0 && newMin > curMin && newMin > m {
		return "", refuse(kev1.ReasonBlastRadius, "minReplicas %d is above the limit of %d", newMin, m)
	}
	if f := env.Limits.MaxScaleFactor; f > 0 && curMax > 0 && float64(newMax)/float64(curMax) > f {
		return "", refuse(kev1.ReasonBlastRadius, "maxReplicas %d → %d is a factor above the limit %.2f", curMax, newMax, f)
	}
	return fmt.Sprintf("minReplicas %d → %d, maxReplicas %d → %d", curMin, newMin, curMax, newMax), nil
}
