package orchestrator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

func TestConclude(t *testing.T) {
	sig := func(name string, r remediationv1.VerificationResult) observation {
		return observation{name: name, source: sourceSignal, result: r}
	}
	cl := func(name string, r remediationv1.VerificationResult, pending bool) observation {
		return observation{name: name, source: sourceCluster, result: r, pending: pending}
	}
	am := func(r remediationv1.VerificationResult) observation {
		return observation{name: checkAlertmanagerActive, source: sourceAlertmanager, result: r}
	}
	const (
		P = remediationv1.VerificationPassed
		F = remediationv1.VerificationFailed
		U = remediationv1.VerificationUnknown
	)
	cases := map[string]struct {
		obs          []observation
		over, amConf bool
		want         remediationv1.Outcome // "" means not concluded yet
		conclusion   string
	}{
		"a failed cluster check is Ineffective at once": {[]observation{sig(checkAlertResolved, U), cl(checkPodsHealthy, F, false)}, false, false,
			remediationv1.OutcomeIneffective, "pods-healthy"},
		"a re-fire is Ineffective even after a resolution": {[]observation{sig(checkAlertRefired, F), sig(checkAlertResolved, U)}, false, false,
			remediationv1.OutcomeIneffective, "alert-refired"},
		"resolved and healthy is Remediated at once": {[]observation{sig(checkAlertResolved, P), cl(checkPodsHealthy, P, false)}, false, false,
			remediationv1.OutcomeRemediated, "the alert resolved after the change and the cluster checks passed (pods-healthy)"},
		"resolved waits for a rollout still settling": {[]observation{sig(checkAlertResolved, P), cl(checkRolloutComplete, U, true)}, false, false, "", ""},
		"resolved with a rollout unsettled at the end": {[]observation{sig(checkAlertResolved, P), cl(checkRolloutComplete, U, false)}, true, false,
			remediationv1.OutcomeRemediated, "rollout-complete not settled"},
		"healthy cluster alone waits for the window": {[]observation{sig(checkAlertResolved, U), cl(checkPodsHealthy, P, false)}, false, true, "", ""},
		"healthy cluster and Alertmanager clear is Remediated": {[]observation{sig(checkAlertResolved, U), cl(checkPodsHealthy, P, false), am(P)}, true, true,
			remediationv1.OutcomeRemediated, "every cluster check passed (pods-healthy) and Alertmanager no longer has the alert"},
		"Alertmanager still firing is Ineffective": {[]observation{sig(checkAlertResolved, U), cl(checkPodsHealthy, P, false), am(F)}, true, true,
			remediationv1.OutcomeIneffective, "alertmanager-active"},
		"healthy cluster without Alertmanager is Inconclusive": {[]observation{sig(checkAlertResolved, U), cl(checkPodsHealthy, P, false)}, true, false,
			remediationv1.OutcomeInconclusive, "Alertmanager was not asked"},
		"Alertmanager clear without any cluster check is Inconclusive": {[]observation{sig(checkAlertResolved, U), am(P)}, true, true,
			remediationv1.OutcomeInconclusive, "no cluster check applies"},
		"Alertmanager clear with an unknown cluster check is Inconclusive": {[]observation{cl(checkPodsHealthy, P, false), cl(checkRolloutComplete, U, false), am(P)}, true, true,
			remediationv1.OutcomeInconclusive, "rollout-complete unknown"},
		"Alertmanager silent is Inconclusive": {[]observation{cl(checkPodsHealthy, P, false)}, true, true,
			remediationv1.OutcomeInconclusive, "Alertmanager gave no answer"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, conclusion, done := conclude(tc.obs, tc.over, tc.amConf, 15*time.Minute)
			assert.Equal(t, tc.want != "", done)
			assert.Equal(t, tc.want, got)
			assert.Contains(t, conclusion, tc.conclusion)
		})
	}
}

