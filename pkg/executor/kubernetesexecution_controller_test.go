package executor_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	testchain "github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/internal/testutil/metricvalue"
	"github.com/kubernaut/kubernaut/pkg/executor"
	"github.com/kubernaut/kubernaut/pkg/executor/action"
)

// memory is the memory request and limit of the Deployment's first container.
var memory = testchain.Memory

// increaseWebTo512Mi runs increase_resources (memory 512Mi) on Deployment web of h's app
// namespace, acting as its Deployment controller, and returns the finished execution.
func increaseWebTo512Mi(t *testing.T, h *harness) *kev1.KubernetesExecution {
	t.Helper()
	ke := h.execution(false, op("more-memory", "increase_resources", deploymentTarget(h.App, "web"),
		map[string]string{"container": "app", "memory": "512Mi"}))
	actAsDeploymentController(t, key(h.App, "web"), func(d *appsv1.Deployment) bool {
		req, _ := memory(d)
		return req == "512Mi"
	})
	return h.Finished(ke)
}

func TestIncreaseResourcesChangesTheDeployment(t *testing.T) {
	h := newHarness(t, nil)
	d := h.Deployment("web", 2, nil)
	h.StartExecutor(nil)

	got := increaseWebTo512Mi(t, h)
	require.Equal(t, kev1.PhaseCompleted, got.Status.Phase, got.Status.Message)
	res := got.Status.OperationResults[0]
	assert.Equal(t, kev1.OperationSucceeded, res.Phase)
	assert.NotNil(t, res.AppliedTime)
	assert.Equal(t, string(d.UID), res.TargetUID)
	assert.Contains(t, res.DryRunResult, `spec.template.spec.containers[name=app].resources.requests.memory: "128Mi" → "512Mi"`)
	require.NotNil(t, res.Rollback)
	assert.True(t, res.Rollback.Available)
	assert.NotEmpty(t, res.Rollback.PreviousState)
	assert.True(t, conditionTrue(got, kev1.ConditionReady))
	assert.True(t, conditionTrue(got, kev1.ConditionSafe))

	h.get(d)
	req, lim := memory(d)
	assert.Equal(t, "512Mi", req)
	assert.Equal(t, "512Mi", lim, "a limit below the new request is raised to it")
	id, err := action.ParseIdentity(d.Annotations[kev1.AnnotationLastRemediation])
	require.NoError(t, err)
	assert.Equal(t, action.Identity{Execution: h.Sys + "/" + got.Name, UID: string(got.UID), Operation: "more-memory", Time: res.StartTime.UTC()}, id)
}

