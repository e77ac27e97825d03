package app

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCommandBuildsConfigFromFlags(t *testing.T) {
	tests := map[string]struct {
		args    []string
		check   func(t *testing.T, c *Config)
		wantErr string
	}{
		"defaults": {args: nil, check: func(t *testing.T, c *Config) {
			assert.Equal(t, "kubernaut-system", c.Namespace)
			assert.Equal(t, ":9090", c.MetricsBindAddress)
			assert.Equal(t, ":8081", c.HealthProbeBindAddress)
			assert.True(t, c.LeaderElect)
			assert.Equal(t, "json", c.LogFormat)
		}},
		"every shared flag": {args: []string{"--kubeconfig=/k", "--namespace=ops", "--metrics-bind-address=:19090", "--health-probe-bind-address=127.0.0.1:18081", "--leader-elect=false", "--log-level=debug", "--log-format=console"},
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, "/k", c.Kubeconfig)
				assert.Equal(t, "ops", c.Namespace)
				assert.Equal(t, ":19090", c.MetricsBindAddress)
				assert.Equal(t, "127.0.0.1:18081", c.HealthProbeBindAddress)
				assert.False(t, c.LeaderElect)
				assert.Equal(t, "debug", c.LogLevel)
				assert.Equal(t, "console", c.LogFormat)
			}},
		"invalid values are all reported": {args: []string{"--log-format=xml", "--log-level=loud", "--namespace="}, wantErr: "--log-format"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got *Config
			cmd := newCommand(NewConfig(), func(_ context.Context, c *Config) error { got = c; return nil })
			cmd.SetArgs(tc.args)
			err := cmd.ExecuteContext(context.Background())
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Contains(t, err.Error(), "--log-level")
				assert.Contains(t, err.Error(), "--namespace")
				return
			}
			require.NoError(t, err)
			require.NotNil(t, got)
			tc.check(t, got)
		})
	}
}
