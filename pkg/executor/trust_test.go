package executor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/metricvalue"
	"github.com/kubernaut/kubernaut/pkg/executor"
	"github.com/kubernaut/kubernaut/pkg/executor/action"
	"github.com/kubernaut/kubernaut/pkg/shared/actions/mutate"
)

// counter reads a counter of the controller-runtime registry with the given labels (0 when
// absent).
func counter(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	return metricvalue.Value(t, name, labels)
}

// refusedUnchanged checks that the execution was refused with reason before any change and
// that d was not written.
func refusedUnchanged(t *testing.T, h *harness, got *kev1.KubernetesExecution, reason string, d *appsv1.Deployment) {
	t.Helper()
	assert.Equal(t, kev1.PhaseFailed, got.Status.Phase, got.Status.Message)
	require.NotEmpty(t, got.Status.OperationResults)
	res := got.Status.OperationResults[0]
	assert.Equal(t, kev1.OperationRefused, res.Phase, res.Message)
	assert.Equal(t, reason, res.Reason, res.Message)
	assert.Nil(t, res.AppliedTime)
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: d.Namespace}}).(*appsv1.Deployment)
	assert.Equal(t, d.ResourceVersion, after.ResourceVersion, "the Deployment was written")
}

// The executor trusts nothing it is handed: an execution that is not the one an approved
// analysis and a validating workflow of its RemediationRequest produced is refused
// ChainNotApproved, and its target is left as it was.
func TestForgedExecutionsAreRefused(t *testing.T) {
	ctx := context.Background()
	more := map[string]string{"memory": "256Mi"}
	cfg := kev1.ExecutionConfig{SafetyValidation: ptr.To(true)}
	status := func(t *testing.T, h *harness, obj client.Object, change func()) {
		require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(obj), obj))
		change()
		require.NoError(t, h.C.Status().Update(ctx, obj))
	}
	tests := map[string]struct {
		// forge creates the execution of ops around chain c (already approved and validated).
		forge   func(t *testing.T, h *harness, c *chain, ops []common.Operation) *kev1.KubernetesExecution
		message string
	}{
		"no RemediationRequest owns it": {
			forge: func(t *testing.T, h *harness, c *chain, ops []common.Operation) *kev1.KubernetesExecution {
				ke := &kev1.KubernetesExecution{ObjectMeta: metav1.ObjectMeta{Name: "forged-execution", Namespace: h.Sys},
					Spec: kev1.KubernetesExecutionSpec{RemediationRequestRef: common.ObjectReference{Name: c.RR.Name, Namespace: h.Sys}, Operations: ops, ExecutionConfig: cfg}}
				require.NoError(t, h.C.Create(ctx, ke))
				return ke
			},
			message: "is not controlled by its RemediationRequest",
		},
		"the request names another execution": {
			forge: func(t *testing.T, h *harness, c *chain, ops []common.Operation) *kev1.KubernetesExecution {
				h.Named(c, func(st *remediationv1.RemediationRequestStatus) {
					st.OverallPhase = remediationv1.PhaseExecuting
					st.KubernetesExecutionRef = &common.ObjectReference{Name: "another-execution", Namespace: h.Sys}
				})
				return h.Create(c, cfg, ops)
			},
			message: "names execution ",
		},
		"the operations are not the validated ones": {
			forge: func(t *testing.T, h *harness, c *chain, ops []common.Operation) *kev1.KubernetesExecution {
				forged := append([]common.Operation(nil), ops...)
				forged[0].Parameters = map[string]string{"memory": "1Gi"}
				return h.Execute(c, cfg, forged)
			},
			message: "operation 1 (o) differs in its parameters",
		},
		"the workflow did not complete": {
			forge: func(t *testing.T, h *harness, c *chain, ops []common.Operation) *kev1.KubernetesExecution {
				status(t, h, c.WFE, func() { c.WFE.Status.Phase = workflowv1.PhaseValidating })
				return h.Execute(c, cfg, ops)
			},
			message: "is \"Validating\", not Completed",
		},
		"the workflow planned other steps than recommended": {
			forge: func(t *testing.T, h *harness, c *chain, ops []common.Operation) *kev1.KubernetesExecution {
				status(t, h, c.AIA, func() {
					c.AIA.Status.Recommendations[0].WorkflowSteps[0].Parameters = map[string]string{"memory": "200Mi"}
				})
				return h.Execute(c, cfg, ops)
			},
			message: "planned other steps than",
		},
		"the analysis awaits a person's decision": {
			forge: func(t *testing.T, h *harness, c *chain, ops []common.Operation) *kev1.KubernetesExecution {
				status(t, h, c.AIA, func() {
					c.AIA.Status.Phase = aiv1.PhaseApproving
					c.AIA.Status.Approval = &aiv1.ApprovalStatus{Required: true, Reason: "production"}
				})
				return h.Execute(c, cfg, ops)
			},
			message: "is \"Approving\"",
		},
		"approval required, approved by nobody": {
			forge: func(t *testing.T, h *harness, c *chain, ops []common.Operation) *kev1.KubernetesExecution {
				status(t, h, c.AIA, func() {
					c.AIA.Status.Approval = &aiv1.ApprovalStatus{Required: true, Reason: "production", Decision: aiv1.DecisionApproved}
				})
				return h.Execute(c, cfg, ops)
			},
			message: "required a person's approval",
		},
		"the analysis was rejected": {
			forge: func(t *testing.T, h *harness, c *chain, ops []common.Operation) *kev1.KubernetesExecution {
				status(t, h, c.AIA, func() {
					c.AIA.Status.Phase = aiv1.PhaseRejected
					c.AIA.Status.Approval = &aiv1.ApprovalStatus{Required: true, Decision: aiv1.DecisionRejected, DecidedBy: "alice"}
				})
				return h.Execute(c, cfg, ops)
			},
			message: "is \"Rejected\"",
		},
		"the workflow belongs to another request": {
			forge: func(t *testing.T, h *harness, c *chain, ops []common.Operation) *kev1.KubernetesExecution {
				other, _ := h.approvedChain(op("o", "notify_only", deploymentTarget(h.App, "web"), nil))
				h.Named(c, func(st *remediationv1.RemediationRequestStatus) {
					st.WorkflowExecutionRef = &common.ObjectReference{Name: other.WFE.Name, Namespace: h.Sys}
				})
				return h.Execute(c, cfg, ops)
			},
			message: "is not controlled by RemediationRequest",
		},
		"the request has ended": {
			forge: func(t *testing.T, h *harness, c *chain, ops []common.Operation) *kev1.KubernetesExecution {
				h.Named(c, func(st *remediationv1.RemediationRequestStatus) {
					st.OverallPhase = remediationv1.PhaseTimedOut
					st.KubernetesExecutionRef = &common.ObjectReference{Name: c.RR.Name + "-execution", Namespace: h.Sys}
				})
				return h.Create(c, cfg, ops)
			},
			message: "has ended (TimedOut)",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			d := h.Deployment("web", 2, nil)
			c, ops := h.approvedChain(op("o", "increase_resources", deploymentTarget(h.App, "web"), more))
			counted := refusals(t, action.ReasonChainNotApproved)
			ke := tc.forge(t, h, c, ops)
			h.StartExecutor(nil)
			got := h.Finished(ke)
			refusedUnchanged(t, h, got, action.ReasonChainNotApproved, d)
			assert.Contains(t, got.Status.OperationResults[0].Message, tc.message)
			assert.Equal(t, counted+1, refusals(t, action.ReasonChainNotApproved))
		})
	}
}

