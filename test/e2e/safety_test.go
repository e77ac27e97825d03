package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/incident"
	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/workload"
)

// executorSafetyConfigMap is the executor's safety ConfigMap (deploy/base/config/executor.yaml).
const executorSafetyConfigMap = "kubernaut-executor-safety"

// executorSafety returns a function that sets key in the executor's safety ConfigMap, as the
// documented `kubectl patch` does; the value it found is put back when the test ends.
func executorSafety(t *testing.T, key string) func(value string) {
	t.Helper()
	cmKey := client.ObjectKey{Namespace: launcher.SystemNamespace, Name: executorSafetyConfigMap}
	update := func(change func(data map[string]string)) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cm := &corev1.ConfigMap{}
			if err := sys.Cluster.Client.Get(context.Background(), cmKey, cm); err != nil {
				return err
			}
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			change(cm.Data)
			return sys.Cluster.Client.Update(context.Background(), cm)
		})
	}
	cm := &corev1.ConfigMap{}
	require.NoError(t, sys.Cluster.Client.Get(context.Background(), cmKey, cm))
	before, had := cm.Data[key]
	t.Cleanup(func() {
		assert.NoError(t, update(func(data map[string]string) {
			if had {
				data[key] = before
			} else {
				delete(data, key)
			}
		}), "restoring %s in the executor's safety ConfigMap", key)
	})
	return func(value string) {
		t.Helper()
		require.NoError(t, update(func(data map[string]string) { data[key] = value }))
	}
}

// killSwitch returns a function that sets the kill switch (`paused` in the executor's safety
// ConfigMap); the value it found is put back when the test ends.
func killSwitch(t *testing.T) func(paused bool) {
	t.Helper()
	set := executorSafety(t, "paused")
	return func(paused bool) {
		t.Helper()
		set(strconv.FormatBool(paused))
	}
}

// heldPaused waits for the request's KubernetesExecution to hold on the kill switch (Ready False,
// reason ExecutionPaused) and returns it.
func heldPaused(t *testing.T, name string) *kev1.KubernetesExecution {
	t.Helper()
	ke := &kev1.KubernetesExecution{}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		rr, err := request(context.Background(), name)
		if !assert.NoError(c, err) || !assert.NotNil(c, rr.Status.KubernetesExecutionRef, "phase %s", rr.Status.OverallPhase) {
			return
		}
		got := &kev1.KubernetesExecution{}
		if !assert.NoError(c, sys.Cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: launcher.SystemNamespace, Name: rr.Status.KubernetesExecutionRef.Name}, got)) {
			return
		}
		ready := apimeta.FindStatusCondition(got.Status.Conditions, kev1.ConditionReady)
		if assert.NotNil(c, ready, "execution %s has no Ready condition (phase %s)", got.Name, got.Status.Phase) {
			assert.Equal(c, corev1.ConditionFalse, corev1.ConditionStatus(ready.Status))
			assert.Equal(c, kev1.ReasonPaused, ready.Reason)
		}
		ke = got
	}, 2*time.Minute, 100*time.Millisecond, "the execution of %s never held on the kill switch", name)
	return ke
}

// deployment reads the incident's Deployment.
func deployment(t *testing.T, in *incident.Incident) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	require.NoError(t, sys.Cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: in.Namespace, Name: in.Deployment}, d))
	return d
}

