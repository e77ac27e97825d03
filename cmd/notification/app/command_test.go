package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	"github.com/kubernaut/kubernaut/cmd/notification/app"
	"github.com/kubernaut/kubernaut/internal/testutil/apptest"
	"github.com/kubernaut/kubernaut/internal/testutil/standin"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	api "github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

func TestHelpListsEveryFlag(t *testing.T) {
	cmd := app.NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--help"})
	require.NoError(t, cmd.Execute())
	for _, f := range []string{"--kubeconfig", "--namespace", "--metrics-bind-address", "--health-probe-bind-address", "--leader-elect",
		"--log-level", "--log-format", "--http-bind-address", "--auth-mode", "--auth-token-file", "--config", "--max-concurrent-deliveries"} {
		assert.Contains(t, out.String(), f)
	}
}

func TestInvalidFlags(t *testing.T) {
	cmd := app.NewCommand()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs([]string{"--auth-mode=magic", "--max-concurrent-deliveries=0"})
	err := cmd.Execute()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--auth-mode")
	assert.Contains(t, err.Error(), "--max-concurrent-deliveries")
}

// TestServiceEndToEnd runs the command as the binary would: an escalation posted over HTTP
// becomes a NotificationRequest that the controller delivers to the Slack stand-in.
func TestServiceEndToEnd(t *testing.T) {
	env := testenv.Start(t)
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, env.Environment.KubeConfig, 0o600))
	ns := env.Namespace(t, nil)
	stand, err := standin.Start(dir)
	require.NoError(t, err)
	t.Cleanup(stand.Close)
	config := filepath.Join(dir, "notification.yaml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf("slack:\n  webhookURLFile: %s\nretry:\n  initialBackoff: 1s\n", stand.Config.Slack.WebhookURLFile)), 0o600))
	tokens := filepath.Join(dir, "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("svc-token\n"), 0o600))
	addr, probes := apptest.FreeAddr(t), apptest.FreeAddr(t)

	cmd := app.NewCommand()
	cmd.SetArgs([]string{"--kubeconfig", kubeconfig, "--namespace", ns, "--config", config, "--http-bind-address", addr,
		"--auth-mode", "token-file", "--auth-token-file", tokens, "--metrics-bind-address", "0", "--health-probe-bind-address", probes,
		"--leader-elect=false", "--log-level", "error"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})

	require.NoError(t, os.WriteFile(filepath.Join(dir, "client-token"), []byte("svc-token"), 0o600))
	c := api.NewClient("http://"+addr, filepath.Join(dir, "client-token"))
	t0 := time.Now().UTC()
	req := api.EscalationRequest{
		RemediationRequestName: "rr-e2e", RemediationRequestNamespace: ns, EscalatingController: "remediation-orchestrator",
		AlertFingerprint: strings.Repeat("ab", 32), AlertName: "HighMemoryUsage", Severity: "critical", Environment: "production",
		Priority: "P1", SignalType: "prometheus-alert", Namespace: "shop", Resource: api.ResourceIdentifier{Kind: "Deployment", Name: "web", Namespace: "shop"},
		EscalationReason: "timeout", EscalationPhase: "Executing", EscalationTime: t0, AlertFiringTime: t0, AlertReceivedTime: t0,
		RemediationDuration: "10m0s", Channels: []string{"slack", "console"}, Urgency: "high",
	}
	var resp api.EscalationResponse
	assert.EventuallyWithT(t, func(c2 *assert.CollectT) {
		var err error
		resp, err = c.SendEscalation(context.Background(), req)
		assert.NoError(c2, err)
	}, 20*time.Second, 100*time.Millisecond, "the HTTP server comes up")
	assert.Equal(t, "rr-e2e-escalation-executing", resp.NotificationName)

	assert.EventuallyWithT(t, func(c2 *assert.CollectT) {
		nr := &notificationv1.NotificationRequest{}
		if assert.NoError(c2, env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: resp.NotificationName}, nr)) {
			assert.Equal(c2, notificationv1.PhaseSent, nr.Status.Phase)
		}
	}, 20*time.Second, 50*time.Millisecond)
	var got int
	for _, r := range stand.Slack.Received() {
		if strings.Contains(string(r.Body), resp.NotificationName) {
			got++
		}
	}
	assert.Equal(t, 1, got)

	// The probes answer while it runs.
	for _, path := range []string{"/healthz", "/readyz"} {
		r, err := http.Get("http://" + probes + path)
		require.NoError(t, err)
		r.Body.Close()
		assert.Equal(t, http.StatusOK, r.StatusCode, path)
	}
}
