package delivery_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("x\n"), 0o600))
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}

	t.Run("yaml with defaults", func(t *testing.T) {
		p := write("ok.yaml", "slack:\n  webhookURLFile: "+secret+"\nemail:\n  host: smtp.example.com\n  from: k@example.com\n  usernameFile: "+secret+"\n  passwordFile: "+secret+"\nretry:\n  initialBackoff: 10s\n")
		cfg, err := delivery.LoadConfig(p)
		require.NoError(t, err)
		assert.Equal(t, 587, cfg.Email.Port)
		assert.Equal(t, int32(5), cfg.Retry.MaxAttempts)
		assert.Equal(t, 10*time.Second, cfg.Retry.InitialBackoff.Duration)
		assert.Equal(t, 480*time.Second, cfg.Retry.MaxBackoff.Duration)
		assert.Nil(t, cfg.PagerDuty)
	})
	t.Run("json", func(t *testing.T) {
		p := write("ok.json", `{"pagerduty":{"routingKeyFile":"`+secret+`"},"webhook":{"url":"https://hooks.example/x"}}`)
		cfg, err := delivery.LoadConfig(p)
		require.NoError(t, err)
		assert.Equal(t, delivery.DefaultPagerDutyURL, cfg.PagerDuty.URL)
	})
	t.Run("empty path is console only", func(t *testing.T) {
		cfg, err := delivery.LoadConfig("")
		require.NoError(t, err)
		assert.Nil(t, cfg.Slack)
	})
	tests := map[string]struct{ content, want string }{
		"unknown field":          {"slak: {}\n", "unknown field"},
		"missing credential":     {"slack:\n  webhookURLFile: /nonexistent/file\n", "slack.webhookURLFile"},
		"webhook url with creds": {"webhook:\n  url: https://u:p@hooks.example/x\n", "must not carry credentials"},
		"email half auth":        {"email:\n  host: h\n  from: f@x\n  usernameFile: " + secret + "\n", "set together"},
		"bad retry":              {"retry:\n  maxAttempts: 20\n", "retry.maxAttempts"},
		"bad duration":           {"retry:\n  initialBackoff: soon\n", "invalid duration"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := delivery.LoadConfig(write("bad.yaml", tc.content))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