// 15. Production waits for a person under the shipped policy; the request is approved and the
// workflow validates its plan, but the executor is paused; meanwhile a person rolls the
// Deployment forward (a new pod template). Once the pause is lifted the executor refuses the
// validated plan (StaleTarget): the request ends in manual review with the refusal, and the
// Deployment keeps the person's roll-forward.
func TestE2E15RolledForwardBeforeExecutionNotExecuted(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	in, err := incident.OOM(ctx, sys.Cluster, namespaceFor(t), incident.NamespaceOptions{Environment: "production"})
	require.NoError(t, err)
	name := postCreated(t, in)

	// The shipped policy: nothing changes production without a person.
	awaitingApproval(t, name)
	t.Logf("%s: AwaitingApproval after %s", name, time.Since(start).Round(time.Millisecond))
	assertUnchanged(t, in)

	pause := killSwitch(t)
	pause(true)
	kubectlKubernaut(t, approver(t, "erin"), "approve", name, "--reason", "OOM kill confirmed on the memory graph")
	ke := heldPaused(t, name)
	t.Logf("%s: execution %s held (phase %s) after %s", name, ke.Name, ke.Status.Phase, time.Since(start).Round(time.Millisecond))
	assertUnchanged(t, in)

	// A person rolls the Deployment forward while the approved plan waits.
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d := deployment(t, in)
		for i := range d.Spec.Template.Spec.Containers {
			if d.Spec.Template.Spec.Containers[i].Name == in.Container {
				d.Spec.Template.Spec.Containers[i].Env = append(d.Spec.Template.Spec.Containers[i].Env,
					corev1.EnvVar{Name: "CHECKOUT_RELEASE", Value: "2026-12-06.2"})
			}
		}
		return sys.Cluster.Client.Update(ctx, d)
	}))
	rolled := deployment(t, in)
	require.EqualValues(t, 2, rolled.Generation, "the person's roll-forward")

	pause(false)
	rr := waitEnded(t, name)
	t.Logf("%s: ended %s/%s after %s: %s", name, rr.Status.OverallPhase, rr.Status.Outcome, time.Since(start).Round(time.Millisecond), rr.Status.Message)
	assert.Equal(t, remediationv1.PhaseCompleted, rr.Status.OverallPhase)
	assert.Equal(t, remediationv1.OutcomeManualReviewRequired, rr.Status.Outcome)
	assert.Contains(t, rr.Status.Message, kev1.ReasonStaleTarget)

	require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKeyFromObject(ke), ke))
	refused := false
	for _, op := range ke.Status.OperationResults {
		t.Logf("operation %s: %s %s: %s", op.Name, op.Phase, op.Reason, op.Message)
		assert.NotEqual(t, kev1.OperationSucceeded, op.Phase, "operation %s", op.Name)
		refused = refused || op.Reason == kev1.ReasonStaleTarget
	}
	assert.True(t, refused, "no operation refused StaleTarget: %+v", ke.Status.OperationResults)

	after := deployment(t, in)
	assert.Equal(t, rolled.Generation, after.Generation, "Kubernaut changed the rolled-forward Deployment")
	assert.Equal(t, rolled.Spec.Template, after.Spec.Template, "the person's roll-forward must be kept")
	lim, _ := memoryLimit(t, in)
	assert.True(t, lim.Equal(in.MemoryLimit), "memory limit changed to %s", lim.String())
}

// 16. The kill switch: with `paused: "true"` in the executor's safety ConfigMap an unattended
// (staging) remediation holds before its change, the Deployment untouched. Lifted, the execution
// runs; paused again as soon as its change is applied (while the executor awaits the rollout),
// the execution in flight holds too (Executing, the request not verifying) and changes nothing
// more. Lifted again, it finishes and the change is verified. One change in all: the suite's
// change budget (maxChangesPerClusterPerHour) is shared by every scenario.
func TestE2E16KillSwitchHoldsExecution(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	in, err := incident.OOM(ctx, sys.Cluster, namespaceFor(t), incident.NamespaceOptions{Environment: unattendedEnvironment})
	require.NoError(t, err)
	pause := killSwitch(t)
	pause(true)
	name := postCreated(t, in)
	ke := heldPaused(t, name)
	t.Logf("%s: new execution %s held (phase %q) after %s: %s", name, ke.Name, ke.Status.Phase, time.Since(start).Round(time.Millisecond), ke.Status.Message)
	for _, op := range ke.Status.OperationResults {
		assert.NotEqual(t, kev1.OperationSucceeded, op.Phase, "operation %s ran while paused", op.Name)
	}
	assertUnchanged(t, in)
	rr, err := request(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, remediationv1.PhaseExecuting, rr.Status.OverallPhase, "the request waits while paused")

	// Lift the pause and set it again the moment the change is applied.
	wc, err := client.NewWithWatch(sys.Cluster.Config, client.Options{Scheme: sys.Cluster.Client.Scheme()})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	w, err := wc.Watch(wctx, &kev1.KubernetesExecutionList{}, client.InNamespace(launcher.SystemNamespace), client.MatchingFields{"metadata.name": ke.Name})
	require.NoError(t, err)
	defer w.Stop()
	lifted := time.Now()
	pause(false)
	pausedAt := ""
	for ev := range w.ResultChan() {
		got, ok := ev.Object.(*kev1.KubernetesExecution)
		if !ok {
			continue
		}
		applied := false
		for _, r := range got.Status.OperationResults {
			applied = applied || r.AppliedTime != nil
		}
		if applied || got.Status.Phase == kev1.PhaseCompleted || got.Status.Phase == kev1.PhaseFailed {
			pause(true)
			pausedAt = string(got.Status.Phase)
			break
		}
	}
	require.NotEmpty(t, pausedAt, "the watch ended before execution %s applied its change", ke.Name)
	// Either the execution in flight holds, or it had finished before the executor read the pause.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := &kev1.KubernetesExecution{}
		if !assert.NoError(c, sys.Cluster.Client.Get(ctx, client.ObjectKeyFromObject(ke), got)) {
			return
		}
		ready := apimeta.FindStatusCondition(got.Status.Conditions, kev1.ConditionReady)
		assert.True(c, got.Status.Phase == kev1.PhaseCompleted || got.Status.Phase == kev1.PhaseFailed || (ready != nil && ready.Reason == kev1.ReasonPaused),
			"execution %s: phase %s, Ready %+v", ke.Name, got.Status.Phase, ready)
		ke = got
	}, time.Minute, 50*time.Millisecond)
	if ke.Status.Phase == kev1.PhaseExecuting {
		t.Logf("%s: paused again with the change applied (seen %s): held in flight: %s", name, pausedAt, ke.Status.Message)
		rr, err := request(ctx, name)
		require.NoError(t, err)
		assert.Equal(t, remediationv1.PhaseExecuting, rr.Status.OverallPhase, "the request must wait for the held execution")
		lim, gen := memoryLimit(t, in)
		assert.True(t, lim.Equal(raisedLimit), "memory limit %s: the change made before the pause", lim.String())
		assert.EqualValues(t, 2, gen, "nothing more changed while paused")
	} else {
		t.Logf("%s: the execution was %s before the executor read the second pause (seen %s): the hold in flight was not exercised", name, ke.Status.Phase, pausedAt)
	}
	pause(false)
	rr = endVerified(t, in, name)
	t.Logf("%s: ended %s/%s %s after the pause was first lifted", name, rr.Status.OverallPhase, rr.Status.Outcome, time.Since(lifted).Round(time.Millisecond))
	assert.Equal(t, remediationv1.OutcomeRemediated, rr.Status.Outcome, "phase %s: %s", rr.Status.OverallPhase, rr.Status.FailureReason)
	assertRemediated(t, in)
}

