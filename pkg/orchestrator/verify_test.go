package orchestrator_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/syncbuf"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

// The verification tests play, besides the child services, the cluster's controllers and the
// kubelet: they create the Deployment's new ReplicaSet and its pods and write their statuses as
// the controller manager and the kubelet would.

const podHash = "5d8f7c9b6"

// workload is a Deployment "web" in a namespace of its own, the target of the remediation.
type workload struct {
	h  *harness
	ns string
	d  *appsv1.Deployment
}

func (h *harness) workload(replicas int32) *workload {
	h.t.Helper()
	ns := h.env.Namespace(h.t, nil)
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/web:1.4.2"}}}}},
	}
	require.NoError(h.t, h.c.Create(context.Background(), d))
	return &workload{h: h, ns: ns, d: d}
}

func (a *workload) target() common.TargetResource {
	return common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: a.ns, Name: "web"}
}

// rolledOut plays the controller manager and the kubelet after the change: the new ReplicaSet
// (revision 2) and its pods, running and ready unless broken says otherwise, and the Deployment's
// status.
func (a *workload) rolledOut(broken func(*corev1.Pod)) {
	h := a.h
	h.t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: podHash}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-" + podHash, Namespace: a.ns, Labels: labels,
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": "2"},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(a.d, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
		Spec: appsv1.ReplicaSetSpec{Replicas: a.d.Spec.Replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: a.d.Spec.Template.Spec}},
	}
	require.NoError(h.t, h.c.Create(ctx, rs))
	for i := range int(*a.d.Spec.Replicas) {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%s-%c%c2kp", podHash, 'a'+i, 'x'), Namespace: a.ns, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}},
			Spec: a.d.Spec.Template.Spec}
		require.NoError(h.t, h.c.Create(ctx, p))
		now := metav1.Now()
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &now,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, Image: "registry.example/web:1.4.2",
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}}
		if broken != nil && i == 0 {
			broken(p)
		}
		require.NoError(h.t, h.c.Status().Update(ctx, p))
	}
	d := &appsv1.Deployment{}
	require.NoError(h.t, h.c.Get(ctx, keyIn(a.ns, "web"), d))
	n := *d.Spec.Replicas
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
	require.NoError(h.t, h.c.Status().Update(ctx, d))
}

// crashLooping is a container OOMKilled after the change and waiting to restart, as the kubelet reports it.
func crashLooping(p *corev1.Pod) {
	now := metav1.Now()
	p.Status.Conditions[0].Status = corev1.ConditionFalse
	p.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "app", Ready: false, RestartCount: 2, Image: "registry.example/web:1.4.2",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 20s restarting failed container"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137,
			StartedAt: now, FinishedAt: now}}}
}

// toVerifying drives a request through its children to Verifying with one operation on target.
func (h *harness) toVerifying(name string, target common.TargetResource, mutate func(*remediationv1.RemediationRequest)) {
	h.t.Helper()
	h.createRR(name, func(rr *remediationv1.RemediationRequest) {
		rr.Spec.TargetResource = target
		rr.Spec.FiringTime = metav1.NewTime(rr.Spec.ReceivedTime.Add(-3 * time.Minute)) // the alert fired before it was sent
		if mutate != nil {
			mutate(rr)
		}
	})
	h.completeProcessing(name)
	h.analyze(name, aiv1.PhaseCompleted, nil)
	w := child(h, name+"-workflow", &workflowv1.WorkflowExecution{})
	patchStatus(h, w, func(w *workflowv1.WorkflowExecution) {
		w.Status.Phase = workflowv1.PhaseCompleted
		w.Status.StartTime, w.Status.CompletionTime = started(), started()
		w.Status.Operations = []common.Operation{{Name: "raise-memory", Action: "increase_resources", Target: target, Parameters: map[string]string{"memory": "512Mi"}}}
	})
	h.finishExecution(name, kev1.PhaseCompleted)
	h.waitPhase(name, remediationv1.PhaseVerifying)
}

// checks returns the request's verification checks by name.
func checks(rr *remediationv1.RemediationRequest) map[string]remediationv1.VerificationCheck {
	out := map[string]remediationv1.VerificationCheck{}
	if rr.Status.Verification != nil {
		for _, c := range rr.Status.Verification.Checks {
			out[c.Name] = c
		}
	}
	return out
}

