package app

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/apptest"
	"github.com/kubernaut/kubernaut/pkg/executor"
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

func TestExecutorFlags(t *testing.T) {
	tests := map[string]struct {
		args  []string
		check func(t *testing.T, c *Config)
		err   string
	}{
		"defaults": {
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, executor.DefaultConfigMapName, c.SafetyConfigMap)
				assert.Equal(t, 16, c.MaxConcurrentExecutions)
				assert.Equal(t, 2*time.Second, c.PollInterval)
			},
		},
		"set": {
			args: []string{"--safety-configmap=limits", "--max-concurrent-executions=8", "--poll-interval=500ms"},
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, "limits", c.SafetyConfigMap)
				assert.Equal(t, 8, c.MaxConcurrentExecutions)
				assert.Equal(t, 500*time.Millisecond, c.PollInterval)
			},
		},
		"no executions":  {args: []string{"--max-concurrent-executions=0"}, err: "--max-concurrent-executions"},
		"no poll":        {args: []string{"--poll-interval=0s"}, err: "--poll-interval"},
		"no safety name": {args: []string{"--safety-configmap="}, err: "--safety-configmap"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got *Config
			cmd := newCommand(NewConfig(), func(_ context.Context, c *Config) error { got = c; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.ExecuteContext(context.Background())
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			tc.check(t, got)
		})
	}
	var help bytes.Buffer
	cmd := NewCommand()
	cmd.SetOut(&help)
	cmd.SetArgs([]string{"--help"})
	require.NoError(t, cmd.Execute())
	for _, flag := range []string{"--safety-configmap", "--max-concurrent-executions", "--poll-interval"} {
		assert.Contains(t, help.String(), flag)
	}
}
