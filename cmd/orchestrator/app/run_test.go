package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// TestRun starts the service as main does (flags → Config → Run) against a real API server,
// checks that it drives a request, and that it stops cleanly when its context ends.
func TestRun(t *testing.T) {
	env := testenv.Start(t)
	user, err := env.Environment.AddUser(envtest.User{Name: "orchestrator", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	kubeconfig, err := user.KubeConfig()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, kubeconfig, 0o600))
	ns := env.Namespace(t, nil)

	cfg := NewConfig()
	fs := newFlagSet(cfg)
	require.NoError(t, fs.Parse([]string{"--kubeconfig=" + path, "--namespace=" + ns, "--metrics-bind-address=0",
		"--health-probe-bind-address=0", "--leader-elect=false", "--log-level=error",
		"--notification-url=http://127.0.0.1:1", "--datastorage-url=http://127.0.0.1:1"}))
	require.NoError(t, cfg.Validate())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()

	now := metav1.NewTime(time.Now().Truncate(time.Second))
	rr := &remediationv1.RemediationRequest{ObjectMeta: metav1.ObjectMeta{Name: "rr", Namespace: ns},
		Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			SignalName: "HighMemoryUsage", Severity: remediationv1.SeverityWarning, Environment: remediationv1.EnvironmentStaging,
			Priority: remediationv1.PriorityP2, SignalType: remediationv1.SignalTypePrometheusAlert, FiringTime: now, ReceivedTime: now,
			TargetResource: common.TargetResource{Kind: "Deployment", Namespace: "shop", Name: "web"}}}
	require.NoError(t, env.Client.Create(context.Background(), rr))
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		got := &remediationv1.RemediationRequest{}
		assert.NoError(c, env.Client.Get(context.Background(), objectKey(ns, "rr"), got))
		assert.Equal(c, remediationv1.PhaseProcessing, got.Status.OverallPhase)
		assert.NoError(c, env.Client.Get(context.Background(), objectKey(ns, "rr-processing"), &processingv1.RemediationProcessing{}))
		assert.NotEmpty(c, got.Status.Audit.PendingPhases, "datastorage is unreachable, so the record waits in the outbox")
	}, 30*time.Second, 50*time.Millisecond)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func objectKey(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}