// evidence is what a person must find, in status, audit and describe: a check's result and
// a part of what it observed.
type evidence struct {
	check    string
	result   remediationv1.VerificationResult
	observed string
}

// requireEvidence checks the evidence in the request's status, its audit record and describe.
func (h *harness) requireEvidence(name string, outcome remediationv1.Outcome, conclusion string, want ...evidence) {
	h.t.Helper()
	t := h.t
	rr := h.waitPhase(name, remediationv1.PhaseCompleted)
	require.Equal(t, outcome, rr.Status.Outcome, "conclusion: %+v", rr.Status.Verification)
	require.NotNil(t, rr.Status.Verification)
	assert.Contains(t, rr.Status.Verification.Conclusion, conclusion)
	got := checks(rr)
	for _, e := range want {
		c, ok := got[e.check]
		if assert.True(t, ok, "status has check %s: %+v", e.check, got) {
			assert.Equal(t, e.result, c.Result, "check %s: %s", e.check, c.Observed)
			assert.Contains(t, c.Observed, e.observed, "check %s", e.check)
		}
	}
	var row auditapi.RemediationAudit
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		var ok bool
		row, ok = h.ds.row(name)
		assert.True(c, ok)
		assert.Equal(c, "Completed", row.OverallPhase)
	}, wait, tick)
	if assert.NotNil(t, row.Verification, "the audit record carries the evidence") {
		assert.Equal(t, string(outcome), row.Outcome)
		assert.Equal(t, rr.Status.Verification.Conclusion, row.Verification.Conclusion)
		byName := map[string]auditapi.VerificationCheck{}
		for _, c := range row.Verification.Checks {
			byName[c.Name] = c
		}
		for _, e := range want {
			assert.Equal(t, string(e.result), byName[e.check].Result, "audited check %s", e.check)
			assert.Contains(t, byName[e.check].Observed, e.observed, "audited check %s", e.check)
		}
	}
	out := h.describe(name)
	assert.Regexp(t, `(?m)^Outcome:\s+`+string(outcome)+`$`, out)
	assert.Contains(t, out, "\nVerification: (change at ")
	for _, e := range want {
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), e.check+" ") {
				line = l
			}
		}
		assert.Contains(t, line, string(e.result), "describe shows check %s:\n%s", e.check, out)
	}
	// The outcome notification lists the evidence.
	nr := child(h, name+"-completion", &notificationv1.NotificationRequest{})
	for _, e := range want {
		assert.Contains(t, nr.Spec.Body, "- "+e.check+" [", "the %s notification lists check %s", outcome, e.check)
	}
}

// describe runs `kubectl kubernaut describe` against the test's API server.
func (h *harness) describe(name string) string {
	h.t.Helper()
	out, errOut := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	o := kubectlplugin.NewOptions(genericiooptions.IOStreams{In: bytes.NewReader(nil), Out: out, ErrOut: errOut})
	cfg := h.env.Config
	o.RESTConfig = func() (*rest.Config, error) { return rest.CopyConfig(cfg), nil }
	cmd := kubectlplugin.NewCommand(o)
	cmd.SetArgs([]string{"describe", name, "-n", h.ns})
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	require.NoError(h.t, cmd.ExecuteContext(context.Background()), errOut.String())
	return out.String()
}

