package delivery_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
	api "github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// update regenerates the golden files: go test ./pkg/notification/... -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const fingerprint = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

var created = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

func approvalNR() *notificationv1.NotificationRequest {
	return &notificationv1.NotificationRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "rr-1-approval", Namespace: "kubernaut-system", CreationTimestamp: metav1.NewTime(created)},
		Spec: notificationv1.NotificationRequestSpec{
			RemediationRequestRef: &common.ObjectReference{Name: "rr-1", Namespace: "kubernaut-system"},
			Type:                  notificationv1.TypeApproval,
			Subject:               "🚨 Approval Required: production scale-up of shop/web",
			Body:                  "Investigation: memory of `web` grows until OOMKilled.\n\nEvidence:\n- 5 restarts in 10m\n- limit 256Mi",
			Priority:              notificationv1.PriorityHigh,
			Channels:              []notificationv1.Channel{notificationv1.ChannelSlack, notificationv1.ChannelConsole},
			Recipients:            []notificationv1.Recipient{{Channel: notificationv1.ChannelSlack, Address: "#kubernaut-approvals"}},
			Metadata: map[string]string{
				api.MetaSignalFingerprint: fingerprint, api.MetaSignalName: "HighMemoryUsage", api.MetaSeverity: "critical",
				api.MetaEnvironment: "production", api.MetaNamespace: "shop", api.MetaResource: "Deployment/shop/web",
				api.MetaAIAnalysis: "rr-1-analysis", api.MetaApprovalRequest: "rr-1-analysis-approval",
				api.MetaRecommendedAction: "increase_memory_limit", api.MetaConfidence: "0.72",
				api.MetaAlertmanagerURL: "http://alertmanager.example/#/alerts", api.MetaGrafanaURL: "https://grafana.example/d/x",
			},
		},
	}
}

func escalationNR() *notificationv1.NotificationRequest {
	nr := approvalNR()
	nr.Name = "rr-1-escalation-analyzing"
	nr.Spec.Type = notificationv1.TypeEscalation
	nr.Spec.Priority = notificationv1.PriorityCritical
	nr.Spec.Subject = "⚠️ Escalation: HighMemoryUsage timeout in Analyzing (rr-1)"
	nr.Spec.Body = "The analysis did not finish within 10m."
	nr.Spec.Recipients = nil
	for _, k := range []string{api.MetaApprovalRequest, api.MetaRecommendedAction, api.MetaConfidence, api.MetaAIAnalysis} {
		delete(nr.Spec.Metadata, k)
	}
	nr.Spec.Metadata[api.MetaEscalationPhase] = "Analyzing"
	nr.Spec.Metadata[api.MetaEscalationReason] = "timeout"
	return nr
}

func completionNR() *notificationv1.NotificationRequest {
	nr := escalationNR()
	nr.Name = "rr-1-completion"
	nr.Spec.Type = notificationv1.TypeCompletion
	nr.Spec.Priority = notificationv1.PriorityLow
	nr.Spec.Subject = "✅ Remediated: HighMemoryUsage on shop/web"
	nr.Spec.Metadata[api.MetaOutcome] = "Remediated"
	return nr
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	if json.Valid(got) {
		var buf bytes.Buffer
		require.NoError(t, json.Indent(&buf, got, "", "  "))
		got = append(buf.Bytes(), '\n')
	}
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run go test ./pkg/notification/... -update")
	assert.Equal(t, string(want), string(got), "rendering changed: review and run go test ./pkg/notification/... -update")
}

