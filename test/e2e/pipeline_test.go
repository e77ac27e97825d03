package e2e

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/incident"
	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/workload"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

// The real alerting pipeline (internal/testutil/alerting) delivers to the gateway only the alerts
// about objects named with this prefix: the other scenarios post their own webhooks, and their
// incidents (which the pipeline sees too) must not reach the gateway a second time.
const pipelinePrefix = "alerting-"

// pipelineMatchers are the Alertmanager routes to the gateway (launcher.Options.AlertingMatchers).
var pipelineMatchers = []string{`namespace=~"` + pipelinePrefix + `.+"`, `node=~"` + pipelinePrefix + `.+"`}

// pipelineName returns a fresh namespace (or node) name whose alerts the pipeline delivers.
func pipelineName(what string) string {
	return fmt.Sprintf("%s%s-%d", pipelinePrefix, what, nsCounter.Add(1))
}

// requirePipeline skips in remote mode and fails when the pipeline was not started.
func requirePipeline(t *testing.T) {
	t.Helper()
	skipRemote(t, "the alerting pipeline runs against the local cluster (a kind cluster has its own monitoring to point at the gateway)")
	require.NotNil(t, sys.Alerting, "the alerting pipeline is not running")
}

// pipelineRequest waits for the first RemediationRequest whose target is want, created by the
// alerting pipeline's webhook, and returns it with the time it took from since.
func pipelineRequest(t *testing.T, want remediationv1.RemediationRequest, since time.Time, timeout time.Duration) *remediationv1.RemediationRequest {
	t.Helper()
	ctx := context.Background()
	target := want.Spec.TargetResource
	var rr *remediationv1.RemediationRequest
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var list remediationv1.RemediationRequestList
		if !assert.NoError(c, sys.Cluster.Client.List(ctx, &list, client.InNamespace(launcher.SystemNamespace))) {
			return
		}
		var found []remediationv1.RemediationRequest
		for _, r := range list.Items {
			tr := r.Spec.TargetResource
			if tr.Kind == target.Kind && tr.Namespace == target.Namespace && tr.Name == target.Name && r.Spec.SignalName == want.Spec.SignalName {
				found = append(found, r)
			}
		}
		if assert.NotEmpty(c, found, "no %s request about %s %s/%s yet", want.Spec.SignalName, target.Kind, target.Namespace, target.Name) {
			sort.Slice(found, func(i, j int) bool { return found[i].CreationTimestamp.Before(&found[j].CreationTimestamp) })
			rr = &found[0]
		}
	}, timeout, 500*time.Millisecond, "the pipeline never delivered %s about %s %s/%s (Prometheus alerts: %s)",
		want.Spec.SignalName, target.Kind, target.Namespace, target.Name, pipelineAlerts(want.Spec.SignalName))
	t.Logf("%s about %s %s/%s: request %s created %s after the incident was staged",
		want.Spec.SignalName, target.Kind, target.Namespace, target.Name, rr.Name, rr.CreationTimestamp.Sub(since.Truncate(time.Second)))
	return rr
}

// pipelineAlerts describes Prometheus's alerts named name (for failure messages).
func pipelineAlerts(name string) string {
	alerts, err := sys.Alerting.Alerts(context.Background())
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, a := range alerts {
		if a.Labels["alertname"] == name {
			out = append(out, fmt.Sprintf("%s %v", a.State, a.Labels))
		}
	}
	return fmt.Sprint(out)
}

