package orchestrator_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

const (
	wait = 20 * time.Second
	tick = 50 * time.Millisecond
)

// harness is one test's namespace, stand-in services and running orchestrator.
type harness struct {
	t      testing.TB
	env    *testenv.Env
	c      client.Client
	ns     string
	notif  *notificationStandIn
	ds     *datastorageStandIn
	token  string
	cfg    orchestrator.Config
	cache  client.Reader // the manager's cache, as the orchestrator reads it
	r      *orchestrator.Reconciler
	cancel context.CancelFunc
	done   chan error
}

func newHarness(t testing.TB, env *testenv.Env, mutate func(*orchestrator.Config)) *harness {
	t.Helper()
	h := &harness{t: t, env: env, c: env.Client, ns: env.Namespace(t, nil), notif: newNotificationStandIn(t), ds: newDatastorageStandIn(t)}
	h.token = filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(h.token, []byte(testToken+"\n"), 0o600))
	h.cfg = orchestrator.DefaultConfig()
	h.cfg.Namespace = h.ns
	h.cfg.VerificationWindow = time.Hour
	h.cfg.VerificationInterval = 200 * time.Millisecond
	h.cfg.RetryMaxBackoff = 2 * time.Second
	h.cfg.BlockedRecheck = time.Hour // blocked requests must be woken by events, not by the fallback
	if mutate != nil {
		mutate(&h.cfg)
	}
	h.start()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) start() {
	h.t.Helper()
	o := app.NewOptions(true)
	o.Namespace, o.MetricsBindAddress, o.HealthProbeBindAddress, o.LeaderElect = h.ns, "0", "0", false
	opts := o.ManagerOptions("orchestrator")
	orchestrator.CacheOptions(&opts.Cache, h.ns)
	skip := true
	opts.Controller.SkipNameValidation = &skip
	cfg := *h.env.Config
	cfg.QPS, cfg.Burst = 1000, 2000
	mgr, err := app.NewManager(&cfg, opts)
	require.NoError(h.t, err)
	r := &orchestrator.Reconciler{
		Config:   h.cfg,
		Notifier: notificationapi.NewClient(h.notif.srv.URL, h.token),
		Audit:    auditapi.NewClient(h.ds.srv.URL, h.token),
	}
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(h.t, r.SetupWithManager(ctx, mgr))
	h.cache, h.r = mgr.GetCache(), r
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- mgr.Start(ctx) }()
	_ = manager.Manager(mgr)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		assert.NoError(h.t, err)
	case <-time.After(30 * time.Second):
		h.t.Error("the manager did not stop")
	}
	h.cancel = nil
}

func fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// createRR creates a request as the gateway does.
func (h *harness) createRR(name string, mutate func(*remediationv1.RemediationRequest)) *remediationv1.RemediationRequest {
	h.t.Helper()
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	rr := &remediationv1.RemediationRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns},
		Spec: remediationv1.RemediationRequestSpec{
			SignalFingerprint: fingerprint(h.ns + "/" + name), SignalName: "HighMemoryUsage",
			Severity: remediationv1.SeverityCritical, Environment: remediationv1.EnvironmentProduction, Priority: remediationv1.PriorityP0,
			SignalType: remediationv1.SignalTypePrometheusAlert, SignalSource: "alertmanager",
			TargetResource: common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
			FiringTime:     now, ReceivedTime: now,
			SignalLabels:    map[string]string{"alertname": "HighMemoryUsage"},
			OriginalPayload: []byte(`{"status":"firing","labels":{"alertname":"HighMemoryUsage"}}`),
			ProviderData:    &remediationv1.ProviderData{Namespace: "shop", AlertmanagerURL: "http://alertmanager:9093", GrafanaURL: "http://grafana/d/x"},
		},
	}
	rr.Labels = map[string]string{remediationv1.LabelSignalFingerprint: rr.Spec.SignalFingerprint[:63]}
	if mutate != nil {
		mutate(rr)
	}
	require.NoError(h.t, h.c.Create(context.Background(), rr))
	return rr
}

func (h *harness) key(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: h.ns, Name: name}
}

func (h *harness) getRR(name string) *remediationv1.RemediationRequest {
	rr := &remediationv1.RemediationRequest{}
	if err := h.c.Get(context.Background(), h.key(name), rr); err != nil {
		return &remediationv1.RemediationRequest{}
	}
	return rr
}

// waitPhase waits until the request reaches phase and returns it.
func (h *harness) waitPhase(name string, phase remediationv1.Phase) *remediationv1.RemediationRequest {
	h.t.Helper()
	var rr *remediationv1.RemediationRequest
	ok := assert.EventuallyWithT(h.t, func(c *assert.CollectT) {
		rr = h.getRR(name)
		assert.Equal(c, phase, rr.Status.OverallPhase)
	}, wait, tick, "request %s should reach %s (message %q)", name, phase, func() string { return h.getRR(name).Status.Message }())
	if !ok {
		h.t.FailNow()
	}
	return rr
}

