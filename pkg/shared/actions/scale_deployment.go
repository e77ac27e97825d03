package actions

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// resolveScale reads the target's /scale, which the scale actions change (scale_deployment and
// scale_statefulset).
func resolveScale(ctx context.Context, c Cluster, live client.Object, _ map[string]string, r *Resolution, _ *Inputs) error {
	scale := &autoscalingv1.Scale{}
	if err := c.SubResource("scale").Get(ctx, live, scale); err != nil {
		if apierrors.IsNotFound(err) {
			return mismatchf(ErrTargetNotFound, "the /scale of %s was not found", describeKey(live))
		}
		return fmt.Errorf("reading the scale of %s: %w", describeKey(live), err)
	}
	r.Live, r.Subresource = scale, "scale"
	r.Found = fmt.Sprintf("%d replicas desired", scale.Spec.Replicas)
	return nil
}

// DeploymentScaled is the post-condition of scale_deployment: the Deployment controller saw the
// change and the replicas are there and ready.
func DeploymentScaled(d *appsv1.Deployment) (bool, string) {
	want := *d.Spec.Replicas
	st := d.Status
	switch {
	case st.ObservedGeneration < d.Generation:
		return false, fmt.Sprintf("waiting for the Deployment controller to observe generation %d", d.Generation)
	case st.Replicas != want:
		return false, fmt.Sprintf("%d of %d replicas", st.Replicas, want)
	case st.ReadyReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas ready", st.ReadyReplicas, want)
	}
	return true, ""
}
