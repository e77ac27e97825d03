package processing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

func crashLooping(image string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		at := metav1.NewTime(time.Now().Add(-20 * time.Second).Truncate(time.Second))
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: at}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: image, ImageID: "sha256:2", RestartCount: 5,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 2m40s restarting failed container"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: at}}}}
	}
}

// A Deployment whose new revision crash-loops shows both revisions with their images and times.
func testCrashLoopingRollout(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, map[string]string{"env": "staging"})
	node := h.node(ns+"-node", nil)
	const v1, v2 = "registry.example/api:1.0", "registry.example/api:2.0"
	d := h.deployment(ns, "api", v2, 2)
	old := h.replicaSet(d, 1, v1, 1, 1, time.Now())
	cur := h.replicaSet(d, 2, v2, 2, 0, time.Now())
	h.pod(ns, old, "apps/v1", "ReplicaSet", "api-r1-a", node.Name, v1, running(v1))
	h.pod(ns, cur, "apps/v1", "ReplicaSet", "api-r2-a", node.Name, v2, crashLooping(v2))
	h.pod(ns, cur, "apps/v1", "ReplicaSet", "api-r2-b", node.Name, v2, crashLooping(v2))

	rp := h.process(deployTarget(ns, "api"), func(rp *processingv1.RemediationProcessing) { rp.Spec.Alert.Severity = "warning" })
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	es := rp.Status.EnrichedSignal
	assert.Equal(t, "staging", es.Environment)
	assert.Equal(t, processingv1.EnvironmentFromNamespaceEnvLabel, es.EnvironmentSource)
	assert.Equal(t, "P2", es.BusinessPriority)
	kc := es.KubernetesContext
	require.NotNil(t, kc.Rollout)
	require.NotNil(t, kc.Rollout.Current)
	require.NotNil(t, kc.Rollout.Previous)
	assert.EqualValues(t, 2, kc.Rollout.RevisionCount)
	assert.EqualValues(t, 2, kc.Rollout.Current.Revision)
	assert.Equal(t, cur.Name, kc.Rollout.Current.Name)
	assert.Equal(t, []string{"app=" + v2}, kc.Rollout.Current.Images)
	assert.EqualValues(t, 0, kc.Rollout.Current.ReadyReplicas)
	assert.EqualValues(t, 1, kc.Rollout.Previous.Revision)
	assert.Equal(t, []string{"app=" + v1}, kc.Rollout.Previous.Images)
	require.NotNil(t, kc.Rollout.Current.BecameCurrentAt)
	require.NotNil(t, kc.Rollout.Previous.BecameCurrentAt)
	assert.False(t, kc.Rollout.Current.BecameCurrentAt.Before(kc.Rollout.Previous.BecameCurrentAt))
	require.Len(t, kc.Pods, 3)
	for _, p := range kc.Pods[:2] {
		assert.Equal(t, "ReplicaSet/"+cur.Name, p.Owner, "failing pods of the new revision first")
		assert.Equal(t, "CrashLoopBackOff", p.Containers[0].Reason)
		assert.Equal(t, v2, p.Containers[0].Image)
		assert.Equal(t, "Error", p.Containers[0].LastTerminationReason)
		assert.EqualValues(t, 1, *p.Containers[0].LastExitCode)
	}
	assert.Equal(t, "api-r1-a", kc.Pods[2].Name)
	assert.Equal(t, v1, kc.Pods[2].Containers[0].Image)
}

