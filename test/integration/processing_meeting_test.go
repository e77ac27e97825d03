package integration_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	testchain "github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/internal/testutil/cluster"
	"github.com/kubernaut/kubernaut/internal/testutil/services"
	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

// acceptAll plays datastorage and notification for the orchestrator: every post is accepted.
func acceptAll(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, `{"error":"malformed JSON"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"name":"accepted"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// startOrchestrator runs the real orchestrator, under its own RBAC, in ns, with every post to
// notification and datastorage accepted.
func startOrchestrator(t *testing.T, ns string) {
	t.Helper()
	srv := acceptAll(t)
	services.Orchestrator(t, env, ns, func(r *orchestrator.Reconciler) {
		r.Config.StabilizationWindow, r.Config.RetryMaxBackoff = time.Hour, 2*time.Second
		r.Notifier, r.Audit = notificationapi.NewClient(srv.URL, ""), auditapi.NewClient(srv.URL, "")
	})
}

// The orchestrator's real RemediationProcessing goes through the real processing service, and
// the orchestrator moves the request to Analyzing with the enriched signal in the AIAnalysis.
func TestMeetingOrchestratorProcessing(t *testing.T) {
	ctx := context.Background()
	h := struct {
		cluster.Objects
		sys string
	}{cluster.Objects{T: t, C: env.Client}, env.Namespace(t, nil)}
	services.Processing(t, env, h.sys, nil)
	startOrchestrator(t, h.sys)

	target := env.Namespace(t, map[string]string{"kubernaut.io/environment": "staging"})
	node := h.Node(target+"-node", nil)
	d := h.Deployment(target, "web", "web:2", 1)
	rs := h.ReplicaSet(d, 1, "web:2", 1, 0, time.Now())
	h.Pod(target, rs, "apps/v1", "ReplicaSet", "web-r1-a", node.Name, "web:2", func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "web:2", ImageID: "sha256:1", RestartCount: 3,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}
	})

	// The request as the gateway creates it.
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	rr := &remediationv1.RemediationRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "web-oom", Namespace: h.sys},
		Spec: remediationv1.RemediationRequestSpec{
			SignalFingerprint: testchain.Fingerprint(target + "/web"), SignalName: "KubePodOOMKilled",
			Severity: remediationv1.SeverityWarning, Environment: remediationv1.EnvironmentUnknown, Priority: remediationv1.PriorityP2,
			SignalType: remediationv1.SignalTypePrometheusAlert, SignalSource: "alertmanager",
			TargetResource: common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: target, Name: "web"},
			FiringTime:     now, ReceivedTime: now,
			SignalLabels:    map[string]string{"alertname": "KubePodOOMKilled", "namespace": target},
			OriginalPayload: []byte(`{"status":"firing"}`),
		},
	}
	rr.Labels = map[string]string{remediationv1.LabelSignalFingerprint: rr.Spec.SignalFingerprint[:63]}
	require.NoError(t, h.C.Create(ctx, rr))

	ok := assert.EventuallyWithT(t, func(c *assert.CollectT) {
		got := &remediationv1.RemediationRequest{}
		assert.NoError(c, h.C.Get(ctx, client.ObjectKeyFromObject(rr), got))
		assert.Equal(c, remediationv1.PhaseAnalyzing, got.Status.OverallPhase, "message %q", got.Status.Message)
	}, wait, tick)
	require.True(t, ok)

	rp := &processingv1.RemediationProcessing{}
	require.NoError(t, h.C.Get(ctx, client.ObjectKey{Namespace: h.sys, Name: "web-oom-processing"}, rp))
	assert.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase)
	a := &aiv1.AIAnalysis{}
	require.NoError(t, h.C.Get(ctx, client.ObjectKey{Namespace: h.sys, Name: "web-oom-analysis"}, a))
	ac := a.Spec.AnalysisRequest.AlertContext
	assert.Equal(t, "staging", ac.Environment, "processing's classification, not the gateway's")
	assert.Equal(t, "P2", ac.BusinessPriority)
	assert.Equal(t, "Deployment", ac.ResourceKind)
	assert.Equal(t, target, ac.Namespace)
	require.NotNil(t, ac.KubernetesContext)
	require.NotEmpty(t, ac.KubernetesContext.Pods)
	assert.Equal(t, "OOMKilled", ac.KubernetesContext.Pods[0].Containers[0].LastTerminationReason)
	assert.Equal(t, "256Mi", ac.KubernetesContext.Pods[0].Containers[0].Limits["memory"])
	require.NotNil(t, ac.KubernetesContext.Rollout)
	assert.Equal(t, []string{"app=web:2"}, ac.KubernetesContext.Rollout.Current.Images)
}
