package executor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/executor"
	"github.com/kubernaut/kubernaut/pkg/executor/action"
)

// notReadyTaint is the taint the node lifecycle controller puts on a NotReady node.
var notReadyTaint = corev1.Taint{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule}

// setReady writes the node's Ready condition as its kubelet and the node lifecycle controller
// would, as of a minute ago (before anything the test does): NotReady nodes carry the not-ready
// taint.
func (h *harness) setReady(n *corev1.Node, ready bool) {
	h.T.Helper()
	h.setReadySince(n, ready, time.Now().Add(-time.Minute))
}

// setReadySince is setReady with the condition's transition at since. The API server keeps it to
// the second, as it keeps an operation's start.
func (h *harness) setReadySince(n *corev1.Node, ready bool, since time.Time) {
	h.T.Helper()
	ctx := context.Background()
	require.NoError(h.T, h.C.Get(ctx, client.ObjectKeyFromObject(n), n))
	status := corev1.ConditionTrue
	n.Spec.Taints = nil
	if !ready {
		status = corev1.ConditionFalse
		n.Spec.Taints = []corev1.Taint{notReadyTaint}
	}
	require.NoError(h.T, h.C.Update(ctx, n))
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status, Reason: "KubeletReady",
		LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.NewTime(since)}}
	require.NoError(h.T, h.C.Status().Update(ctx, n))
}

// Two NotReady nodes of three (a cluster-wide blip): the share of unavailable nodes is counted
// on every node action, whatever taints the target and the others carry, so at most the
// configured share of the nodes is ever cordoned, and never the last available one.
func TestNodeShareWithTwoNotReadyOfThree(t *testing.T) {
	tests := map[string]struct {
		share string
		// cordoned is how many of the three cordons may be made: floor(share × 3) unavailable
		// nodes, two of them already NotReady.
		cordoned int
	}{
		"the default share":       {share: "0.34", cordoned: 0},
		"two thirds may be taken": {share: "0.67", cordoned: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, map[string]string{executor.KeyMaxUnschedulableShare: tc.share})
			var nodes []*corev1.Node
			for i := range 3 {
				n := h.node(fmt.Sprintf("%s-n%d", h.App, i+1), true, false)
				h.setReady(n, i == 2)
				nodes = append(nodes, n)
			}
			h.StartExecutor(nil)
			made := 0
			for _, n := range nodes {
				before := h.get(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name}}).(*corev1.Node)
				got := h.Finished(h.execution(false, op("cordon", "cordon_node", nodeTarget(n.Name), nil)))
				res := got.Status.OperationResults[0]
				if got.Status.Phase == kev1.PhaseCompleted {
					made++
					continue
				}
				assert.Equal(t, kev1.ReasonNodeShare, res.Reason, res.Message)
				after := h.get(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name}}).(*corev1.Node)
				assert.Equal(t, before.ResourceVersion, after.ResourceVersion, "node %s was written", n.Name)
			}
			assert.Equal(t, tc.cordoned, made)
			h.get(nodes[2])
			assert.False(t, nodes[2].Spec.Unschedulable, "the last available node was cordoned")
		})
	}
}

// A node Kubernaut cordoned while it was NotReady is uncordoned once it is Ready again; the
// uncordon is recorded as an Event on the execution that cordoned it and counted. A node
// someone else uncordoned loses Kubernaut's record, so that a later cordon by someone else is
// never undone.
func TestRecoveredNodeIsUncordoned(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, map[string]string{executor.KeyUncordonRecoveredAfter: "0s", executor.KeyCooldown: "0s"})
	sick := h.node(h.App+"-n1", true, false)
	h.setReady(sick, false)
	fine := h.node(h.App+"-n2", true, false)
	h.setReady(fine, true)
	n3 := h.node(h.App+"-n3", true, false)
	h.setReady(n3, true)
	h.StartExecutor(nil)

	ke := h.execution(false, op("cordon", "cordon_node", nodeTarget(sick.Name), nil))
	completed(t, h.Finished(ke))
	h.get(sick)
	require.True(t, sick.Spec.Unschedulable)
	id, err := action.ParseIdentity(sick.Annotations[action.AnnotationCordoned])
	require.NoError(t, err)
	assert.Equal(t, h.Sys+"/"+ke.Name, id.Execution)

	uncordoned := counter(t, "kubernaut_executor_node_uncordons_total", map[string]string{"result": "uncordoned"})
	// Healthy again a second later than now: after the cordon, which started within this second
	// at the latest, whatever the truncation to the second.
	h.setReadySince(sick, true, time.Now().Add(time.Second))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cur := &corev1.Node{}
		require.NoError(c, h.C.Get(ctx, client.ObjectKeyFromObject(sick), cur))
		assert.False(c, cur.Spec.Unschedulable)
		assert.NotContains(c, cur.Annotations, action.AnnotationCordoned)
	}, wait, tick)
	assert.Equal(t, uncordoned+1, counter(t, "kubernaut_executor_node_uncordons_total", map[string]string{"result": "uncordoned"}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var events eventsv1.EventList
		require.NoError(c, h.C.List(ctx, &events, client.InNamespace(h.Sys)))
		found := false
		for _, e := range events.Items {
			found = found || (e.Reason == "NodeUncordoned" && e.Regarding.Name == ke.Name && e.Related != nil && e.Related.Name == sick.Name)
		}
		assert.True(c, found, "no NodeUncordoned event about %s", ke.Name)
	}, wait, tick)

	// Cordoned by Kubernaut, uncordoned by a person: the record goes with the cordon.
	completed(t, h.Finished(h.execution(false, op("cordon", "cordon_node", nodeTarget(fine.Name), nil))))
	h.get(fine)
	require.Contains(t, fine.Annotations, action.AnnotationCordoned)
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error { // the node's status changes meanwhile
		h.get(fine)
		fine.Spec.Unschedulable = false
		return h.C.Update(ctx, fine)
	}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cur := &corev1.Node{}
		require.NoError(c, h.C.Get(ctx, client.ObjectKeyFromObject(fine), cur))
		assert.NotContains(c, cur.Annotations, action.AnnotationCordoned)
	}, wait, tick)
}

