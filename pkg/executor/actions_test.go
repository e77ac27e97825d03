package executor_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	testchain "github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/pkg/executor"
	"github.com/kubernaut/kubernaut/pkg/shared/actions/mutate"
)

// actAsDeploymentController writes the rolled-out status of the Deployment key once changed.
func actAsDeploymentController(t *testing.T, key types.NamespacedName, changed func(*appsv1.Deployment) bool) {
	t.Helper()
	testchain.ActAsDeploymentController(t, env.Client, key, changed)
}

func completed(t *testing.T, got *kev1.KubernetesExecution) {
	t.Helper()
	require.Equal(t, kev1.PhaseCompleted, got.Status.Phase, "%s %+v", got.Status.Message, got.Status.OperationResults)
	for _, res := range got.Status.OperationResults {
		assert.Equal(t, kev1.OperationSucceeded, res.Phase, res.Message)
	}
}

func TestRolloutRestartWaitsForTheRollout(t *testing.T) {
	h := newHarness(t, nil)
	d := h.Deployment("web", 2, nil)
	h.StartExecutor(nil)
	ke := h.execution(false, op("restart", "rollout_restart", deploymentTarget(h.App, "web"), nil))
	actAsDeploymentController(t, key(h.App, "web"), func(d *appsv1.Deployment) bool {
		return d.Spec.Template.Annotations[mutate.RestartedAtAnnotation] != ""
	})
	got := h.Finished(ke)
	completed(t, got)
	h.get(d)
	assert.Equal(t, got.Status.OperationResults[0].StartTime.UTC().Format("2006-01-02T15:04:05Z"), d.Spec.Template.Annotations[mutate.RestartedAtAnnotation])
}

func TestScaleDeploymentReachesReplicas(t *testing.T) {
	h := newHarness(t, nil)
	d := h.Deployment("web", 2, nil)
	h.StartExecutor(nil)
	ke := h.execution(false, op("scale", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "4"}))
	actAsDeploymentController(t, key(h.App, "web"), func(d *appsv1.Deployment) bool { return *d.Spec.Replicas == 4 })
	completed(t, h.Finished(ke))
	h.get(d)
	assert.Equal(t, int32(4), *d.Spec.Replicas)
}

func TestScaleStatefulSet(t *testing.T) {
	h := newHarness(t, map[string]string{executor.KeyPostConditions: "false"})
	labels := map[string]string{"app": "db"}
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: h.App},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](3), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "db:1"}}}}},
	}
	require.NoError(t, h.C.Create(context.Background(), s))
	h.StartExecutor(nil)
	ke := h.execution(false, op("scale", "scale_statefulset",
		common.TargetResource{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: h.App, Name: "db"}, map[string]string{"replicas": "1"}))
	completed(t, h.Finished(ke))
	h.get(s)
	assert.Equal(t, int32(1), *s.Spec.Replicas)
}

// rollback_deployment puts the previous revision's template back; the post-condition waits for
// the rollout.
func TestRollbackDeploymentRestoresThePreviousTemplate(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	d := h.Deployment("web", 1, func(d *appsv1.Deployment) {
		d.Annotations = map[string]string{mutate.RevisionAnnotation: "2"}
		d.Spec.Template.Spec.Containers[0].Image = "registry.example/app:2"
	})
	for rev, image := range map[string]string{"1": "registry.example/app:1", "2": "registry.example/app:2"} {
		tpl := d.Spec.Template.DeepCopy()
		tpl.Spec.Containers[0].Image = image
		tpl.Labels = map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: "h" + rev}
		rs := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web-" + rev, Namespace: h.App, Labels: tpl.Labels, Annotations: map[string]string{mutate.RevisionAnnotation: rev},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: d.UID, Controller: ptr.To(true)}}},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: tpl.Labels}, Template: *tpl},
		}
		require.NoError(t, h.C.Create(ctx, rs))
	}
	h.StartExecutor(nil)
	ke := h.execution(false, op("undo", "rollback_deployment", deploymentTarget(h.App, "web"), nil))
	actAsDeploymentController(t, key(h.App, "web"), func(d *appsv1.Deployment) bool {
		return d.Spec.Template.Spec.Containers[0].Image == "registry.example/app:1"
	})
	got := h.Finished(ke)
	completed(t, got)
	assert.Contains(t, got.Status.OperationResults[0].Message, "roll back from revision 2 to revision 1")
	h.get(d)
	assert.Equal(t, "registry.example/app:1", d.Spec.Template.Spec.Containers[0].Image)
	assert.NotContains(t, d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
}

