package processing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// ksmInstance is the address a Prometheus scrape of kube-state-metrics puts in `instance`.
const ksmInstance = "10.244.0.12:8080"

// alert makes the RemediationProcessing carry an alert as the gateway forwards it.
func alert(name, severity string, labels map[string]string) func(*processingv1.RemediationProcessing) {
	return func(rp *processingv1.RemediationProcessing) {
		rp.Spec.Alert.SignalName, rp.Spec.Alert.Severity, rp.Spec.Alert.Labels = name, severity, labels
	}
}

// allowedTargets is what the investigator may name as targets from the enriched signal.
func allowedTargets(rp *processingv1.RemediationProcessing) []string {
	es := rp.Status.EnrichedSignal
	sig := aiv1.SignalContext{Namespace: es.Namespace, ResourceKind: es.ResourceKind, ResourceName: es.ResourceName, KubernetesContext: es.KubernetesContext}
	var out []string
	for _, t := range investigator.AllowedTargets(sig).List() {
		out = append(out, t.APIVersion+" "+investigator.TargetString(&t))
	}
	return out
}

// accepts reports whether a catalog action takes target's kind.
func accepts(t *testing.T, action actions.Name, apiVersion, kind string) bool {
	a, ok := actions.Lookup(string(action))
	require.True(t, ok, "%s is in the catalog", action)
	return a.AcceptsKind(apiVersion, kind)
}

// KubeHpaMaxedOut names the HPA: the context holds the HPA and, as if it were the target, the
// workload it scales (its pods and rollout), with the owner chain HPA → Deployment. update_hpa
// takes the HPA, the workload's actions the Deployment: the investigator may name both.
func testHPATarget(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, nil)
	node := h.node(ns+"-node", nil)
	const image = "registry.example/shop/web:2.1"
	d := h.deployment(ns, "web", image, 4)
	setStatus(h, d, func(d *appsv1.Deployment) {
		d.Status.Replicas, d.Status.ReadyReplicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 4, 4, 4, 4
	})
	rs := h.replicaSet(d, 3, image, 4, 4, time.Now())
	for i := range 4 {
		h.pod(ns, rs, "apps/v1", "ReplicaSet", fmt.Sprintf("web-r3-%d", i), node.Name, image, running(image))
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-autoscaler"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name},
			MinReplicas:    ptr.To[int32](2), MaxReplicas: 4,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](70)}}}},
		},
	}
	h.create(hpa)
	setStatus(h, hpa, func(hpa *autoscalingv2.HorizontalPodAutoscaler) {
		hpa.Status.CurrentReplicas, hpa.Status.DesiredReplicas = 4, 4
		hpa.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
			Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr.To[int32](130)}}}}
		hpa.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScalingLimited, Status: corev1.ConditionTrue,
			Reason: "TooManyReplicas", Message: "the desired replica count is more than the maximum replica count", LastTransitionTime: metav1.Now()}}
	})
	// An HPA whose Deployment is gone: the HPA is still there, so the target is found.
	orphan := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "old-autoscaler"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "old"},
			MaxReplicas: 3}}
	h.create(orphan)

	maxedOut := func(name string) func(*processingv1.RemediationProcessing) {
		// KubeHpaMaxedOut as Alertmanager delivers it (kube_horizontalpodautoscaler_* metrics).
		return alert("KubeHpaMaxedOut", "warning", map[string]string{"alertname": "KubeHpaMaxedOut", "horizontalpodautoscaler": name,
			"instance": ksmInstance, "job": "kube-state-metrics", "namespace": ns, "severity": "warning"})
	}
	hpaTarget := func(name string) common.TargetResource {
		return common.TargetResource{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Namespace: ns, Name: name}
	}

	rp := h.process(hpaTarget("web-autoscaler"), maxedOut("web-autoscaler"))
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	assert.Equal(t, processingv1.ReasonEnriched, ready(t, rp).Reason)
	es := rp.Status.EnrichedSignal
	assert.Equal(t, "HorizontalPodAutoscaler", es.ResourceKind)
	t.Logf("context of the HPA target: %d bytes", es.ContextBytes)
	kc := es.KubernetesContext
	assert.False(t, kc.TargetNotFound)
	require.NotNil(t, kc.HPA)
	assert.Equal(t, "web-autoscaler", kc.HPA.Name)
	assert.True(t, kc.HPA.AtMaximum)
	assert.True(t, kc.HPA.ScalingLimited)
	assert.Equal(t, []string{"cpu: 130% of requests (target 70%)"}, kc.HPA.CurrentMetrics)
	assert.Equal(t, []common.TargetResource{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "web"}}, kc.OwnerChain)
	require.NotNil(t, kc.Workload)
	assert.Equal(t, "Deployment", kc.Workload.Kind)
	assert.Equal(t, "web", kc.Workload.Name)
	assert.EqualValues(t, 4, *kc.Workload.Replicas)
	require.NotNil(t, kc.Rollout)
	assert.EqualValues(t, 3, kc.Rollout.Current.Revision)
	require.Len(t, kc.Pods, 4)
	for _, p := range kc.Pods {
		assert.Equal(t, "ReplicaSet/"+rs.Name, p.Owner)
	}
	require.Len(t, kc.Nodes, 1)
	assert.Equal(t, node.Name, kc.Nodes[0].Name)

	assert.True(t, accepts(t, actions.UpdateHPA, "autoscaling/v2", "HorizontalPodAutoscaler"), "update_hpa acts on the HPA")
	assert.False(t, accepts(t, actions.UpdateHPA, "apps/v1", "Deployment"))
	allowed := allowedTargets(rp)
	assert.Contains(t, allowed, "autoscaling/v2 HorizontalPodAutoscaler/"+ns+"/web-autoscaler")
	assert.Contains(t, allowed, "apps/v1 Deployment/"+ns+"/web")

	assert.Nil(t, kc.HPA.Controller)

	t.Run("KEDA's HPA: its ScaledObject controls it", func(t *testing.T) {
		keda := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "keda-hpa-web",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Name: "web",
				UID: "0c6a7e58-2f0b-4f4e-8a55-3f1d2b9c7e11", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 4,
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name}}}
		h.create(keda)
		rp := h.process(hpaTarget("keda-hpa-web"), maxedOut("keda-hpa-web"))
		require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
		kc := rp.Status.EnrichedSignal.KubernetesContext
		require.NotNil(t, kc.HPA)
		assert.Equal(t, &common.TargetResource{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Namespace: ns, Name: "web"}, kc.HPA.Controller)
	})

	t.Run("its scale target is gone", func(t *testing.T) {
		rp := h.process(hpaTarget("old-autoscaler"), maxedOut("old-autoscaler"))
		require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
		kc := rp.Status.EnrichedSignal.KubernetesContext
		assert.False(t, kc.TargetNotFound, "the HPA itself exists")
		require.NotNil(t, kc.HPA)
		assert.Equal(t, "old-autoscaler", kc.HPA.Name)
		assert.Equal(t, []common.TargetResource{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "old"}}, kc.OwnerChain)
		assert.Nil(t, kc.Workload)
		assert.Empty(t, kc.Pods)
	})
}