// untaint_node removes only the taints Kubernaut added: never one of Kubernetes (the
// kubernetes.io and k8s.io domains), never one anyone else added; taint_node never takes over
// someone else's taint.
func TestTaintsKubernautDidNotAddAreNeverTouched(t *testing.T) {
	tests := map[string]struct {
		taint  corev1.Taint
		op     func(node string) common.Operation
		reason string
	}{
		"untaint a taint of Kubernetes": {
			taint: corev1.Taint{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoExecute},
			op: func(n string) common.Operation {
				return op("untaint", "untaint_node", nodeTarget(n), map[string]string{"key": "node.kubernetes.io/unreachable"})
			},
			reason: kev1.ReasonInvalidParameters, // the catalog refuses the key first
		},
		"untaint the control-plane taint": {
			taint: corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule},
			op: func(n string) common.Operation {
				return op("untaint", "untaint_node", nodeTarget(n), map[string]string{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
			},
			reason: kev1.ReasonInvalidParameters,
		},
		"untaint a taint a person added": {
			taint: corev1.Taint{Key: "example.com/maintenance", Effect: corev1.TaintEffectNoSchedule},
			op: func(n string) common.Operation {
				return op("untaint", "untaint_node", nodeTarget(n), map[string]string{"key": "example.com/maintenance"})
			},
			reason: action.ReasonTaintNotOwned,
		},
		"taint over a taint a person added": {
			taint: corev1.Taint{Key: "example.com/maintenance", Value: "disk", Effect: corev1.TaintEffectPreferNoSchedule},
			op: func(n string) common.Operation {
				return op("taint", "taint_node", nodeTarget(n), map[string]string{"key": "example.com/maintenance", "value": "other", "effect": "PreferNoSchedule"})
			},
			reason: action.ReasonTaintNotOwned,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, nil)
			n := h.node(h.App+"-n1", true, false)
			h.node(h.App+"-n2", true, false)
			h.node(h.App+"-n3", true, false)
			n.Spec.Taints = []corev1.Taint{tc.taint}
			require.NoError(t, h.C.Update(ctx, n))
			h.StartExecutor(nil)
			got := h.Finished(h.execution(false, tc.op(n.Name)))
			assert.Equal(t, kev1.PhaseFailed, got.Status.Phase)
			res := got.Status.OperationResults[0]
			assert.Equal(t, tc.reason, res.Reason, res.Message)
			after := h.get(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name}}).(*corev1.Node)
			assert.Equal(t, n.ResourceVersion, after.ResourceVersion, "the node was written")
			assert.Equal(t, []corev1.Taint{tc.taint}, after.Spec.Taints)
		})
	}
}

