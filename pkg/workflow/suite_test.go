package workflow_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/workflow"
)

// One API server for the package; every test has its own namespace, its own manager watching
// only that namespace and running as the workflow service's generated ClusterRole, and its own
// executor ServiceAccount.
var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.RunWithEnv(m, func(e *testenv.Env) { env = e })) }

// fixture is one test's namespace with the workflow service running in it.
type fixture struct {
	ns       string
	executor string
	c        client.Client
}

// catalogRules are the RBAC rules the catalog lists for every action: what the executor is
// granted.
func catalogRules() []rbacv1.PolicyRule {
	var rules []rbacv1.PolicyRule
	for _, a := range actions.All() {
		for _, v := range a.Verbs {
			rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{v.Group}, Resources: []string{v.Resource}, Verbs: v.Verbs})
		}
	}
	return rules
}

// start creates a namespace, an executor ServiceAccount bound to executorRules (nil: the
// catalog's verbs) and runs the workflow controller as its own ServiceAccount.
func start(t testing.TB, executorRules []rbacv1.PolicyRule, run bool) *fixture {
	t.Helper()
	ctx := context.Background()
	ns := env.Namespace(t, nil)
	f := &fixture{ns: ns, executor: "system:serviceaccount:" + ns + ":kubernaut-executor", c: env.Client}
	if executorRules == nil {
		executorRules = catalogRules()
	}
	name := "kubernaut-executor-" + ns
	require.NoError(t, env.Client.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: executorRules}))
	require.NoError(t, env.Client.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "kubernaut-executor", Namespace: ns}},
	}))
	t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}})
		_ = env.Client.Delete(context.Background(), &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
	if run {
		f.run(t)
	}
	return f
}

// run starts the manager (as the workflow ServiceAccount) until the test ends.
func (f *fixture) run(t testing.TB) {
	t.Helper()
	opts := manager.Options{
		Scheme:                 app.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Logger:                 logr.Discard(),
	}
	workflow.CacheOptions(&opts.Cache, f.ns) // as the service configures it
	mgr, err := app.NewManager(env.AsService(t, "workflow", f.ns), opts)
	require.NoError(t, err)
	require.NoError(t, (&workflow.Reconciler{ExecutorServiceAccount: f.executor}).SetupWithManager(t.Context(), mgr))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mgr.Start(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// workflowOf builds a WorkflowExecution the way the orchestrator does (buildWorkflow): the
// signal's target, the steps, and the seed's execution config.
func (f *fixture) workflowOf(name string, target *common.TargetResource, steps ...common.WorkflowStep) *workflowv1.WorkflowExecution {
	return &workflowv1.WorkflowExecution{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: workflowv1.WorkflowExecutionSpec{
			RemediationRequestRef: common.ObjectReference{Name: "rr-" + name, Namespace: f.ns},
			TargetResource:        target,
			WorkflowDefinition:    workflowv1.WorkflowDefinition{Steps: steps},
			ExecutionConfig: workflowv1.ExecutionConfig{
				StepTimeout:      &metav1.Duration{Duration: 5 * time.Minute},
				WorkflowTimeout:  &metav1.Duration{Duration: 20 * time.Minute},
				ConcurrencyLimit: 1,
			},
		},
	}
}

// finished creates w and waits until it reaches a final phase.
func (f *fixture) finished(t testing.TB, w *workflowv1.WorkflowExecution) *workflowv1.WorkflowExecution {
	t.Helper()
	require.NoError(t, f.c.Create(context.Background(), w))
	return f.wait(t, w.Name)
}

func (f *fixture) wait(t testing.TB, name string) *workflowv1.WorkflowExecution {
	t.Helper()
	got := &workflowv1.WorkflowExecution{}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NoError(c, f.c.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: name}, got))
		assert.True(c, got.Status.Phase.IsTerminal(), "phase %q: %s", got.Status.Phase, got.Status.Message)
	}, 30*time.Second, 20*time.Millisecond)
	return got
}

// deployment creates a Deployment whose container app has the given memory request and limit.
func (f *fixture) deployment(t testing.TB, name, request, limit string) *appsv1.Deployment {
	t.Helper()
	res := corev1.ResourceRequirements{}
	if request != "" {
		res.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(request)}
	}
	if limit != "" {
		res.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(limit)}
	}
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example/app:1", Resources: res}}},
			},
		},
	}
	require.NoError(t, f.c.Create(context.Background(), d))
	return d
}

func deploymentTarget(ns, name string) *common.TargetResource {
	return &common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: name}
}

func result(t testing.TB, w *workflowv1.WorkflowExecution, step string) workflowv1.ValidationResult {
	t.Helper()
	i := slices.IndexFunc(w.Status.ValidationResults, func(r workflowv1.ValidationResult) bool { return r.Step == step })
	require.GreaterOrEqual(t, i, 0, "no validation result for step %s in %+v", step, w.Status.ValidationResults)
	return w.Status.ValidationResults[i]
}

func ready(w *workflowv1.WorkflowExecution) *metav1.Condition {
	for i := range w.Status.Conditions {
		if w.Status.Conditions[i].Type == workflowv1.ConditionReady {
			return &w.Status.Conditions[i]
		}
	}
	return nil
}