func TestSignalEvidence(t *testing.T) {
	change := time.Date(2026, 3, 1, 12, 10, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { v := metav1.NewTime(change.Add(d)); return &v }
	fired := at(-10 * time.Minute) // the original startsAt
	cases := map[string]struct {
		dedup    *remediationv1.Deduplication
		baseline int32
		resolved *metav1.Time
		refired  remediationv1.VerificationResult
		resolve  remediationv1.VerificationResult
		observed string
	}{
		"nothing since the change": {nil, 0, nil, remediationv1.VerificationPassed, remediationv1.VerificationUnknown, "no firing notification"},
		"re-sent without startsAt": {&remediationv1.Deduplication{LastSeen: *at(time.Minute), OccurrenceCount: 3}, 1, nil,
			remediationv1.VerificationPassed, remediationv1.VerificationUnknown, "re-sent 2 time(s) since the change with its original startsAt (last at 2026-03-01T12:11:00Z)"},
		"re-sent with the original startsAt": {&remediationv1.Deduplication{LastSeen: *at(time.Minute), OccurrenceCount: 1, LastFiringTime: fired}, 0, nil,
			remediationv1.VerificationPassed, remediationv1.VerificationUnknown, "with its original startsAt 2026-03-01T12:00:00Z"},
		"fired again after the change": {&remediationv1.Deduplication{LastSeen: *at(2 * time.Minute), OccurrenceCount: 1, LastFiringTime: at(2 * time.Minute)}, 0, nil,
			remediationv1.VerificationFailed, remediationv1.VerificationUnknown, "startsAt 2026-03-01T12:12:00Z, after the change"},
		"resolved after the change":  {nil, 0, at(4 * time.Minute), remediationv1.VerificationPassed, remediationv1.VerificationPassed, "4m0s after the change"},
		"resolved before the change": {nil, 0, at(-time.Minute), remediationv1.VerificationPassed, remediationv1.VerificationUnknown, "before the change"},
		"resolved, then fired again": {&remediationv1.Deduplication{LastSeen: *at(5 * time.Minute), OccurrenceCount: 1, LastFiringTime: at(5 * time.Minute)}, 0, at(3 * time.Minute),
			remediationv1.VerificationFailed, remediationv1.VerificationUnknown, "then fired again"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := metav1.NewTime(change)
			rr := &remediationv1.RemediationRequest{Status: remediationv1.RemediationRequestStatus{Deduplication: tc.dedup, SignalResolvedAt: tc.resolved,
				VerificationBaseline: &tc.baseline, Verification: &remediationv1.Verification{ChangeTime: &c}}}
			obs := signalEvidence(rr)
			got := map[string]observation{}
			var all []string
			for _, o := range obs {
				got[o.name] = o
				all = append(all, o.observed)
			}
			assert.Equal(t, tc.refired, got[checkAlertRefired].result)
			assert.Equal(t, tc.resolve, got[checkAlertResolved].result)
			assert.Contains(t, strings.Join(all, " | "), tc.observed)
		})
	}
}

func TestAlertMatchers(t *testing.T) {
	crashLooping := map[string]string{"alertname": "KubePodCrashLooping", "container": "app", "instance": "10.244.0.7:8080", "job": "kube-state-metrics",
		"namespace": "shop", "pod": "web-7c6d5b4f9-q8w2n", "reason": "CrashLoopBackOff", "severity": "warning", "uid": "4b7c0e4e"}
	hpaMaxed := map[string]string{"alertname": "KubeHpaMaxedOut", "horizontalpodautoscaler": "web", "instance": "10.244.0.7:8080", "job": "kube-state-metrics",
		"namespace": "shop", "severity": "warning"}
	deploy := common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	cases := map[string]struct {
		name       string
		labels     map[string]string
		target     common.TargetResource
		resolution *remediationv1.TargetResolution
		want       []string
	}{
		"a pod resolved to its Deployment: every pod of the Deployment": {"KubePodCrashLooping", crashLooping, deploy,
			&remediationv1.TargetResolution{Source: "pod", NamedTarget: &common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "web-7c6d5b4f9-q8w2n"}},
			[]string{`alertname="KubePodCrashLooping"`, `namespace="shop"`, `pod=~"web-[a-z0-9]+-[a-z0-9]+"`}},
		"the label names the target itself": {"KubeHpaMaxedOut", hpaMaxed, common.TargetResource{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Namespace: "shop", Name: "web"},
			&remediationv1.TargetResolution{Source: "horizontalpodautoscaler"},
			[]string{`alertname="KubeHpaMaxedOut"`, `namespace="shop"`, `horizontalpodautoscaler="web"`}},
		"no resolution recorded: the pod label of a workload": {"KubePodCrashLooping", crashLooping, deploy, nil,
			[]string{`alertname="KubePodCrashLooping"`, `namespace="shop"`, `pod=~"web-[a-z0-9]+-[a-z0-9]+"`}},
		"a StatefulSet's pods by ordinal": {"KubePodCrashLooping", map[string]string{"alertname": "KubePodCrashLooping", "namespace": "db", "pod": "pg-0"},
			common.TargetResource{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "db", Name: "pg"}, &remediationv1.TargetResolution{Source: "pod"},
			[]string{`alertname="KubePodCrashLooping"`, `namespace="db"`, `pod=~"pg-[0-9]+"`}},
		"a mapping: the stable labels": {"DiskAlmostFull", map[string]string{"alertname": "DiskAlmostFull", "instance": "node-1:9100", "mountpoint": "/var", "pod": "x"},
			common.TargetResource{APIVersion: "v1", Kind: "Node", Name: "node-1"}, &remediationv1.TargetResolution{Source: "mapping:disk"},
			[]string{`alertname="DiskAlmostFull"`, `instance="node-1:9100"`, `mountpoint="/var"`}},
		"values are quoted": {"X", map[string]string{"alertname": "X", "deployment": `we"b\`}, common.TargetResource{Kind: "Deployment", Namespace: "shop", Name: `we"b\`}, nil,
			[]string{`alertname="X"`, `deployment="we\"b\\"`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rr := &remediationv1.RemediationRequest{Spec: remediationv1.RemediationRequestSpec{SignalName: tc.name, SignalLabels: tc.labels,
				TargetResource: tc.target, TargetResolution: tc.resolution}}
			got, what := alertMatchers(rr)
			assert.Equal(t, tc.want, got)
			assert.NotEmpty(t, what)
		})
	}
}

