package executor_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/executor"
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

func newHarness(t testing.TB, safety map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, c: env.Client}
	h.sys = env.Namespace(t, nil)
	h.app = env.Namespace(t, map[string]string{kev1.LabelManaged: "true"})
	h.cfg = env.AsService(t, "executor", h.sys)
	if safety != nil {
		require.NoError(t, h.c.Create(context.Background(), &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: executor.DefaultConfigMapName, Namespace: h.sys}, Data: safety}))
	}
	return h
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
	require.NoError(h.t, r.SetupWithManager(mgr))
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

// execution creates a KubernetesExecution of ops in the system namespace.
func (h *harness) execution(dryRun bool, ops ...common.Operation) *kev1.KubernetesExecution {
	h.t.Helper()
	ke := &kev1.KubernetesExecution{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rr-%d-execution", keCounter.Add(1)), Namespace: h.sys},
		Spec: kev1.KubernetesExecutionSpec{
			RemediationRequestRef: common.ObjectReference{Name: "rr", Namespace: h.sys},
			Operations:            ops,
			ExecutionConfig:       kev1.ExecutionConfig{DryRun: dryRun, SafetyValidation: ptr.To(true)},
		},
	}
	require.NoError(h.t, h.c.Create(context.Background(), ke))
	return ke
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
