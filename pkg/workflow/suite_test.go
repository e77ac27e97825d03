package workflow_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/chain"
	testfixture "github.com/kubernaut/kubernaut/internal/testutil/fixture"
	"github.com/kubernaut/kubernaut/internal/testutil/services"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
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

// start creates a namespace, an executor ServiceAccount bound to executorRules (nil: the
// catalog's verbs) and runs the workflow controller as its own ServiceAccount.
func start(t testing.TB, executorRules []rbacv1.PolicyRule, run bool) *fixture {
	t.Helper()
	ns := env.Namespace(t, nil)
	f := &fixture{ns: ns, c: env.Client}
	f.executor = services.ExecutorAccount(t, env, ns, executorRules)
	if run {
		f.run(t)
	}
	return f
}

// run starts the manager (as the workflow ServiceAccount) until the test ends.
func (f *fixture) run(t testing.TB) {
	t.Helper()
	services.Workflow(t, env, f.ns, f.executor)
}

// workflowOf builds a WorkflowExecution the way the orchestrator does (buildWorkflow): the
// signal's target, the steps, and the seed's execution config.
func (f *fixture) workflowOf(name string, target *common.TargetResource, steps ...common.WorkflowStep) *workflowv1.WorkflowExecution {
	return chain.Workflow(f.ns, name, "rr-"+name, target, steps...)
}

// finished creates w and waits until it reaches a final phase.
func (f *fixture) finished(t testing.TB, w *workflowv1.WorkflowExecution) *workflowv1.WorkflowExecution {
	t.Helper()
	return chain.FinishWorkflow(t, f.c, w)
}

func (f *fixture) wait(t testing.TB, name string) *workflowv1.WorkflowExecution {
	t.Helper()
	return chain.WaitWorkflow(t, f.c, client.ObjectKey{Namespace: f.ns, Name: name})
}

// deployment creates a Deployment whose container app has the given memory request and limit.
func (f *fixture) deployment(t testing.TB, name, request, limit string) *appsv1.Deployment {
	t.Helper()
	d := testfixture.Deployment(f.ns, name, request, limit)
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
