package executor_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	testchain "github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/executor"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/actions/preconditions"
)

const (
	wait = 30 * time.Second
	tick = 50 * time.Millisecond
)

// One API server for the package; every test has its own system namespace (executions, the
// safety ConfigMap, the service account) and its own target namespace.
var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.RunWithEnv(m, func(e *testenv.Env) { env = e })) }

// harness is one test's namespaces and running executor (testchain.Harness), with the
// executor's own shortcuts.
type harness struct{ *testchain.Harness }

// newHarness creates the test's namespaces and its safety ConfigMap: testchain.BaseSafety and safety.
func newHarness(t testing.TB, safety map[string]string) *harness {
	t.Helper()
	return &harness{testchain.New(t, env, safety)}
}

// chain is what the orchestrator creates around an execution.
type chain = testchain.Chain

// execution creates a KubernetesExecution of ops in the system namespace, with the intact chain
// the executor requires (approvedChain).
func (h *harness) execution(dryRun bool, ops ...common.Operation) *kev1.KubernetesExecution {
	h.T.Helper()
	return h.run(kev1.ExecutionConfig{DryRun: dryRun, SafetyValidation: ptr.To(true)}, ops...)
}

// run creates a KubernetesExecution of ops with cfg and its intact chain.
func (h *harness) run(cfg kev1.ExecutionConfig, ops ...common.Operation) *kev1.KubernetesExecution {
	h.T.Helper()
	c, validated := h.approvedChain(ops...)
	return h.Execute(c, cfg, validated)
}

// approvedChain creates what the orchestrator, the analysis and the workflow service create
// before an execution: a RemediationRequest, its AIAnalysis recommending steps of ops and
// approved by the policy, and its WorkflowExecution, Completed, that validated ops against the
// live targets (the UID and preconditions captured as the workflow captures them, for operations
// that carry none). It returns the chain and the validated operations.
func (h *harness) approvedChain(ops ...common.Operation) (*chain, []common.Operation) {
	h.T.Helper()
	validated := make([]common.Operation, len(ops))
	for i, o := range ops {
		validated[i] = h.validate(o)
	}
	c := h.Request(stepsOf(validated)...)
	h.Validated(c, validated)
	return c, validated
}

// validate fills in what the workflow records of an operation's live target: its UID and
// preconditions (unless the operation carries them), and the step timeout.
func (h *harness) validate(o common.Operation) common.Operation {
	h.T.Helper()
	if o.Timeout == nil {
		cat, _ := actions.Lookup(o.Action)
		o.Timeout = &metav1.Duration{Duration: max(cat.Timeout, time.Second)}
	}
	obj := actions.NewObject(o.Target.Kind)
	if obj == nil || o.Action == "notify_only" {
		return o
	}
	ctx := context.Background()
	if err := h.C.Get(ctx, types.NamespacedName{Namespace: o.Target.Namespace, Name: o.Target.Name}, obj); err != nil {
		require.True(h.T, apierrors.IsNotFound(err), "reading the target of %s: %v", o.Name, err)
		return o
	}
	if o.TargetUID == "" {
		o.TargetUID = string(obj.GetUID())
	}
	o.TargetResourceVersion = obj.GetResourceVersion()
	if o.Preconditions == nil {
		p, err := preconditions.Capture(ctx, h.C, obj)
		require.NoError(h.T, err)
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

func op(name, action string, target common.TargetResource, params map[string]string) common.Operation {
	return common.Operation{Name: name, Action: action, Target: target, Parameters: params}
}

func deploymentTarget(ns, name string) common.TargetResource {
	return common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: name}
}

func (h *harness) get(obj client.Object) client.Object {
	h.T.Helper()
	require.NoError(h.T, h.C.Get(context.Background(), client.ObjectKeyFromObject(obj), obj))
	return obj
}

func key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

// startCrashingAfterChange runs the executor so that it "crashes" right after its first change,
// before the status write that records it: the reconcile ends without writing status, and
// Deployment d's resourceVersion after the change is sent on crashed. stop stops the executor.
func (h *harness) startCrashingAfterChange(d *appsv1.Deployment) (crashed <-chan string, stop func()) {
	h.T.Helper()
	ch := make(chan string, 1)
	stop = h.StartExecutor(func(r *executor.Reconciler) {
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
