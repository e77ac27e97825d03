package actions

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// scale_statefulset: set the replicas of a StatefulSet's /scale (ScaleReplicas, as
// scale_deployment). Post-condition: the replicas ready.
func scaleStatefulSetAction() Action {
	return Action{
		Name:    ScaleStatefulSet,
		Timeout: 5 * time.Minute,
		Description: "Set the number of replicas of a StatefulSet. Pods are added or removed one " +
			"at a time in ordinal order; their PersistentVolumeClaims are kept. Undone by scaling " +
			"back to the recorded previous count.",
		TargetKinds: []TargetKind{KindStatefulSet},
		Params:      []Param{replicasParam("StatefulSet")},
		Risk:        RiskMedium,
		Reversible:  true,
		ReversedBy:  ScaleStatefulSet,
		Verbs:       scaleVerbs("statefulsets"),
	}
}

// StatefulSetScaled is the post-condition of scale_statefulset: the StatefulSet controller saw
// the change and the replicas are there and ready.
func StatefulSetScaled(s *appsv1.StatefulSet) (bool, string) {
	want := *s.Spec.Replicas
	st := s.Status
	switch {
	case st.ObservedGeneration < s.Generation:
		return false, fmt.Sprintf("waiting for the StatefulSet controller to observe generation %d", s.Generation)
	case st.Replicas != want:
		return false, fmt.Sprintf("%d of %d replicas", st.Replicas, want)
	case st.ReadyReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas ready", st.ReadyReplicas, want)
	}
	return true, ""
}