func storageClass(h *harness, name string, expandable *bool) {
	h.t.Helper()
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: "csi.example.com", AllowVolumeExpansion: expandable}
	h.create(sc)
	h.t.Cleanup(func() { _ = h.c.Delete(context.Background(), sc) })
}

// claimPod creates a pod that mounts claims, owned by owner (nil for none), and writes its status.
func (h *harness) claimPod(ns string, owner metav1.OwnerReference, name, node string, status func(*corev1.Pod), claims ...string) {
	h.t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{container("app", "postgres:16")}}}
	if owner.Name != "" {
		p.OwnerReferences = []metav1.OwnerReference{owner}
	}
	for i, c := range claims {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: fmt.Sprintf("vol-%d", i),
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
	}
	h.create(p)
	setStatus(h, p, status)
}

// A PersistentVolumeClaim target (KubePersistentVolumeFillingUp names the claim): its requested
// and actual size, resize state, class and whether the class lets it grow (what expand_pvc
// needs), and the pods that mount it with their workloads.
func testPVCTarget(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, nil)
	node := h.node(ns+"-node", nil)
	storageClass(h, ns+"-expandable", ptr.To(true))
	storageClass(h, ns+"-fixed", nil)

	claim := func(name, class, request string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
		c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To(class), AccessModes: modes,
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(request)}}}}
		h.create(c)
		return c
	}
	data := claim("data-db-0", ns+"-expandable", "20Gi", corev1.ReadWriteMany)
	setStatus(h, data, func(c *corev1.PersistentVolumeClaim) { // a resize to 20Gi waits for the node to grow the file system
		c.Status.Phase, c.Status.AccessModes = corev1.ClaimBound, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		c.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}
		c.Status.AllocatedResources = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("20Gi")}
		c.Status.AllocatedResourceStatuses = map[corev1.ResourceName]corev1.ClaimResourceStatus{corev1.ResourceStorage: corev1.PersistentVolumeClaimNodeResizePending}
		c.Status.Conditions = []corev1.PersistentVolumeClaimCondition{{Type: corev1.PersistentVolumeClaimFileSystemResizePending, Status: corev1.ConditionTrue,
			Message: "Waiting for user to (re-)start a pod to finish file system resize of volume on node.", LastTransitionTime: metav1.Now()}}
	})
	bound := func(request string) func(*corev1.PersistentVolumeClaim) {
		return func(c *corev1.PersistentVolumeClaim) {
			c.Status.Phase, c.Status.AccessModes = corev1.ClaimBound, c.Spec.AccessModes
			c.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(request)}
		}
	}
	setStatus(h, claim("data-db-1", ns+"-expandable", "10Gi", corev1.ReadWriteOnce), bound("10Gi"))
	setStatus(h, claim("logs", ns+"-fixed", "5Gi", corev1.ReadWriteOnce), bound("5Gi"))
	setStatus(h, claim("scratch", ns+"-gone", "1Gi", corev1.ReadWriteOnce), bound("1Gi"))
	setStatus(h, claim("static", "", "1Gi", corev1.ReadWriteOnce), bound("1Gi"))

	sts := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", UID: "00000000-0000-0000-0000-000000000001", Controller: ptr.To(true)}
	h.claimPod(ns, sts, "db-0", node.Name, running("postgres:16"), "data-db-0")
	h.claimPod(ns, sts, "db-1", node.Name, running("postgres:16"), "data-db-1")
	reporter := h.deployment(ns, "reporter", "postgres:16", 1)
	rs := h.replicaSet(reporter, 1, "postgres:16", 1, 0, time.Now())
	h.claimPod(ns, metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)},
		"reporter-r1-a", node.Name, crashLooping("postgres:16"), "data-db-0")
	h.claimPod(ns, metav1.OwnerReference{}, "backup", node.Name, running("postgres:16"), "data-db-0", "logs")
	h.event(ns, "PersistentVolumeClaim", "data-db-0", "VolumeResizeFailed", "resize volume \"data-db-0\" by resizer \"csi.example.com\" failed: timed out", 2, time.Now())

	// KubePersistentVolumeFillingUp as Alertmanager delivers it (kubelet_volume_stats_* metrics).
	fillingUp := func(claim string) func(*processingv1.RemediationProcessing) {
		return alert("KubePersistentVolumeFillingUp", "critical", map[string]string{"alertname": "KubePersistentVolumeFillingUp", "instance": "172.18.0.2:10250",
			"job": "kubelet", "namespace": ns, "persistentvolumeclaim": claim, "severity": "critical"})
	}
	tests := map[string]struct {
		claim      string
		want       common.PVCSummary
		pods       []string
		ownerChain []common.TargetResource
	}{
		"expandable class, resize waiting for the node, mounted by three pods": {claim: "data-db-0",
			want: common.PVCSummary{Name: "data-db-0", Phase: "Bound", Requested: "20Gi", Capacity: "10Gi", Allocated: "20Gi", ResizeStatus: "NodeResizePending",
				StorageClassName: ns + "-expandable", AllowVolumeExpansion: ptr.To(true), AccessModes: []string{"ReadWriteMany"}, VolumeMode: "Filesystem",
				MountedBy: []common.PVCMount{{Pod: "reporter-r1-a", Workload: "Deployment/reporter"}, {Pod: "backup"}, {Pod: "db-0", Workload: "StatefulSet/db"}}},
			pods: []string{"reporter-r1-a", "backup", "db-0"}},
		"class without expansion": {claim: "logs",
			want: common.PVCSummary{Name: "logs", Phase: "Bound", Requested: "5Gi", Capacity: "5Gi", StorageClassName: ns + "-fixed",
				AllowVolumeExpansion: ptr.To(false), AccessModes: []string{"ReadWriteOnce"}, VolumeMode: "Filesystem", MountedBy: []common.PVCMount{{Pod: "backup"}}},
			pods: []string{"backup"}},
		"class that does not exist": {claim: "scratch",
			want: common.PVCSummary{Name: "scratch", Phase: "Bound", Requested: "1Gi", Capacity: "1Gi", StorageClassName: ns + "-gone",
				AccessModes: []string{"ReadWriteOnce"}, VolumeMode: "Filesystem"}},
		"no class": {claim: "static",
			want: common.PVCSummary{Name: "static", Phase: "Bound", Requested: "1Gi", Capacity: "1Gi", AccessModes: []string{"ReadWriteOnce"}, VolumeMode: "Filesystem"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rp := h.process(common.TargetResource{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: ns, Name: tc.claim}, fillingUp(tc.claim))
			require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
			assert.Equal(t, processingv1.ReasonEnriched, ready(t, rp).Reason)
			kc := rp.Status.EnrichedSignal.KubernetesContext
			assert.False(t, kc.TargetNotFound)
			require.NotNil(t, kc.PVC)
			got := *kc.PVC
			var conditions []common.ConditionSummary
			conditions, got.Conditions = got.Conditions, nil
			assert.Equal(t, tc.want, got)
			var pods []string
			for _, p := range kc.Pods {
				pods = append(pods, p.Name)
			}
			assert.Equal(t, tc.pods, pods, "the pods that mount it, failing first")
			assert.Equal(t, tc.ownerChain, kc.OwnerChain)
			if tc.claim != "data-db-0" {
				return
			}
			t.Logf("context of the PVC target: %d bytes", rp.Status.EnrichedSignal.ContextBytes)
			require.Len(t, conditions, 1)
			assert.Equal(t, "FileSystemResizePending", conditions[0].Type)
			assert.Equal(t, "True", conditions[0].Status)
			assert.NotNil(t, eventGroup(kc, "VolumeResizeFailed", "PersistentVolumeClaim/data-db-0"))
			require.Len(t, kc.Nodes, 1, "the nodes of the pods that mount it")
			assert.True(t, accepts(t, actions.ExpandPVC, "v1", "PersistentVolumeClaim"), "expand_pvc acts on the claim")
			assert.Contains(t, allowedTargets(rp), "v1 PersistentVolumeClaim/"+ns+"/data-db-0")
		})
	}
}

