package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/incident"
	"github.com/kubernaut/kubernaut/internal/testutil/alerting"
	"github.com/kubernaut/kubernaut/internal/testutil/standin"
	"github.com/kubernaut/kubernaut/internal/workload"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

// hungryAllocation is what the workload of the ineffective-fix scenario allocates: more than
// the limit the builtin investigator recommends after an OOMKill at 128Mi (×1.5 = 192Mi), so the
// pods of the raised limit are OOM-killed again.
const hungryAllocation = "256Mi"

// 14. A fix that did not help, shown by the cluster. The workload allocates 256Mi under 128Mi;
// increase_resources raises the limit to 192Mi (×1.5), and the pods of the raised limit are
// OOM-killed again. The executor's post-condition of a template change (every replica of the new
// template available) is never met, so the operation fails at its timeout (the catalog's 5m for
// increase_resources), the change is reverted, and the request fails with an escalation: it is
// never reported Remediated, and it never reaches Verifying (a Deployment's pods that are
// OOM-killed at start cannot pass the executor, so the orchestrator's pods-healthy check sees
// only failures that come after the rollout completed). No resolved notification is posted.
func TestE2E14IneffectiveFixRevertedByTheExecutor(t *testing.T) {
	start := time.Now()
	t.Cleanup(func() { t.Logf("scenario 14 (executor) took %s", time.Since(start).Round(time.Second)) })
	in := hungryOOM(t, namespaceFor(t))
	name := postCreated(t, in)

	// The cluster shows the change did not help: the pods of the raised limit are OOM-killed.
	assertRaisedPodsOOMKilled(t, in)
	t.Logf("pods of the raised limit OOM-killed %s after the alert was posted", time.Since(start).Round(time.Second))

	var rr *remediationv1.RemediationRequest
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got, err := request(context.Background(), name)
		if assert.NoError(c, err) && assert.True(c, got.Status.OverallPhase.IsTerminal(), "phase %s", got.Status.OverallPhase) {
			rr = got
		}
	}, 8*time.Minute, time.Second, "request %s never ended", name)
	t.Logf("request %s ended %s (outcome %q) %s after the alert was posted: %s %s", name, rr.Status.OverallPhase, rr.Status.Outcome,
		time.Since(start).Round(time.Second), rr.Status.FailureReason, rr.Status.Message)
	assert.NotEqual(t, remediationv1.OutcomeRemediated, rr.Status.Outcome, "a fix that did not help must not be reported Remediated")
	if remote && rr.Status.Outcome == remediationv1.OutcomeIneffective {
		// On real kubelets the new pods are available for a moment before the kernel kills them,
		// so the rollout completes and the verification, not the executor, finds the change did
		// not help: Ineffective, with the failed check, and the change left in place.
		require.NotNil(t, rr.Status.Verification)
		failed := false
		for _, ch := range rr.Status.Verification.Checks {
			t.Logf("check %s: %s %s", ch.Name, ch.Result, ch.Observed)
			failed = failed || ch.Result == remediationv1.VerificationFailed
		}
		assert.True(t, failed, "Ineffective without a failed check")
		nr := delivered(t, name, notificationv1.TypeCompletion)
		assert.Equal(t, notificationv1.PriorityHigh, nr.Spec.Priority, "an ineffective fix escalates")
		return
	}
	assert.Equal(t, remediationv1.PhaseFailed, rr.Status.OverallPhase)
	assert.Equal(t, remediationv1.PhaseExecuting, rr.Status.FailedPhase)
	assert.Nil(t, rr.Status.Verification, "nothing to verify: the change was reverted")

	// The change was reverted: the limit is back at 128Mi.
	lim, _ := memoryLimit(t, in)
	assert.True(t, lim.Equal(in.MemoryLimit), "memory limit %s after the revert, want %s", lim.String(), in.MemoryLimit.String())
	audit(t, name, func(c *assert.CollectT, a auditapi.RemediationAudit) {
		assert.Equal(c, string(remediationv1.PhaseFailed), a.OverallPhase)
		if assert.Len(c, a.Operations, 1) {
			assert.Equal(c, "increase_resources", a.Operations[0].Action)
			assert.NotEqual(c, string(kev1.OperationSucceeded), a.Operations[0].Phase)
		}
	})
	out := kubectlKubernaut(t, sys.Cluster.Kubeconfig, "describe", name)
	assert.Regexp(t, `(?m)^Phase:\s+Failed$`, out)
	delivered(t, name, notificationv1.TypeEscalation)
}

