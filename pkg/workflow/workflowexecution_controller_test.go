package workflow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/metricvalue"
	"github.com/kubernaut/kubernaut/pkg/shared/actions/mutate"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/workflow"
)

func TestCordonThenDrainYieldsOrderedOperations(t *testing.T) {
	f := start(t, nil, true)
	ctx := context.Background()
	nodeName := f.ns + "-node"
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}}
	require.NoError(t, f.c.Create(ctx, node))
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), node) })
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "busy", Namespace: f.ns},
		Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
	require.NoError(t, f.c.Create(ctx, pod))
	target := &common.TargetResource{Kind: "Node", Name: nodeName}

	w := f.finished(t, f.workflowOf("drain", target,
		common.WorkflowStep{Name: "drain", Action: "drain_node", DependsOn: []string{"cordon"}, Parameters: map[string]string{"gracePeriodSeconds": "30"}},
		common.WorkflowStep{Name: "cordon", Action: "cordon_node"},
	))

	require.Equal(t, workflowv1.PhaseCompleted, w.Status.Phase, w.Status.Message)
	nodeTarget := common.TargetResource{APIVersion: "v1", Kind: "Node", Name: nodeName}
	want := []common.Operation{
		{Name: "cordon", Action: "cordon_node", Target: nodeTarget, TargetUID: string(node.UID), Timeout: &metav1.Duration{Duration: time.Minute}},
		{Name: "drain", Action: "drain_node", Target: nodeTarget, TargetUID: string(node.UID), DependsOn: []string{"cordon"},
			Parameters: map[string]string{"gracePeriodSeconds": "30", "timeout": "5m", "ignoreDaemonSets": "true", "deleteEmptyDirData": "false"},
			Timeout:    &metav1.Duration{Duration: 10 * time.Minute}},
	}
	got := w.Status.Operations
	for i := range got {
		assert.NotEmpty(t, got[i].TargetResourceVersion)
		// A Node keeps no generation: its preconditions are the resourceVersion, recorded only.
		assert.Equal(t, &common.Preconditions{ResourceVersion: got[i].TargetResourceVersion}, got[i].Preconditions)
		got[i].TargetResourceVersion, got[i].Preconditions = "", nil
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("operations (-want +got):\n%s", d)
	}
	assert.Equal(t, 11*time.Minute, w.Status.EstimatedDuration.Duration, "cordon 1m and drain 10m, from the catalog (stepTimeout 5m is the default, not a cap)")
	cordon := result(t, w, "cordon")
	assert.True(t, cordon.Valid)
	assert.Equal(t, []workflowv1.FieldChange{{Path: "spec.unschedulable", After: "true"}}, cordon.Diff)
	drain := result(t, w, "drain")
	assert.True(t, drain.Valid, drain.Message)
	require.Len(t, drain.Checks, 4)
	assert.Contains(t, drain.Checks[1].Message, "1 Pods to evict ("+f.ns+"/busy)")
	assert.Contains(t, drain.Checks[3].Message, "evicting 1 Pods")
	c := ready(w)
	require.NotNil(t, c)
	assert.Equal(t, metav1.ConditionTrue, c.Status)
	assert.Equal(t, workflowv1.ReasonValidated, c.Reason)
	assert.Equal(t, w.Generation, w.Status.ObservedGeneration)

	// The dry-runs changed nothing.
	live := &corev1.Node{}
	require.NoError(t, f.c.Get(ctx, client.ObjectKeyFromObject(node), live))
	assert.False(t, live.Spec.Unschedulable)
	require.NoError(t, f.c.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{}))
}

// The operation carries what was validated and approved: the Deployment's generation, its
// revision and the pod-template-hash of that revision's ReplicaSet, which the executor holds the
// target to (StaleTarget).
func TestValidationRecordsThePreconditions(t *testing.T) {
	f := start(t, nil, true)
	ctx := context.Background()
	d := f.deploymentAtRevision2(t)
	w := f.finished(t, f.workflowOf("mem", deploymentTarget(f.ns, "web"),
		common.WorkflowStep{Name: "mem", Action: "increase_resources", Parameters: map[string]string{"memory": "256Mi"}}))
	require.Equal(t, workflowv1.PhaseCompleted, w.Status.Phase, w.Status.Message)
	live := &appsv1.Deployment{}
	require.NoError(t, f.c.Get(ctx, client.ObjectKeyFromObject(d), live))
	op := w.Status.Operations[0]
	assert.Equal(t, &common.Preconditions{Generation: live.Generation, ResourceVersion: live.ResourceVersion, Revision: "2", PodTemplateHash: "7c6b5d9f8"}, op.Preconditions)
	assert.Contains(t, result(t, w, "mem").Checks[0].Message, "revision 2, pod-template-hash 7c6b5d9f8")
}

