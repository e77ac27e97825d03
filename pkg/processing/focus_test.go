package processing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// focusPods: web-a's proxy crash-loops (the most trouble), web-b's app crash-loops, web-c is healthy.
func focusPods() []*corev1.Pod {
	failing := func(name string, restarts int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, RestartCount: restarts,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}
	}
	fine := func(name string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	}
	pod := func(name string, statuses ...corev1.ContainerStatus) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "proxy"}, {Name: "app"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: statuses}}
	}
	return []*corev1.Pod{
		pod("web-a", failing("proxy", 9), failing("app", 0)),
		pod("web-b", fine("proxy"), failing("app", 3)),
		pod("web-c", fine("proxy"), fine("app")),
	}
}

// The alert's pod comes first, then the pods whose alert container is in trouble, and within each
// pod the alert's container; a focus the target does not have changes nothing.
func TestFocus(t *testing.T) {
	deployment := common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	tests := map[string]struct {
		target     common.TargetResource
		focus      Focus
		pods       []string // order of the pod summaries
		containers []string // containers of the first pod summary
		container  string   // the container the bound keeps
	}{
		"no focus: most trouble first": {target: deployment, pods: []string{"web-a", "web-b", "web-c"}, containers: []string{"proxy", "app"}},
		"the alert's pod and container first": {target: deployment, focus: Focus{Pod: "web-c", Container: "app"},
			pods: []string{"web-c", "web-b", "web-a"}, containers: []string{"app", "proxy"}, container: "app"},
		"the alert's container orders the other pods by its own trouble": {target: deployment, focus: Focus{Container: "app"},
			pods: []string{"web-b", "web-a", "web-c"}, containers: []string{"app", "proxy"}, container: "app"},
		"a pod that is not the target's is no focus": {target: deployment, focus: Focus{Pod: "node-exporter-x7k2p", Container: "app"},
			pods: []string{"web-b", "web-a", "web-c"}, containers: []string{"app", "proxy"}, container: "app"},
		"a container the target's pods do not have is no focus": {target: deployment, focus: Focus{Pod: "web-c", Container: "kube-rbac-proxy"},
			pods: []string{"web-c", "web-a", "web-b"}, containers: []string{"proxy", "app"}},
		"a Node target is not focused": {target: common.TargetResource{APIVersion: "v1", Kind: "Node", Name: "n1"}, focus: Focus{Pod: "web-c", Container: "app"},
			pods: []string{"web-a", "web-b", "web-c"}, containers: []string{"proxy", "app"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			en := &enrichment{kc: &common.KubernetesContext{}, focus: tc.focus, pods: focusPods(), nodeNames: []string{"n1"}}
			e := &Enricher{}
			e.focusOn(en, tc.target)
			e.summarizePods(en)
			var pods, containers []string
			for _, p := range en.kc.Pods {
				pods = append(pods, p.Name)
			}
			for _, c := range en.kc.Pods[0].Containers {
				containers = append(containers, c.Name)
			}
			assert.Equal(t, tc.pods, pods)
			assert.Equal(t, tc.containers, containers)
			assert.Equal(t, tc.container, en.focusContainer)
		})
	}
}

func TestFocusOf(t *testing.T) {
	// KubePodCrashLooping as Alertmanager delivers it from kube-state-metrics.
	labels := map[string]string{"alertname": "KubePodCrashLooping", "container": "app", "instance": "10.244.0.12:8080", "job": "kube-state-metrics",
		"namespace": "shop", "pod": "web-7d9f8-x2x4k", "reason": "CrashLoopBackOff", "severity": "warning", "uid": "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}
	assert.Equal(t, Focus{Pod: "web-7d9f8-x2x4k", Container: "app"}, FocusOf(labels))
	assert.Equal(t, Focus{}, FocusOf(map[string]string{"alertname": "KubeHpaMaxedOut", "horizontalpodautoscaler": "web", "namespace": "shop"}))
}