func TestRestartPodDeletesIt(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	pod := h.pod("web-1", "", true, nil)
	lone := h.pod("lone", "", false, nil)
	h.StartExecutor(nil)
	ke := h.execution(false, op("restart", "restart_pod", podTarget(h.App, "web-1"), map[string]string{"gracePeriodSeconds": "0"}))
	got := h.Finished(ke)
	completed(t, got)
	assert.Equal(t, string(pod.UID), got.Status.OperationResults[0].TargetUID)
	assert.True(t, apierrors.IsNotFound(h.C.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{})))

	// A pod without a controller would not come back: refused.
	ke = h.execution(false, op("restart", "restart_pod", podTarget(h.App, "lone"), nil))
	got = h.Finished(ke)
	assert.Equal(t, kev1.ReasonBlastRadius, got.Status.OperationResults[0].Reason)
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(lone), &corev1.Pod{}))
}

func TestDeleteFailedPodsKeepsTheOthers(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	failed1 := h.pod("failed-1", "", true, func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed })
	failed2 := h.pod("failed-2", "", true, func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed })
	running := h.pod("running", "", true, func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning })
	protected := h.pod("protected", "", true, func(p *corev1.Pod) {
		p.Labels[kev1.LabelProtected] = "true"
		p.Status.Phase = corev1.PodFailed
	})
	h.StartExecutor(nil)
	ke := h.execution(false, op("clean", "delete_failed_pods", common.TargetResource{APIVersion: "v1", Kind: "Namespace", Name: h.App}, nil))
	completed(t, h.Finished(ke))
	for _, p := range []*corev1.Pod{failed1, failed2} {
		err := h.C.Get(ctx, client.ObjectKeyFromObject(p), &corev1.Pod{})
		assert.True(t, apierrors.IsNotFound(err), "%s: %v", p.Name, err)
	}
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(running), &corev1.Pod{}))
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(protected), &corev1.Pod{}))
}

func TestIncreaseResourcesOnStatefulSetAndDaemonSet(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, map[string]string{executor.KeyPostConditions: "false"})
	labels := map[string]string{"app": "db"}
	tpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "db:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}}}}}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: h.App},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tpl}}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: h.App},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tpl}}
	require.NoError(t, h.C.Create(ctx, sts))
	require.NoError(t, h.C.Create(ctx, ds))
	h.StartExecutor(nil)
	ke := h.execution(false,
		op("sts", "increase_resources", common.TargetResource{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: h.App, Name: "db"}, map[string]string{"cpu": "500m"}),
		op("ds", "increase_resources", common.TargetResource{APIVersion: "apps/v1", Kind: "DaemonSet", Namespace: h.App, Name: "agent"}, map[string]string{"cpu": "1", "cpuLimit": "1"}))
	completed(t, h.Finished(ke))
	h.get(sts)
	h.get(ds)
	assert.Equal(t, "500m", ptr.To(sts.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]).String())
	assert.Equal(t, "1", ptr.To(ds.Spec.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU]).String())
}

func TestDrainRefusesProtectedPods(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	n := h.node(h.App+"-n1", true, false)
	h.node(h.App+"-n2", true, false)
	h.node(h.App+"-n3", true, false)
	p := h.pod("keep", n.Name, true, func(p *corev1.Pod) { p.Labels[kev1.LabelProtected] = "true" })
	h.StartExecutor(nil)
	got := h.Finished(h.execution(false, op("drain", "drain_node", nodeTarget(n.Name), nil)))
	assert.Equal(t, kev1.ReasonProtected, got.Status.OperationResults[0].Reason)
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(p), &corev1.Pod{}))
	h.get(n)
	assert.False(t, n.Spec.Unschedulable)
}