// deploymentAtRevision2 is Deployment web at revision 2 (pod-template-hash 7c6b5d9f8) with the
// ReplicaSets of revisions 1 (5d8f7c9b6) and 2, as the Deployment controller leaves them.
func (f *fixture) deploymentAtRevision2(t *testing.T) *appsv1.Deployment {
	t.Helper()
	ctx := context.Background()
	d := f.deployment(t, "web", "128Mi", "256Mi")
	d.Annotations = map[string]string{mutate.RevisionAnnotation: "2"}
	require.NoError(t, f.c.Update(ctx, d))
	for rev, hash := range map[string]string{"1": "5d8f7c9b6", "2": "7c6b5d9f8"} {
		tpl := d.Spec.Template.DeepCopy()
		tpl.Labels = map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash}
		require.NoError(t, f.c.Create(ctx, &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web-" + hash, Namespace: f.ns, Labels: tpl.Labels, Annotations: map[string]string{mutate.RevisionAnnotation: rev},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: d.UID, Controller: ptr.To(true)}}},
			Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: tpl.Labels}, Template: *tpl},
		}))
	}
	return d
}

// A plan is refused StaleTarget when the workload runs another template than the one the
// analysis examined: a person rolled it forward (revision 1 → 2) while the request awaited
// approval, and a rollback made for revision 1 would undo that.
func TestPlanForAnotherRevisionThanAnalyzedIsRefused(t *testing.T) {
	f := start(t, nil, true)
	ctx := context.Background()
	d := f.deploymentAtRevision2(t)
	tests := map[string]struct {
		analyzed   *workflowv1.AnalyzedTarget
		wantPhase  workflowv1.Phase
		wantReason string
		wantMsg    string
	}{
		"analyzed at revision 1, runs revision 2": {
			analyzed:  &workflowv1.AnalyzedTarget{Kind: "Deployment", Namespace: f.ns, Name: "web", Preconditions: common.Preconditions{Revision: "1", PodTemplateHash: "5d8f7c9b6"}},
			wantPhase: workflowv1.PhaseFailed, wantReason: workflowv1.ReasonStaleTarget,
			wantMsg: "changed since the analysis examined it (revision 1 → 2, pod-template-hash 5d8f7c9b6 → 7c6b5d9f8)",
		},
		"analyzed at revision 2, runs revision 2": {
			analyzed:  &workflowv1.AnalyzedTarget{Kind: "Deployment", Namespace: f.ns, Name: "web", Preconditions: common.Preconditions{Revision: "2", PodTemplateHash: "7c6b5d9f8"}},
			wantPhase: workflowv1.PhaseCompleted, wantReason: workflowv1.ReasonValidated,
		},
		"another workload was analyzed": {
			analyzed:  &workflowv1.AnalyzedTarget{Kind: "Deployment", Namespace: f.ns, Name: "api", Preconditions: common.Preconditions{Revision: "1"}},
			wantPhase: workflowv1.PhaseCompleted, wantReason: workflowv1.ReasonValidated,
		},
		"nothing recorded by the analysis": {wantPhase: workflowv1.PhaseCompleted, wantReason: workflowv1.ReasonValidated},
	}
	i := 0
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i++
			w := f.workflowOf(fmt.Sprintf("undo-%d", i), deploymentTarget(f.ns, "web"),
				common.WorkflowStep{Name: "undo", Action: "rollback_deployment", Parameters: map[string]string{"revision": "1"}})
			w.Spec.AnalyzedTarget = tc.analyzed
			w = f.finished(t, w)
			require.Equal(t, tc.wantPhase, w.Status.Phase, w.Status.Message)
			assert.Equal(t, tc.wantReason, ready(w).Reason)
			assert.Contains(t, w.Status.Message, tc.wantMsg)
			live := &appsv1.Deployment{}
			require.NoError(t, f.c.Get(ctx, client.ObjectKeyFromObject(d), live))
			assert.Equal(t, "2", live.Annotations[mutate.RevisionAnnotation], "validation changes nothing")
		})
	}
}

