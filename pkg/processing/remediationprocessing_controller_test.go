package processing_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

func ready(t testing.TB, rp *processingv1.RemediationProcessing) *metav1.Condition {
	t.Helper()
	c := meta.FindStatusCondition(rp.Status.Conditions, processingv1.ConditionReady)
	require.NotNil(t, c, "Ready condition")
	return c
}

func eventGroup(kc *common.KubernetesContext, reason, object string) *common.EventSummary {
	for i := range kc.RecentEvents {
		if kc.RecentEvents[i].Reason == reason && kc.RecentEvents[i].Object == object {
			return &kc.RecentEvents[i]
		}
	}
	return nil
}

func deployTarget(ns, name string) common.TargetResource {
	return common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: name}
}

func TestProcessing(t *testing.T) {
	env := testenv.Start(t)
	h := startProcessing(t, env, nil)

	t.Run("Deployment whose pod was OOMKilled", func(t *testing.T) { testOOMKilled(t, env, h) })
	t.Run("Deployment whose new revision crash-loops", func(t *testing.T) { testCrashLoopingRollout(t, env, h) })
	t.Run("ImagePullBackOff pod", func(t *testing.T) { testImagePullBackOff(t, env, h) })
	t.Run("Node with MemoryPressure and taints", func(t *testing.T) { testNodeTarget(t, env, h) })
	t.Run("HPA at its maximum and the PDB", func(t *testing.T) { testHPAAtMaximum(t, env, h) })
	t.Run("StatefulSet", func(t *testing.T) { testStatefulSet(t, env, h) })
	t.Run("pod of a CronJob's Job", func(t *testing.T) { testCronJobPod(t, env, h) })
	t.Run("DaemonSet", func(t *testing.T) { testDaemonSet(t, env, h) })
	t.Run("StatefulSet an operator controls", func(t *testing.T) { testOperatorStatefulSet(t, env, h) })
	t.Run("workloads applied from Git", func(t *testing.T) { testGitOpsWorkloads(t, env, h) })
	t.Run("rollback makes an old revision current", func(t *testing.T) { testRollback(t, env, h) })
	t.Run("HPA target: the HPA and the workload it scales", func(t *testing.T) { testHPATarget(t, env, h) })
	t.Run("PVC target: size, class expansion and the pods that mount it", func(t *testing.T) { testPVCTarget(t, env, h) })
	t.Run("the alert's container is kept first", func(t *testing.T) { testAlertsContainerKept(t, env, h) })
	t.Run("missing target is degraded", func(t *testing.T) { testMissingTarget(t, env, h) })
	t.Run("large event history within 8 KiB", func(t *testing.T) { testLargeEventHistory(t, env, h) })
	t.Run("reads are live, paged, selected and do not grow with the pods", func(t *testing.T) { testReadsAreBounded(t, env, h) })
	t.Run("a noisy namespace's events are read object by object", func(t *testing.T) { testNoisyNamespace(t, env, h) })
	t.Run("the events of a namespace are read once for the incidents in it", func(t *testing.T) { testEventsShared(t, env, h) })
	t.Run("lists are paged and bounded", func(t *testing.T) { testListPages(t, env, h) })
	t.Run("policy", func(t *testing.T) { testPolicy(t, env) })
	t.Run("a stuck read fails with a reason", func(t *testing.T) { testStuckRead(t, env) })
}

