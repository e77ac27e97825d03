package actions

import (
	"fmt"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// scale_deployment: set the replicas of a Deployment's /scale (ScaleReplicas). Post-condition:
// the replicas ready.
func scaleDeploymentAction() Action {
	return Action{
		Name:    ScaleDeployment,
		Timeout: 5 * time.Minute,
		Description: "Set the number of replicas of a Deployment. Undone by scaling back to the " +
			"recorded previous count. Has no lasting effect when a HorizontalPodAutoscaler manages " +
			"the Deployment; use update_hpa instead.",
		TargetKinds: []TargetKind{KindDeployment},
		Params:      []Param{replicasParam("Deployment")},
		Risk:        RiskMedium,
		Reversible:  true,
		ReversedBy:  ScaleDeployment,
		Verbs:       scaleVerbs("deployments"),
	}
}

// ScaleReplicas sets the desired replicas of a /scale subresource from the replicas parameter.
func ScaleReplicas(s *autoscalingv1.Scale, params map[string]string) error {
	n, err := intParam(params, "replicas", true)
	if err != nil {
		return err
	}
	s.Spec.Replicas = int32(n)
	return nil
}

func mutateScale(obj client.Object, params map[string]string, _ Inputs) error {
	s, ok := obj.(*autoscalingv1.Scale)
	if !ok {
		return fmt.Errorf("%w: scale actions act on the /scale subresource, got %T", ErrUnsupportedTarget, obj)
	}
	return ScaleReplicas(s, params)
}