func TestUpdateHPA(t *testing.T) {
	h := newHarness(t, nil)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 5,
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}},
	}
	require.NoError(t, h.C.Create(context.Background(), hpa))
	h.StartExecutor(nil)
	ke := h.execution(false, op("bounds", "update_hpa",
		common.TargetResource{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Namespace: h.App, Name: "web"},
		map[string]string{"minReplicas": "2", "maxReplicas": "10"}))
	completed(t, h.Finished(ke))
	h.get(hpa)
	assert.Equal(t, int32(2), *hpa.Spec.MinReplicas)
	assert.Equal(t, int32(10), hpa.Spec.MaxReplicas)
}

func TestExpandPVC(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: h.App + "-expandable"}, Provisioner: "example.com/csi", AllowVolumeExpansion: ptr.To(true)}
	require.NoError(t, h.C.Create(ctx, sc))
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), sc) })
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: h.App},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: &sc.Name, VolumeName: "pv-data",
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
	}
	require.NoError(t, h.C.Create(ctx, pvc))
	pvc.Status.Phase = corev1.ClaimBound // only a bound claim can grow
	require.NoError(t, h.C.Status().Update(ctx, pvc))
	h.StartExecutor(nil)
	ke := h.execution(false, op("grow", "expand_pvc",
		common.TargetResource{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: h.App, Name: "data"}, map[string]string{"size": "2Gi"}))
	completed(t, h.Finished(ke))
	h.get(pvc)
	q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	assert.Equal(t, "2Gi", q.String())
}

// --- nodes ---

// node creates a node for one test (deleted when it ends).
func (h *harness) node(name string, managed, unschedulable bool) *corev1.Node {
	h.T.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Unschedulable: unschedulable}}
	if managed {
		n.Labels = map[string]string{kev1.LabelManaged: "true"}
	}
	require.NoError(h.T, h.C.Create(context.Background(), n))
	h.T.Cleanup(func() { require.NoError(h.T, client.IgnoreNotFound(env.Client.Delete(context.Background(), n))) })
	// The node lifecycle controller removes the not-ready taint the API server puts on new nodes.
	n.Spec.Taints = nil
	require.NoError(h.T, h.C.Update(context.Background(), n))
	return n
}

func nodeTarget(name string) common.TargetResource {
	return common.TargetResource{APIVersion: "v1", Kind: "Node", Name: name}
}

func podTarget(ns, name string) common.TargetResource {
	return common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name}
}

// pod creates a pod in the target namespace, on node (when not empty), owned by a ReplicaSet
// when controlled.
func (h *harness) pod(name, node string, controlled bool, mutate func(*corev1.Pod)) *corev1.Pod {
	h.T.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.App, Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
	}
	if controlled {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1", UID: "00000000-0000-0000-0000-00000000000a", Controller: ptr.To(true)}}
	}
	var status corev1.PodStatus
	if mutate != nil {
		mutate(p)
		status = p.Status
	}
	require.NoError(h.T, h.C.Create(context.Background(), p))
	if status.Phase != "" {
		p.Status = status
		require.NoError(h.T, h.C.Status().Update(context.Background(), p))
	}
	return p
}