// 14 (continued). Alertmanager's API (the e2e pipeline's real one) says the alert is still active at the end
// of the window → Ineffective. The orchestrator is restarted with --alertmanager-url and a 10s
// window for KubePodOOMKilled. The OOM incident is the usual one (160Mi under 128Mi): the fix
// works in the cluster (192Mi, new pods Running, the cluster checks pass), but the pipeline's
// KubePodOOMKilled looks back 30s, so Alertmanager still has it firing for the Deployment's pods
// 10s after the change: a window shorter than the alert's memory gives Ineffective, as
// docs/orchestrator.md says. The webhook posted is the alert Alertmanager holds (its labels and
// startsAt); no resolved notification is posted.
func TestE2E14AlertmanagerStillActiveIneffective(t *testing.T) {
	requirePipeline(t)
	start := time.Now()
	t.Cleanup(func() { t.Logf("scenario 14 (Alertmanager) took %s", time.Since(start).Round(time.Second)) })
	ctx := context.Background()
	withOrchestratorArgs(t, "--alertmanager-url="+sys.Alerting.AlertmanagerURL(), "--verification-window-for=KubePodOOMKilled=10s")
	t.Logf("orchestrator restarted with --alertmanager-url in %s", time.Since(start).Round(100*time.Millisecond))

	ns := namespaceFor(t)
	in, err := incident.OOM(ctx, sys.Cluster, ns, incident.NamespaceOptions{Environment: unattendedEnvironment})
	require.NoError(t, err)
	// What Alertmanager holds (and would deliver to a receiver routed to the gateway).
	var held alerting.DeliveredAlert
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		alerts, err := sys.Alerting.AlertmanagerAlerts(ctx)
		if !assert.NoError(c, err) {
			return
		}
		for _, a := range alerts {
			if a.Labels["alertname"] == in.AlertName && a.Labels["namespace"] == ns && a.Status.State == "active" {
				held = a
				return
			}
		}
		assert.Fail(c, "Alertmanager holds no active "+in.AlertName+" about "+ns)
	}, 2*time.Minute, 500*time.Millisecond)
	t.Logf("Alertmanager holds %s %v %s after staging began", in.AlertName, held.Labels, time.Since(start).Round(time.Second))
	in.Labels, in.StartsAt = held.Labels, held.StartsAt
	in.Pod, in.PodUID = held.Labels["pod"], held.Labels["uid"]
	name := postCreated(t, in)

	rr := waitEnded(t, name)
	t.Logf("request %s ended %s/%s %s after staging began: %s", name, rr.Status.OverallPhase, rr.Status.Outcome,
		time.Since(start).Round(time.Second), rr.Status.Message)
	assert.Equal(t, remediationv1.PhaseCompleted, rr.Status.OverallPhase, "failure: %s", rr.Status.FailureReason)
	require.Equal(t, remediationv1.OutcomeIneffective, rr.Status.Outcome, "%s", rr.Status.Message)
	if ready := meta.FindStatusCondition(rr.Status.Conditions, remediationv1.ConditionReady); assert.NotNil(t, ready) {
		assert.Equal(t, metav1.ConditionFalse, ready.Status)
		assert.Equal(t, "Ineffective", ready.Reason)
	}
	assertRemediated(t, in) // the cluster's side of the fix worked

	v := rr.Status.Verification
	require.NotNil(t, v, "status.verification")
	am := checkNamed(t, v.Checks, "alertmanager-active")
	assert.Equal(t, "alertmanager", am.Source)
	assert.Equal(t, remediationv1.VerificationFailed, am.Result)
	assert.Contains(t, v.Conclusion, am.Name)
	for _, name := range []string{"rollout-complete", "pods-healthy"} {
		assert.Equal(t, remediationv1.VerificationPassed, checkNamed(t, v.Checks, name).Result, "%s: the fix worked in the cluster", name)
	}
	t.Logf("verification: %s; %s: %s", v.Conclusion, am.Name, am.Observed)

	audit(t, name, func(c *assert.CollectT, a auditapi.RemediationAudit) {
		assert.Equal(c, string(remediationv1.OutcomeIneffective), a.Outcome)
		if !assert.NotNil(c, a.Verification) {
			return
		}
		found := false
		for _, ch := range a.Verification.Checks {
			if ch.Name == am.Name {
				found = true
				assert.Equal(c, "alertmanager", ch.Source)
				assert.Equal(c, string(remediationv1.VerificationFailed), ch.Result)
			}
		}
		assert.True(c, found, "check %s in the audit record: %+v", am.Name, a.Verification.Checks)
	})
	out := kubectlKubernaut(t, sys.Cluster.Kubeconfig, "describe", name)
	assert.Regexp(t, `(?m)^Outcome:\s+Ineffective$`, out)
	assert.Regexp(t, `(?m)^\s+`+am.Name+`\s+alertmanager\s+Failed\s`, out, "describe:\n%s", out)

	// The outcome notification escalates: priority High, the evidence in its body, delivered.
	nr := delivered(t, name, notificationv1.TypeCompletion)
	assert.Equal(t, notificationv1.PriorityHigh, nr.Spec.Priority)
	assert.Contains(t, nr.Spec.Subject, "ineffective")
	assert.Contains(t, nr.Spec.Body, am.Name)
	standInGot(t, func(s *standin.Set) *standin.HTTP { return s.Slack }, "Slack", name)
}