// child waits for a child to exist and returns it.
func child[T client.Object](h *harness, name string, obj T) T {
	h.t.Helper()
	ok := assert.EventuallyWithT(h.t, func(c *assert.CollectT) {
		assert.NoError(c, h.c.Get(context.Background(), h.key(name), obj))
	}, wait, tick, "child %s should exist", name)
	if !ok {
		h.t.FailNow()
	}
	return obj
}

// patchStatus changes a child's status the way its service would.
func patchStatus[T client.Object](h *harness, obj T, mutate func(T)) {
	h.t.Helper()
	before := obj.DeepCopyObject().(T)
	mutate(obj)
	require.NoError(h.t, h.c.Status().Patch(context.Background(), obj, client.MergeFrom(before)))
}

func started() *metav1.Time {
	t := metav1.NewTime(time.Now().Add(-time.Second).Truncate(time.Second))
	return &t
}

// completeProcessing plays the processing service.
func (h *harness) completeProcessing(rr string) *processingv1.RemediationProcessing {
	rp := child(h, rr+"-processing", &processingv1.RemediationProcessing{})
	patchStatus(h, rp, func(rp *processingv1.RemediationProcessing) {
		rp.Status.Phase = processingv1.PhaseCompleted
		rp.Status.StartTime, rp.Status.CompletionTime = started(), started()
		rp.Status.EnrichedSignal = &processingv1.EnrichedSignal{
			Fingerprint: rp.Spec.Alert.Fingerprint, Severity: "critical", Environment: "production", BusinessPriority: "P0",
			Namespace: "shop", ResourceKind: "Deployment", ResourceName: "web",
			KubernetesContext: &common.KubernetesContext{NamespaceLabels: map[string]string{"kubernaut.io/environment": "production"},
				Pods: []common.PodSummary{{Name: "web-1", Phase: "Running", Containers: []common.ContainerSummary{{Name: "app", RestartCount: 4, LastTerminationReason: "OOMKilled"}}}}},
		}
	})
	return rp
}

func recommendation() aiv1.Recommendation {
	return aiv1.Recommendation{ID: "rec-1", Action: "increase_resources", Description: "raise the memory limit", Confidence: 0.82, RiskLevel: aiv1.RiskMedium,
		Rationale:     "the container was OOMKilled 4 times",
		WorkflowSteps: []common.WorkflowStep{{Name: "raise-memory", Action: "increase_resources", Parameters: map[string]string{"memory": "512Mi"}}}}
}

// analyze plays the aianalysis service.
func (h *harness) analyze(rr string, phase aiv1.Phase, mutate func(*aiv1.AIAnalysis)) *aiv1.AIAnalysis {
	a := child(h, rr+"-analysis", &aiv1.AIAnalysis{})
	patchStatus(h, a, func(a *aiv1.AIAnalysis) {
		a.Status.Phase = phase
		a.Status.StartTime = started()
		a.Status.RootCause = "memory limit too low"
		a.Status.InvestigationSummary = "web pods are OOMKilled under normal load"
		a.Status.Evidence = []string{"4 OOMKilled restarts in 10m", "working set at 98% of the limit"}
		a.Status.Confidence = 0.82
		a.Status.Recommendations = []aiv1.Recommendation{recommendation(),
			{ID: "rec-2", Action: "restart_pod", Confidence: 0.4, RiskLevel: aiv1.RiskLow, Description: "restart the pods"}}
		if phase == aiv1.PhaseCompleted || phase == aiv1.PhaseFailed || phase == aiv1.PhaseRejected {
			a.Status.CompletionTime = started()
		}
		if mutate != nil {
			mutate(a)
		}
	})
	return a
}

func (h *harness) completeWorkflow(rr string) *workflowv1.WorkflowExecution {
	w := child(h, rr+"-workflow", &workflowv1.WorkflowExecution{})
	patchStatus(h, w, func(w *workflowv1.WorkflowExecution) {
		w.Status.Phase = workflowv1.PhaseCompleted
		w.Status.StartTime, w.Status.CompletionTime = started(), started()
		w.Status.Operations = []common.Operation{{Name: "raise-memory", Action: "increase_resources",
			Target: common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, Parameters: map[string]string{"memory": "512Mi"}}}
	})
	return w
}

func (h *harness) finishExecution(rr string, phase kev1.Phase) *kev1.KubernetesExecution {
	k := child(h, rr+"-execution", &kev1.KubernetesExecution{})
	patchStatus(h, k, func(k *kev1.KubernetesExecution) {
		k.Status.Phase = phase
		k.Status.StartTime, k.Status.CompletionTime = started(), started()
		op := kev1.OperationSucceeded
		if phase != kev1.PhaseCompleted {
			op = kev1.OperationFailed
		}
		k.Status.OperationResults = []kev1.OperationResult{{Name: "raise-memory", Phase: op, Message: "memory limit set to 512Mi"}}
		k.Status.Message = "done"
	})
	return k
}

// resolve plays the gateway reporting the signal resolved.
func (h *harness) resolve(name string) {
	rr := h.getRR(name)
	patchStatus(h, rr, func(rr *remediationv1.RemediationRequest) { now := metav1.Now(); rr.Status.SignalResolvedAt = &now })
}

func (h *harness) exists(obj client.Object, name string) bool {
	err := h.c.Get(context.Background(), h.key(name), obj)
	return !apierrors.IsNotFound(err)
}