// An ImagePullBackOff pod without owner.
func testImagePullBackOff(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, nil)
	const image = "registry.example/typo:latest"
	h.pod(ns, nil, "", "", "lonely", "", image, func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: image, ImageID: "",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "registry.example/typo:latest"`}}}}
	})
	h.event(ns, "Pod", "lonely", "Failed", `Failed to pull image "registry.example/typo:latest": not found`, 6, time.Now().Add(-time.Minute))
	h.event(ns, "Pod", "lonely", "BackOff", `Back-off pulling image "registry.example/typo:latest"`, 20, time.Now())

	rp := h.process(common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: "lonely"}, nil)
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	kc := rp.Status.EnrichedSignal.KubernetesContext
	assert.Empty(t, kc.OwnerChain)
	assert.Nil(t, kc.Workload)
	require.Len(t, kc.Pods, 1)
	assert.Equal(t, "Pending", kc.Pods[0].Phase)
	c := kc.Pods[0].Containers[0]
	assert.Equal(t, "Waiting", c.State)
	assert.Equal(t, "ImagePullBackOff", c.Reason)
	assert.Contains(t, c.Message, "Back-off pulling image")
	assert.Equal(t, image, c.Image)
	require.Len(t, kc.RecentEvents, 2)
	assert.Equal(t, "BackOff", kc.RecentEvents[0].Reason, "newest first")
	assert.Equal(t, "Failed", kc.RecentEvents[1].Reason)
	assert.EqualValues(t, 6, kc.RecentEvents[1].Count)
}

// A Node target with MemoryPressure and taints.
func testNodeTarget(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, nil)
	since := metav1.NewTime(time.Now().Add(-5 * time.Minute).Truncate(time.Second))
	node := h.node(ns+"-node", func(n *corev1.Node) {
		n.Status.Conditions[1] = corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue, Reason: "KubeletHasInsufficientMemory",
			Message: "kubelet has insufficient memory available", LastHeartbeatTime: metav1.Now(), LastTransitionTime: since}
	})
	node.Spec.Unschedulable = true
	node.Spec.Taints = []corev1.Taint{{Key: "node.kubernetes.io/memory-pressure", Effect: corev1.TaintEffectNoSchedule},
		{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoExecute}}
	require.NoError(t, h.c.Update(context.Background(), node))
	h.pod(ns, nil, "", "", "victim", node.Name, "busybox", func(p *corev1.Pod) {
		p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "Evicted", "The node was low on resource: memory."
	})
	h.pod(ns, nil, "", "", "survivor", node.Name, "busybox", running("busybox"))
	h.event("", "Node", node.Name, "EvictionThresholdMet", "Attempting to reclaim memory", 3, time.Now())

	rp := h.process(common.TargetResource{APIVersion: "v1", Kind: "Node", Name: node.Name}, nil)
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	kc := rp.Status.EnrichedSignal.KubernetesContext
	require.Len(t, kc.Nodes, 1)
	n := kc.Nodes[0]
	assert.Equal(t, node.Name, n.Name)
	assert.True(t, n.Unschedulable)
	assert.Equal(t, "True", n.Ready)
	assert.Equal(t, []string{"node.kubernetes.io/memory-pressure:NoSchedule", "dedicated=batch:NoExecute"}, n.Taints)
	assert.Equal(t, "16Gi", n.Allocatable["memory"])
	assert.EqualValues(t, 2, n.PodCount)
	var mp *common.ConditionSummary
	for i := range n.Conditions {
		if n.Conditions[i].Type == "MemoryPressure" {
			mp = &n.Conditions[i]
		}
	}
	require.NotNil(t, mp)
	assert.Equal(t, "True", mp.Status)
	assert.Equal(t, "KubeletHasInsufficientMemory", mp.Reason)
	assert.True(t, mp.LastTransitionTime.Equal(&since))
	require.Len(t, kc.NodeConditions, 1)
	assert.Equal(t, "MemoryPressure", kc.NodeConditions[0].Type)
	require.Len(t, kc.Pods, 2)
	assert.Equal(t, "victim", kc.Pods[0].Name)
	assert.Equal(t, "Evicted", kc.Pods[0].Reason)
	assert.NotNil(t, eventGroup(kc, "EvictionThresholdMet", "Node/"+node.Name))
}

// An HPA at its maximum, and the PDB of the workload.
func testHPAAtMaximum(t *testing.T, env *testenv.Env, h *harness) {
	ctx := context.Background()
	ns := env.Namespace(t, nil)
	d := h.deployment(ns, "web", "web:1", 5)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name},
			MinReplicas:    ptr.To[int32](2), MaxReplicas: 5,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](80)}}}},
		},
	}
	h.create(hpa)
	setStatus(h, hpa, func(hpa *autoscalingv2.HorizontalPodAutoscaler) {
		hpa.Status.CurrentReplicas, hpa.Status.DesiredReplicas = 5, 5
		hpa.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
			Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr.To[int32](95)}}}}
		hpa.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{
			{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "ReadyForNewScale", LastTransitionTime: metav1.Now()},
			{Type: autoscalingv2.ScalingLimited, Status: corev1.ConditionTrue, Reason: "TooManyReplicas", Message: "the desired replica count is more than the maximum replica count", LastTransitionTime: metav1.Now()}}
	})
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(5)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	h.create(pdb)
	setStatus(h, pdb, func(p *policyv1.PodDisruptionBudget) {
		p.Status.DisruptionsAllowed, p.Status.CurrentHealthy, p.Status.DesiredHealthy, p.Status.ExpectedPods = 0, 5, 5, 5
	})
	require.NoError(t, h.c.Get(ctx, keyOf(pdb), pdb))

	rp := h.process(deployTarget(ns, "web"), nil)
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	kc := rp.Status.EnrichedSignal.KubernetesContext
	require.NotNil(t, kc.HPA)
	assert.Equal(t, common.HPASummary{Name: "web", MinReplicas: 2, MaxReplicas: 5, CurrentReplicas: 5, DesiredReplicas: 5, AtMaximum: true,
		ScalingLimited: true, ScalingLimitedReason: "TooManyReplicas", CurrentMetrics: []string{"cpu: 95% of requests (target 80%)"}}, *kc.HPA)
	require.NotNil(t, kc.PDB)
	assert.Equal(t, common.PDBSummary{Name: "web", DisruptionsAllowed: 0, CurrentHealthy: 5, DesiredHealthy: 5, ExpectedPods: 5}, *kc.PDB)
}

// A StatefulSet mid-rollout.
func testStatefulSet(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, nil)
	labels := map[string]string{"app": "db"}
	s := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db", Labels: labels},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "postgres:16")}}}}}
	h.create(s)
	setStatus(h, s, func(s *appsv1.StatefulSet) {
		s.Status.Replicas, s.Status.ReadyReplicas, s.Status.UpdatedReplicas, s.Status.AvailableReplicas = 2, 1, 1, 1
		s.Status.CurrentRevision, s.Status.UpdateRevision = "db-5d8f", "db-7c9a"
	})
	h.pod(ns, s, "apps/v1", "StatefulSet", "db-0", "", "postgres:15", running("postgres:15"))
	h.pod(ns, s, "apps/v1", "StatefulSet", "db-1", "", "postgres:16", crashLooping("postgres:16"))

	rp := h.process(common.TargetResource{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: ns, Name: "db"}, nil)
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	kc := rp.Status.EnrichedSignal.KubernetesContext
	require.NotNil(t, kc.Workload)
	assert.Equal(t, "StatefulSet", kc.Workload.Kind)
	assert.EqualValues(t, 2, *kc.Replicas)
	assert.EqualValues(t, 1, *kc.ReadyReplicas)
	require.NotNil(t, kc.Rollout)
	assert.Equal(t, "db-7c9a", kc.Rollout.Current.Name)
	assert.Equal(t, []string{"app=postgres:16"}, kc.Rollout.Current.Images)
	assert.Equal(t, "db-5d8f", kc.Rollout.Previous.Name)
	require.Len(t, kc.Pods, 2)
	assert.Equal(t, "db-1", kc.Pods[0].Name, "the failing pod first")
	assert.Equal(t, "StatefulSet/db", kc.Pods[0].Owner)
}

// A target that no longer exists completes in degraded mode with what is still known.
func testMissingTarget(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, map[string]string{"kubernaut.io/environment": "development", "team": "shop"})
	h.event(ns, "Deployment", "ghost", "FailedCreate", "pods \"ghost-\" is forbidden: exceeded quota", 2, time.Now())

	rp := h.process(deployTarget(ns, "ghost"), nil)
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	c := ready(t, rp)
	assert.Equal(t, metav1.ConditionTrue, c.Status)
	assert.Equal(t, processingv1.ReasonTargetNotFound, c.Reason)
	es := rp.Status.EnrichedSignal
	assert.Equal(t, "development", es.Environment)
	assert.Equal(t, "P2", es.BusinessPriority)
	kc := es.KubernetesContext
	assert.True(t, kc.TargetNotFound)
	assert.Equal(t, "shop", kc.NamespaceLabels["team"])
	assert.NotNil(t, eventGroup(kc, "FailedCreate", "Deployment/ghost"))
	assert.Nil(t, kc.Workload)

	for _, target := range []common.TargetResource{
		{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Namespace: ns, Name: "ghost"},
		{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: ns, Name: "ghost"},
	} {
		t.Run(target.Kind, func(t *testing.T) {
			rp := h.process(target, nil)
			require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
			assert.Equal(t, processingv1.ReasonTargetNotFound, ready(t, rp).Reason)
			kc := rp.Status.EnrichedSignal.KubernetesContext
			assert.True(t, kc.TargetNotFound)
			assert.Equal(t, "shop", kc.NamespaceLabels["team"])
			assert.Nil(t, kc.HPA)
			assert.Nil(t, kc.PVC)
			assert.Empty(t, kc.Pods)
		})
	}

	t.Run("namespace gone too", func(t *testing.T) {
		rp := h.process(deployTarget("no-such-namespace", "web"), nil)
		require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
		assert.Equal(t, processingv1.ReasonTargetNotFound, ready(t, rp).Reason)
		assert.True(t, rp.Status.EnrichedSignal.KubernetesContext.TargetNotFound)
		assert.Equal(t, "unknown", rp.Status.EnrichedSignal.Environment)
	})
}

// A large event history stays within 8 KiB, newest first, and says what was dropped.
func testLargeEventHistory(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, nil)
	d := h.deployment(ns, "noisy", "noisy:1", 3)
	rs := h.replicaSet(d, 1, "noisy:1", 3, 0, time.Now())
	for i := range 3 {
		h.pod(ns, rs, "apps/v1", "ReplicaSet", fmt.Sprintf("noisy-%d", i), "", "noisy:1", crashLooping("noisy:1"))
	}
	base := time.Now().Add(-time.Hour)
	for i := range 40 {
		h.event(ns, "Pod", fmt.Sprintf("noisy-%d", i%3), fmt.Sprintf("Reason%02d", i), strings.Repeat(fmt.Sprintf("message %d ", i), 40), 1, base.Add(time.Duration(i)*time.Minute))
	}
	rp := h.process(deployTarget(ns, "noisy"), nil)
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	kc := rp.Status.EnrichedSignal.KubernetesContext
	raw, err := json.Marshal(kc)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(raw), 8192)
	assert.EqualValues(t, len(raw), rp.Status.EnrichedSignal.ContextBytes)
	require.NotEmpty(t, kc.RecentEvents)
	assert.Equal(t, "Reason39", kc.RecentEvents[0].Reason, "the newest event is kept")
	assert.Less(t, len(kc.RecentEvents), 40)
	require.NotEmpty(t, kc.Truncated)
	assert.Contains(t, kc.Truncated[0], "older event groups")
	assert.Len(t, kc.Pods, 3, "pods are more useful than old events")
}

// A failed Job of a CronJob: owner chain Pod → Job → CronJob.
func testCronJobPod(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, nil)
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "report"},
		Spec: batchv1.CronJobSpec{Schedule: "*/5 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{container("app", "report:3")}}}}}}}
	h.create(cj)
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "report-29000000", OwnerReferences: controllerRef(cj, "batch/v1", "CronJob")},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"batch.kubernetes.io/controller-uid": "x"}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{container("app", "report:3")}}},
			ManualSelector: ptr.To(true), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "x"}}}}
	h.create(job)
	h.pod(ns, job, "batch/v1", "Job", "report-29000000-abcde", "", "report:3", func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodFailed
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "report:3", ImageID: "sha256:9",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error", FinishedAt: metav1.Now()}}}}
	})

	rp := h.process(common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: "report-29000000-abcde"}, nil)
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	kc := rp.Status.EnrichedSignal.KubernetesContext
	assert.Equal(t, []common.TargetResource{
		{APIVersion: "batch/v1", Kind: "Job", Namespace: ns, Name: job.Name},
		{APIVersion: "batch/v1", Kind: "CronJob", Namespace: ns, Name: "report"},
	}, kc.OwnerChain)
	require.NotNil(t, kc.Workload)
	assert.Equal(t, "CronJob", kc.Workload.Kind)
	require.Len(t, kc.Pods, 1)
	c := kc.Pods[0].Containers[0]
	assert.Equal(t, "Terminated", c.State)
	assert.EqualValues(t, 2, *c.ExitCode)
}

// A DaemonSet's pods and replica counts.
func testDaemonSet(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, nil)
	labels := map[string]string{"app": "agent"}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent", Labels: labels},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "agent:1")}}}}}
	h.create(ds)
	setStatus(h, ds, func(ds *appsv1.DaemonSet) {
		ds.Status.DesiredNumberScheduled, ds.Status.CurrentNumberScheduled, ds.Status.NumberReady, ds.Status.UpdatedNumberScheduled = 3, 3, 2, 3
	})
	h.pod(ns, ds, "apps/v1", "DaemonSet", "agent-x", "", "agent:1", crashLooping("agent:1"))

	rp := h.process(common.TargetResource{APIVersion: "apps/v1", Kind: "DaemonSet", Namespace: ns, Name: "agent"}, nil)
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	kc := rp.Status.EnrichedSignal.KubernetesContext
	require.NotNil(t, kc.Workload)
	assert.Equal(t, "DaemonSet", kc.Workload.Kind)
	assert.EqualValues(t, 3, *kc.Workload.Replicas)
	assert.EqualValues(t, 2, kc.Workload.ReadyReplicas)
	require.Len(t, kc.Pods, 1)
	assert.Equal(t, "DaemonSet/agent", kc.Pods[0].Owner)
}

// A StatefulSet that an operator controls: kube-prometheus's prometheus-k8s, which the Prometheus
// resource k8s owns as prometheus-operator sets it (controller, blockOwnerDeletion). The owner
// chain goes on to the Prometheus, which would undo a change made to the StatefulSet.
func testOperatorStatefulSet(t *testing.T, env *testenv.Env, h *harness) {
	ns := env.Namespace(t, nil)
	labels := map[string]string{"app.kubernetes.io/name": "prometheus", "prometheus": "k8s"}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "prometheus-k8s", Labels: labels,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "monitoring.coreos.com/v1", Kind: "Prometheus", Name: "k8s",
			UID: "3e0c8a4f-9b2d-4f61-8c7e-5a1b2c3d4e5f", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: appsv1.StatefulSetSpec{ServiceName: "prometheus-operated", Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", "quay.io/prometheus/prometheus:v3.5.0")}}}}}
	h.create(sts)
	h.pod(ns, sts, "apps/v1", "StatefulSet", "prometheus-k8s-0", "", "quay.io/prometheus/prometheus:v3.5.0", crashLooping("quay.io/prometheus/prometheus:v3.5.0"))

	rp := h.process(common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: "prometheus-k8s-0"}, nil)
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	kc := rp.Status.EnrichedSignal.KubernetesContext
	assert.Equal(t, []common.TargetResource{
		{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: ns, Name: "prometheus-k8s"},
		{APIVersion: "monitoring.coreos.com/v1", Kind: "Prometheus", Namespace: ns, Name: "k8s"},
	}, kc.OwnerChain)
	require.NotNil(t, kc.Workload)
	assert.Equal(t, "StatefulSet", kc.Workload.Kind)

	// The StatefulSet itself as the target (KubeStatefulSetReplicasMismatch): its controller first.
	rp = h.process(common.TargetResource{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: ns, Name: "prometheus-k8s"}, nil)
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	assert.Equal(t, []common.TargetResource{{APIVersion: "monitoring.coreos.com/v1", Kind: "Prometheus", Namespace: ns, Name: "k8s"}},
		rp.Status.EnrichedSignal.KubernetesContext.OwnerChain)
}

// Workloads that a GitOps tool applies from Git, marked as the tools mark them: Argo CD's
// tracking-id annotation (its default tracking since 3.0; an application outside Argo CD's
// namespace is "<namespace>_<name>"), Flux's kustomize-controller and helm-controller labels. A
// Helm release's own labels say nothing of Git.
func testGitOpsWorkloads(t *testing.T, env *testenv.Env, h *harness) {
	ctx := context.Background()
	ns := env.Namespace(t, nil)
	tests := map[string]struct {
		labels, annotations map[string]string
		want                *common.GitOpsSource
	}{
		"argo-web": {annotations: map[string]string{"argocd.argoproj.io/tracking-id": "shop-web:apps/Deployment:" + ns + "/argo-web"},
			want: &common.GitOpsSource{Tool: "ArgoCD", Kind: "Application", Name: "shop-web"}},
		"argo-api": {annotations: map[string]string{"argocd.argoproj.io/tracking-id": "team-a_api:apps/Deployment:" + ns + "/argo-api"},
			want: &common.GitOpsSource{Tool: "ArgoCD", Kind: "Application", Namespace: "team-a", Name: "api"}},
		"flux-web": {labels: map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"},
			want: &common.GitOpsSource{Tool: "Flux", Kind: "Kustomization", Namespace: "flux-system", Name: "apps"}},
		"flux-chart": {labels: map[string]string{"helm.toolkit.fluxcd.io/name": "podinfo", "helm.toolkit.fluxcd.io/namespace": "apps", "app.kubernetes.io/managed-by": "Helm"},
			want: &common.GitOpsSource{Tool: "Flux", Kind: "HelmRelease", Namespace: "apps", Name: "podinfo"}},
		"helm-only": {labels: map[string]string{"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "web", "helm.sh/chart": "web-1.2.0"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := h.deployment(ns, name, "shop/web:1", 1)
			require.NoError(t, h.c.Get(ctx, keyOf(d), d))
			d.Labels, d.Annotations = tc.labels, tc.annotations
			require.NoError(t, h.c.Update(ctx, d))
			rp := h.process(common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: name}, nil)
			require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
			w := rp.Status.EnrichedSignal.KubernetesContext.Workload
			require.NotNil(t, w)
			assert.Equal(t, tc.want, w.GitOps)
		})
	}
}

// A rollback makes an old ReplicaSet current again: it becomes the current revision, and when
// it became current comes from the Deployment's progress, not its creation.
func testRollback(t *testing.T, env *testenv.Env, h *harness) {
	ctx := context.Background()
	ns := env.Namespace(t, nil)
	const v1, v2 = "api:1", "api:2"
	d := h.deployment(ns, "api", v1, 1)
	first := h.replicaSet(d, 1, v1, 1, 1, time.Now())
	h.replicaSet(d, 2, v2, 0, 0, time.Now())
	// kubectl rollout undo: the first ReplicaSet gets revision 3 and remembers revision 1.
	require.NoError(t, h.c.Get(ctx, keyOf(first), first))
	first.Annotations["deployment.kubernetes.io/revision"] = "3"
	first.Annotations["deployment.kubernetes.io/revision-history"] = "1"
	require.NoError(t, h.c.Update(ctx, first))
	rolledBack := metav1.NewTime(first.CreationTimestamp.Add(90 * time.Second))
	setStatus(h, d, func(d *appsv1.Deployment) {
		d.Status.Replicas, d.Status.ReadyReplicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 1, 1, 1, 1
		d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
			LastUpdateTime: rolledBack, LastTransitionTime: first.CreationTimestamp}}
	})

	rp := h.process(deployTarget(ns, "api"), nil)
	require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
	r := rp.Status.EnrichedSignal.KubernetesContext.Rollout
	require.NotNil(t, r)
	assert.EqualValues(t, 3, r.Current.Revision)
	assert.Equal(t, []string{"app=" + v1}, r.Current.Images)
	assert.True(t, r.Current.BecameCurrentAt.Equal(&rolledBack), "became current at the rollback, not at creation")
	assert.EqualValues(t, 2, r.Previous.Revision)
	assert.Equal(t, []string{"app=" + v2}, r.Previous.Images)
}