// An execution created before its request names it waits for the name (the orchestrator
// records it right after creating the execution), then runs. A wait that lasts (5 s) is written
// to its status; a short one is not written at all.
func TestExecutionWaitsForItsRequestToNameIt(t *testing.T) {
	h := newHarness(t, map[string]string{executor.KeyPostConditions: "false"})
	h.Deployment("web", 2, nil)
	c, ops := h.approvedChain(op("o", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "256Mi"}))
	h.StartExecutor(nil)
	ke := h.Create(c, kev1.ExecutionConfig{SafetyValidation: ptr.To(true)}, ops)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := &kev1.KubernetesExecution{}
		require.NoError(c, h.C.Get(context.Background(), client.ObjectKeyFromObject(ke), got))
		assert.Equal(c, "waiting for the RemediationRequest to name this execution", got.Status.Message)
	}, wait, tick)
	h.Named(c, func(st *remediationv1.RemediationRequestStatus) {
		st.OverallPhase = remediationv1.PhaseExecuting
		st.KubernetesExecutionRef = &common.ObjectReference{Name: ke.Name, Namespace: h.Sys}
	})
	completed(t, h.Finished(ke))
}

// withRevisions gives Deployment d revisions 1..n (ReplicaSets with their pod-template-hash, the
// images app:1..app:n), the last one current, as the Deployment controller would.
func withRevisions(t testing.TB, h *harness, d *appsv1.Deployment, from, to int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(d), d))
	for rev := from; rev <= to; rev++ {
		tpl := d.Spec.Template.DeepCopy()
		tpl.Spec.Containers[0].Image = "registry.example/app:" + itoa(rev)
		tpl.Labels = map[string]string{"app": d.Name, appsv1.DefaultDeploymentUniqueLabelKey: "hash" + itoa(rev)}
		require.NoError(t, h.C.Create(ctx, &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-" + itoa(rev), Namespace: d.Namespace, Labels: tpl.Labels,
				Annotations:     map[string]string{mutate.RevisionAnnotation: itoa(rev)},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr.To(true)}}},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: tpl.Labels}, Template: *tpl},
		}))
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[mutate.RevisionAnnotation] = itoa(to)
	d.Spec.Template.Spec.Containers[0].Image = "registry.example/app:" + itoa(to)
	require.NoError(t, h.C.Update(ctx, d))
}

