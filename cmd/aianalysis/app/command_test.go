package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/apptest"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

func execute(args []string) (*Config, error) {
	var got *Config
	cmd := newCommand(NewConfig(), func(_ context.Context, c *Config) error { got = c; return nil })
	cmd.SetArgs(args)
	return got, cmd.ExecuteContext(context.Background())
}

func TestCommandBuildsConfigFromFlags(t *testing.T) {
	apptest.TestSharedFlags(t, true, func(args []string) (*shared.Options, error) {
		c, err := execute(args)
		if err != nil {
			return nil, err
		}
		return &c.Options, nil
	})
	t.Run("service clients and provider", func(t *testing.T) {
		c, err := execute([]string{"--notification-url=http://n:8080", "--datastorage-url=https://d", "--service-token-file=/t",
			"--provider=openai", "--openai-base-url=http://llm:8000/v1", "--model=m"})
		require.NoError(t, err)
		assert.Equal(t, "http://n:8080", c.Clients.NotificationURL)
		assert.Equal(t, "https://d", c.Clients.DatastorageURL)
		assert.Equal(t, "/t", c.Clients.ServiceTokenFile)
		assert.Equal(t, "openai", c.Provider)
		assert.Equal(t, "http://llm:8000/v1", c.OpenAIBaseURL)
		assert.Equal(t, "m", c.Model)
	})
	t.Run("provider settings are checked", func(t *testing.T) {
		_, err := execute([]string{"--provider=holmesgpt"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "--holmesgpt-url")
	})
	t.Run("LLM settings", func(t *testing.T) {
		c, err := execute([]string{"--provider=holmesgpt", "--holmesgpt-url=http://holmes:8080", "--llm-timeout=3m", "--llm-retries=5",
			"--approval-policy-configmap=my-policy", "--historical-patterns=false", "--max-concurrent-reconciles=8"})
		require.NoError(t, err)
		assert.Equal(t, 3*time.Minute, c.LLMTimeout)
		assert.Equal(t, 5, c.LLMRetries)
		assert.Equal(t, "my-policy", c.ApprovalPolicyConfigMap)
		assert.False(t, c.History)
		assert.Equal(t, 8, c.MaxConcurrentReconciles)
		assert.Equal(t, "holmesgpt", c.NewInvestigator().Name())
		assert.Equal(t, "http://holmes:8080/api/chat", c.Defaults().Endpoint)
	})
	t.Run("repeat-action window", func(t *testing.T) {
		c, err := execute([]string{"--repeat-action-window=2h"})
		require.NoError(t, err)
		assert.Equal(t, 2*time.Hour, c.RepeatActionWindow)
		c, err = execute([]string{"--repeat-action-window=0"})
		require.NoError(t, err, "0 turns the check off")
		assert.Zero(t, c.RepeatActionWindow)
		_, err = execute([]string{"--repeat-action-window=-1h"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "--repeat-action-window")
	})
	t.Run("defaults: builtin, 5m timeout, history on", func(t *testing.T) {
		c, err := execute(nil)
		require.NoError(t, err)
		assert.Equal(t, 6*time.Hour, c.RepeatActionWindow)
		assert.Equal(t, "builtin", c.Provider)
		assert.Equal(t, "builtin", c.NewInvestigator().Name())
		assert.Equal(t, 5*time.Minute, c.LLMTimeout)
		assert.True(t, c.History)
	})
	t.Run("the API key never comes from a flag value", func(t *testing.T) {
		_, err := execute([]string{"--api-key=sk-secret"})
		require.Error(t, err, "there is no --api-key flag")
		file := filepath.Join(t.TempDir(), "key")
		require.NoError(t, os.WriteFile(file, []byte("sk-from-file\n"), 0o600))
		c, err := execute([]string{"--provider=openai", "--openai-base-url=http://llm/v1", "--model=m", "--api-key-file=" + file})
		require.NoError(t, err)
		key, err := c.APIKey()()
		require.NoError(t, err)
		assert.Equal(t, "sk-from-file", key)
		t.Setenv(APIKeyEnv, "sk-from-env")
		c, err = execute([]string{"--provider=openai", "--openai-base-url=http://llm/v1", "--model=m"})
		require.NoError(t, err)
		key, _ = c.APIKey()()
		assert.Equal(t, "sk-from-env", key)
	})
	t.Run("invalid LLM settings are reported", func(t *testing.T) {
		_, err := execute([]string{"--llm-timeout=0s", "--llm-retries=11", "--max-concurrent-reconciles=0"})
		require.Error(t, err)
		for _, f := range []string{"--llm-timeout", "--llm-retries", "--max-concurrent-reconciles"} {
			assert.Contains(t, err.Error(), f)
		}
	})
}
