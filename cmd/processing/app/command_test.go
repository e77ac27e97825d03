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

func TestProcessingFlags(t *testing.T) {
	run := func(args ...string) (*Config, error) {
		var got *Config
		cmd := newCommand(NewConfig(), func(_ context.Context, c *Config) error { got = c; return nil })
		cmd.SetArgs(args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		return got, cmd.ExecuteContext(context.Background())
	}
	got, err := run("--policy-configmap=my-policy", "--enrichment-timeout=3s", "--max-concurrent-reconciles=8", "--max-context-bytes=4096", "--kube-api-qps=50", "--kube-api-burst=70")
	require.NoError(t, err)
	assert.Equal(t, "my-policy", got.Processing.PolicyConfigMap)
	assert.Equal(t, 3*time.Second, got.Processing.EnrichmentTimeout)
	assert.Equal(t, 8, got.Processing.MaxConcurrentReconciles)
	assert.Equal(t, 4096, got.Processing.MaxContextBytes)
	assert.InDelta(t, 50, got.KubeAPIQPS, 0.001)
	assert.Equal(t, 70, got.KubeAPIBurst)

	got, err = run()
	require.NoError(t, err)
	assert.Equal(t, "kubernaut-processing-policy", got.Processing.PolicyConfigMap)
	assert.Equal(t, 10*time.Second, got.Processing.EnrichmentTimeout)

	_, err = run("--policy-configmap=", "--enrichment-timeout=0s", "--max-concurrent-reconciles=0", "--max-context-bytes=10", "--kube-api-qps=0")
	require.Error(t, err)
	for _, flag := range []string{"--policy-configmap", "--enrichment-timeout", "--max-concurrent-reconciles", "--max-context-bytes", "--kube-api-qps"} {
		assert.Contains(t, err.Error(), flag)
	}

	var help bytes.Buffer
	cmd := NewCommand()
	cmd.SetOut(&help)
	cmd.SetArgs([]string{"--help"})
	require.NoError(t, cmd.Execute())
	for _, flag := range []string{"--policy-configmap", "--enrichment-timeout", "--max-concurrent-reconciles", "--max-context-bytes", "--kube-api-qps", "--kube-api-burst", "--namespace"} {
		assert.Contains(t, help.String(), flag)
	}
}