func TestPlanningFailures(t *testing.T) {
	f := start(t, nil, true)
	target := deploymentTarget(f.ns, "web")
	tests := map[string]struct {
		steps      []common.WorkflowStep
		wantReason string
		wantMsg    []string
	}{
		"cycle": {
			steps: []common.WorkflowStep{
				{Name: "restart", Action: "rollout_restart", DependsOn: []string{"scale"}},
				{Name: "scale", Action: "scale_deployment", Parameters: map[string]string{"replicas": "3"}, DependsOn: []string{"restart"}},
			},
			wantReason: workflowv1.ReasonDependencyCycle,
			wantMsg:    []string{"cycle: restart → scale → restart"},
		},
		"unknown action": {
			steps:      []common.WorkflowStep{{Name: "fix", Action: "kubectl_exec"}},
			wantReason: workflowv1.ReasonUnknownAction,
			wantMsg:    []string{`step fix: unknown action "kubectl_exec" (known actions: `},
		},
		"invalid parameters, all at once": {
			steps: []common.WorkflowStep{{Name: "mem", Action: "increase_resources",
				Parameters: map[string]string{"memory": "lots", "cpuLimit": "-1", "colour": "red"}}},
			wantReason: workflowv1.ReasonInvalidParameters,
			wantMsg:    []string{"colour: unknown parameter", "cpuLimit: must be greater than zero", `memory: must be a Kubernetes quantity such as "256Mi", "1Gi" or "500m", got "lots"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := f.finished(t, f.workflowOf(objectName(name), target, tc.steps...))
			assert.Equal(t, workflowv1.PhaseFailed, w.Status.Phase)
			for _, m := range tc.wantMsg {
				assert.Contains(t, w.Status.Message, m)
			}
			c := ready(w)
			require.NotNil(t, c)
			assert.Equal(t, tc.wantReason, c.Reason)
			assert.Equal(t, metav1.ConditionFalse, c.Status)
			assert.Empty(t, w.Status.Operations)
			assert.Equal(t, w.Generation, w.Status.ObservedGeneration)
		})
	}
}

func TestValidationFailures(t *testing.T) {
	f := start(t, nil, true)
	f.deployment(t, "web", "128Mi", "512Mi")
	// KEDA scales web through an HPA that its ScaledObject controls (named and owned as KEDA
	// creates it): KEDA would put back any change made to the HPA itself.
	keda := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "keda-hpa-web", Namespace: f.ns,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Name: "web",
			UID: "0c6a7e58-2f0b-4f4e-8a55-3f1d2b9c7e11", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 4,
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}}}
	require.NoError(t, f.c.Create(context.Background(), keda))
	tests := map[string]struct {
		target     *common.TargetResource
		steps      []common.WorkflowStep
		wantReason string
		wantMsg    string
	}{
		"missing target": {
			target:     deploymentTarget(f.ns, "gone"),
			steps:      []common.WorkflowStep{{Name: "restart", Action: "rollout_restart"}},
			wantReason: workflowv1.ReasonTargetNotFound,
			wantMsg:    "Deployment " + f.ns + "/gone not found",
		},
		"container that does not exist": {
			target:     deploymentTarget(f.ns, "web"),
			steps:      []common.WorkflowStep{{Name: "mem", Action: "increase_resources", Parameters: map[string]string{"container": "db", "memory": "1Gi"}}},
			wantReason: workflowv1.ReasonTargetMismatch,
			wantMsg:    `container not found: "db" (the Pod template has [app])`,
		},
		"nothing to roll back to": {
			target:     deploymentTarget(f.ns, "web"),
			steps:      []common.WorkflowStep{{Name: "undo", Action: "rollback_deployment"}},
			wantReason: workflowv1.ReasonTargetMismatch,
			wantMsg:    "no previous revision",
		},
		"HPA that is not there": {
			target:     &common.TargetResource{Kind: "HorizontalPodAutoscaler", Namespace: f.ns, Name: "web"},
			steps:      []common.WorkflowStep{{Name: "hpa", Action: "update_hpa", Parameters: map[string]string{"maxReplicas": "10"}}},
			wantReason: workflowv1.ReasonTargetNotFound,
			wantMsg:    "HorizontalPodAutoscaler " + f.ns + "/web not found",
		},
		"HPA that another controller controls": {
			target:     &common.TargetResource{Kind: "HorizontalPodAutoscaler", Namespace: f.ns, Name: "keda-hpa-web"},
			steps:      []common.WorkflowStep{{Name: "hpa", Action: "update_hpa", Parameters: map[string]string{"maxReplicas": "8"}}},
			wantReason: workflowv1.ReasonTargetControlled,
			wantMsg:    "HorizontalPodAutoscaler " + f.ns + "/keda-hpa-web is controlled by keda.sh/v1alpha1 ScaledObject web, which would undo a change made to it",
		},
		// The catalog accepts a memory limit on its own; the API server refuses one below the
		// container's request.
		"dry-run rejected by the API server": {
			target:     deploymentTarget(f.ns, "web"),
			steps:      []common.WorkflowStep{{Name: "mem", Action: "increase_resources", Parameters: map[string]string{"cpu": "100m", "memoryLimit": "64Mi"}}},
			wantReason: workflowv1.ReasonDryRunRejected,
			wantMsg:    "must be less than or equal to memory limit",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := f.finished(t, f.workflowOf(objectName(name), tc.target, tc.steps...))
			require.Equal(t, workflowv1.PhaseFailed, w.Status.Phase)
			assert.Contains(t, w.Status.Message, tc.wantMsg)
			assert.Equal(t, tc.wantReason, ready(w).Reason)
			r := w.Status.ValidationResults[0]
			assert.False(t, r.Valid)
			assert.Equal(t, tc.wantReason, r.Reason)
			assert.Contains(t, r.Message, tc.wantMsg)
			assert.False(t, r.Checks[len(r.Checks)-1].Passed)
		})
	}
}

func TestIncreaseResourcesDryRunDiff(t *testing.T) {
	for _, dryRun := range []bool{false, true} {
		t.Run(fmt.Sprintf("dryRun=%t", dryRun), func(t *testing.T) {
			f := start(t, nil, true)
			ctx := context.Background()
			d := f.deployment(t, "web", "128Mi", "256Mi")
			w := f.workflowOf("mem", deploymentTarget(f.ns, "web"),
				common.WorkflowStep{Name: "increase-memory", Action: "increase_resources", Parameters: map[string]string{"container": "app", "memory": "512Mi"}})
			w.Spec.ExecutionConfig.DryRun = dryRun
			w = f.finished(t, w)

			require.Equal(t, workflowv1.PhaseCompleted, w.Status.Phase, w.Status.Message)
			r := result(t, w, "increase-memory")
			want := []workflowv1.FieldChange{
				{Path: "spec.template.spec.containers[name=app].resources.limits.memory", Before: `"256Mi"`, After: `"512Mi"`},
				{Path: "spec.template.spec.containers[name=app].resources.requests.memory", Before: `"128Mi"`, After: `"512Mi"`},
			}
			if diff := cmp.Diff(want, r.Diff); diff != "" {
				t.Errorf("dry-run diff (-want +got):\n%s", diff)
			}
			assert.Equal(t, []workflowv1.CheckType{workflowv1.CheckTargetExists, workflowv1.CheckTargetResolves, workflowv1.CheckPermission, workflowv1.CheckDryRun},
				checkTypes(r))
			assert.Equal(t, string(d.UID), w.Status.Operations[0].TargetUID)
			assert.Equal(t, dryRun, w.Status.DryRun)
			assert.Equal(t, dryRun, strings.HasPrefix(w.Status.Message, "dry run: "), w.Status.Message)

			live := &appsv1.Deployment{}
			require.NoError(t, f.c.Get(ctx, client.ObjectKeyFromObject(d), live))
			assert.Equal(t, "256Mi", ptrQ(live.Spec.Template.Spec.Containers[0].Resources.Limits, corev1.ResourceMemory), "the dry-run changed the Deployment")
		})
	}
}

func ptrQ(l corev1.ResourceList, n corev1.ResourceName) string {
	q := l[n]
	return q.String()
}

func checkTypes(r workflowv1.ValidationResult) []workflowv1.CheckType {
	var out []workflowv1.CheckType
	for _, c := range r.Checks {
		out = append(out, c.Type)
	}
	return out
}

// A Deployment deleted and recreated under the same name has a new UID; each workflow records
// the UID of the object it validated, which is the live one.
func TestTargetRecreatedUnderTheSameName(t *testing.T) {
	f := start(t, nil, true)
	ctx := context.Background()
	step := common.WorkflowStep{Name: "restart", Action: "rollout_restart"}
	first := f.deployment(t, "web", "", "")
	w1 := f.finished(t, f.workflowOf("first", deploymentTarget(f.ns, "web"), step))
	require.Equal(t, workflowv1.PhaseCompleted, w1.Status.Phase, w1.Status.Message)
	assert.Equal(t, string(first.UID), w1.Status.Operations[0].TargetUID)

	require.NoError(t, f.c.Delete(ctx, first))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Error(c, f.c.Get(ctx, client.ObjectKeyFromObject(first), &appsv1.Deployment{}))
	}, 10*time.Second, 20*time.Millisecond)
	second := f.deployment(t, "web", "", "")
	require.NotEqual(t, first.UID, second.UID)

	w2 := f.finished(t, f.workflowOf("second", deploymentTarget(f.ns, "web"), step))
	require.Equal(t, workflowv1.PhaseCompleted, w2.Status.Phase, w2.Status.Message)
	live := &appsv1.Deployment{}
	require.NoError(t, f.c.Get(ctx, client.ObjectKeyFromObject(second), live))
	assert.Equal(t, string(live.UID), w2.Status.Operations[0].TargetUID)
	assert.NotEqual(t, w1.Status.Operations[0].TargetUID, w2.Status.Operations[0].TargetUID,
		"the executor of the first workflow would refuse the recreated Deployment")
}

func TestExecutorMayNotUseAVerb(t *testing.T) {
	// The executor may read Deployments but not patch them.
	f := start(t, []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get"}}}, true)
	f.deployment(t, "web", "128Mi", "256Mi")
	w := f.finished(t, f.workflowOf("denied", deploymentTarget(f.ns, "web"),
		common.WorkflowStep{Name: "mem", Action: "increase_resources", Parameters: map[string]string{"memory": "512Mi"}}))

	require.Equal(t, workflowv1.PhaseFailed, w.Status.Phase)
	assert.Equal(t, workflowv1.ReasonPermissionDenied, ready(w).Reason)
	assert.Contains(t, w.Status.Message, "the executor "+f.executor+" may not patch apps/deployments web in "+f.ns)
	r := result(t, w, "mem")
	assert.Equal(t, workflowv1.ReasonPermissionDenied, r.Reason)
	assert.Equal(t, []workflowv1.CheckType{workflowv1.CheckTargetExists, workflowv1.CheckTargetResolves, workflowv1.CheckPermission, workflowv1.CheckDryRun},
		checkTypes(r), "the dry-run still runs, so that every problem shows at once")
}

// A workflow still being validated when its workflowTimeout has passed fails as timed out.
func TestWorkflowTimeout(t *testing.T) {
	f := start(t, nil, false)
	ctx := context.Background()
	f.deployment(t, "web", "", "")
	w := f.workflowOf("slow", deploymentTarget(f.ns, "web"), common.WorkflowStep{Name: "restart", Action: "rollout_restart"})
	w.Spec.ExecutionConfig.WorkflowTimeout = &metav1.Duration{Duration: 10 * time.Minute}
	require.NoError(t, f.c.Create(ctx, w))
	// A previous run of the service began validating it eleven minutes ago.
	base := w.DeepCopy()
	w.Status.Phase = workflowv1.PhaseValidating
	w.Status.StartTime = &metav1.Time{Time: time.Now().Add(-11 * time.Minute)}
	require.NoError(t, f.c.Status().Patch(ctx, w, client.MergeFrom(base)))

	f.run(t)
	got := f.wait(t, w.Name)
	assert.Equal(t, workflowv1.PhaseFailed, got.Status.Phase)
	assert.Equal(t, workflowv1.ReasonWorkflowTimedOut, ready(got).Reason)
	assert.Contains(t, got.Status.Message, "did not finish within workflowTimeout 10m0s")
}

// objectName turns a test case name into an object name.
func objectName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String()[:min(b.Len(), 40)], "-")
}

// Every mutating action's change, as pkg/shared/actions/mutate computes it for the executor,
// passes the real API server's dry-run, and its diff is what the action means.
func TestEveryActionDryRuns(t *testing.T) {
	f := start(t, nil, true)
	ctx := context.Background()
	d := f.deployment(t, "web", "128Mi", "256Mi")
	nodeName := f.ns + "-node"
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}, Spec: corev1.NodeSpec{Unschedulable: true,
		Taints: []corev1.Taint{{Key: "example.com/degraded", Effect: corev1.TaintEffectNoSchedule}}}}
	require.NoError(t, f.c.Create(ctx, node))
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), node) })
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: f.ns}, Spec: appsv1.StatefulSetSpec{
		Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "db:1"}}}}}}
	require.NoError(t, f.c.Create(ctx, sts))
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: f.ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: ptr.To[int32](2), MaxReplicas: 4,
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}}}
	require.NoError(t, f.c.Create(ctx, hpa))
	// Two earlier revisions of web, as the Deployment controller keeps them.
	for _, rev := range []string{"1", "2"} {
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-" + rev, Namespace: f.ns,
			Annotations:     map[string]string{mutate.RevisionAnnotation: rev},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
			Spec: appsv1.ReplicaSetSpec{Selector: d.Spec.Selector, Template: *d.Spec.Template.DeepCopy()}}
		rs.Spec.Template.Labels = map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: "h" + rev}
		rs.Labels = rs.Spec.Template.Labels // as the Deployment controller labels its ReplicaSets
		rs.Spec.Template.Spec.Containers[0].Image = "example/app:0." + rev
		require.NoError(t, f.c.Create(ctx, rs))
	}
	live := d.DeepCopy()
	live.Annotations = map[string]string{mutate.RevisionAnnotation: "3"}
	require.NoError(t, f.c.Patch(ctx, live, client.MergeFrom(d)))
	owned := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1-abcde", Namespace: f.ns, Labels: map[string]string{"app": "web"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1", UID: "00000000-0000-0000-0000-000000000001", Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "x"}}}}
	require.NoError(t, f.c.Create(ctx, owned))
	failedPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-failed", Namespace: f.ns, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "x"}}}}
	require.NoError(t, f.c.Create(ctx, failedPod))
	failedPod.Status.Phase = corev1.PodFailed
	require.NoError(t, f.c.Status().Update(ctx, failedPod))

	web := deploymentTarget(f.ns, "web")
	nodeT := &common.TargetResource{Kind: "Node", Name: nodeName}
	tests := map[string]struct {
		target      *common.TargetResource
		step        common.WorkflowStep
		wantDiff    []string
		wantDiffHas string // the API server adds a not-ready taint to new Nodes: taints are compared by index
		wantMsg     string
	}{
		"scale_deployment": {target: web, step: common.WorkflowStep{Action: "scale_deployment", Parameters: map[string]string{"replicas": "5"}},
			wantDiff: []string{"spec.replicas: 2 → 5"}},
		"scale_statefulset": {target: &common.TargetResource{Kind: "StatefulSet", Namespace: f.ns, Name: "db"},
			step: common.WorkflowStep{Action: "scale_statefulset", Parameters: map[string]string{"replicas": "3"}}, wantDiff: []string{"spec.replicas: 1 → 3"}},
		"rollback_deployment": {target: web, step: common.WorkflowStep{Action: "rollback_deployment"},
			wantDiff: []string{`spec.template.spec.containers[name=app].image: "example/app:1" → "example/app:0.2"`}},
		"rollback_deployment to revision 1": {target: web, step: common.WorkflowStep{Action: "rollback_deployment", Parameters: map[string]string{"revision": "1"}},
			wantDiff: []string{`spec.template.spec.containers[name=app].image: "example/app:1" → "example/app:0.1"`}},
		"uncordon_node": {target: nodeT, step: common.WorkflowStep{Action: "uncordon_node"}, wantDiff: []string{"spec.unschedulable: true → "}},
		"taint_node": {target: nodeT, step: common.WorkflowStep{Action: "taint_node", Parameters: map[string]string{"key": "example.com/oom", "effect": "NoExecute"}},
			wantMsg: "accepts the change of 2 fields", wantDiffHas: `:  → "example.com/oom"`},
		"untaint_node": {target: nodeT, step: common.WorkflowStep{Action: "untaint_node", Parameters: map[string]string{"key": "example.com/degraded"}},
			wantDiffHas: `.key: "example.com/degraded" → `},
		"update_hpa": {target: &common.TargetResource{Kind: "HorizontalPodAutoscaler", Namespace: f.ns, Name: "web"},
			step: common.WorkflowStep{Action: "update_hpa", Parameters: map[string]string{"maxReplicas": "8"}}, wantDiff: []string{"spec.maxReplicas: 4 → 8"}},
		"rollout_restart": {target: web, step: common.WorkflowStep{Action: "rollout_restart"}},
		"restart_pod": {target: &common.TargetResource{Kind: "Pod", Namespace: f.ns, Name: owned.Name}, step: common.WorkflowStep{Action: "restart_pod"},
			wantMsg: "accepts deleting 1 Pods"},
		"delete_failed_pods": {target: web, step: common.WorkflowStep{Action: "delete_failed_pods"}, wantMsg: "accepts deleting 1 Pods"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.step.Name = "step"
			w := f.finished(t, f.workflowOf(objectName(name), tc.target, tc.step))
			require.Equal(t, workflowv1.PhaseCompleted, w.Status.Phase, w.Status.Message)
			r := w.Status.ValidationResults[0]
			var got []string
			for _, c := range r.Diff {
				got = append(got, c.Path+": "+c.Before+" → "+c.After)
			}
			if name == "rollout_restart" {
				require.Len(t, got, 1)
				assert.Contains(t, got[0], `spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]:  → "`)
				return
			}
			if tc.wantDiffHas != "" {
				assert.Contains(t, strings.Join(got, "\n"), tc.wantDiffHas)
			} else {
				assert.Equal(t, tc.wantDiff, got)
			}
			assert.Contains(t, r.Checks[len(r.Checks)-1].Message, tc.wantMsg)
		})
	}
	// Nothing changed.
	require.NoError(t, f.c.Get(ctx, client.ObjectKeyFromObject(node), node))
	assert.True(t, node.Spec.Unschedulable)
	assert.Equal(t, "example.com/degraded", node.Spec.Taints[0].Key)
	require.NoError(t, f.c.Get(ctx, client.ObjectKeyFromObject(failedPod), &corev1.Pod{}))
}

