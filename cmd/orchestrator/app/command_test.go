package app

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlags(t *testing.T) {
	cmd := NewCommand()
	for _, name := range []string{"kubeconfig", "namespace", "metrics-bind-address", "health-probe-bind-address", "leader-elect",
		"log-level", "log-format", "notification-url", "datastorage-url", "service-token-file", "dry-run", "retention",
		"timeout-processing", "timeout-analysis", "timeout-awaiting-approval", "timeout-planning", "timeout-execution", "timeout-overall",
		"verification-window", "verification-window-for", "verification-interval", "alertmanager-url",
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
		"zero stabilization":      {[]string{"--stabilization-window=0s"}, "verification window must be positive"},
		"zero verification":       {[]string{"--verification-window=0s"}, "verification window must be positive"},
		"bad window for an alert": {[]string{"--verification-window-for=KubePodCrashLooping=soon"}, "the window of KubePodCrashLooping"},
		"windows per alert":       {[]string{"--verification-window-for=KubePodCrashLooping=15m,KubeHpaMaxedOut=20m"}, ""},
		"bad alertmanager url":    {[]string{"--alertmanager-url=alertmanager:9093"}, "--alertmanager-url"},
		"alertmanager url":        {[]string{"--alertmanager-url=http://alertmanager-main.monitoring:9093"}, ""},
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

func TestVerificationFlags(t *testing.T) {
	cases := map[string]struct {
		args   []string
		window map[string]time.Duration // alert name → window ("" is an alert without its own)
		am     bool
	}{
		"defaults": {nil, map[string]time.Duration{"": 15 * time.Minute}, false},
		"the deprecated name still sets the window": {[]string{"--stabilization-window=5s"}, map[string]time.Duration{"": 5 * time.Second}, false},
		"per alert name": {[]string{"--verification-window=10m", "--verification-window-for=KubePodCrashLooping=20m,KubeHpaMaxedOut=30m"},
			map[string]time.Duration{"": 10 * time.Minute, "KubePodCrashLooping": 20 * time.Minute, "KubeHpaMaxedOut": 30 * time.Minute}, false},
		"alertmanager": {[]string{"--alertmanager-url=http://alertmanager:9093"}, map[string]time.Duration{"": 15 * time.Minute}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := NewConfig()
			require.NoError(t, newFlagSet(c).Parse(tc.args))
			require.NoError(t, c.Validate())
			for alert, want := range tc.window {
				assert.Equal(t, want, c.Orchestrator.WindowFor(alert), "window of %q", alert)
			}
			assert.Equal(t, tc.am, c.Orchestrator.Alertmanager != nil)
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
