package actions

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// notify_only: change nothing; the notification is the orchestrator's.
func notifyOnlyAction() Action {
	return Action{
		Name:    NotifyOnly,
		Timeout: 30 * time.Second,
		Description: "Change nothing in the cluster and only notify the on-call humans, for alerts " +
			"that no automatic action can safely fix.",
		TargetKinds: []TargetKind{AnyKind},
		Params: []Param{
			{
				Name:        "message",
				Description: "Text to include in the notification.",
				Type:        ParamString,
				MaxLength:   1024,
			},
		},
		Risk:       RiskLow,
		Reversible: true,
	}
}

// resolveNotifyOnly: nothing is touched.
func resolveNotifyOnly(_ context.Context, _ Cluster, _ client.Object, _ map[string]string, r *Resolution, _ *Inputs) error {
	r.Found = "changes nothing"
	return nil
}