// Nodes are cluster-wide: each test deletes its nodes when it ends, so the share of
// unschedulable nodes is computed over the test's own.
func TestNodeActions(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, map[string]string{executor.KeyCooldown: "0s"}) // one node, four changes in a row
	prefix := h.App
	n1 := h.node(prefix+"-n1", true, false)
	h.node(prefix+"-n2", true, false)
	h.node(prefix+"-n3", true, false)
	h.StartExecutor(nil)

	ke := h.execution(false, op("cordon", "cordon_node", nodeTarget(n1.Name), nil))
	completed(t, h.Finished(ke))
	h.get(n1)
	assert.True(t, n1.Spec.Unschedulable)

	ke = h.execution(false, op("uncordon", "uncordon_node", nodeTarget(n1.Name), nil))
	completed(t, h.Finished(ke))
	h.get(n1)
	assert.False(t, n1.Spec.Unschedulable)

	ke = h.execution(false, op("taint", "taint_node", nodeTarget(n1.Name), map[string]string{"key": "example.com/degraded", "value": "disk", "effect": "PreferNoSchedule"}))
	completed(t, h.Finished(ke))
	h.get(n1)
	assert.Equal(t, []corev1.Taint{{Key: "example.com/degraded", Value: "disk", Effect: corev1.TaintEffectPreferNoSchedule}}, n1.Spec.Taints)

	ke = h.execution(false, op("untaint", "untaint_node", nodeTarget(n1.Name), map[string]string{"key": "example.com/degraded"}))
	completed(t, h.Finished(ke))
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(n1), n1))
	assert.Empty(t, n1.Spec.Taints)
}

func TestNodeRefusals(t *testing.T) {
	tests := map[string]struct {
		safety map[string]string
		nodes  func(h *harness) string // returns the target
		reason string
	}{
		"node not managed": {
			nodes: func(h *harness) string {
				h.node(h.App+"-a", true, false)
				h.node(h.App+"-b", true, false)
				h.node(h.App+"-c", true, false)
				return h.node(h.App+"-x", false, false).Name
			},
			reason: kev1.ReasonNodeNotManaged,
		},
		"too large a share unschedulable": {
			nodes: func(h *harness) string {
				h.node(h.App+"-a", true, true)
				h.node(h.App+"-b", true, false)
				return h.node(h.App+"-c", true, false).Name
			},
			reason: kev1.ReasonNodeShare,
		},
		"last schedulable node": {
			safety: map[string]string{executor.KeyMaxUnschedulableShare: "1"},
			nodes: func(h *harness) string {
				h.node(h.App+"-a", true, true)
				return h.node(h.App+"-b", true, false).Name
			},
			reason: kev1.ReasonNodeShare,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, tc.safety)
			target := tc.nodes(h)
			before := h.get(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: target}}).(*corev1.Node)
			h.StartExecutor(nil)
			got := h.Finished(h.execution(false, op("cordon", "cordon_node", nodeTarget(target), nil)))
			assert.Equal(t, kev1.PhaseFailed, got.Status.Phase)
			assert.Equal(t, tc.reason, got.Status.OperationResults[0].Reason, got.Status.OperationResults[0].Message)
			after := h.get(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: target}}).(*corev1.Node)
			assert.Equal(t, before.ResourceVersion, after.ResourceVersion)
		})
	}
}

func TestDrainNodeEvictsAndSkipsDaemonSetAndMirrorPods(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	n := h.node(h.App+"-n1", true, false)
	h.node(h.App+"-n2", true, false)
	h.node(h.App+"-n3", true, false)
	a := h.pod("a", n.Name, true, nil)
	b := h.pod("b", n.Name, true, nil)
	ds := h.pod("ds", n.Name, true, func(p *corev1.Pod) {
		p.OwnerReferences[0].Kind, p.OwnerReferences[0].Name = "DaemonSet", "agent"
	})
	mirror := h.pod("static", n.Name, false, func(p *corev1.Pod) {
		p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID, Controller: ptr.To(true)}}
	})
	other := h.pod("elsewhere", h.App+"-n2", true, nil)
	h.StartExecutor(nil)
	ke := h.execution(false, op("drain", "drain_node", nodeTarget(n.Name), map[string]string{"gracePeriodSeconds": "0"}))
	completed(t, h.Finished(ke))
	h.get(n)
	assert.True(t, n.Spec.Unschedulable)
	for _, p := range []*corev1.Pod{a, b} {
		assert.True(t, apierrors.IsNotFound(h.C.Get(ctx, client.ObjectKeyFromObject(p), &corev1.Pod{})), p.Name)
	}
	for _, p := range []*corev1.Pod{ds, mirror, other} {
		assert.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(p), &corev1.Pod{}), p.Name)
	}
}

