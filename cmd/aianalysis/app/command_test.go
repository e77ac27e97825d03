package app

import (
	"context"
	"testing"

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
}