// 17. A bad rollout crash-loops in production; the analysis recommends rolling it back and the
// request waits for a person. Meanwhile a person ships a hotfix (a new revision). When the
// rollback is approved, the workflow refuses to plan it (StaleTarget: the Deployment runs another
// revision than the one analysed): the request ends in manual review, and the hotfix keeps
// running — an approved plan is never applied to a state it was not made for.
func TestE2E17RolledForwardWhileAwaitingApprovalKept(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	in, err := incident.CrashLoop(ctx, sys.Cluster, namespaceFor(t), incident.NamespaceOptions{Environment: "production"})
	require.NoError(t, err)
	name := postCreated(t, in)
	awaitingApproval(t, name) // production waits for a person
	t.Logf("%s: AwaitingApproval after %s", name, time.Since(start).Round(time.Millisecond))
	analysed := deployment(t, in)

	// The person's hotfix: the good image with a release marker, a new revision.
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d := deployment(t, in)
		d.Spec.Template.Spec.Containers[0].Image = workload.Good
		d.Spec.Template.Spec.Containers[0].Env = append(d.Spec.Template.Spec.Containers[0].Env,
			corev1.EnvVar{Name: "CHECKOUT_RELEASE", Value: "2026-12-06.hotfix"})
		return sys.Cluster.Client.Update(ctx, d)
	}))
	hotfix, err := incident.WaitRolledOut(ctx, sys.Cluster.Client, in.Namespace, in.Deployment, 2*time.Minute)
	require.NoError(t, err)
	require.NotEqual(t, analysed.Annotations["deployment.kubernetes.io/revision"], hotfix.Annotations["deployment.kubernetes.io/revision"], "the hotfix is a new revision")

	kubectlKubernaut(t, approver(t, "frank"), "approve", name, "--reason", "the rollout broke checkout")
	rr := waitEnded(t, name)
	t.Logf("%s: ended %s/%s after %s: %s", name, rr.Status.OverallPhase, rr.Status.Outcome, time.Since(start).Round(time.Millisecond), rr.Status.Message)
	assert.Equal(t, remediationv1.PhaseCompleted, rr.Status.OverallPhase)
	assert.Equal(t, remediationv1.OutcomeManualReviewRequired, rr.Status.Outcome)
	assert.Contains(t, rr.Status.Message, "changed since the analysis examined it")
	assert.Nil(t, rr.Status.KubernetesExecutionRef, "nothing was executed")

	after := deployment(t, in)
	assert.Equal(t, hotfix.Annotations["deployment.kubernetes.io/revision"], after.Annotations["deployment.kubernetes.io/revision"])
	assert.Equal(t, hotfix.Spec.Template, after.Spec.Template, "the person's hotfix must keep running")
}