func TestAlertmanagerClient(t *testing.T) {
	var gotQuery map[string][]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/v2/alerts", r.URL.Path)
		gotQuery = r.URL.Query()
		now := time.Now().UTC()
		_ = json.NewEncoder(w).Encode([]map[string]any{
			{"labels": map[string]string{"alertname": "A"}, "startsAt": now.Add(-time.Hour), "endsAt": now.Add(4 * time.Minute), "status": map[string]any{"state": "suppressed", "silencedBy": []string{"s1"}}},
			{"labels": map[string]string{"alertname": "A"}, "startsAt": now.Add(-time.Hour), "endsAt": now.Add(-time.Minute), "status": map[string]any{"state": "active"}},
		})
	}))
	defer srv.Close()
	got, err := (&Alertmanager{URL: srv.URL + "/"}).FiringAlerts(context.Background(), []string{`alertname="A"`, `pod=~"web-.+"`})
	require.NoError(t, err)
	assert.Equal(t, []string{`alertname="A"`, `pod=~"web-.+"`}, gotQuery["filter"])
	for _, f := range []string{"active", "silenced", "inhibited", "unprocessed"} {
		assert.Equal(t, []string{"true"}, gotQuery[f], "a muted alert still fires: %s", f)
	}
	if assert.Len(t, got, 1, "the resolved alert is left out") {
		assert.Equal(t, "suppressed", got[0].State)
	}

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad matcher format", http.StatusBadRequest)
	}))
	defer bad.Close()
	_, err = (&Alertmanager{URL: bad.URL}).FiringAlerts(context.Background(), nil)
	assert.ErrorContains(t, err, "400")
}

func TestPodHealth(t *testing.T) {
	change := time.Date(2026, 3, 1, 12, 10, 0, 0, time.UTC)
	before, after := metav1.NewTime(change.Add(-time.Hour)), metav1.NewTime(change.Add(time.Minute))
	running := func(name string, created metav1.Time, mutate func(*corev1.ContainerStatus)) corev1.Pod {
		cs := corev1.ContainerStatus{Name: "app", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
		if mutate != nil {
			mutate(&cs)
		}
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: created},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
				ContainerStatuses: []corev1.ContainerStatus{cs}}}
	}
	cases := map[string]struct {
		pods    []corev1.Pod
		desired int32
		over    bool
		want    remediationv1.VerificationResult
		pending bool
		seen    string
	}{
		"healthy": {[]corev1.Pod{running("a", after, nil), running("b", after, nil)}, 2, false, remediationv1.VerificationPassed, false, "2 pod(s)"},
		"restarts from before the change do not count": {[]corev1.Pod{running("a", before, func(cs *corev1.ContainerStatus) {
			cs.RestartCount = 4
			cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "OOMKilled", FinishedAt: metav1.NewTime(change.Add(-time.Minute))}
		})}, 1, false, remediationv1.VerificationPassed, false, "none restarted"},
		"OOMKilled since the change": {[]corev1.Pod{running("a", before, func(cs *corev1.ContainerStatus) {
			cs.RestartCount = 5
			cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, FinishedAt: after}
		})}, 1, false, remediationv1.VerificationFailed, false, "restarted at 2026-03-01T12:11:00Z (OOMKilled, exit 137; 5 restart(s))"},
		"crash looping": {[]corev1.Pod{running("a", after, func(cs *corev1.ContainerStatus) {
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
		})}, 1, false, remediationv1.VerificationFailed, false, "waiting in CrashLoopBackOff"},
		"a new pod that restarted": {[]corev1.Pod{running("a", after, func(cs *corev1.ContainerStatus) { cs.RestartCount = 1 })}, 1, false,
			remediationv1.VerificationFailed, false, "created after the change, restarted 1 time(s)"},
		"still starting":              {[]corev1.Pod{running("a", after, nil)}, 3, false, remediationv1.VerificationUnknown, true, "1 of 3 pod(s)"},
		"still starting at the end":   {[]corev1.Pod{running("a", after, nil)}, 3, true, remediationv1.VerificationUnknown, false, "at the end of the window"},
		"no pods of the new revision": {nil, 2, false, remediationv1.VerificationUnknown, true, "0 of 2"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := &clusterCheck{change: change, over: tc.over}
			o := c.podHealth(tc.pods, tc.desired, "Deployment/shop/web", false)
			assert.Equal(t, tc.want, o.result, o.observed)
			assert.Equal(t, tc.pending, o.pending)
			assert.Contains(t, o.observed, tc.seen)
		})
	}
}