// assertDeliveredLabels checks that the request holds the alert exactly as the pipeline
// delivered it: the label names the incident package writes for the same alert (its label sets
// are checked against the real pipeline here), the scrape and external labels with the values
// this pipeline gives them, and the webhook's receiver.
func assertDeliveredLabels(t *testing.T, rr *remediationv1.RemediationRequest, in *incident.Incident) {
	t.Helper()
	got := rr.Spec.SignalLabels
	assert.ElementsMatch(t, keys(in.Labels), keys(got), "label names of %s: delivered %v, incident package %v", in.AlertName, got, in.Labels)
	for k, v := range in.Labels {
		if k == "instance" { // the address of this pipeline's kube-state-metrics
			assert.Equal(t, sys.Alerting.KubeStateMetricsAddr, got[k])
			continue
		}
		assert.Equal(t, v, got[k], "label %s", k)
	}
	assert.Equal(t, "kubernaut", rr.Spec.SignalSource, "the Alertmanager receiver")
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// target is a request template naming the target and the alert, for pipelineRequest.
func target(kind, ns, name, alert string) remediationv1.RemediationRequest {
	var rr remediationv1.RemediationRequest
	rr.Spec.TargetResource.Kind, rr.Spec.TargetResource.Namespace, rr.Spec.TargetResource.Name = kind, ns, name
	rr.Spec.SignalName = alert
	return rr
}

// 13. The real alerting pipeline: kube-state-metrics reads the local cluster, Prometheus evaluates
// the project's mixin-modelled rules, Alertmanager posts to the gateway with its token. Nothing is
// posted by the test; each incident is only staged in the cluster. The four run side by side, and
// the node is staged first: the node lifecycle controller's grace period dominates.
func TestE2E13AlertingPipeline(t *testing.T) {
	requirePipeline(t)
	start := time.Now()
	t.Cleanup(func() { t.Logf("the four pipeline scenarios took %s", time.Since(start).Round(time.Second)) })
	node := pipelineName("node")
	t.Cleanup(func() { assert.NoError(t, incident.DeleteNode(context.Background(), sys.Cluster.Client, node)) })
	in, err := incident.NodeHeartbeatLost(context.Background(), sys.Cluster, node)
	require.NoError(t, err)
	t.Run("NodeHeartbeatLostCordoned", func(t *testing.T) { pipelineNodeNotReady(t, in, start) })
	t.Run("CrashLoopAfterBadRolloutRolledBack", pipelineCrashLoopAfterRollout)
	t.Run("CrashLoopFromConfigErrorManualReview", pipelineCrashLoopConfigError)
	t.Run("HPAMaxedOut", pipelineHPAMaxedOut)
}

// manualReview checks that the request's analysis ended in manual review with a reason, and
// returns the reason.
func manualReview(t *testing.T, rr *remediationv1.RemediationRequest) string {
	t.Helper()
	assert.Equal(t, remediationv1.OutcomeManualReviewRequired, rr.Status.Outcome, "phase %s: %s", rr.Status.OverallPhase, rr.Status.FailureReason)
	assert.Nil(t, rr.Status.KubernetesExecutionRef, "nothing may be executed")
	ref := rr.Status.AIAnalysisRef
	if !assert.NotNil(t, ref, "the investigator decided") {
		return ""
	}
	ai := &aiv1.AIAnalysis{}
	require.NoError(t, sys.Cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: launcher.SystemNamespace, Name: ref.Name}, ai))
	assert.Equal(t, aiv1.OutcomeManualReviewRequired, ai.Status.Outcome)
	assert.NotEmpty(t, ai.Status.ManualReviewReason)
	assert.Empty(t, ai.Status.Recommendations, "no action recommended")
	return ai.Status.ManualReviewReason
}

// A crash loop after a bad rollout (1.4.2 → 1.5.0): KubePodCrashLooping names the crashing pod;
// the gateway resolves it to the Deployment; rolled back to 1.4.2, Completed/Remediated.
func pipelineCrashLoopAfterRollout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := pipelineName("rollout")
	staged := time.Now()
	in, err := incident.CrashLoop(ctx, sys.Cluster, ns, incident.NamespaceOptions{})
	require.NoError(t, err)
	rr := pipelineRequest(t, target("Deployment", ns, in.Deployment, "KubePodCrashLooping"), staged, 2*time.Minute)
	assertDeliveredLabels(t, rr, in)
	assert.Equal(t, remediationv1.SeverityWarning, rr.Spec.Severity)
	if tr := rr.Spec.TargetResolution; assert.NotNil(t, tr) && assert.NotNil(t, tr.NamedTarget) {
		assert.Equal(t, "pod", tr.Source)
		assert.Equal(t, in.Pod, tr.NamedTarget.Name, "the crash-looping pod the alert named")
	}

	// Production: the shipped approval policy asks a person.
	approveWhenAsked(t, rr.Name, "erin", "1.5.0 went out ten minutes ago; roll it back")
	// Then the alert resolves by itself once the crashing pod is gone (the rule looks back 30s):
	// that resolved notification is the verification's evidence.
	rr = waitEnded(t, rr.Name)
	assert.Equal(t, remediationv1.PhaseCompleted, rr.Status.OverallPhase, "failure: %s", rr.Status.FailureReason)
	assert.Equal(t, remediationv1.OutcomeRemediated, rr.Status.Outcome, "%s", rr.Status.Message)
	d, err := incident.WaitRolledOut(ctx, sys.Cluster.Client, ns, in.Deployment, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, workload.Good, d.Spec.Template.Spec.Containers[0].Image, "the Deployment is back on %s", workload.GoodTag)
	audit(t, rr.Name, func(c *assert.CollectT, a auditapi.RemediationAudit) {
		if assert.Len(c, a.Operations, 1) {
			assert.Equal(c, "rollback_deployment", a.Operations[0].Action)
			assert.Equal(c, string(kev1.OperationSucceeded), a.Operations[0].Phase)
		}
	})
	t.Logf("crash loop after a rollout: remediated %s after staging", time.Since(staged).Round(time.Second))
}