func testOOMKilled(t *testing.T, env *testenv.Env, h *harness) {
	ctx := context.Background()
	ns := env.Namespace(t, map[string]string{"kubernaut.io/environment": "production"})
	node := h.node(ns+"-node", nil)
	const image = "registry.example/shop/web:1.4.2"
	d := h.deployment(ns, "web", image, 2)
	setStatus(h, d, func(d *appsv1.Deployment) {
		d.Status.Replicas, d.Status.ReadyReplicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 2, 1, 2, 1
		d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse,
			Reason: "MinimumReplicasUnavailable", Message: "Deployment does not have minimum availability.", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	})
	rs := h.replicaSet(d, 1, image, 2, 1, time.Now())
	oomAt := metav1.NewTime(time.Now().Add(-2 * time.Minute).Truncate(time.Second))
	h.pod(ns, rs, "apps/v1", "ReplicaSet", "web-r1-a", node.Name, image, func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: oomAt}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: image, ImageID: "sha256:1", RestartCount: 4,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 1m20s restarting failed container=app"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled",
				StartedAt: metav1.NewTime(oomAt.Add(-time.Minute)), FinishedAt: oomAt}}}}
	})
	h.pod(ns, rs, "apps/v1", "ReplicaSet", "web-r1-b", node.Name, image, running(image))
	h.event(ns, "Pod", "web-r1-a", "BackOff", "Back-off restarting failed container app in pod web-r1-a", 12, time.Now().Add(-30*time.Second))
	h.event(ns, "Pod", "web-r1-a", "BackOff", "Back-off restarting failed container app in pod web-r1-a", 3, time.Now().Add(-10*time.Second))
	h.event("", "Node", node.Name, "OOMKilling", "Memory cgroup out of memory: Killed process 4242 (web)", 4, time.Now().Add(-2*time.Minute))
	h.event(ns, "Pod", "other-pod", "BackOff", "not about the target", 1, time.Now())

	for name, target := range map[string]common.TargetResource{
		"Deployment target": deployTarget(ns, "web"),
		"Pod target":        {APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: "web-r1-a"},
	} {
		t.Run(name, func(t *testing.T) {
			rp := h.process(target, nil)
			require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase, rp.Status.Message)
			c := ready(t, rp)
			assert.Equal(t, metav1.ConditionTrue, c.Status)
			assert.Equal(t, processingv1.ReasonEnriched, c.Reason)
			assert.Equal(t, rp.Generation, rp.Status.ObservedGeneration)
			require.NotNil(t, rp.Status.StartTime)
			require.NotNil(t, rp.Status.CompletionTime)
			es := rp.Status.EnrichedSignal
			require.NotNil(t, es)
			assert.Equal(t, "production", es.Environment)
			assert.Equal(t, processingv1.EnvironmentFromNamespaceLabel, es.EnvironmentSource)
			assert.Equal(t, "P0", es.BusinessPriority)
			assert.Equal(t, "table:critical/production", es.PriorityRule)
			assert.Equal(t, target.Kind, es.ResourceKind)
			kc := es.KubernetesContext
			require.NotNil(t, kc)
			raw, _ := json.Marshal(kc)
			assert.LessOrEqual(t, len(raw), 8192)
			assert.EqualValues(t, len(raw), es.ContextBytes)
			assert.False(t, kc.TargetNotFound)
			assert.Equal(t, "production", kc.NamespaceLabels["kubernaut.io/environment"])
			if target.Kind == "Pod" {
				assert.Equal(t, []common.TargetResource{
					{APIVersion: "apps/v1", Kind: "ReplicaSet", Namespace: ns, Name: rs.Name},
					{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "web"},
				}, kc.OwnerChain)
			}
			require.NotNil(t, kc.Workload)
			assert.Equal(t, "Deployment", kc.Workload.Kind)
			assert.EqualValues(t, 2, *kc.Workload.Replicas)
			assert.EqualValues(t, 1, kc.Workload.ReadyReplicas)
			require.NotEmpty(t, kc.Workload.Conditions)
			assert.Equal(t, "MinimumReplicasUnavailable", kc.Workload.Conditions[0].Reason)
			require.NotEmpty(t, kc.Pods)
			p := kc.Pods[0]
			assert.Equal(t, "web-r1-a", p.Name)
			assert.Equal(t, node.Name, p.NodeName)
			assert.Equal(t, "ReplicaSet/"+rs.Name, p.Owner)
			require.Len(t, p.Containers, 1)
			ctr := p.Containers[0]
			assert.Equal(t, "Waiting", ctr.State)
			assert.Equal(t, "CrashLoopBackOff", ctr.Reason)
			assert.Equal(t, "OOMKilled", ctr.LastTerminationReason)
			require.NotNil(t, ctr.LastExitCode)
			assert.EqualValues(t, 137, *ctr.LastExitCode)
			require.NotNil(t, ctr.LastTerminatedAt)
			assert.True(t, ctr.LastTerminatedAt.Equal(&oomAt))
			assert.EqualValues(t, 4, ctr.RestartCount)
			assert.Equal(t, image, ctr.Image)
			assert.Equal(t, "256Mi", ctr.Limits["memory"])
			assert.Equal(t, "128Mi", ctr.Requests["memory"])
			require.NotNil(t, kc.Rollout)
			require.NotNil(t, kc.Rollout.Current)
			assert.EqualValues(t, 1, kc.Rollout.Current.Revision)
			assert.Equal(t, []string{"app=" + image}, kc.Rollout.Current.Images)
			require.Len(t, kc.Nodes, 1)
			assert.Equal(t, node.Name, kc.Nodes[0].Name)
			assert.Equal(t, "True", kc.Nodes[0].Ready)
			assert.EqualValues(t, 2, kc.Nodes[0].PodCount)
			backoff := eventGroup(kc, "BackOff", "Pod/web-r1-a")
			require.NotNil(t, backoff, "BackOff events of the pod: %+v", kc.RecentEvents)
			assert.EqualValues(t, 15, backoff.Count, "grouped by reason and object")
			assert.NotNil(t, eventGroup(kc, "OOMKilling", "Node/"+node.Name), "the node's OOMKilling event")
			assert.Nil(t, eventGroup(kc, "BackOff", "Pod/other-pod"))
			assert.Empty(t, kc.Truncated)
		})
	}
	_ = ctx
}
