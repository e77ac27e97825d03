package actions

import (
	"time"
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