// A NoExecute taint evicts the pods that do not tolerate it: it is a drain, and passes the
// drain's checks.
func TestNoExecuteTaintPassesTheDrainChecks(t *testing.T) {
	taintKey := "example.com/broken"
	tolerating := func(p *corev1.Pod) {
		p.Spec.Tolerations = []corev1.Toleration{{Key: taintKey, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}
	}
	tests := map[string]struct {
		safety map[string]string
		pods   func(h *harness, node string)
		reason string // "" when the taint is made
	}{
		"a protected pod": {
			pods: func(h *harness, node string) {
				h.pod("keep", node, true, func(p *corev1.Pod) { p.Labels[kev1.LabelProtected] = "true" })
			},
			reason: kev1.ReasonProtected,
		},
		"a pod without a controller": {
			pods:   func(h *harness, node string) { h.pod("lone", node, false, nil) },
			reason: kev1.ReasonBlastRadius,
		},
		"a DaemonSet pod": {
			pods: func(h *harness, node string) {
				h.pod("agent", node, true, func(p *corev1.Pod) { p.OwnerReferences[0].Kind, p.OwnerReferences[0].Name = "DaemonSet", "agent" })
			},
			reason: kev1.ReasonBlastRadius,
		},
		"more pods than a drain may evict": {
			safety: map[string]string{executor.KeyMaxDrainPods: "1"},
			pods: func(h *harness, node string) {
				h.pod("a", node, true, nil)
				h.pod("b", node, true, nil)
			},
			reason: kev1.ReasonBlastRadius,
		},
		"only pods that tolerate it": {
			pods: func(h *harness, node string) {
				h.pod("lone", node, false, tolerating)
				h.pod("agent", node, true, func(p *corev1.Pod) {
					tolerating(p)
					p.OwnerReferences[0].Kind, p.OwnerReferences[0].Name = "DaemonSet", "agent"
				})
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, tc.safety)
			n := h.node(h.App+"-n1", true, false)
			h.node(h.App+"-n2", true, false)
			h.node(h.App+"-n3", true, false)
			tc.pods(h, n.Name)
			h.get(n)
			h.StartExecutor(nil)
			got := h.Finished(h.execution(false, op("taint", "taint_node", nodeTarget(n.Name), map[string]string{"key": taintKey, "effect": "NoExecute"})))
			after := h.get(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name}}).(*corev1.Node)
			if tc.reason == "" {
				completed(t, got)
				assert.Equal(t, []corev1.Taint{{Key: taintKey, Effect: corev1.TaintEffectNoExecute}}, after.Spec.Taints)
				assert.Equal(t, `["example.com/broken:NoExecute"]`, after.Annotations[action.AnnotationTaints])
				return
			}
			res := got.Status.OperationResults[0]
			assert.Equal(t, tc.reason, res.Reason, res.Message)
			assert.Contains(t, res.Message, "a NoExecute taint "+taintKey+":NoExecute would")
			assert.Equal(t, n.ResourceVersion, after.ResourceVersion, "the node was written")
		})
	}
}

// Node actions run one at a time: while a drain waits for its evictions, another node action
// is refused NodeActionInProgress, and its node is left as it was.
func TestNodeActionsRunOneAtATime(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, map[string]string{executor.KeyMaxUnschedulableShare: "0.75"})
	n1 := h.node(h.App+"-n1", true, false)
	n2 := h.node(h.App+"-n2", true, false)
	h.node(h.App+"-n3", true, false)
	h.node(h.App+"-n4", true, false)
	// A pod a PodDisruptionBudget protects: the drain waits for it until its timeout.
	h.pod("guarded", n1.Name, true, func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	})
	require.NoError(t, h.C.Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}))
	h.StartExecutor(nil)
	drain := h.execution(false, op("drain", "drain_node", nodeTarget(n1.Name), map[string]string{"gracePeriodSeconds": "0", "timeout": "3s"}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := &kev1.KubernetesExecution{}
		require.NoError(c, h.C.Get(ctx, client.ObjectKeyFromObject(drain), got))
		require.Len(c, got.Status.OperationResults, 1)
		assert.NotNil(c, got.Status.OperationResults[0].AppliedTime)
	}, wait, tick)
	h.get(n2)
	got := h.Finished(h.execution(false, op("cordon", "cordon_node", nodeTarget(n2.Name), nil)))
	res := got.Status.OperationResults[0]
	assert.Equal(t, action.ReasonNodeActionInProgress, res.Reason, res.Message)
	assert.Contains(t, res.Message, "is running drain_node on node "+n1.Name)
	after := h.get(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n2.Name}}).(*corev1.Node)
	assert.Equal(t, n2.ResourceVersion, after.ResourceVersion)
	h.Finished(drain)
}

// scale_deployment and scale_statefulset to 0 replicas are refused: a remediation never stops
// every pod.
func TestScaleToZeroIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	d := h.Deployment("web", 2, nil)
	h.StartExecutor(nil)
	got := h.Finished(h.execution(false, op("stop", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "0"})))
	refusedUnchanged(t, h, got, kev1.ReasonInvalidParameters, d)
	assert.Contains(t, got.Status.OperationResults[0].Message, "replicas: must be at least 1, got 0")
	h.get(d)
	assert.Equal(t, ptr.To[int32](2), d.Spec.Replicas)
}