// 18. A cluster-wide blip: two more managed nodes than the unschedulable-node share allows stop
// reporting Ready at once, and each fires KubeNodeNotReady. NotReady nodes already count as
// unavailable, so no cordon is made (the executor refuses UnschedulableNodeShareExceeded): a
// blip never empties the cluster of schedulable nodes.
func TestE2E18ClusterWideBlipCordonsNothing(t *testing.T) {
	ctx := context.Background()
	var before corev1.NodeList
	require.NoError(t, sys.Cluster.Client.List(ctx, &before))
	// With the default share 0.34, k NotReady nodes of n+k exceed it when k > 0.34(n+k).
	k := len(before.Items)*34/66 + 1
	names := make([]string, k)
	incidents := make([]*incident.Incident, k)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", namespaceFor(t), i)
		node := names[i]
		t.Cleanup(func() { assert.NoError(t, incident.DeleteNode(context.Background(), sys.Cluster.Client, node)) })
		in, err := incident.NodeNotReady(ctx, sys.Cluster, node)
		require.NoError(t, err)
		incidents[i] = in
	}
	t.Logf("%d nodes before, %d NotReady now", len(before.Items), k)
	requests := make([]string, k)
	for i, in := range incidents {
		requests[i] = postCreated(t, in)
	}
	for i, name := range requests {
		approveWhenAsked(t, name, "gina", "provider status page shows an incident")
		rr := waitEnded(t, name)
		t.Logf("%s (node %s): ended %s/%s: %s", name, names[i], rr.Status.OverallPhase, rr.Status.Outcome, rr.Status.Message)
		assert.NotEqual(t, remediationv1.OutcomeRemediated, rr.Status.Outcome, "node %s", names[i])
		if ref := rr.Status.KubernetesExecutionRef; assert.NotNil(t, ref, "the refusal comes from the executor") {
			ke := &kev1.KubernetesExecution{}
			require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, ke))
			refused := false
			for _, op := range ke.Status.OperationResults {
				refused = refused || op.Reason == kev1.ReasonNodeShare
			}
			assert.True(t, refused, "execution %s: %+v", ke.Name, ke.Status.OperationResults)
		}
	}
	for _, node := range names {
		n := &corev1.Node{}
		require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Name: node}, n))
		assert.False(t, n.Spec.Unschedulable, "node %s was cordoned during a blip", node)
	}
}

// 19. An OOMKilled Deployment that another controller controls, as an operator controls what it
// deploys: a custom resource owns it (controller and blockOwnerDeletion, as operators set the
// reference) and would put back any change made to the Deployment itself. The request ends in
// manual review that names that resource, nothing is executed, and the Deployment is unchanged;
// the garbage collector keeps it, since its owner exists.
func TestE2E19OperatorControlledWorkloadLeftToAPerson(t *testing.T) {
	ctx := context.Background()
	in, err := incident.OOM(ctx, sys.Cluster, namespaceFor(t), incident.NamespaceOptions{Environment: unattendedEnvironment})
	require.NoError(t, err)
	owner := operatorResource(t, in.Namespace, "checkout")
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d := deployment(t, in)
		d.OwnerReferences = []metav1.OwnerReference{{APIVersion: owner.GetAPIVersion(), Kind: owner.GetKind(), Name: owner.GetName(), UID: owner.GetUID(),
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
		return sys.Cluster.Client.Update(ctx, d)
	}))

	name := postCreated(t, in)
	rr := waitEnded(t, name)
	assert.Equal(t, remediationv1.OutcomeManualReviewRequired, rr.Status.Outcome, "phase %s: %s", rr.Status.OverallPhase, rr.Status.Message)
	assert.Nil(t, rr.Status.KubernetesExecutionRef, "nothing may be executed")
	if ref := rr.Status.AIAnalysisRef; assert.NotNil(t, ref) {
		a := &aiv1.AIAnalysis{}
		require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, a))
		t.Logf("manual review: %s", a.Status.ManualReviewReason)
		assert.Contains(t, a.Status.ManualReviewReason, fmt.Sprintf("%s %s %s controls it", owner.GetAPIVersion(), owner.GetKind(), owner.GetName()))
	}
	delivered(t, name, notificationv1.TypeManualReview)
	assertUnchanged(t, in)
}

// operatorResource installs a custom resource definition standing for an operator's API (its
// kind is this test's; what matters is the owner reference) and creates one in ns; both are
// removed when the test ends.
func operatorResource(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	ctx := context.Background()
	const group, kind, plural = "e2e.kubernaut.io", "Storefront", "storefronts"
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": plural + "." + group},
		"spec": map[string]any{"group": group, "scope": "Namespaced",
			"names": map[string]any{"kind": kind, "plural": plural, "singular": strings.ToLower(kind), "listKind": kind + "List"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}},
	}}
	if err := sys.Cluster.Client.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": group + "/v1", "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": map[string]any{"replicas": int64(2)}}}
	// The API server serves the kind once the definition is established.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NoError(c, sys.Cluster.Client.Create(ctx, obj.DeepCopy()))
	}, time.Minute, 200*time.Millisecond, "creating a %s", kind)
	require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	t.Cleanup(func() { _ = sys.Cluster.Client.Delete(context.Background(), crd) })
	return obj
}
