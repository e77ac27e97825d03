package actions

import (
	"time"
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
