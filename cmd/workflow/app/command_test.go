package app

import (
	"context"
	"strings"
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

func TestCommandWorkflowFlags(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    string
		wantErr string
	}{
		"default executor":     {args: nil, want: "system:serviceaccount:kubernaut-system:kubernaut-executor"},
		"custom executor":      {args: []string{"--executor-service-account=system:serviceaccount:ops:runner"}, want: "system:serviceaccount:ops:runner"},
		"not a ServiceAccount": {args: []string{"--executor-service-account=alice"}, wantErr: "--executor-service-account"},
		"no concurrency":       {args: []string{"--max-concurrent-reconciles=0"}, wantErr: "--max-concurrent-reconciles"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got *Config
			cmd := newCommand(NewConfig(), func(_ context.Context, c *Config) error { got = c; return nil })
			cmd.SetArgs(tc.args)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			err := cmd.ExecuteContext(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ExecutorServiceAccount != tc.want {
				t.Errorf("executor %q, want %q", got.ExecutorServiceAccount, tc.want)
			}
		})
	}
}