func conditionTrue(ke *kev1.KubernetesExecution, typ string) bool {
	for _, c := range ke.Status.Conditions {
		if c.Type == typ {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// Every refusal ends the execution Failed with the exact reason and leaves the target as it was.
func TestSafetyRefusalsChangeNothing(t *testing.T) {
	ctx := context.Background()
	more := map[string]string{"memory": "256Mi"}
	tests := map[string]struct {
		safety map[string]string
		// setup may change the harness and returns the operation to run on Deployment "web".
		setup  func(h *harness, d *appsv1.Deployment) common.Operation
		reason string
	}{
		"namespace not managed": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				ns := &corev1.Namespace{}
				require.NoError(t, h.C.Get(ctx, key("", h.App), ns))
				delete(ns.Labels, kev1.LabelManaged)
				require.NoError(t, h.C.Update(ctx, ns))
				return op("o", "increase_resources", deploymentTarget(h.App, "web"), more)
			},
			reason: kev1.ReasonUnmanagedNS,
		},
		"namespace protected": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				ns := &corev1.Namespace{}
				require.NoError(t, h.C.Get(ctx, key("", h.App), ns))
				ns.Labels[kev1.LabelProtected] = "true"
				require.NoError(t, h.C.Update(ctx, ns))
				return op("o", "increase_resources", deploymentTarget(h.App, "web"), more)
			},
			reason: kev1.ReasonProtected,
		},
		"target protected": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				d.Labels = map[string]string{kev1.LabelProtected: "true"}
				require.NoError(t, h.C.Update(ctx, d))
				return op("o", "increase_resources", deploymentTarget(h.App, "web"), more)
			},
			reason: kev1.ReasonProtected,
		},
		"target controlled by another controller": {
			// Knative Serving's Revision controls the Deployment it runs (controller and
			// blockOwnerDeletion set, as its reconciler sets them) and would undo the change.
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				d.OwnerReferences = []metav1.OwnerReference{{APIVersion: "serving.knative.dev/v1", Kind: "Revision", Name: "web-00001",
					UID: "6b8f0d2e-4c1a-4d8e-9f3b-2a7c5e1d9b40", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
				require.NoError(t, h.C.Update(ctx, d))
				return op("o", "increase_resources", deploymentTarget(h.App, "web"), more)
			},
			reason: kev1.ReasonTargetControlled,
		},
		"namespace denied": {
			safety: map[string]string{executor.KeyDeniedNamespaces: "kube-system, DENIED"},
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				return op("o", "increase_resources", deploymentTarget(h.App, "web"), more)
			},
			reason: kev1.ReasonDeniedNamespace,
		},
		"resource factor": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				return op("o", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "8Gi"})
			},
			reason: kev1.ReasonBlastRadius,
		},
		"resource cap": {
			safety: map[string]string{executor.KeyMaxMemory: "200Mi"},
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				return op("o", "increase_resources", deploymentTarget(h.App, "web"), more)
			},
			reason: kev1.ReasonBlastRadius,
		},
		"scale beyond the replica limit": {
			safety: map[string]string{executor.KeyMaxReplicas: "5", executor.KeyMaxScaleFactor: "10"},
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				return op("o", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "6"})
			},
			reason: kev1.ReasonBlastRadius,
		},
		"scale by more than the factor": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				return op("o", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "7"})
			},
			reason: kev1.ReasonBlastRadius,
		},
		"cooldown after another execution's change": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				id := action.Identity{Execution: h.Sys + "/earlier", UID: "another-execution", Operation: "o", Time: time.Now().Add(-time.Minute).UTC()}
				d.Annotations = map[string]string{kev1.AnnotationLastRemediation: id.Encode()}
				require.NoError(t, h.C.Update(ctx, d))
				return op("o", "increase_resources", deploymentTarget(h.App, "web"), more)
			},
			reason: kev1.ReasonCooldown,
		},
		"target replaced since the workflow validated it": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				o := op("o", "increase_resources", deploymentTarget(h.App, "web"), more)
				o.TargetUID = "00000000-0000-0000-0000-000000000000"
				return o
			},
			reason: kev1.ReasonTargetReplaced,
		},
		"target not found": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				return op("o", "increase_resources", deploymentTarget(h.App, "absent"), more)
			},
			reason: kev1.ReasonTargetNotFound,
		},
		"not a catalog action": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				return op("o", "exec_shell", deploymentTarget(h.App, "web"), map[string]string{"command": "rm -rf /"})
			},
			reason: kev1.ReasonNotCatalogAction,
		},
		"invalid parameters": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				return op("o", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "lots"})
			},
			reason: kev1.ReasonInvalidParameters,
		},
		"kind not accepted": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				return op("o", "increase_resources", common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: h.App, Name: "web"}, more)
			},
			reason: kev1.ReasonTargetKind,
		},
		"server-side dry-run fails": {
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				// A CPU limit below the CPU request is invalid; only the API server says so.
				return op("o", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "256Mi", "cpuLimit": "50m"})
			},
			reason: kev1.ReasonDryRunFailed,
		},
		"safety ConfigMap invalid": {
			safety: map[string]string{"coolDown": "5m"},
			setup: func(h *harness, d *appsv1.Deployment) common.Operation {
				return op("o", "increase_resources", deploymentTarget(h.App, "web"), more)
			},
			reason: kev1.ReasonSafetyConfigInvalid,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			safety := tc.safety
			h := newHarness(t, nil)
			if safety != nil {
				if v, ok := safety[executor.KeyDeniedNamespaces]; ok {
					safety = map[string]string{executor.KeyDeniedNamespaces: v + "," + h.App}
				}
				h.SetSafety(safety)
			}
			d := h.Deployment("web", 2, nil)
			o := tc.setup(h, d)
			before := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
			counted := refusals(t, tc.reason)
			h.StartExecutor(nil)
			ke := h.execution(false, o, op("after", "notify_only", deploymentTarget(h.App, "web"), nil))

			got := h.Finished(ke)
			assert.Equal(t, kev1.PhaseFailed, got.Status.Phase)
			res := got.Status.OperationResults[0]
			assert.Equal(t, kev1.OperationRefused, res.Phase, res.Message)
			assert.Equal(t, tc.reason, res.Reason, res.Message)
			assert.Nil(t, res.AppliedTime)
			assert.Equal(t, kev1.OperationSkipped, got.Status.OperationResults[1].Phase)
			assert.False(t, conditionTrue(got, kev1.ConditionSafe))
			after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
			assert.Equal(t, before.ResourceVersion, after.ResourceVersion, "the Deployment was written")
			assert.Equal(t, counted+1, refusals(t, tc.reason), "kubernaut_executor_refusals_total{reason=%q}", tc.reason)
		})
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	h := newHarness(t, nil)
	d := h.Deployment("web", 2, nil)
	h.StartExecutor(nil)
	ke := h.execution(true,
		op("more-memory", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "512Mi"}),
		op("scale", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "4"}))

	got := h.Finished(ke)
	require.Equal(t, kev1.PhaseCompleted, got.Status.Phase, got.Status.Message)
	assert.Equal(t, kev1.ReasonDryRunCompleted, readyReason(got))
	assert.Contains(t, got.Status.OperationResults[0].DryRunResult, `resources.requests.memory: "128Mi" → "512Mi"`)
	assert.Contains(t, got.Status.OperationResults[1].DryRunResult, "spec.replicas: 2 → 4")
	for _, res := range got.Status.OperationResults {
		assert.Equal(t, kev1.OperationSucceeded, res.Phase)
		assert.Nil(t, res.AppliedTime)
	}
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
	assert.Equal(t, d.ResourceVersion, after.ResourceVersion)
}

