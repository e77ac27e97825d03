package processing

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// contextOf builds a context with pods (each with one failing and healthyPerPod healthy
// containers), events (newest first) of the given message size, and one node.
func contextOf(pods, healthyPerPod, events, message int) *common.KubernetesContext {
	now := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	kc := &common.KubernetesContext{CollectedAt: &now, NamespaceLabels: map[string]string{"kubernaut.io/environment": "production", "team": "shop"},
		Workload: &common.WorkloadSummary{Kind: "Deployment", Name: "web", Replicas: ptr.To[int32](int32(pods)),
			Containers: []common.ContainerSpecSummary{{Name: "app", Image: "web:1", Limits: map[string]string{"memory": "256Mi"}}}},
		Nodes:          []common.NodeSummary{{Name: "node-1", Ready: "True", Conditions: []common.ConditionSummary{{Type: "Ready", Status: "True", Message: strings.Repeat("k", 100)}}}},
		NodeConditions: []common.NodeCondition{{Node: "node-1", Type: "MemoryPressure", Status: "True", Message: strings.Repeat("m", 100)}}}
	for i := range pods {
		p := common.PodSummary{Name: fmt.Sprintf("web-%d", i), Phase: "Running", NodeName: "node-1", Owner: "ReplicaSet/web-1", CreatedAt: &now,
			Conditions: []common.ConditionSummary{{Type: "Ready", Status: "False", Reason: "ContainersNotReady", Message: strings.Repeat("c", 80)}},
			Containers: []common.ContainerSummary{{Name: "app", State: "Waiting", Reason: "CrashLoopBackOff", RestartCount: 3, LastTerminationReason: "OOMKilled",
				LastExitCode: ptr.To[int32](137), Image: "web:1", Message: strings.Repeat("w", 120)}}}
		for j := range healthyPerPod {
			p.Containers = append(p.Containers, common.ContainerSummary{Name: fmt.Sprintf("sidecar-%d", j), Ready: true, State: "Running", StartedAt: &now, Image: "proxy:1"})
		}
		kc.Pods = append(kc.Pods, p)
	}
	for i := range events {
		at := metav1.NewTime(now.Add(-time.Duration(i) * time.Minute))
		kc.RecentEvents = append(kc.RecentEvents, common.EventSummary{Type: "Warning", Reason: fmt.Sprintf("Reason%02d", i), Object: "Pod/web-0",
			Count: 2, FirstTimestamp: &at, LastTimestamp: &at, Message: strings.Repeat("e", message)})
	}
	return kc
}

func TestBound(t *testing.T) {
	tests := map[string]struct {
		kc        *common.KubernetesContext
		omitted   omitted
		events    int // events kept (-1: do not check)
		pods      int // pods kept (-1: do not check)
		truncated []string
	}{
		"small context is untouched": {kc: contextOf(2, 1, 3, 50), events: 3, pods: 2},
		"builder's omissions are said even when it fits": {kc: contextOf(2, 0, 3, 50), omitted: omitted{pods: 25, events: 4}, events: 3, pods: 2,
			truncated: []string{"4 older event groups", "25 pods beyond the 2 most relevant"}},
		"older events go first": {kc: contextOf(3, 0, 20, 400), events: 10, pods: 3,
			truncated: []string{"10 older event groups"}},
		"then surplus pods": {kc: contextOf(10, 3, 10, 100), events: 10, pods: 5,
			truncated: []string{"5 pods beyond the 5 most relevant"}},
		"then healthy containers": {kc: contextOf(6, 8, 10, 100), events: 10, pods: 5,
			truncated: []string{"1 pod beyond the 5 most relevant", "40 healthy containers"}},
		"a huge history keeps the newest event and the most relevant pod": {kc: contextOf(10, 3, 20, 512), omitted: omitted{events: 30}, events: -1, pods: -1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			firstEvent := ""
			if len(tc.kc.RecentEvents) > 0 {
				firstEvent = tc.kc.RecentEvents[0].Reason
			}
			size := bound(tc.kc, MaxContextBytes, tc.omitted, "")
			raw, err := json.Marshal(tc.kc)
			require.NoError(t, err)
			assert.Equal(t, len(raw), size)
			assert.LessOrEqual(t, size, MaxContextBytes)
			if tc.events >= 0 {
				assert.Len(t, tc.kc.RecentEvents, tc.events)
			}
			if tc.pods >= 0 {
				assert.Len(t, tc.kc.Pods, tc.pods)
			}
			if tc.truncated != nil || tc.events >= 0 {
				assert.Empty(t, cmp.Diff(tc.truncated, tc.kc.Truncated))
			}
			if len(tc.kc.RecentEvents) > 0 {
				assert.Equal(t, firstEvent, tc.kc.RecentEvents[0].Reason, "the newest event stays")
			}
			if len(tc.kc.Pods) > 0 {
				assert.Equal(t, "web-0", tc.kc.Pods[0].Name, "the most relevant pod stays")
				assert.Equal(t, "OOMKilled", tc.kc.Pods[0].Containers[0].LastTerminationReason, "failing containers stay")
			}
			assert.LessOrEqual(t, len(tc.kc.Truncated), 8)
		})
	}
}

