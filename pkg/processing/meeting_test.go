package processing_test

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
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
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

// startOrchestrator runs the real orchestrator, under its own RBAC, in the processing harness's namespace.
func startOrchestrator(t *testing.T, env *testenv.Env, ns string) {
	t.Helper()
	srv := acceptAll(t)
	o := app.NewOptions(true)
	o.Namespace, o.MetricsBindAddress, o.HealthProbeBindAddress, o.LeaderElect = ns, "0", "0", false
	opts := o.ManagerOptions("orchestrator")
	orchestrator.CacheOptions(&opts.Cache, ns)
	skip := true
	opts.Controller.SkipNameValidation = &skip
	cfg := rest.CopyConfig(env.AsService(t, "orchestrator", ns))
	cfg.QPS, cfg.Burst = 1000, 2000
	mgr, err := app.NewManager(cfg, opts)
	require.NoError(t, err)
	oc := orchestrator.DefaultConfig()
	oc.Namespace, oc.StabilizationWindow, oc.RetryMaxBackoff = ns, time.Hour, 2*time.Second
	r := &orchestrator.Reconciler{Config: oc, Notifier: notificationapi.NewClient(srv.URL, ""), Audit: auditapi.NewClient(srv.URL, "")}
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, r.SetupWithManager(ctx, mgr))
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("the orchestrator did not stop")
		}
	})
}

// The orchestrator's real RemediationProcessing goes through the real processing service, and
// the orchestrator moves the request to Analyzing with the enriched signal in the AIAnalysis.
func testMeetingOrchestrator(t *testing.T, env *testenv.Env) {
	ctx := context.Background()
	h := startProcessing(t, env, nil)
	startOrchestrator(t, env, h.sys)

	target := env.Namespace(t, map[string]string{"kubernaut.io/environment": "staging"})
	node := h.node(target+"-node", nil)
	d := h.deployment(target, "web", "web:2", 1)
	rs := h.replicaSet(d, 1, "web:2", 1, 0, time.Now())
	h.pod(target, rs, "apps/v1", "ReplicaSet", "web-r1-a", node.Name, "web:2", func(p *corev1.Pod) {
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
			SignalFingerprint: fingerprint(target + "/web"), SignalName: "KubePodOOMKilled",
			Severity: remediationv1.SeverityWarning, Environment: remediationv1.EnvironmentUnknown, Priority: remediationv1.PriorityP2,
			SignalType: remediationv1.SignalTypePrometheusAlert, SignalSource: "alertmanager",
			TargetResource: common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: target, Name: "web"},
			FiringTime:     now, ReceivedTime: now,
			SignalLabels:    map[string]string{"alertname": "KubePodOOMKilled", "namespace": target},
			OriginalPayload: []byte(`{"status":"firing"}`),
		},
	}
	rr.Labels = map[string]string{remediationv1.LabelSignalFingerprint: rr.Spec.SignalFingerprint[:63]}
	require.NoError(t, h.c.Create(ctx, rr))

	ok := assert.EventuallyWithT(t, func(c *assert.CollectT) {
		got := &remediationv1.RemediationRequest{}
		assert.NoError(c, h.c.Get(ctx, client.ObjectKeyFromObject(rr), got))
		assert.Equal(c, remediationv1.PhaseAnalyzing, got.Status.OverallPhase, "message %q", got.Status.Message)
	}, wait, tick)
	require.True(t, ok)

	rp := &processingv1.RemediationProcessing{}
	require.NoError(t, h.c.Get(ctx, client.ObjectKey{Namespace: h.sys, Name: "web-oom-processing"}, rp))
	assert.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase)
	a := &aiv1.AIAnalysis{}
	require.NoError(t, h.c.Get(ctx, client.ObjectKey{Namespace: h.sys, Name: "web-oom-analysis"}, a))
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
