package actions

import (
	"context"
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// update_hpa: set the bounds of a HorizontalPodAutoscaler (SetHPABounds).
func updateHPAAction() Action {
	return Action{
		Name:    UpdateHPA,
		Timeout: time.Minute,
		Description: "Change the minimum and/or maximum replica count of a HorizontalPodAutoscaler, " +
			"e.g. to let a saturated workload scale further. Undone by restoring the recorded " +
			"previous bounds.",
		TargetKinds: []TargetKind{KindHorizontalPodAutoscaler},
		Params: []Param{
			{
				Name:        "minReplicas",
				Description: "New minimum number of replicas. At least one of minReplicas and maxReplicas is required.",
				Type:        ParamInt,
				Min:         ptr[int64](1),
				Max:         ptr[int64](1000),
			},
			{
				Name:        "maxReplicas",
				Description: "New maximum number of replicas; must not be below minReplicas when both are given.",
				Type:        ParamInt,
				Min:         ptr[int64](1),
				Max:         ptr[int64](1000),
			},
		},
		Risk:       RiskMedium,
		Reversible: true,
		ReversedBy: UpdateHPA,
		Verbs: []Verb{
			{Group: "autoscaling", Resource: "horizontalpodautoscalers", Verbs: getPatch()},
		},
		Check: checkUpdateHPA,
	}
}

func checkUpdateHPA(params map[string]string) []Problem {
	problems := atLeastOneOf(params, "minReplicas", "maxReplicas")
	lo, okLo := parsedInt(params, "minReplicas")
	hi, okHi := parsedInt(params, "maxReplicas")
	if okLo && okHi && lo > hi {
		problems = append(problems, Problem{
			Param:   "minReplicas",
			Message: fmt.Sprintf("must not exceed maxReplicas (%d), got %d", hi, lo),
		})
	}
	return problems
}

// SetHPABounds sets minReplicas and/or maxReplicas of the HorizontalPodAutoscaler.
func SetHPABounds(h *autoscalingv2.HorizontalPodAutoscaler, params map[string]string) error {
	lo, err := intParam(params, "minReplicas", false)
	if err != nil {
		return err
	}
	hi, err := intParam(params, "maxReplicas", false)
	if err != nil {
		return err
	}
	if lo == 0 && hi == 0 {
		return fmt.Errorf("%w: none of minReplicas, maxReplicas given", ErrInvalidParameters)
	}
	if lo > 0 {
		v := int32(lo)
		h.Spec.MinReplicas = &v
	}
	if hi > 0 {
		h.Spec.MaxReplicas = int32(hi)
	}
	if h.Spec.MinReplicas != nil && *h.Spec.MinReplicas > h.Spec.MaxReplicas {
		return fmt.Errorf("%w: HorizontalPodAutoscaler %s/%s would have minReplicas %d above maxReplicas %d",
			ErrInvalidBounds, h.Namespace, h.Name, *h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
	return nil
}

func mutateUpdateHPA(obj client.Object, params map[string]string, _ Inputs) error {
	h, err := targetAs[*autoscalingv2.HorizontalPodAutoscaler](UpdateHPA, "an autoscaling/v2 HorizontalPodAutoscaler", obj)
	if err != nil {
		return err
	}
	return SetHPABounds(h, params)
}

// resolveUpdateHPA says what the autoscaler scales and between which bounds.
func resolveUpdateHPA(_ context.Context, _ Cluster, live client.Object, _ map[string]string, r *Resolution, _ *Inputs) error {
	h, err := liveAs[*autoscalingv2.HorizontalPodAutoscaler](UpdateHPA, "an autoscaling/v2 HorizontalPodAutoscaler", live)
	if err != nil {
		return err
	}
	lo := int32(1)
	if h.Spec.MinReplicas != nil {
		lo = *h.Spec.MinReplicas
	}
	r.Found = fmt.Sprintf("HorizontalPodAutoscaler of %s %s, replicas %d–%d", h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name, lo, h.Spec.MaxReplicas)
	return nil
}