func readyReason(ke *kev1.KubernetesExecution) string {
	for _, c := range ke.Status.Conditions {
		if c.Type == kev1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}

// The executor stops after the change and before the status write that records it; a new
// executor finds the operation Running, recognises the change on the target and does not make
// it again.
func TestCrashBetweenChangeAndStatusAppliesNothingTwice(t *testing.T) {
	h := newHarness(t, nil)
	d := h.Deployment("web", 2, nil)
	crashed, stop := h.startCrashingAfterChange(d)
	ke := h.execution(false, op("restart", "rollout_restart", deploymentTarget(h.App, "web"), nil))
	var changedRV string
	select {
	case changedRV = <-crashed:
	case <-time.After(wait):
		t.Fatal("the change was never made")
	}
	stop()
	mid := h.get(&kev1.KubernetesExecution{ObjectMeta: metav1.ObjectMeta{Name: ke.Name, Namespace: h.Sys}}).(*kev1.KubernetesExecution)
	require.Equal(t, kev1.OperationRunning, mid.Status.OperationResults[0].Phase, "progress is written before the change")
	require.Nil(t, mid.Status.OperationResults[0].AppliedTime)

	// Post-conditions off: this test is about the change, not the rollout.
	h.SetSafety(map[string]string{executor.KeyPostConditions: "false"})
	h.StartExecutor(nil)
	got := h.Finished(ke)
	require.Equal(t, kev1.PhaseCompleted, got.Status.Phase, got.Status.Message)
	assert.Contains(t, got.Status.OperationResults[0].Message, "recognised on the target after a restart")
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
	assert.Equal(t, changedRV, after.ResourceVersion, "the Deployment was written again after the restart")
	assert.Equal(t, d.Generation+1, after.Generation, "one rollout, not two")
}

// The second operation's post-condition never holds: it fails, and both operations are
// reverted, second first.
func TestRollbackAfterFailingSecondOperation(t *testing.T) {
	h := newHarness(t, nil)
	d := h.Deployment("web", 2, nil)
	h.StartExecutor(nil)
	scale := op("scale", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "3"})
	scale.Timeout = &metav1.Duration{Duration: time.Second} // no Deployment controller in envtest: never reached
	ke := h.execution(false,
		op("more-memory", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "512Mi"}),
		scale,
		op("never", "notify_only", deploymentTarget(h.App, "web"), nil))
	actAsDeploymentController(t, key(h.App, "web"), func(d *appsv1.Deployment) bool {
		req, _ := memory(d)
		return req == "512Mi"
	})

	got := h.Finished(ke)
	require.Equal(t, kev1.PhaseRolledBack, got.Status.Phase, got.Status.Message)
	assert.Equal(t, kev1.ReasonRolledBack, readyReason(got))
	assert.Equal(t, kev1.OperationRolledBack, got.Status.OperationResults[0].Phase)
	assert.Equal(t, kev1.OperationRolledBack, got.Status.OperationResults[1].Phase)
	assert.Contains(t, got.Status.OperationResults[1].Message, "post-condition")
	assert.Equal(t, kev1.OperationSkipped, got.Status.OperationResults[2].Phase)
	assert.Contains(t, got.Status.Message, "rolled back: scale, more-memory")

	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
	req, lim := memory(after)
	assert.Equal(t, "128Mi", req)
	assert.Equal(t, "256Mi", lim)
	assert.Equal(t, ptr.To[int32](2), after.Spec.Replicas)
	assert.Equal(t, d.UID, after.UID)
}

