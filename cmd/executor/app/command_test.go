package app

import (
	"context"
	"testing"

	"github.com/kubernaut/kubernaut/internal/testutil/apptest"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

func TestCommandBuildsConfigFromFlags(t *testing.T) {
	apptest.TestSharedFlags(t, true, func(args []string) (*shared.Options, error) {
		var got *Config
		cmd := newCommand(NewConfig(), func(_ context.Context, c *Config) error { got = c; return nil })
		cmd.SetArgs(args)
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			return nil, err
		}
		return &got.Options, nil
	})
}