// An admission rule the catalog knows nothing about refuses the change: the dry-run shows it.
func TestDryRunRejectedByAdmissionPolicy(t *testing.T) {
	f := start(t, nil, true)
	ctx := context.Background()
	d := f.deployment(t, "web", "128Mi", "256Mi")
	name := "memory-cap-" + f.ns
	policy := &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{Operations: []admissionv1.OperationType{admissionv1.Update},
					Rule: admissionv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}}}}}},
			Validations: []admissionv1.Validation{{
				Expression: `object.spec.template.spec.containers.all(c, !has(c.resources.limits) || !('memory' in c.resources.limits) || quantity(c.resources.limits['memory']).compareTo(quantity('1Gi')) <= 0)`,
				Message:    "memory limits above 1Gi need a capacity review",
			}},
		}}
	require.NoError(t, f.c.Create(ctx, policy))
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: name, ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": f.ns}}}}}
	require.NoError(t, f.c.Create(ctx, binding))
	t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), binding)
		_ = env.Client.Delete(context.Background(), policy)
	})
	// The API server loads policies asynchronously: wait until it enforces this one.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		probe := d.DeepCopy()
		probe.Spec.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("2Gi")
		assert.ErrorContains(c, f.c.Patch(ctx, probe, client.MergeFrom(d), client.DryRunAll), "capacity review")
	}, 20*time.Second, 50*time.Millisecond)

	w := f.finished(t, f.workflowOf("capped", deploymentTarget(f.ns, "web"),
		common.WorkflowStep{Name: "mem", Action: "increase_resources", Parameters: map[string]string{"memory": "1Gi", "memoryLimit": "2Gi"}}))
	require.Equal(t, workflowv1.PhaseFailed, w.Status.Phase)
	assert.Equal(t, workflowv1.ReasonDryRunRejected, ready(w).Reason)
	assert.Contains(t, w.Status.Message, "memory limits above 1Gi need a capacity review")
}