func keyIn(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

// crashLoopingAlert is the label set Alertmanager delivers for KubePodCrashLooping from the
// kubernetes-mixin rule (kube_pod_container_status_waiting_reason scraped from kube-state-metrics).
func crashLoopingAlert(ns, pod string) map[string]string {
	return map[string]string{"alertname": "KubePodCrashLooping", "container": "app", "instance": "10.244.0.7:8080", "job": "kube-state-metrics",
		"namespace": ns, "pod": pod, "reason": "CrashLoopBackOff", "severity": "warning", "uid": "4b7c0e4e-2d1f-4c55-9a53-0f5b3c1d2e6a"}
}

func TestVerification(t *testing.T) {
	env := testenv.Start(t)

	t.Run("the fix worked: the alert resolved and the new pods are healthy → Remediated", func(t *testing.T) {
		h := newHarness(t, env, nil)
		a := h.workload(2)
		h.toVerifying("rr", a.target(), nil)
		a.rolledOut(nil)
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			got := checks(h.getRR("rr"))
			assert.Equal(c, remediationv1.VerificationPassed, got["pods-healthy"].Result)
		}, wait, tick, "the cluster checks see the new pods")
		assert.Equal(t, remediationv1.PhaseVerifying, h.getRR("rr").Status.OverallPhase, "healthy pods alone are not the alert resolving")
		h.resolve("rr")
		h.requireEvidence("rr", remediationv1.OutcomeRemediated, "the alert resolved after the change and the cluster checks passed",
			evidence{"alert-resolved", remediationv1.VerificationPassed, "the alert resolved at"},
			evidence{"rollout-complete", remediationv1.VerificationPassed, "2/2 available"},
			evidence{"pods-healthy", remediationv1.VerificationPassed, "2 pod(s) of the current revision of Deployment/" + a.ns + "/web running and ready"})
	})

	t.Run("the pods crash again after the change → Ineffective, escalated with the evidence", func(t *testing.T) {
		h := newHarness(t, env, nil)
		a := h.workload(2)
		h.toVerifying("rr", a.target(), nil)
		a.rolledOut(crashLooping)
		h.requireEvidence("rr", remediationv1.OutcomeIneffective, "the remediation did not help: pods-healthy",
			evidence{"pods-healthy", remediationv1.VerificationFailed, "is waiting in CrashLoopBackOff"},
			evidence{"alert-resolved", remediationv1.VerificationUnknown, "no resolved notification"})
		nr := child(h, "rr-completion", &notificationv1.NotificationRequest{})
		assert.Equal(t, notificationv1.PriorityHigh, nr.Spec.Priority)
		assert.Contains(t, nr.Spec.Subject, "Remediation ineffective")
		assert.Contains(t, nr.Spec.Body, "CrashLoopBackOff")
		cond := metaCondition(h.getRR("rr").Status.Conditions, remediationv1.ConditionReady)
		if assert.NotNil(t, cond) {
			assert.Equal(t, metav1.ConditionFalse, cond.Status)
			assert.Equal(t, "Ineffective", cond.Reason)
		}
	})

	t.Run("the alert fires again with a newer startsAt → Ineffective", func(t *testing.T) {
		h := newHarness(t, env, nil)
		h.toVerifying("rr", common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, nil)
		rr := h.getRR("rr")
		refired := metav1.NewTime(time.Now().Add(time.Second).Truncate(time.Second))
		patchStatus(h, rr, func(rr *remediationv1.RemediationRequest) {
			rr.Status.Deduplication = &remediationv1.Deduplication{FirstSeen: rr.Spec.ReceivedTime, LastSeen: refired, OccurrenceCount: 1, LastFiringTime: &refired}
		})
		h.requireEvidence("rr", remediationv1.OutcomeIneffective, "alert-refired",
			evidence{"alert-refired", remediationv1.VerificationFailed, "the alert fired again: a firing notification with startsAt " + refired.UTC().Format(time.RFC3339)})
	})

	t.Run("the same firing alert re-sent during the window is not a re-fire", func(t *testing.T) {
		h := newHarness(t, env, nil)
		h.toVerifying("rr", common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, nil)
		for _, withStartsAt := range []bool{false, true} { // the gateway may not record startsAt yet
			rr := h.getRR("rr")
			patchStatus(h, rr, func(rr *remediationv1.RemediationRequest) {
				d := &remediationv1.Deduplication{FirstSeen: rr.Spec.ReceivedTime, LastSeen: metav1.Now(), OccurrenceCount: 3}
				if withStartsAt {
					d.OccurrenceCount, d.LastFiringTime = 4, &rr.Spec.FiringTime
				}
				rr.Status.Deduplication = d
			})
			want := fmt.Sprintf("re-sent %d time(s) since the change", map[bool]int{false: 3, true: 4}[withStartsAt])
			assert.EventuallyWithT(t, func(c *assert.CollectT) {
				rr := h.getRR("rr")
				got := checks(rr)["alert-refired"]
				assert.Equal(c, remediationv1.VerificationPassed, got.Result)
				assert.Contains(c, got.Observed, want)
				assert.Contains(c, got.Observed, "not a re-fire")
				assert.Equal(c, remediationv1.PhaseVerifying, rr.Status.OverallPhase, "a re-send concludes nothing")
			}, wait, tick)
		}
		h.resolve("rr")
		h.requireEvidence("rr", remediationv1.OutcomeRemediated, "the alert resolved after the change",
			evidence{"alert-refired", remediationv1.VerificationPassed, "the same firing alert, not a re-fire"},
			evidence{"alert-resolved", remediationv1.VerificationPassed, "the alert resolved at"})
	})

	t.Run("nothing known at the end of the window → Inconclusive", func(t *testing.T) {
		h := newHarness(t, env, func(c *orchestrator.Config) { c.VerificationWindow = 3 * time.Second })
		// The target is gone and the alert neither resolved nor fired again.
		h.toVerifying("rr", common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, nil)
		h.requireEvidence("rr", remediationv1.OutcomeInconclusive, "no evidence either way: the alert did not resolve within the 3s window",
			evidence{"alert-resolved", remediationv1.VerificationUnknown, "no resolved notification received"},
			evidence{"alert-refired", remediationv1.VerificationPassed, "no firing notification with a startsAt after the change"},
			evidence{"rollout-complete", remediationv1.VerificationUnknown, "Deployment/shop/web not found"})
		rr := h.getRR("rr")
		assert.Contains(t, rr.Status.Verification.Conclusion, "Alertmanager was not asked")
		nr := child(h, "rr-completion", &notificationv1.NotificationRequest{})
		assert.Contains(t, nr.Spec.Subject, "Remediation inconclusive")
	})

	t.Run("Alertmanager", func(t *testing.T) {
		am := newAlertmanagerStandIn(t)
		h := newHarness(t, env, func(c *orchestrator.Config) {
			c.VerificationWindow = 4 * time.Second
			c.Alertmanager = &orchestrator.Alertmanager{URL: am.srv.URL}
		})
		firing := func(a *workload, pod string) func(*remediationv1.RemediationRequest) {
			return func(rr *remediationv1.RemediationRequest) {
				rr.Spec.SignalName = "KubePodCrashLooping"
				rr.Spec.SignalLabels = crashLoopingAlert(a.ns, pod)
				rr.Spec.TargetResolution = &remediationv1.TargetResolution{Source: "pod",
					NamedTarget: &common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: a.ns, Name: pod}}
			}
		}

		t.Run("still firing for the target at the end of the window → Ineffective", func(t *testing.T) {
			a := h.workload(1)
			oldPod := "web-7c6d5b4f9-q8w2n"
			// A new pod of the Deployment crash-loops after the change; another Deployment's alert does not count.
			am.set(amAlert{labels: crashLoopingAlert(a.ns, "web-"+podHash+"-ax2kp"), startsAt: time.Now().Add(-2 * time.Minute)},
				amAlert{labels: crashLoopingAlert(a.ns, "webhook-6f7d8c9b5-zz2kp"), startsAt: time.Now().Add(-time.Hour)})
			h.toVerifying("still", a.target(), firing(a, oldPod))
			h.requireEvidence("still", remediationv1.OutcomeIneffective, "alertmanager-active",
				evidence{"alertmanager-active", remediationv1.VerificationFailed, "1 of KubePodCrashLooping alerts for the pods of Deployment/" + a.ns + "/web still firing at the end of the window"})
			filters := am.filters()
			require.NotEmpty(t, filters)
			assert.ElementsMatch(t, []string{`alertname="KubePodCrashLooping"`, `namespace="` + a.ns + `"`, `pod=~"web-[a-z0-9]+-[a-z0-9]+"`}, filters[len(filters)-1])
		})

		t.Run("gone, with every cluster check passed → Remediated", func(t *testing.T) {
			a := h.workload(1)
			am.set(amAlert{labels: crashLoopingAlert(a.ns, "web-7c6d5b4f9-q8w2n"), startsAt: time.Now().Add(-time.Hour), endsAt: time.Now().Add(-time.Minute)}) // resolved
			a.rolledOut(nil)
			h.toVerifying("gone", a.target(), firing(a, "web-7c6d5b4f9-q8w2n"))
			h.requireEvidence("gone", remediationv1.OutcomeRemediated, "every cluster check passed (rollout-complete, pods-healthy) and Alertmanager no longer has the alert",
				evidence{"alertmanager-active", remediationv1.VerificationPassed, "no KubePodCrashLooping alerts for the pods of Deployment/" + a.ns + "/web firing"},
				evidence{"rollout-complete", remediationv1.VerificationPassed, "1/1 available"},
				evidence{"pods-healthy", remediationv1.VerificationPassed, "running and ready"},
				evidence{"alert-resolved", remediationv1.VerificationUnknown, "no resolved notification received"})
		})
	})
}