// A PodDisruptionBudget that allows no disruption blocks the eviction: the drain gives up at
// its timeout, names the pod it could not evict, and the cordon is rolled back.
func TestPodDisruptionBudgetBlocksDrain(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	n := h.node(h.App+"-n1", true, false)
	h.node(h.App+"-n2", true, false)
	h.node(h.App+"-n3", true, false)
	guarded := h.pod("guarded", n.Name, true, func(p *corev1.Pod) {
		// Budgets protect running pods; a pending one may always be evicted.
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	})
	free := h.pod("free", n.Name, true, func(p *corev1.Pod) { p.Labels = map[string]string{"app": "free"} })
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
	require.NoError(t, h.C.Create(ctx, pdb))
	h.StartExecutor(nil)
	ke := h.execution(false, op("drain", "drain_node", nodeTarget(n.Name), map[string]string{"gracePeriodSeconds": "0", "timeout": "2s"}))
	got := h.Finished(ke)
	require.Equal(t, kev1.PhaseRolledBack, got.Status.Phase, got.Status.Message)
	res := got.Status.OperationResults[0]
	assert.Equal(t, kev1.ReasonDrainIncomplete, res.Reason)
	assert.Contains(t, res.Message, h.App+"/guarded")
	assert.Contains(t, res.Message, "PodDisruptionBudget")
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(guarded), &corev1.Pod{}), "the guarded pod was evicted")
	assert.True(t, apierrors.IsNotFound(h.C.Get(ctx, client.ObjectKeyFromObject(free), &corev1.Pod{})), "the free pod was not evicted")
	h.get(n)
	assert.False(t, n.Spec.Unschedulable, "the cordon was not rolled back")
}

// Refusals specific to actions; each leaves its target unchanged.
func TestActionRefusals(t *testing.T) {
	ctx := context.Background()
	tests := map[string]struct {
		safety map[string]string
		// setup creates the target and returns the operation and the target object.
		setup  func(h *harness) (common.Operation, client.Object)
		reason string
	}{
		"expand_pvc without volume expansion": {
			setup: func(h *harness) (common.Operation, client.Object) {
				sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: h.App + "-fixed"}, Provisioner: "example.com/csi"}
				require.NoError(t, h.C.Create(ctx, sc))
				t.Cleanup(func() { _ = env.Client.Delete(context.Background(), sc) })
				pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: h.App},
					Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, StorageClassName: &sc.Name,
						Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
				require.NoError(t, h.C.Create(ctx, pvc))
				return op("grow", "expand_pvc", common.TargetResource{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: h.App, Name: "data"},
					map[string]string{"size": "2Gi"}), pvc
			},
			reason: kev1.ReasonInvalidParameters,
		},
		"update_hpa beyond the replica limit": {
			setup: func(h *harness) (common.Operation, client.Object) {
				hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App},
					Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 10,
						ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}}}
				require.NoError(t, h.C.Create(ctx, hpa))
				return op("bounds", "update_hpa", common.TargetResource{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Namespace: h.App, Name: "web"},
					map[string]string{"maxReplicas": "25"}), hpa
			},
			reason: kev1.ReasonBlastRadius,
		},
		"drain evicting too many pods": {
			safety: map[string]string{executor.KeyMaxDrainPods: "1"},
			setup: func(h *harness) (common.Operation, client.Object) {
				n := h.node(h.App+"-n1", true, false)
				h.node(h.App+"-n2", true, false)
				h.node(h.App+"-n3", true, false)
				h.pod("a", n.Name, true, nil)
				h.pod("b", n.Name, true, nil)
				return op("drain", "drain_node", nodeTarget(n.Name), nil), n
			},
			reason: kev1.ReasonBlastRadius,
		},
		"NoSchedule taint on too large a share": {
			setup: func(h *harness) (common.Operation, client.Object) {
				n := h.node(h.App+"-n1", true, false)
				h.node(h.App+"-n2", true, false)
				return op("taint", "taint_node", nodeTarget(n.Name), map[string]string{"key": "example.com/bad", "effect": "NoSchedule"}), n
			},
			reason: kev1.ReasonNodeShare,
		},
		"untaint a taint that is not there": {
			setup: func(h *harness) (common.Operation, client.Object) {
				n := h.node(h.App+"-n1", true, false)
				return op("untaint", "untaint_node", nodeTarget(n.Name), map[string]string{"key": "example.com/absent"}), n
			},
			reason: kev1.ReasonInvalidParameters,
		},
		"rollback without an earlier revision": {
			setup: func(h *harness) (common.Operation, client.Object) {
				d := h.Deployment("web", 1, func(d *appsv1.Deployment) { d.Annotations = map[string]string{mutate.RevisionAnnotation: "1"} })
				return op("undo", "rollback_deployment", deploymentTarget(h.App, "web"), nil), d
			},
			reason: kev1.ReasonInvalidParameters,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, tc.safety)
			o, obj := tc.setup(h)
			h.get(obj)
			before := obj.GetResourceVersion()
			h.StartExecutor(nil)
			got := h.Finished(h.execution(false, o))
			assert.Equal(t, kev1.PhaseFailed, got.Status.Phase)
			assert.Equal(t, tc.reason, got.Status.OperationResults[0].Reason, got.Status.OperationResults[0].Message)
			h.get(obj)
			assert.Equal(t, before, obj.GetResourceVersion(), "the target was written")
		})
	}
}