// Re-validating an operation whose target was deleted and recreated in between records the live
// UID and says that the object changed identity.
func TestRevalidationRecordsTheLiveUID(t *testing.T) {
	f := start(t, nil, false)
	ctx := context.Background()
	c, err := client.New(env.AsService(t, "workflow", f.ns), client.Options{Scheme: app.NewScheme()})
	require.NoError(t, err)
	v := &workflow.Validator{Reader: c, Writer: c, Executor: f.executor}
	first := f.deployment(t, "web", "", "")
	p, err := workflow.NewPlan(&f.workflowOf("w", deploymentTarget(f.ns, "web"), common.WorkflowStep{Name: "restart", Action: "rollout_restart"}).Spec)
	require.NoError(t, err)
	op := &p.Operations[0]
	res, err := v.Validate(ctx, op)
	require.NoError(t, err)
	require.True(t, res.Valid, res.Message)
	assert.Equal(t, string(first.UID), op.TargetUID)

	require.NoError(t, f.c.Delete(ctx, first))
	second := f.deployment(t, "web", "", "")
	res, err = v.Validate(ctx, op)
	require.NoError(t, err)
	require.True(t, res.Valid, res.Message)
	assert.Equal(t, string(second.UID), op.TargetUID)
	assert.Equal(t, second.ResourceVersion, op.TargetResourceVersion)
	assert.Contains(t, res.Checks[0].Message, "recreated since it was last checked (uid was "+string(first.UID)+")")
}