// A crash loop from a configuration error in the only revision: no rollout to undo, so manual
// review; the Deployment is left as it was.
func pipelineCrashLoopConfigError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := pipelineName("config")
	staged := time.Now()
	in, err := incident.ConfigCrashLoop(ctx, sys.Cluster, ns, incident.NamespaceOptions{})
	require.NoError(t, err)
	before := &appsv1.Deployment{}
	require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: in.Deployment}, before))
	rr := pipelineRequest(t, target("Deployment", ns, in.Deployment, "KubePodCrashLooping"), staged, 2*time.Minute)
	assertDeliveredLabels(t, rr, in)

	rr = waitEnded(t, rr.Name)
	t.Logf("manual review: %s", manualReview(t, rr))
	delivered(t, rr.Name, notificationv1.TypeManualReview)
	after := &appsv1.Deployment{}
	require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: in.Deployment}, after))
	assert.Equal(t, before.Generation, after.Generation, "the Deployment's spec was changed")
	assert.Equal(t, before.Spec.Template.Spec, after.Spec.Template.Spec, "the pod template was changed")
	assert.Equal(t, *before.Spec.Replicas, *after.Spec.Replicas)
	t.Logf("crash loop from a configuration error: manual review %s after staging", time.Since(staged).Round(time.Second))
}

// An HPA at its maximum (KubeHpaMaxedOut names the HPA). The local cluster has no metrics API,
// so the HPA shows no saturation (no metric above target, no ScalingLimited): the builtin
// investigator does not raise maxReplicas on that alone and asks for manual review; the HPA and
// its Deployment stay as they were.
func pipelineHPAMaxedOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := pipelineName("hpa")
	staged := time.Now()
	in, err := incident.HPAMaxedOut(ctx, sys.Cluster, ns, incident.NamespaceOptions{})
	require.NoError(t, err)
	rr := pipelineRequest(t, target("HorizontalPodAutoscaler", ns, in.HPA, "KubeHpaMaxedOut"), staged, 2*time.Minute)
	assertDeliveredLabels(t, rr, in)

	rr = waitEnded(t, rr.Name)
	t.Logf("HPA at its maximum: manual review %s after staging: %s", time.Since(staged).Round(time.Second), manualReview(t, rr))
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: in.HPA}, hpa))
	assert.Equal(t, incident.HPAMax, hpa.Spec.MaxReplicas, "maxReplicas changed")
	assert.EqualValues(t, 1, hpa.Generation, "the HPA's spec was changed")
}

// A node whose kubelet stops heartbeating (staged by the caller at staged): the node lifecycle
// controller marks it Unknown, KubeNodeNotReady names the node (no namespace label), and the node
// is cordoned.
func pipelineNodeNotReady(t *testing.T, in *incident.Incident, staged time.Time) {
	t.Parallel()
	ctx := context.Background()
	node := in.Node
	// The node lifecycle controller's grace period (2 minutes here) comes first.
	rr := pipelineRequest(t, target("Node", "", node, "KubeNodeNotReady"), staged, 4*time.Minute)
	assertDeliveredLabels(t, rr, in)
	n := &corev1.Node{}
	require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Name: node}, n))
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			assert.Equal(t, corev1.ConditionUnknown, c.Status, "the node lifecycle controller marks the silent node's Ready condition Unknown")
		}
	}

	// A Node's environment is unknown (no namespace): the shipped approval policy asks a person.
	approveWhenAsked(t, rr.Name, "frank", "the node's host is gone")
	// Cordoned, the node no longer matches the rule (kube_node_spec_unschedulable == 0): the
	// alert resolves, which the verification takes as its evidence.
	rr = waitEnded(t, rr.Name)
	assert.Equal(t, remediationv1.OutcomeRemediated, rr.Status.Outcome, "phase %s: %s; %s", rr.Status.OverallPhase, rr.Status.FailureReason, rr.Status.Message)
	require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Name: node}, n))
	assert.True(t, n.Spec.Unschedulable, "node %s not cordoned", node)
	for _, other := range sys.Cluster.Nodes {
		require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Name: other}, n))
		assert.False(t, n.Spec.Unschedulable, "healthy node %s cordoned", other)
	}
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		alerts, err := sys.Alerting.Alerts(ctx)
		if assert.NoError(c, err) {
			for _, a := range alerts {
				assert.False(c, a.Labels["alertname"] == "KubeNodeNotReady" && a.Labels["node"] == node, "still %s", a.State)
			}
		}
	}, time.Minute, time.Second)
	t.Logf("node heartbeat lost: cordoned %s after staging", time.Since(staged).Round(time.Second))
}