// two containers, proxy and app, and their statuses.
func twoContainers(image string, proxy, app corev1.ContainerStatus) (func(*corev1.Pod), []corev1.Container) {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.ContainerStatuses = []corev1.ContainerStatus{proxy, app}
	}, []corev1.Container{container("proxy", "envoy:1.30"), container("app", image)}
}

// The alert's container (its `container` label) comes first in every pod, the alert's pod
// (its `pod` label) first among the pods, and trimming to the bound never cuts that container,
// healthy or not, even when the workload's other container fails louder.
func testAlertsContainerKept(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, nil)
	const image = "registry.example/shop/cart:3.2"
	labels := map[string]string{"app": "cart"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cart"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](6), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{container("proxy", "envoy:1.30"), container("app", image)}}}}}
	h.create(d)
	rs := h.replicaSet(d, 1, image, 6, 0, time.Now())
	now := metav1.Now()
	crashing := func(name string, restarts int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, RestartCount: restarts, Image: "x", ImageID: "sha256:1",
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s restarting failed container"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: now}}}
	}
	fine := func(name string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, Ready: true, Image: "x", ImageID: "sha256:1", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}
	}
	for i := range 6 {
		proxy, app := crashing("proxy", 40), fine("app")
		if i == 4 {
			proxy, app = fine("proxy"), crashing("app", 3)
		}
		status, containers := twoContainers(image, proxy, app)
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("cart-r1-%d", i), Labels: labels,
			OwnerReferences: controllerRef(rs, "apps/v1", "ReplicaSet")}, Spec: corev1.PodSpec{Containers: containers}}
		h.create(p)
		setStatus(h, p, status)
	}
	base := time.Now().Add(-time.Hour)
	for i := range 30 {
		h.event(ns, "Pod", fmt.Sprintf("cart-r1-%d", i%6), fmt.Sprintf("Reason%02d", i), strings.Repeat("back-off restarting failed container proxy ", 10), 1, base.Add(time.Duration(i)*time.Minute))
	}

	// KubePodCrashLooping about container app of pod cart-r1-4, as Alertmanager delivers it; the
	// gateway resolved the pod to its Deployment.
	rp := h.process(deployTarget(ns, "cart"), alert("KubePodCrashLooping", "warning", map[string]string{"alertname": "KubePodCrashLooping",
		"container": "app", "instance": ksmInstance, "job": "kube-state-metrics", "namespace": ns, "pod": "cart-r1-4", "reason": "CrashLoopBackOff",
		"severity": "warning", "uid": "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b"}))
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	es := rp.Status.EnrichedSignal
	kc := es.KubernetesContext
	raw, err := json.Marshal(kc)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(raw), 8192)
	require.NotEmpty(t, kc.Truncated, "the context was trimmed")
	require.NotEmpty(t, kc.Pods)
	assert.Equal(t, "cart-r1-4", kc.Pods[0].Name, "the alert's pod first")
	first := kc.Pods[0].Containers[0]
	assert.Equal(t, "app", first.Name)
	assert.Equal(t, "CrashLoopBackOff", first.Reason)
	assert.EqualValues(t, 3, first.RestartCount)
	assert.Equal(t, "256Mi", first.Limits["memory"])
	for _, p := range kc.Pods {
		require.NotEmpty(t, p.Containers, p.Name)
		assert.Equal(t, "app", p.Containers[0].Name, "in %s the alert's container is kept first, healthy or not", p.Name)
	}
	require.NotNil(t, kc.Workload)
	assert.True(t, slices.ContainsFunc(kc.Workload.Containers, func(c common.ContainerSpecSummary) bool { return c.Name == "app" }))
	assert.Equal(t, "app", kc.Workload.Containers[0].Name)
}
