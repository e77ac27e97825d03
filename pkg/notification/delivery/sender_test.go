package delivery_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/standin"
	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
	api "github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

func startStandins(t *testing.T) *standin.Set {
	t.Helper()
	s, err := standin.Start(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func TestSendEveryChannel(t *testing.T) {
	s := startStandins(t)
	sender := delivery.NewSender(s.Config, logr.Discard())
	ctx := context.Background()
	m := delivery.MessageFrom(approvalNR(), delivery.NewRedactor())
	for _, ch := range []notificationv1.Channel{"slack", "msteams", "pagerduty", "webhook", "email", "console"} {
		t.Run(string(ch), func(t *testing.T) { assert.Nil(t, sender.Send(ctx, ch, m)) })
	}
	require.Len(t, s.Slack.Received(), 1)
	assert.Contains(t, string(s.Slack.Received()[0].Body), "#kubernaut-approvals")
	require.Len(t, s.Teams.Received(), 1)
	require.Len(t, s.PagerDuty.Received(), 1)
	var ev delivery.PagerDutyEvent
	require.NoError(t, json.Unmarshal(s.PagerDuty.Received()[0].Body, &ev))
	assert.Equal(t, fingerprint, ev.DedupKey)
	assert.Equal(t, "trigger", ev.EventAction)
	assert.Equal(t, "error", ev.Payload.Severity)
	require.Len(t, s.Webhook.Received(), 1)
	assert.Equal(t, "Bearer "+standin.WebhookToken, s.Webhook.Received()[0].Header.Get("Authorization"))
	mails := s.SMTP.Mails()
	require.Len(t, mails, 1)
	assert.Equal(t, []string{"oncall@example.com"}, mails[0].To)
	assert.Contains(t, string(mails[0].Data), "text/plain")
	assert.Contains(t, string(mails[0].Data), "text/html")

	t.Run("pagerduty resolves on completion", func(t *testing.T) {
		require.Nil(t, sender.Send(ctx, "pagerduty", delivery.MessageFrom(completionNR(), delivery.NewRedactor())))
		got := s.PagerDuty.Received()
		require.Len(t, got, 2)
		require.NoError(t, json.Unmarshal(got[1].Body, &ev))
		assert.Equal(t, "resolve", ev.EventAction)
		assert.Equal(t, fingerprint, ev.DedupKey)
	})
}

func TestSendFailureClassification(t *testing.T) {
	s := startStandins(t)
	sender := delivery.NewSender(s.Config, logr.Discard())
	m := delivery.MessageFrom(escalationNR(), delivery.NewRedactor())
	tests := map[string]struct {
		status    int
		permanent bool
	}{
		"400 is permanent": {http.StatusBadRequest, true},
		"403 is permanent": {http.StatusForbidden, true},
		"404 is permanent": {http.StatusNotFound, true},
		"408 is retried":   {http.StatusRequestTimeout, false},
		"429 is retried":   {http.StatusTooManyRequests, false},
		"500 is retried":   {http.StatusInternalServerError, false},
		"503 is retried":   {http.StatusServiceUnavailable, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s.Slack.FailNext(tc.status)
			err := sender.Send(context.Background(), "slack", m)
			require.NotNil(t, err)
			assert.Equal(t, tc.permanent, err.Permanent)
			assert.NotContains(t, err.Reason, "Zq8sEcReTwEbHoOkPaTh", "the webhook URL is a credential")
		})
	}
	smtpTests := map[string]struct {
		code      int
		permanent bool
	}{
		"smtp 451 is retried":   {451, false},
		"smtp 550 is permanent": {550, true},
	}
	for name, tc := range smtpTests {
		t.Run(name, func(t *testing.T) {
			s.SMTP.FailNext(tc.code)
			err := sender.Send(context.Background(), "email", m)
			require.NotNil(t, err)
			assert.Equal(t, tc.permanent, err.Permanent, err.Reason)
		})
	}
	t.Run("wrong SMTP password is permanent and not leaked", func(t *testing.T) {
		dir := t.TempDir()
		cfg := *s.Config
		email := *cfg.Email
		email.PasswordFile = filepath.Join(dir, "pass")
		require.NoError(t, os.WriteFile(email.PasswordFile, []byte("wrong-password-123"), 0o600))
		cfg.Email = &email
		err := delivery.NewSender(&cfg, logr.Discard()).Send(context.Background(), "email", m)
		require.NotNil(t, err)
		assert.True(t, err.Permanent)
		assert.NotContains(t, err.Reason, "wrong-password-123")
	})
	t.Run("network error is retried and the URL secret is redacted", func(t *testing.T) {
		dir := t.TempDir()
		cfg := *s.Config
		hook := "http://127.0.0.1:1/services/T1/B1/n3tw0rkS3cr3t"
		cfg.Slack = &delivery.SlackConfig{WebhookURLFile: filepath.Join(dir, "url")}
		require.NoError(t, os.WriteFile(cfg.Slack.WebhookURLFile, []byte(hook), 0o600))
		err := delivery.NewSender(&cfg, logr.Discard()).Send(context.Background(), "slack", m)
		require.NotNil(t, err)
		assert.False(t, err.Permanent)
		assert.NotContains(t, err.Reason, "n3tw0rkS3cr3t")
		assert.Contains(t, err.Reason, delivery.Redacted)
	})
	t.Run("unconfigured channel", func(t *testing.T) {
		err := delivery.NewSender(&delivery.Config{Timeout: s.Config.Timeout}, logr.Discard()).Send(context.Background(), "msteams", m)
		require.NotNil(t, err)
		assert.True(t, err.Permanent)
		assert.Equal(t, delivery.ErrNotConfigured, err.Reason)
	})
	t.Run("a planted credential never reaches the channel", func(t *testing.T) {
		s.Reset()
		nr := escalationNR()
		nr.Spec.Body = "kubectl logs showed token=xoxb-111111111111-plantedTOKEN and " + standin.PagerDutyRoutingKey
		require.Nil(t, sender.Send(context.Background(), "pagerduty", delivery.MessageFrom(nr, delivery.NewRedactor())))
		got := s.PagerDuty.Received()
		require.Len(t, got, 1)
		var ev delivery.PagerDutyEvent
		require.NoError(t, json.Unmarshal(got[0].Body, &ev))
		body := ev.Payload.CustomDetails["body"]
		assert.NotContains(t, body, "plantedTOKEN")
		assert.NotContains(t, body, standin.PagerDutyRoutingKey, "the routing key only travels in routing_key")
		assert.Equal(t, 2, strings.Count(body, delivery.Redacted))
	})
}

func TestConsoleShowsTheApprovalCommands(t *testing.T) {
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{})
	sender := delivery.NewSender(&delivery.Config{Timeout: delivery.Duration{Duration: time.Second}}, log)
	require.Nil(t, sender.Send(context.Background(), notificationv1.ChannelConsole, delivery.MessageFrom(approvalNR(), delivery.NewRedactor())))
	require.Len(t, lines, 1)
	for _, decision := range []string{api.DecisionApproved, api.DecisionRejected} {
		cmd, err := json.Marshal(api.DecisionCommand("kubernaut-system", "rr-1-analysis-approval", decision))
		require.NoError(t, err)
		assert.Contains(t, lines[0], string(cmd))
	}
	assert.Contains(t, lines[0], `"recommendedAction"="increase_memory_limit"`)
}