func itoa(i int) string { return string(rune('0' + i)) }

// Preconditions from approval to change: a target changed between the workflow's validation
// and the execution is refused StaleTarget and left as it is now.
func TestStaleTargetIsNotChanged(t *testing.T) {
	ctx := context.Background()
	tests := map[string]struct {
		op func(h *harness) common.Operation
		// change is what a person does after the approval.
		change  func(t *testing.T, h *harness, d *appsv1.Deployment)
		message string
	}{
		"rolled forward: the approved rollback is not made": {
			op: func(h *harness) common.Operation {
				return op("undo", "rollback_deployment", deploymentTarget(h.App, "web"), nil)
			},
			change:  func(t *testing.T, h *harness, d *appsv1.Deployment) { withRevisions(t, h, d, 3, 3) },
			message: "revision 2 → 3, pod-template-hash hash2 → hash3",
		},
		"scaled": {
			op: func(h *harness) common.Operation {
				return op("mem", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "256Mi"})
			},
			change: func(t *testing.T, h *harness, d *appsv1.Deployment) {
				require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(d), d))
				d.Spec.Replicas = ptr.To[int32](5)
				require.NoError(t, h.C.Update(ctx, d))
			},
			message: "(its spec was changed)",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			d := h.Deployment("web", 2, nil)
			withRevisions(t, h, d, 1, 2)
			c, ops := h.approvedChain(tc.op(h))
			require.Equal(t, "2", ops[0].Preconditions.Revision)
			require.Equal(t, "hash2", ops[0].Preconditions.PodTemplateHash)
			tc.change(t, h, d)
			h.get(d)
			h.StartExecutor(nil)
			got := h.Finished(h.Execute(c, kev1.ExecutionConfig{SafetyValidation: ptr.To(true)}, ops))
			refusedUnchanged(t, h, got, action.ReasonStaleTarget, d)
			assert.Contains(t, got.Status.OperationResults[0].Message, tc.message)
		})
	}
}