func TestRenderGolden(t *testing.T) {
	r := delivery.NewRedactor()
	date := time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)
	tests := map[string]struct {
		nr     *notificationv1.NotificationRequest
		render func(m *delivery.Message) ([]byte, error)
	}{
		"slack-approval.json":   {approvalNR(), func(m *delivery.Message) ([]byte, error) { return delivery.RenderSlack(m, "#kubernaut-approvals") }},
		"slack-escalation.json": {escalationNR(), func(m *delivery.Message) ([]byte, error) { return delivery.RenderSlack(m, "") }},
		"teams-approval.json":   {approvalNR(), delivery.RenderTeams},
		"teams-escalation.json": {escalationNR(), delivery.RenderTeams},
		"pagerduty-trigger.json": {escalationNR(), func(m *delivery.Message) ([]byte, error) {
			return delivery.RenderPagerDuty(m, "ROUTINGKEY", "kubernaut")
		}},
		"pagerduty-resolve.json": {completionNR(), func(m *delivery.Message) ([]byte, error) {
			return delivery.RenderPagerDuty(m, "ROUTINGKEY", "kubernaut")
		}},
		"webhook-escalation.json": {escalationNR(), delivery.RenderWebhook},
		"email-approval.eml": {approvalNR(), func(m *delivery.Message) ([]byte, error) {
			return delivery.RenderEmail(m, "kubernaut@example.com", []string{"oncall@example.com"}, date)
		}},
		"email-escalation.eml": {escalationNR(), func(m *delivery.Message) ([]byte, error) {
			return delivery.RenderEmail(m, "kubernaut@example.com", []string{"oncall@example.com", "sre@example.com"}, date)
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := tc.render(delivery.MessageFrom(tc.nr, r))
			require.NoError(t, err)
			golden(t, name, got)
		})
	}
}

func TestSizeLimits(t *testing.T) {
	huge := approvalNR()
	huge.Spec.Body = strings.Repeat("log line with détails ", 4000) // ≈ 90 KB
	huge.Spec.Subject = strings.Repeat("S", 500)
	m := delivery.MessageFrom(huge, delivery.NewRedactor())

	t.Run("slack fits 40 KB with a marker", func(t *testing.T) {
		b, err := delivery.RenderSlack(m, "")
		require.NoError(t, err)
		assert.LessOrEqual(t, len(b), delivery.SlackMaxBytes)
		assert.Contains(t, string(b), delivery.TruncationMarker)
		var p struct {
			Blocks []struct {
				Type string `json:"type"`
				Text *struct {
					Text string `json:"text"`
				} `json:"text"`
			} `json:"blocks"`
		}
		require.NoError(t, json.Unmarshal(b, &p))
		assert.LessOrEqual(t, len(p.Blocks), 50)
		assert.LessOrEqual(t, len([]rune(p.Blocks[0].Text.Text)), 150, "header")
		for _, blk := range p.Blocks {
			if blk.Text != nil {
				assert.LessOrEqual(t, len([]rune(blk.Text.Text)), 3000)
			}
		}
	})
	t.Run("teams fits 28 KB with a marker", func(t *testing.T) {
		b, err := delivery.RenderTeams(m)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(b), delivery.TeamsMaxBytes)
		assert.Contains(t, string(b), delivery.TruncationMarker)
	})
	t.Run("pagerduty summary at most 1024 characters with a marker", func(t *testing.T) {
		long := escalationNR()
		long.Spec.Subject = strings.Repeat("é", 2000)
		b, err := delivery.RenderPagerDuty(delivery.MessageFrom(long, delivery.NewRedactor()), "k", "src")
		require.NoError(t, err)
		var ev delivery.PagerDutyEvent
		require.NoError(t, json.Unmarshal(b, &ev))
		assert.Len(t, []rune(ev.Payload.Summary), delivery.PagerDutySummaryMaxChar)
		assert.True(t, strings.HasSuffix(ev.Payload.Summary, delivery.TruncationMarker))
	})
	t.Run("short text is untouched", func(t *testing.T) {
		assert.Equal(t, "abc", text.Truncate("abc", 3))
		assert.Equal(t, "ab"+delivery.TruncationMarker, text.Truncate("ab"+strings.Repeat("x", 100), 2+len([]rune(delivery.TruncationMarker))))
	})
}

func TestPagerDutySeverity(t *testing.T) {
	tests := map[string]struct{ priority, want string }{
		"critical": {"Critical", "critical"}, "high": {"High", "error"}, "medium": {"Medium", "warning"}, "low": {"Low", "info"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, delivery.PagerDutySeverity(tc.priority)) })
	}
}