// The execution's timeout ends a post-condition wait longer than it: Failed with TimedOut, and
// what was changed is rolled back.
func TestExecutionTimeoutRollsBack(t *testing.T) {
	h := newHarness(t, nil)
	h.Deployment("web", 2, nil)
	h.StartExecutor(nil)
	ke := h.run(kev1.ExecutionConfig{SafetyValidation: ptr.To(true), Timeout: &metav1.Duration{Duration: 2 * time.Second}},
		op("scale", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "3"}))
	got := h.Finished(ke)
	require.Equal(t, kev1.PhaseRolledBack, got.Status.Phase, got.Status.Message)
	assert.Equal(t, kev1.ReasonTimedOut, got.Status.OperationResults[0].Reason)
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
	assert.Equal(t, ptr.To[int32](2), after.Spec.Replicas)
}

// An operation may only depend on one that runs before it.
func TestDependencyOnALaterOperationIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	d := h.Deployment("web", 2, nil)
	h.StartExecutor(nil)
	first := op("first", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "256Mi"})
	first.DependsOn = []string{"second"}
	got := h.Finished(h.execution(false, first, op("second", "notify_only", deploymentTarget(h.App, "web"), nil)))
	assert.Equal(t, kev1.PhaseFailed, got.Status.Phase)
	assert.Equal(t, kev1.ReasonInvalidParameters, got.Status.OperationResults[0].Reason)
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
	assert.Equal(t, d.ResourceVersion, after.ResourceVersion)
}

// The change itself carries the UID of the object that was checked: an object deleted and
// recreated between the check and the change is never written.
func TestChangeCarriesTheCheckedObjectsUID(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	d := h.Deployment("web", 2, nil)
	impl, ok := action.For("increase_resources")
	require.True(t, ok)
	aenv := &action.Env{Client: env.Client, Limits: action.DefaultLimits(), Now: time.Now}
	o := &action.Op{Operation: op("o", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "256Mi"}),
		Params: map[string]string{"memory": "256Mi"}, ID: action.Identity{Execution: "x/y", UID: "u", Operation: "o", Time: time.Now().UTC()}}
	plan, err := impl.Plan(ctx, aenv, o)
	require.NoError(t, err)

	require.NoError(t, h.C.Delete(ctx, d))
	h.Deployment("web", 2, nil) // same name, new UID
	_, err = plan.Apply(ctx, false)
	require.Error(t, err)
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
	req, _ := memory(after)
	assert.Equal(t, "128Mi", req)
	assert.NotContains(t, after.Annotations, kev1.AnnotationLastRemediation)
}