// Deleting actions cannot annotate their target (it is gone, or not written): their cooldown is
// kept in the execution's result (cooldownKey) and counted against the pod's controller, or
// the Deployment or Namespace whose failed pods were deleted.
func TestDeletingActionsKeepACooldown(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil) // the default cooldown, 5m
	first := h.pod("web-a", "", true, nil)
	second := h.pod("web-b", "", true, nil) // same ReplicaSet
	h.StartExecutor(nil)

	got := h.Finished(h.execution(false, op("restart", "restart_pod", podTarget(h.App, first.Name), map[string]string{"gracePeriodSeconds": "0"})))
	completed(t, got)
	assert.Equal(t, "ReplicaSet/"+h.App+"/web-1", got.Status.OperationResults[0].CooldownKey)
	counted := refusals(t, kev1.ReasonCooldown)
	got = h.Finished(h.execution(false, op("restart", "restart_pod", podTarget(h.App, second.Name), map[string]string{"gracePeriodSeconds": "0"})))
	assert.Equal(t, kev1.PhaseFailed, got.Status.Phase)
	res := got.Status.OperationResults[0]
	assert.Equal(t, kev1.ReasonCooldown, res.Reason, res.Message)
	assert.Contains(t, res.Message, "ReplicaSet/"+h.App+"/web-1 was changed by Kubernaut")
	assert.Nil(t, res.AppliedTime)
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(second), &corev1.Pod{}), "the second pod was deleted")
	assert.Equal(t, counted+1, refusals(t, kev1.ReasonCooldown))

	ns := common.TargetResource{APIVersion: "v1", Kind: "Namespace", Name: h.App}
	h.pod("failed-1", "", true, func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed })
	completed(t, h.Finished(h.execution(false, op("clean", "delete_failed_pods", ns, nil))))
	again := h.pod("failed-2", "", true, func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed })
	got = h.Finished(h.execution(false, op("clean", "delete_failed_pods", ns, nil)))
	assert.Equal(t, kev1.ReasonCooldown, got.Status.OperationResults[0].Reason, got.Status.OperationResults[0].Message)
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(again), &corev1.Pod{}), "the failed pod was deleted within the cooldown")
}
