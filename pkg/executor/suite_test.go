package executor_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/executor"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/actions/preconditions"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

const (
	wait = 30 * time.Second
	tick = 50 * time.Millisecond
)

// One API server for the package; every test has its own system namespace (executions, the
// safety ConfigMap, the service account) and its own target namespace.
var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.RunWithEnv(m, func(e *testenv.Env) { env = e })) }

// harness is one test's namespaces and running executor.
type harness struct {
	t   testing.TB
	c   client.Client
	sys string // KubernetesExecutions and the safety ConfigMap
	app string // targets: labelled managed
	cfg *rest.Config
}

// newHarness creates the test's namespaces and its safety ConfigMap: baseSafety and safety.
func newHarness(t testing.TB, safety map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, c: env.Client}
	h.sys = env.Namespace(t, nil)
	h.app = env.Namespace(t, map[string]string{kev1.LabelManaged: "true"})
	h.cfg = env.AsService(t, "executor", h.sys)
	h.setSafety(safety)
	return h
}

// baseSafety keeps the change budgets out of the way of the tests about something else (each
// test's executions share one budget); the budget tests set their own.
var baseSafety = map[string]string{executor.KeyMaxChangesPerNamespace: "1000", executor.KeyMaxChangesPerCluster: "1000"}

// setSafety creates, or replaces, the safety ConfigMap with baseSafety and data.
func (h *harness) setSafety(data map[string]string) {
	h.t.Helper()
	ctx := context.Background()
	merged := maps.Clone(baseSafety)
	maps.Copy(merged, data)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: executor.DefaultConfigMapName, Namespace: h.sys}}
	if err := h.c.Get(ctx, client.ObjectKeyFromObject(cm), cm); err == nil {
		cm.Data = merged
		require.NoError(h.t, h.c.Update(ctx, cm))
		return
	}
	cm.Data = merged
	require.NoError(h.t, h.c.Create(ctx, cm))
}

// start runs the executor (under its generated RBAC) until the returned stop is called or the
// test ends.
func (h *harness) start(mutate func(*executor.Reconciler)) (stop func()) {
	h.t.Helper()
	opts := manager.Options{
		Scheme:                 app.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Logger:                 testLogger(),
	}
	executor.CacheOptions(&opts.Cache, h.sys, "")
	mgr, err := app.NewManager(h.cfg, opts)
	require.NoError(h.t, err)
	r := &executor.Reconciler{Namespace: h.sys, PollInterval: 100 * time.Millisecond}
	if mutate != nil {
		mutate(r)
	}
	require.NoError(h.t, r.SetupWithManager(h.t.Context(), mgr))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mgr.Start(ctx)
	}()
	var stopped atomic.Bool
	stop = func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		<-done
	}
	h.t.Cleanup(stop)
	return stop
}

// testLogger logs to stderr when KUBERNAUT_TEST_LOG is set.
func testLogger() logr.Logger {
	if os.Getenv("KUBERNAUT_TEST_LOG") == "" {
		return logr.Discard()
	}
	return zap.New(zap.UseDevMode(true))
}

var keCounter atomic.Int64

// execution creates a KubernetesExecution of ops in the system namespace, with the intact chain
// the executor requires (approvedChain).
func (h *harness) execution(dryRun bool, ops ...common.Operation) *kev1.KubernetesExecution {
	h.t.Helper()
	return h.run(kev1.ExecutionConfig{DryRun: dryRun, SafetyValidation: ptr.To(true)}, ops...)
}

// run creates a KubernetesExecution of ops with cfg and its intact chain.
func (h *harness) run(cfg kev1.ExecutionConfig, ops ...common.Operation) *kev1.KubernetesExecution {
	h.t.Helper()
	c, validated := h.approvedChain(ops...)
	return h.execute(c, cfg, validated)
}

// chain is what the orchestrator creates around an execution: the RemediationRequest, its
// analysis and its workflow.
type chain struct {
	rr  *remediationv1.RemediationRequest
	aia *aiv1.AIAnalysis
	wfe *workflowv1.WorkflowExecution
}

// approvedChain creates what the orchestrator, the analysis and the workflow service create
// before an execution: a RemediationRequest, its AIAnalysis recommending steps of ops and
// approved by the policy, and its WorkflowExecution, Completed, that validated ops against the
// live targets (the UID and preconditions captured as the workflow captures them, for operations
// that carry none). It returns the chain and the validated operations.
func (h *harness) approvedChain(ops ...common.Operation) (*chain, []common.Operation) {
	h.t.Helper()
	validated := make([]common.Operation, len(ops))
	for i, o := range ops {
		validated[i] = h.validate(o)
	}
	c := h.request(stepsOf(validated)...)
	h.validated(c, validated)
	return c, validated
}

