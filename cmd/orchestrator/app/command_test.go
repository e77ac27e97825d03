package app

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlags(t *testing.T) {
	cmd := NewCommand()
	for _, name := range []string{"kubeconfig", "namespace", "metrics-bind-address", "health-probe-bind-address", "leader-elect",
		"log-level", "log-format", "notification-url", "datastorage-url", "service-token-file", "dry-run", "retention",
		"timeout-processing", "timeout-analysis", "timeout-awaiting-approval", "timeout-planning", "timeout-execution", "timeout-overall",
		"stabilization-window", "max-active-remediations", "max-active-per-namespace", "failure-block-threshold", "failure-block-duration"} {
		f := cmd.Flags().Lookup(name)
		if assert.NotNil(t, f, "flag --%s", name) {
			assert.NotEmpty(t, f.Usage, "flag --%s needs a help string", name)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		args    []string
		wantErr string
	}{
		"defaults":                {nil, ""},
		"negative cap":            {[]string{"--max-active-remediations=-1"}, "must not be negative"},
		"zero timeout":            {[]string{"--timeout-processing=0s"}, "processing timeout must be positive"},
		"bad notification url":    {[]string{"--notification-url=notification:8080"}, "--notification-url"},
		"zero stabilization":      {[]string{"--stabilization-window=0s"}, "stabilization window"},
		"block without duration":  {[]string{"--failure-block-duration=0s"}, "failure block duration"},
		"no concurrent reconcile": {[]string{"--max-concurrent-reconciles=0"}, "max concurrent reconciles"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := NewConfig()
			flags := newFlagSet(c)
			require.NoError(t, flags.Parse(tc.args))
			err := c.Validate()
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), tc.wantErr)
			}
		})
	}
}

func newFlagSet(c *Config) *pflag.FlagSet {
	fs := pflag.NewFlagSet("orchestrator", pflag.ContinueOnError)
	c.Options.AddFlags(fs)
	c.Clients.AddFlags(fs)
	c.AddFlags(fs)
	return fs
}