// Two operations on one Deployment: the second is held to what the first left (its own change
// and the rollout that follows are not held against it). When a person changes the Deployment
// in between, the second is refused StaleTarget and the first is reverted, on the fields it
// changed only: the person's change stays.
func TestSecondOperationOnTheSameTarget(t *testing.T) {
	ctx := context.Background()
	for name, personChanges := range map[string]bool{"nobody else changes it": false, "a person rolls forward in between": true} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			d := h.Deployment("web", 2, nil)
			h.StartExecutor(nil)
			ke := h.execution(false,
				op("mem", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "512Mi"}),
				op("scale", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "3"}))
			if personChanges {
				// While the first operation's rollout is awaited, a person rolls forward.
				require.EventuallyWithT(t, func(c *assert.CollectT) {
					cur := &appsv1.Deployment{}
					require.NoError(c, h.C.Get(ctx, key(h.App, "web"), cur))
					req, _ := memory(cur)
					require.Equal(c, "512Mi", req)
					cur.Spec.Template.Spec.Containers[0].Image = "registry.example/app:2"
					require.NoError(c, h.C.Update(ctx, cur))
				}, wait, tick)
			}
			actAsDeploymentController(t, key(h.App, "web"), func(cur *appsv1.Deployment) bool {
				req, _ := memory(cur)
				return req == "512Mi" && (!personChanges || cur.Spec.Template.Spec.Containers[0].Image == "registry.example/app:2")
			})
			if !personChanges {
				actAsDeploymentController(t, key(h.App, "web"), func(cur *appsv1.Deployment) bool { return *cur.Spec.Replicas == 3 })
				completed(t, h.Finished(ke))
				return
			}
			got := h.Finished(ke)
			require.Equal(t, kev1.PhaseRolledBack, got.Status.Phase, got.Status.Message)
			res := got.Status.OperationResults[1]
			assert.Equal(t, action.ReasonStaleTarget, res.Reason, res.Message)
			assert.Contains(t, res.Message, "changed since operation mem changed it")
			assert.Equal(t, kev1.OperationRolledBack, got.Status.OperationResults[0].Phase)
			after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
			req, lim := memory(after)
			assert.Equal(t, []string{"128Mi", "256Mi"}, []string{req, lim}, "Kubernaut's change is reverted")
			assert.Equal(t, "registry.example/app:2", after.Spec.Template.Spec.Containers[0].Image, "the person's change stays")
			assert.Equal(t, ptr.To[int32](2), after.Spec.Replicas)
			assert.Equal(t, d.UID, after.UID)
		})
	}
}

// A revert never overwrites what someone changed since on the fields Kubernaut changed: it is
// refused (RollbackFailed) and the person's value stays.
func TestRevertRefusedWhenTheFieldChangedSince(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	h.Deployment("web", 2, nil)
	h.StartExecutor(nil)
	scale := op("scale", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "3"})
	scale.Timeout = &metav1.Duration{Duration: 2 * time.Second} // no controller: never reached
	ke := h.execution(false, scale)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cur := &appsv1.Deployment{}
		require.NoError(c, h.C.Get(ctx, key(h.App, "web"), cur))
		require.Equal(c, int32(3), *cur.Spec.Replicas, "not scaled yet")
		if *cur.Spec.Replicas == 3 {
			cur.Spec.Replicas = ptr.To[int32](7) // a person scales it meanwhile
			require.NoError(c, h.C.Update(context.Background(), cur))
		}
	}, wait, tick)
	got := h.Finished(ke)
	assert.Equal(t, kev1.PhaseFailed, got.Status.Phase)
	assert.Equal(t, kev1.ReasonRollbackFailed, readyReason(got), got.Status.Message)
	assert.Contains(t, got.Status.OperationResults[0].Message, "was changed since by someone else at /spec/replicas: not reverted")
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
	assert.Equal(t, ptr.To[int32](7), after.Spec.Replicas)
}