func TestRecordChecksWritesOnlyChanges(t *testing.T) {
	v := &remediationv1.Verification{}
	t1, t2 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC)
	recordChecks(v, []observation{unknown(checkPodsHealthy, sourceCluster, "1 of 2")}, t1)
	recordChecks(v, []observation{unknown(checkPodsHealthy, sourceCluster, "1 of 2")}, t2)
	require.Len(t, v.Checks, 1)
	assert.Equal(t, t1, v.Checks[0].Time.Time, "an unchanged observation keeps its time (no status write)")
	recordChecks(v, []observation{waiting(checkPodsHealthy, sourceCluster, "1 of 2, 2 updated")}, t2)
	assert.Equal(t, "1 of 2", v.Checks[0].Observed, "a rollout's progress is not worth a write")
	recordChecks(v, []observation{passed(checkPodsHealthy, sourceCluster, "2 of 2")}, t2)
	assert.Equal(t, t2, v.Checks[0].Time.Time)
	assert.Equal(t, remediationv1.VerificationPassed, v.Checks[0].Result)
	for i := range 20 {
		recordChecks(v, []observation{unknown(strings.Repeat("x", i+1), sourceCluster, "")}, t2)
	}
	assert.Len(t, v.Checks, maxChecks, "bounded like the CRD")
}

func TestWindowFor(t *testing.T) {
	c := DefaultConfig()
	assert.Equal(t, 15*time.Minute, c.WindowFor("KubePodCrashLooping"))
	c.VerificationWindowFor = map[string]time.Duration{"KubeHpaMaxedOut": 20 * time.Minute}
	assert.Equal(t, 20*time.Minute, c.WindowFor("KubeHpaMaxedOut"))
	c.StabilizationWindow = 5 * time.Second
	assert.Equal(t, 5*time.Second, c.WindowFor("KubePodCrashLooping"), "the deprecated name still sets the default")
	assert.NoError(t, c.Validate())
	c.VerificationWindowFor["X"] = 0
	assert.ErrorContains(t, c.Validate(), `verification window of alert "X"`)
}

func TestVerificationSettledLeavesTheCache(t *testing.T) {
	v := &remediationv1.Verification{Conclusion: "the alert resolved after the change"}
	done := func(mutate func(*remediationv1.RemediationRequestStatus)) *remediationv1.RemediationRequest {
		rr := &remediationv1.RemediationRequest{ObjectMeta: metav1.ObjectMeta{Name: "rr"}, Status: remediationv1.RemediationRequestStatus{
			OverallPhase: remediationv1.PhaseCompleted, Outcome: remediationv1.OutcomeRemediated, Verification: v,
			NotificationRequestRefs: []common.ObjectReference{{Name: "rr-completion"}}}}
		if mutate != nil {
			mutate(&rr.Status)
		}
		return rr
	}
	cases := map[string]struct {
		rr   *remediationv1.RemediationRequest
		want bool
	}{
		"audited and notified": {done(nil), true},
		"still verifying":      {done(func(s *remediationv1.RemediationRequestStatus) { s.OverallPhase = remediationv1.PhaseVerifying }), false},
		"audit records waiting": {done(func(s *remediationv1.RemediationRequestStatus) {
			s.Audit.PendingPhases = []remediationv1.AuditPendingPhase{{}}
		}), false},
		"notification not yet": {done(func(s *remediationv1.RemediationRequestStatus) { s.NotificationRequestRefs = nil }), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, verificationSettled(tc.rr))
		})
	}
}