// validate fills in what the workflow records of an operation's live target: its UID and
// preconditions (unless the operation carries them), and the step timeout.
func (h *harness) validate(o common.Operation) common.Operation {
	h.t.Helper()
	if o.Timeout == nil {
		cat, _ := actions.Lookup(o.Action)
		o.Timeout = &metav1.Duration{Duration: max(cat.Timeout, time.Second)}
	}
	obj := actions.NewObject(o.Target.Kind)
	if obj == nil || o.Action == "notify_only" {
		return o
	}
	ctx := context.Background()
	if err := h.c.Get(ctx, types.NamespacedName{Namespace: o.Target.Namespace, Name: o.Target.Name}, obj); err != nil {
		require.True(h.t, apierrors.IsNotFound(err), "reading the target of %s: %v", o.Name, err)
		return o
	}
	if o.TargetUID == "" {
		o.TargetUID = string(obj.GetUID())
	}
	o.TargetResourceVersion = obj.GetResourceVersion()
	if o.Preconditions == nil {
		p, err := preconditions.Capture(ctx, h.c, obj)
		require.NoError(h.t, err)
		o.Preconditions = p
	}
	return o
}

func stepsOf(ops []common.Operation) []common.WorkflowStep {
	steps := make([]common.WorkflowStep, len(ops))
	for i, o := range ops {
		t := o.Target
		steps[i] = common.WorkflowStep{Name: o.Name, Action: o.Action, Target: &t, Parameters: o.Parameters, DependsOn: o.DependsOn,
			Timeout: o.Timeout, MaxRetries: o.MaxRetries}
	}
	return steps
}

// request creates a RemediationRequest and its AIAnalysis, Completed, recommending steps and
// approved by the policy (no approval required), named in the request's status.
func (h *harness) request(steps ...common.WorkflowStep) *chain {
	h.t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("rr-%d", keCounter.Add(1))
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	target := common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: h.app, Name: "web"}
	if len(steps) > 0 && steps[0].Target != nil {
		target = *steps[0].Target
	}
	sum := sha256.Sum256([]byte(h.sys + "/" + name))
	rr := &remediationv1.RemediationRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.sys},
		Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: hex.EncodeToString(sum[:]), SignalName: "KubePodCrashLooping",
			Severity: remediationv1.SeverityWarning, Environment: remediationv1.EnvironmentStaging, Priority: remediationv1.PriorityP2,
			SignalType: remediationv1.SignalTypePrometheusAlert, TargetResource: target, FiringTime: now, ReceivedTime: now},
	}
	require.NoError(h.t, h.c.Create(ctx, rr))
	aia := &aiv1.AIAnalysis{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-analysis", Namespace: h.sys, OwnerReferences: []metav1.OwnerReference{ownerRef(rr)}},
		Spec: aiv1.AIAnalysisSpec{RemediationRequestRef: common.ObjectReference{Name: rr.Name, Namespace: h.sys},
			AnalysisRequest: aiv1.AnalysisRequest{AlertContext: aiv1.SignalContext{Fingerprint: rr.Spec.SignalFingerprint, Severity: "warning",
				Environment: "staging", BusinessPriority: "P2", Namespace: target.Namespace, ResourceKind: target.Kind, ResourceName: target.Name}}},
	}
	require.NoError(h.t, h.c.Create(ctx, aia))
	action := "notify_only"
	if len(steps) > 0 {
		action = steps[0].Action
	}
	aia.Status = aiv1.AIAnalysisStatus{Phase: aiv1.PhaseCompleted, Outcome: aiv1.OutcomeActionRecommended,
		Recommendations: []aiv1.Recommendation{{ID: "r1", Action: action, Confidence: 0.9, RiskLevel: aiv1.RiskLow, WorkflowSteps: steps}},
		Approval:        &aiv1.ApprovalStatus{Required: false}}
	require.NoError(h.t, h.c.Status().Update(ctx, aia))
	rr.Status.OverallPhase = remediationv1.PhaseAnalyzing
	rr.Status.AIAnalysisRef = &common.ObjectReference{Name: aia.Name, Namespace: h.sys}
	require.NoError(h.t, h.c.Status().Update(ctx, rr))
	return &chain{rr: rr, aia: aia}
}

// validated creates the request's WorkflowExecution, Completed, that planned the analysis's
// steps and validated ops, named in the request's status.
func (h *harness) validated(c *chain, ops []common.Operation) {
	h.t.Helper()
	ctx := context.Background()
	wfe := &workflowv1.WorkflowExecution{
		ObjectMeta: metav1.ObjectMeta{Name: c.rr.Name + "-workflow", Namespace: h.sys, OwnerReferences: []metav1.OwnerReference{ownerRef(c.rr)}},
		Spec: workflowv1.WorkflowExecutionSpec{RemediationRequestRef: common.ObjectReference{Name: c.rr.Name, Namespace: h.sys},
			TargetResource:     &c.rr.Spec.TargetResource,
			WorkflowDefinition: workflowv1.WorkflowDefinition{Steps: c.aia.Status.Recommendations[0].WorkflowSteps}},
	}
	require.NoError(h.t, h.c.Create(ctx, wfe))
	wfe.Status = workflowv1.WorkflowExecutionStatus{Phase: workflowv1.PhaseCompleted, Operations: ops}
	require.NoError(h.t, h.c.Status().Update(ctx, wfe))
	c.wfe = wfe
	h.named(c, func(st *remediationv1.RemediationRequestStatus) {
		st.OverallPhase = remediationv1.PhasePlanning
		st.WorkflowExecutionRef = &common.ObjectReference{Name: wfe.Name, Namespace: h.sys}
	})
}