// The kill switch: paused=true in the safety ConfigMap stops an execution in flight before its
// next change; it resumes where it stopped once the pause is lifted.
func TestKillSwitchStopsAnExecutionInFlight(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	h.Deployment("web", 2, nil)
	other := h.Deployment("other", 2, nil)
	h.StartExecutor(nil)
	ke := h.execution(false,
		op("scale", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "3"}),
		op("mem", "increase_resources", deploymentTarget(h.App, "other"), map[string]string{"memory": "256Mi"}))
	state := func(c *assert.CollectT) *kev1.KubernetesExecution {
		got := &kev1.KubernetesExecution{}
		require.NoError(c, h.C.Get(ctx, client.ObjectKeyFromObject(ke), got))
		return got
	}
	// The first change is made; its rollout is awaited (envtest runs no Deployment controller).
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := state(c)
		require.Len(c, got.Status.OperationResults, 2)
		assert.NotNil(c, got.Status.OperationResults[0].AppliedTime)
	}, wait, tick)

	held := counter(t, "kubernaut_executor_holds_total", map[string]string{"reason": action.ReasonPaused})
	h.SetSafety(map[string]string{executor.KeyPaused: "true"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, action.ReasonPaused, readyReason(state(c)))
	}, wait, tick)
	// The rollout finishes while paused, and the executor is woken (a change of the
	// ConfigMap, still paused): it holds again, and changes nothing.
	actAsDeploymentController(t, key(h.App, "web"), func(d *appsv1.Deployment) bool { return *d.Spec.Replicas == 3 })
	before := counter(t, "kubernaut_executor_holds_total", map[string]string{"reason": action.ReasonPaused})
	assert.Greater(t, before, held)
	h.SetSafety(map[string]string{executor.KeyPaused: "true", executor.KeyCooldown: "6m"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Greater(c, counter(t, "kubernaut_executor_holds_total", map[string]string{"reason": action.ReasonPaused}), before)
	}, wait, tick)
	got := h.get(&kev1.KubernetesExecution{ObjectMeta: metav1.ObjectMeta{Name: ke.Name, Namespace: h.Sys}}).(*kev1.KubernetesExecution)
	assert.Equal(t, kev1.PhaseExecuting, got.Status.Phase)
	assert.Equal(t, kev1.OperationPending, got.Status.OperationResults[1].Phase)
	assert.Contains(t, got.Status.Message, "paused by paused=true")
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: h.App}}).(*appsv1.Deployment)
	assert.Equal(t, other.ResourceVersion, after.ResourceVersion, "changed while paused")

	// Lifted: the execution continues.
	h.SetSafety(map[string]string{executor.KeyPostConditions: "false"})
	completed(t, h.Finished(ke))
	after = h.get(after).(*appsv1.Deployment)
	req, _ := memory(after)
	assert.Equal(t, "256Mi", req)
}

// dryRun switched on while an execution runs ends it before its next change; what it changed
// is neither changed further nor reverted.
func TestDryRunSwitchedOnStopsAnExecutionInFlight(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	h.Deployment("web", 2, nil)
	other := h.Deployment("other", 2, nil)
	h.StartExecutor(nil)
	ke := h.execution(false,
		op("scale", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "3"}),
		op("mem", "increase_resources", deploymentTarget(h.App, "other"), map[string]string{"memory": "256Mi"}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := &kev1.KubernetesExecution{}
		require.NoError(c, h.C.Get(ctx, client.ObjectKeyFromObject(ke), got))
		require.Len(c, got.Status.OperationResults, 2)
		assert.NotNil(c, got.Status.OperationResults[0].AppliedTime)
	}, wait, tick)
	h.SetSafety(map[string]string{executor.KeyDryRun: "true"})
	actAsDeploymentController(t, key(h.App, "web"), func(d *appsv1.Deployment) bool { return *d.Spec.Replicas == 3 })
	got := h.Finished(ke)
	assert.Equal(t, kev1.PhaseFailed, got.Status.Phase)
	assert.Equal(t, kev1.OperationSucceeded, got.Status.OperationResults[0].Phase)
	assert.Equal(t, action.ReasonDryRunEnforced, got.Status.OperationResults[1].Reason, got.Status.OperationResults[1].Message)
	assert.Contains(t, got.Status.Message, "changed and not rolled back: scale")
	web := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
	assert.Equal(t, ptr.To[int32](3), web.Spec.Replicas)
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: h.App}}).(*appsv1.Deployment)
	assert.Equal(t, other.ResourceVersion, after.ResourceVersion)
}

// A missing or invalid safety ConfigMap refuses; it never means the defaults.
func TestUnusableSafetyConfigRefuses(t *testing.T) {
	ctx := context.Background()
	tests := map[string]func(t *testing.T, h *harness){
		"missing": func(t *testing.T, h *harness) {
			require.NoError(t, h.C.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: executor.DefaultConfigMapName, Namespace: h.Sys}}))
		},
		"invalid": func(t *testing.T, h *harness) {
			h.SetSafety(map[string]string{executor.KeyDryRun: "maybe"})
		},
		"a misspelt key": func(t *testing.T, h *harness) {
			h.SetSafety(map[string]string{"dryrun": "true"})
		},
	}
	for name, break_ := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			d := h.Deployment("web", 2, nil)
			break_(t, h)
			h.StartExecutor(nil)
			got := h.Finished(h.execution(false, op("o", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "256Mi"})))
			refusedUnchanged(t, h, got, kev1.ReasonSafetyConfigInvalid, d)
		})
	}
}