func TestBoundAlwaysFits(t *testing.T) {
	for _, pods := range []int{0, 1, 10} {
		for _, events := range []int{0, 5, 20} {
			for _, msg := range []int{10, 512} {
				kc := contextOf(pods, 5, events, msg)
				for i := range 4 {
					kc.Nodes = append(kc.Nodes, common.NodeSummary{Name: fmt.Sprintf("n%d", i), Taints: []string{strings.Repeat("t", 300), strings.Repeat("u", 300)}})
				}
				for i := range 60 {
					kc.NamespaceLabels[fmt.Sprintf("label-%02d", i)] = strings.Repeat("v", 60)
				}
				size := bound(kc, MaxContextBytes, omitted{}, "")
				assert.LessOrEqual(t, size, MaxContextBytes, "pods=%d events=%d message=%d", pods, events, msg)
				assert.Equal(t, "production", kc.NamespaceLabels["kubernaut.io/environment"], "the environment label stays")
			}
		}
	}
}

// The alert's container (its "container" label) is never cut: not as a healthy container, not
// from the workload's specs, not its message, and the first pod keeps it when everything else goes.
func TestBoundKeepsTheAlertsContainer(t *testing.T) {
	tests := map[string]struct {
		limit           int
		firstPod        []string // the containers left in the first pod
		workload        []string // the workload's container specs left
		otherContainers bool     // "containers other than app" is said
	}{
		"healthy containers go, the alert's healthy container stays": {limit: 6000, firstPod: []string{"app", "sidecar-0"},
			workload: []string{"app", "sidecar-0", "sidecar-1"}},
		"containers other than the alert's go before pods": {limit: 4500, firstPod: []string{"app"}, workload: []string{"app", "sidecar-0", "sidecar-1"},
			otherContainers: true},
		"everything else goes, the alert's container stays": {limit: 200, firstPod: []string{"app"}, workload: []string{"app"}, otherContainers: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			kc := focusedContext()
			bound(kc, tc.limit, omitted{}, "app")
			require.NotEmpty(t, kc.Pods)
			var names []string
			for _, c := range kc.Pods[0].Containers {
				names = append(names, c.Name)
			}
			assert.Equal(t, tc.firstPod, names)
			app := kc.Pods[0].Containers[0]
			assert.Equal(t, strings.Repeat("w", 200), app.Message, "the alert's container's message is never shortened")
			assert.Equal(t, "256Mi", app.Limits["memory"])
			var specs []string
			for _, c := range kc.Workload.Containers {
				specs = append(specs, c.Name)
			}
			assert.Equal(t, tc.workload, specs)
			for _, p := range kc.Pods {
				assert.Equal(t, "app", p.Containers[0].Name, "in every pod kept, the alert's container is kept and first")
			}
			said := false
			for _, n := range kc.Truncated {
				said = said || strings.Contains(n, "other than app")
			}
			assert.Equal(t, tc.otherContainers, said, "%v", kc.Truncated)
		})
	}

	t.Run("without a focus the last pod goes too", func(t *testing.T) {
		kc := focusedContext()
		bound(kc, 200, omitted{}, "")
		assert.Empty(t, kc.Pods)
	})
}

// focusedContext is a Deployment whose 6 pods run app (healthy, with resources and a message)
// and two sidecars, one of them failing, and 10 events.
func focusedContext() *common.KubernetesContext {
	now := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	kc := &common.KubernetesContext{CollectedAt: &now, Workload: &common.WorkloadSummary{Kind: "Deployment", Name: "web",
		Containers: []common.ContainerSpecSummary{{Name: "app", Image: "web:1"}, {Name: "sidecar-0", Image: "proxy:1"}, {Name: "sidecar-1", Image: "log:1"}}}}
	for i := range 6 {
		kc.Pods = append(kc.Pods, common.PodSummary{Name: fmt.Sprintf("web-%d", i), Phase: "Running", Owner: "ReplicaSet/web-1", CreatedAt: &now,
			Containers: []common.ContainerSummary{
				{Name: "app", Ready: true, State: "Running", StartedAt: &now, Image: "web:1", Message: strings.Repeat("w", 200),
					Requests: map[string]string{"memory": "128Mi"}, Limits: map[string]string{"memory": "256Mi"}},
				{Name: "sidecar-0", State: "Waiting", Reason: "CrashLoopBackOff", RestartCount: 7, Image: "proxy:1", Message: strings.Repeat("p", 200)},
				{Name: "sidecar-1", Ready: true, State: "Running", StartedAt: &now, Image: "log:1"},
			}})
	}
	for i := range 10 {
		at := metav1.NewTime(now.Add(-time.Duration(i) * time.Minute))
		kc.RecentEvents = append(kc.RecentEvents, common.EventSummary{Type: "Warning", Reason: fmt.Sprintf("Reason%02d", i), Object: "Pod/web-0",
			Count: 1, LastTimestamp: &at, Message: strings.Repeat("e", 100)})
	}
	return kc
}
