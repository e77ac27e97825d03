package action

import (
	"context"

	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

func init() { register(actions.NotifyOnly, notifyOnly{}) }

// notifyOnly changes nothing: the orchestrator's completion notification tells the humans.
type notifyOnly struct{}

func (notifyOnly) Plan(context.Context, *Env, *Op) (*Plan, error) {
	return &Plan{Summary: "nothing to change (notify only)"}, nil
}

func (notifyOnly) Applied(context.Context, *Env, *Op) (bool, error) { return true, nil }

func (notifyOnly) Verify(context.Context, *Env, *Op) (bool, string, error) { return true, "", nil }

func (notifyOnly) Revert(context.Context, *Env, *Op, string) error { return nil }