// Change budgets: at most N changes per namespace and M per cluster within an hour; the one
// over budget is refused ChangeBudgetExceeded with nothing changed.
func TestChangeBudgets(t *testing.T) {
	tests := map[string]struct {
		safety map[string]string
		// second returns the namespace of the second change.
		second func(h *harness) string
		scope  string
	}{
		"namespace": {
			safety: map[string]string{executor.KeyMaxChangesPerNamespace: "1", executor.KeyMaxChangesPerCluster: "10"},
			second: func(h *harness) string { return h.App },
			scope:  "namespace",
		},
		"cluster": {
			safety: map[string]string{executor.KeyMaxChangesPerNamespace: "10", executor.KeyMaxChangesPerCluster: "1"},
			second: func(h *harness) string { return env.Namespace(h.T, map[string]string{kev1.LabelManaged: "true"}) },
			scope:  "cluster",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.safety[executor.KeyPostConditions] = "false"
			h := newHarness(t, tc.safety)
			h.Deployment("web", 2, nil)
			h.StartExecutor(nil)
			completed(t, h.Finished(h.execution(false, op("o", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "256Mi"}))))

			ns := tc.second(h)
			app := h.App
			h.App = ns // the next Deployment's namespace
			d := h.Deployment("next", 2, nil)
			h.App = app
			counted := counter(t, "kubernaut_executor_budget_refusals_total", map[string]string{"scope": tc.scope})
			got := h.Finished(h.execution(false, op("o", "increase_resources", deploymentTarget(ns, "next"), map[string]string{"memory": "256Mi"})))
			refusedUnchanged(t, h, got, action.ReasonChangeBudgetExceeded, d)
			assert.Contains(t, got.Status.OperationResults[0].Message, "within an hour")
			assert.Equal(t, counted+1, counter(t, "kubernaut_executor_budget_refusals_total", map[string]string{"scope": tc.scope}))
		})
	}
}

// A new execution created while paused holds before validating anything, and runs once the
// pause is lifted.
func TestKillSwitchHoldsNewExecutions(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, map[string]string{executor.KeyPaused: "true", executor.KeyPostConditions: "false"})
	d := h.Deployment("web", 2, nil)
	h.StartExecutor(nil)
	ke := h.execution(false, op("o", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "256Mi"}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := &kev1.KubernetesExecution{}
		require.NoError(c, h.C.Get(ctx, client.ObjectKeyFromObject(ke), got))
		assert.Equal(c, action.ReasonPaused, readyReason(got))
		assert.Empty(c, got.Status.Phase)
	}, wait, tick)
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
	assert.Equal(t, d.ResourceVersion, after.ResourceVersion)
	h.SetSafety(map[string]string{executor.KeyPostConditions: "false"})
	completed(t, h.Finished(ke))
}

// blindReader is a chain cache that has seen nothing yet: every link is missing.
type blindReader struct{}

func (blindReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: fmt.Sprintf("%T", obj)}, key.Name)
}

func (blindReader) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

// The chain is read from watched copies only to save reads: a copy that does not show the chain
// (it lags, or has not synced) never refuses an execution. The chain is read again live, and the
// intact chain lets the change through.
func TestALaggingChainCopyIsReadAgainLiveAndNeverRefuses(t *testing.T) {
	h := newHarness(t, nil)
	h.Deployment("web", 1, nil)
	h.StartExecutor(func(r *executor.Reconciler) { r.ChainReader = blindReader{} })
	before := counter(t, "kubernaut_executor_chain_live_reads_total", nil)

	got := increaseWebTo512Mi(t, h)
	require.Equal(t, kev1.PhaseCompleted, got.Status.Phase, got.Status.Message)
	assert.NotNil(t, got.Status.OperationResults[0].AppliedTime)
	assert.Greater(t, counter(t, "kubernaut_executor_chain_live_reads_total", nil), before, "the chain was not read again live")
}