// withOrchestratorArgs restarts the orchestrator with extra flags for the scenario, and with its
// own again when the scenario ends.
func withOrchestratorArgs(t *testing.T, extra ...string) {
	t.Helper()
	skipRemote(t, "restarts the local orchestrator process with other flags")
	orch := sys.Services["orchestrator"]
	own := append([]string(nil), orch.Args...)
	restart := func(args []string) error {
		if err := orch.Stop(); err != nil {
			return err
		}
		orch.Args = args
		if err := orch.Start(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return orch.WaitReady(ctx)
	}
	require.NoError(t, restart(append(append([]string(nil), own...), extra...)))
	t.Cleanup(func() { require.NoError(t, restart(own)) })
}

// hungryOOM stages an OOMKilled Deployment in a staging (unattended) namespace ns: "checkout",
// 2 replicas, limit 128Mi, whose container allocates hungryAllocation at start; it returns the
// KubePodOOMKilled incident about the first pod the kubelet reports OOMKilled, labelled as
// kube-prometheus's Alertmanager delivers it (the incident package's OOM label set).
func hungryOOM(t *testing.T, ns string) *incident.Incident {
	t.Helper()
	ctx := context.Background()
	c := sys.Cluster.Client
	require.NoError(t, incident.CreateNamespace(ctx, c, ns, incident.NamespaceOptions{Environment: unattendedEnvironment}))
	d := incident.Deployment(ns, "checkout", "app", workload.Good, incident.OOMLimit, 2)
	d.Spec.Template.Spec.Containers[0].Args = []string{workload.AllocateFlag + "=" + hungryAllocation}
	require.NoError(t, c.Create(ctx, d))
	var pod corev1.Pod
	require.EventuallyWithT(t, func(col *assert.CollectT) {
		var pods corev1.PodList
		if !assert.NoError(col, c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(d.Spec.Selector.MatchLabels))) {
			return
		}
		for _, p := range pods.Items {
			for _, cs := range p.Status.ContainerStatuses {
				if last := cs.LastTerminationState.Terminated; last != nil && last.Reason == "OOMKilled" && p.DeletionTimestamp == nil {
					pod = p
					return
				}
			}
		}
		assert.Fail(col, "no pod of checkout OOMKilled yet")
	}, 3*time.Minute, 100*time.Millisecond)
	in := &incident.Incident{Kind: "oom", Namespace: ns, Deployment: d.Name, Container: "app", Pod: pod.Name, PodUID: string(pod.UID),
		MemoryLimit: resource.MustParse(incident.OOMLimit), AlertName: "KubePodOOMKilled", StartsAt: time.Now().UTC().Truncate(time.Second)}
	in.Labels = map[string]string{"alertname": in.AlertName, "severity": "warning", "namespace": ns, "pod": in.Pod, "uid": in.PodUID,
		"container": in.Container, "reason": "OOMKilled", "job": alerting.Job, "instance": incident.KubeStateMetricsInstance}
	for k, v := range alerting.ExternalLabels {
		in.Labels[k] = v
	}
	return in
}

// assertRaisedPodsOOMKilled checks, in the cluster, that the pods of the raised limit exist and
// the kubelet reports their container OOMKilled.
func assertRaisedPodsOOMKilled(t *testing.T, in *incident.Incident) {
	t.Helper()
	ctx := context.Background()
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		d := &appsv1.Deployment{}
		if !assert.NoError(c, sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: in.Namespace, Name: in.Deployment}, d)) {
			return
		}
		var pods corev1.PodList
		if !assert.NoError(c, sys.Cluster.Client.List(ctx, &pods, client.InNamespace(in.Namespace), client.MatchingLabels(d.Spec.Selector.MatchLabels))) {
			return
		}
		raised := 0
		for _, p := range pods.Items {
			lim := p.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory]
			if !lim.Equal(raisedLimit) || p.DeletionTimestamp != nil {
				continue
			}
			raised++
			oom := false
			for _, cs := range p.Status.ContainerStatuses {
				oom = oom || (cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.Reason == "OOMKilled")
			}
			assert.True(c, oom, "pod %s (limit %s) not reported OOMKilled", p.Name, lim.String())
		}
		assert.Positive(c, raised, "no pod with the raised limit")
		assert.Less(c, d.Status.AvailableReplicas, *d.Spec.Replicas, "the rollout of the raised limit cannot complete")
	}, time.Minute, 200*time.Millisecond)
}

// checkNamed returns the verification check whose name is name, or ends with ":"+name (an
// execution with several operations prefixes the operation's name).
func checkNamed(t *testing.T, checks []remediationv1.VerificationCheck, name string) remediationv1.VerificationCheck {
	t.Helper()
	for _, c := range checks {
		if c.Name == name || strings.HasSuffix(c.Name, ":"+name) {
			return c
		}
	}
	require.Fail(t, fmt.Sprintf("no %s check in status.verification", name), "%+v", checks)
	return remediationv1.VerificationCheck{}
}