// execute creates the chain's KubernetesExecution of ops with cfg, after naming it in the
// request's status (the orchestrator names it right after creating it; the executor waits
// for that).
func (h *harness) execute(c *chain, cfg kev1.ExecutionConfig, ops []common.Operation) *kev1.KubernetesExecution {
	h.t.Helper()
	h.named(c, func(st *remediationv1.RemediationRequestStatus) {
		st.OverallPhase = remediationv1.PhaseExecuting
		st.KubernetesExecutionRef = &common.ObjectReference{Name: c.rr.Name + "-execution", Namespace: h.sys}
	})
	return h.create(c, cfg, ops)
}

// create creates the chain's KubernetesExecution of ops with cfg without naming it in the
// request's status.
func (h *harness) create(c *chain, cfg kev1.ExecutionConfig, ops []common.Operation) *kev1.KubernetesExecution {
	h.t.Helper()
	ke := &kev1.KubernetesExecution{
		ObjectMeta: metav1.ObjectMeta{Name: c.rr.Name + "-execution", Namespace: h.sys, OwnerReferences: []metav1.OwnerReference{ownerRef(c.rr)}},
		Spec: kev1.KubernetesExecutionSpec{RemediationRequestRef: common.ObjectReference{Name: c.rr.Name, Namespace: h.sys},
			Operations: ops, ExecutionConfig: cfg},
	}
	require.NoError(h.t, h.c.Create(context.Background(), ke))
	return ke
}

// named changes the request's status.
func (h *harness) named(c *chain, change func(*remediationv1.RemediationRequestStatus)) {
	h.t.Helper()
	ctx := context.Background()
	require.NoError(h.t, h.c.Get(ctx, client.ObjectKeyFromObject(c.rr), c.rr))
	change(&c.rr.Status)
	require.NoError(h.t, h.c.Status().Update(ctx, c.rr))
}

func ownerRef(rr *remediationv1.RemediationRequest) metav1.OwnerReference {
	return *metav1.NewControllerRef(rr, remediationv1.GroupVersion.WithKind("RemediationRequest"))
}

// finished waits for the execution to reach a final phase and returns it.
func (h *harness) finished(ke *kev1.KubernetesExecution) *kev1.KubernetesExecution {
	h.t.Helper()
	got := &kev1.KubernetesExecution{}
	require.EventuallyWithT(h.t, func(c *assert.CollectT) {
		require.NoError(c, h.c.Get(context.Background(), client.ObjectKeyFromObject(ke), got))
		p := got.Status.Phase
		assert.True(c, p == kev1.PhaseCompleted || p == kev1.PhaseFailed || p == kev1.PhaseRolledBack, "phase %q: %s", p, got.Status.Message)
	}, wait, tick)
	return got
}

func op(name, action string, target common.TargetResource, params map[string]string) common.Operation {
	return common.Operation{Name: name, Action: action, Target: target, Parameters: params}
}

func deploymentTarget(ns, name string) common.TargetResource {
	return common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: name}
}

// deployment creates a Deployment with one container "app" (memory 128Mi/256Mi, cpu 100m).
func (h *harness) deployment(name string, replicas int32, mutate func(*appsv1.Deployment)) *appsv1.Deployment {
	h.t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.app},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example/app:1",
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi"), corev1.ResourceCPU: resource.MustParse("100m")},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
					},
				}}},
			},
		},
	}
	if mutate != nil {
		mutate(d)
	}
	require.NoError(h.t, h.c.Create(context.Background(), d))
	return d
}

func (h *harness) get(obj client.Object) client.Object {
	h.t.Helper()
	require.NoError(h.t, h.c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj))
	return obj
}

func key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

// startCrashingAfterChange runs the executor so that it "crashes" right after its first change,
// before the status write that records it: the reconcile ends without writing status, and
// Deployment d's resourceVersion after the change is sent on crashed. stop stops the executor.
func (h *harness) startCrashingAfterChange(d *appsv1.Deployment) (crashed <-chan string, stop func()) {
	h.t.Helper()
	ch := make(chan string, 1)
	stop = h.start(func(r *executor.Reconciler) {
		r.AfterChange = func(*kev1.KubernetesExecution, string) error {
			obj := &appsv1.Deployment{}
			if err := env.Client.Get(context.Background(), key(d.Namespace, d.Name), obj); err != nil {
				return err
			}
			select {
			case ch <- obj.ResourceVersion:
			default:
			}
			return errors.New("crash")
		}
	})
	return ch, stop
}