func TestValidationFailuresAreCounted(t *testing.T) {
	f := start(t, nil, true)
	before := validationFailures(t, workflowv1.ReasonTargetNotFound)
	w := f.finished(t, f.workflowOf("gone", deploymentTarget(f.ns, "gone"), common.WorkflowStep{Name: "restart", Action: "rollout_restart"}))
	require.Equal(t, workflowv1.PhaseFailed, w.Status.Phase)
	assert.Equal(t, before+1, validationFailures(t, workflowv1.ReasonTargetNotFound))
}

// validationFailures reads kubernaut_workflow_validation_failures_total{reason} from the
// controller-runtime registry.
func validationFailures(t *testing.T, reason string) float64 {
	t.Helper()
	return metricvalue.Value(t, "kubernaut_workflow_validation_failures_total", map[string]string{"reason": reason})
}

// An executor allowed to touch only the named Deployment passes: the reviews name the target.
func TestExecutorLimitedToTheTargetByName(t *testing.T) {
	f := start(t, []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, ResourceNames: []string{"web"}, Verbs: []string{"get", "patch"}}}, true)
	f.deployment(t, "web", "128Mi", "256Mi")
	f.deployment(t, "other", "128Mi", "256Mi")
	step := common.WorkflowStep{Name: "mem", Action: "increase_resources", Parameters: map[string]string{"memory": "512Mi"}}
	w := f.finished(t, f.workflowOf("named", deploymentTarget(f.ns, "web"), step))
	assert.Equal(t, workflowv1.PhaseCompleted, w.Status.Phase, w.Status.Message)
	w = f.finished(t, f.workflowOf("other", deploymentTarget(f.ns, "other"), step))
	assert.Equal(t, workflowv1.PhaseFailed, w.Status.Phase)
	assert.Contains(t, w.Status.Message, "may not get apps/deployments other in "+f.ns+", patch apps/deployments other in "+f.ns)
}
