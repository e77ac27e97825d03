package actions

import (
	"time"
)

// restart_pod: delete one Pod (with its UID as precondition) so that its controller recreates it.
// Validation and the executor refuse a Pod without a controller (resolveRestartPod).
func restartPodAction() Action {
	return Action{
		Name:    RestartPod,
		Timeout: 2 * time.Minute,
		Description: "Delete one Pod so that its controller (Deployment, StatefulSet, DaemonSet, Job) " +
			"recreates it. Use for a single stuck or misbehaving replica; a Pod without a controller " +
			"is not recreated.",
		TargetKinds: []TargetKind{KindPod},
		Params:      []Param{gracePeriodParam("Seconds the Pod is given to terminate gracefully before it is killed")},
		Risk:        RiskLow,
		Reversible:  false,
		Verbs:       []Verb{{Group: "", Resource: "pods", Verbs: []string{"get", "delete"}}},
	}
}