// A crash after a Pod was deleted and before the status write: by the time the executor is
// back, the Pod's controller has created a new Pod of the same name. The executor recognises
// that the Pod it deleted (by UID) is gone and never deletes the new one.
func TestCrashAfterPodDeleteNeverDeletesItsReplacement(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	h.pod("db-0", "", true, nil)
	crashed := make(chan struct{}, 1)
	stop := h.StartExecutor(func(r *executor.Reconciler) {
		r.AfterChange = func(*kev1.KubernetesExecution, string) error {
			select {
			case crashed <- struct{}{}:
			default:
			}
			return errors.New("crash")
		}
	})
	ke := h.execution(false, op("restart", "restart_pod", podTarget(h.App, "db-0"), map[string]string{"gracePeriodSeconds": "0"}))
	select {
	case <-crashed:
	case <-time.After(wait):
		t.Fatal("the pod was never deleted")
	}
	stop()
	replacement := h.pod("db-0", "", true, nil) // as a StatefulSet would recreate it
	h.StartExecutor(nil)
	got := h.Finished(ke)
	require.Equal(t, kev1.PhaseCompleted, got.Status.Phase, got.Status.Message)
	now := &corev1.Pod{}
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(replacement), now), "the replacement pod was deleted")
	assert.Equal(t, replacement.UID, now.UID)
	assert.NotEqual(t, string(replacement.UID), got.Status.OperationResults[0].TargetUID)
}

// refusals reads kubernaut_executor_refusals_total{reason}.
func refusals(t testing.TB, reason string) float64 {
	t.Helper()
	return metricvalue.Value(t, "kubernaut_executor_refusals_total", map[string]string{"reason": reason})
}

// safetyValidation=false skips the per-target cooldown, and only it: an execution may skip it
// only when the ConfigMap allows it, and the namespace checks (managed, protected, denied) run
// whatever it says.
func TestSkippingSafetyValidationNeedsTheConfigMapAndSkipsOnlyTheCooldown(t *testing.T) {
	for name, allow := range map[string]bool{"allowed": true, "not allowed": false} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, map[string]string{executor.KeyAllowSkipSafetyValidation: strconv.FormatBool(allow), executor.KeyPostConditions: "false"})
			id := action.Identity{Execution: h.Sys + "/earlier", UID: "another-execution", Operation: "o", Time: time.Now().Add(-time.Minute).UTC()}
			h.Deployment("web", 2, func(d *appsv1.Deployment) {
				d.Annotations = map[string]string{kev1.AnnotationLastRemediation: id.Encode()}
			})
			h.StartExecutor(nil)
			skip := kev1.ExecutionConfig{SafetyValidation: ptr.To(false)}
			got := h.Finished(h.run(skip, op("o", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "256Mi"})))
			if allow {
				assert.Equal(t, kev1.PhaseCompleted, got.Status.Phase, got.Status.Message)
			} else {
				assert.Equal(t, kev1.ReasonCooldown, got.Status.OperationResults[0].Reason, got.Status.OperationResults[0].Message)
			}

			// The namespace checks are never skipped.
			ns := &corev1.Namespace{}
			require.NoError(t, h.C.Get(ctx, key("", h.App), ns))
			delete(ns.Labels, kev1.LabelManaged)
			require.NoError(t, h.C.Update(ctx, ns))
			h.Deployment("other", 2, nil)
			got = h.Finished(h.run(skip, op("o", "increase_resources", deploymentTarget(h.App, "other"), map[string]string{"memory": "256Mi"})))
			assert.Equal(t, kev1.ReasonUnmanagedNS, got.Status.OperationResults[0].Reason, got.Status.OperationResults[0].Message)
		})
	}
}

// With the whole ConfigMap saying safetyValidation=false, the protections still hold: a
// protected namespace and a denied one are refused.
func TestSafetyValidationOffKeepsTheNamespaceChecks(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, map[string]string{executor.KeySafetyValidation: "false", executor.KeyPostConditions: "false"})
	h.Deployment("web", 2, nil)
	ns := &corev1.Namespace{}
	require.NoError(t, h.C.Get(ctx, key("", h.App), ns))
	ns.Labels[kev1.LabelProtected] = "true"
	require.NoError(t, h.C.Update(ctx, ns))
	h.StartExecutor(nil)
	got := h.Finished(h.execution(false, op("o", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "256Mi"})))
	assert.Equal(t, kev1.ReasonProtected, got.Status.OperationResults[0].Reason, got.Status.OperationResults[0].Message)
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
	req, _ := memory(after)
	assert.Equal(t, "128Mi", req)
}
