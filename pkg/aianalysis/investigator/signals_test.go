package investigator_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
)

// TestClassifySignal: which rules each alert lets apply, for label sets as Alertmanager delivers
// them (see scenarios_test.go for how they are built from the mixin's expressions).
func TestClassifySignal(t *testing.T) {
	pod := "web-7d9f8-aaaaa"
	tests := map[string]struct {
		labels    map[string]string
		class     string
		rules     []investigator.Rule
		container string // the alerting container
	}{
		"KubePodCrashLooping": {labels: containerAlert("KubePodCrashLooping", "CrashLoopBackOff", pod, "app"),
			class: "crash loop", rules: []investigator.Rule{investigator.RuleOOM, investigator.RuleRollback, investigator.RuleRestart}, container: "app"},
		"KubeContainerWaiting ImagePullBackOff": {labels: containerAlert("KubeContainerWaiting", "ImagePullBackOff", pod, "app"),
			class: "image pull failure", rules: []investigator.Rule{investigator.RuleRollback}, container: "app"},
		"KubeContainerWaiting ErrImagePull": {labels: containerAlert("KubeContainerWaiting", "ErrImagePull", pod, "app"),
			class: "image pull failure", rules: []investigator.Rule{investigator.RuleRollback}, container: "app"},
		"KubeContainerWaiting CreateContainerConfigError": {labels: containerAlert("KubeContainerWaiting", "CreateContainerConfigError", pod, "app"),
			class: "container cannot start", container: "app"},
		"KubeContainerWaiting ContainerCreating": {labels: containerAlert("KubeContainerWaiting", "ContainerCreating", pod, "app"),
			class: "container cannot start", container: "app"},
		"KubePodOOMKilled (our own)": {labels: containerAlert("KubePodOOMKilled", "OOMKilled", pod, "app"),
			class: "OOM kill", rules: []investigator.Rule{investigator.RuleOOM}, container: "app"},
		"a custom alert with reason=OOMKilled": {labels: containerAlert("ContainerKilled", "OOMKilled", pod, "app"),
			class: "OOM kill", rules: []investigator.Rule{investigator.RuleOOM}, container: "app"},
		"a cAdvisor memory alert": {labels: map[string]string{"alertname": "ContainerMemoryNearLimit", "container": "app", "pod": pod, "namespace": "shop", "job": "kubelet", "metrics_path": "/metrics/cadvisor", "severity": "warning"},
			class: "memory", rules: []investigator.Rule{investigator.RuleOOM}, container: "app"},
		"KubePodNotReady": {labels: podNotReadyAlert(pod),
			class: "pod not ready", rules: []investigator.Rule{investigator.RuleOOM, investigator.RuleRollback, investigator.RuleRestart, investigator.RuleUnschedulable}},
		"KubeDeploymentReplicasMismatch (kube-rbac-proxy's container label is not the alert's)": {labels: deploymentAlert("KubeDeploymentReplicasMismatch", "web"),
			class: "workload unavailable", rules: []investigator.Rule{investigator.RuleOOM, investigator.RuleRollback, investigator.RuleRestart, investigator.RuleUnschedulable}},
		"KubeDeploymentRolloutStuck": {labels: func() map[string]string {
			l := deploymentAlert("KubeDeploymentRolloutStuck", "web")
			l["condition"], l["status"] = "Progressing", "false"
			return l
		}(), class: "workload unavailable", rules: []investigator.Rule{investigator.RuleOOM, investigator.RuleRollback, investigator.RuleRestart, investigator.RuleUnschedulable}},
		"KubeStatefulSetReplicasMismatch": {labels: map[string]string{"alertname": "KubeStatefulSetReplicasMismatch", "container": ksmContainer, "statefulset": "db", "instance": ksmInstance, "job": "kube-state-metrics", "namespace": "shop", "severity": "warning"},
			class: "workload unavailable", rules: []investigator.Rule{investigator.RuleOOM, investigator.RuleRollback, investigator.RuleRestart, investigator.RuleUnschedulable}},
		"KubeHpaMaxedOut":  {labels: hpaAlert("web"), class: "HPA at its maximum", rules: []investigator.Rule{investigator.RuleHPA}},
		"KubeNodeNotReady": {labels: nodeAlert("KubeNodeNotReady", "node-b", "Ready", "warning"), class: "node not ready", rules: []investigator.Rule{investigator.RuleNode}},
		"KubeNodeUnreachable": {labels: map[string]string{"alertname": "KubeNodeUnreachable", "container": ksmContainer, "effect": "NoSchedule", "instance": ksmInstance, "job": "kube-state-metrics", "key": "node.kubernetes.io/unreachable", "node": "node-b", "severity": "warning"},
			class: "node not ready", rules: []investigator.Rule{investigator.RuleNode}},
		"KubeNodePressure":          {labels: nodeAlert("KubeNodePressure", "node-b", "DiskPressure", "info"), class: "node pressure", rules: []investigator.Rule{investigator.RuleNode}},
		"KubeNodeReadinessFlapping": {labels: map[string]string{"alertname": "KubeNodeReadinessFlapping", "node": "node-b", "severity": "warning"}, class: "no builtin rule"},
		"KubeJobFailed": {labels: map[string]string{"alertname": "KubeJobFailed", "container": ksmContainer, "job_name": "nightly", "namespace": "shop", "job": "kube-state-metrics", "severity": "warning"},
			class: "no builtin rule"},
		"KubeMemoryOvercommit (not a memory signal of a container)": {labels: map[string]string{"alertname": "KubeMemoryOvercommit", "severity": "warning"}, class: "no builtin rule"},
		"KubeQuotaExceeded": {labels: map[string]string{"alertname": "KubeQuotaExceeded", "container": ksmContainer, "namespace": "shop", "resource": "requests.memory", "resourcequota": "shop-quota", "job": "kube-state-metrics", "severity": "info"},
			class: "no builtin rule"},
		"a latency alert":     {labels: appAlert("HighRequestLatency"), class: "service level"},
		"an error-rate alert": {labels: appAlert("HTTPErrorRateHigh"), class: "service level"},
		"an unknown alert naming a container": {labels: containerAlert("PodRestartsHigh", "", pod, "app"),
			class: "unknown", rules: []investigator.Rule{investigator.RuleOOM, investigator.RuleRollback}, container: "app"},
		"an unknown alert without a pod label: its container label is the scrape target's": {labels: map[string]string{"alertname": "SomethingOdd", "container": ksmContainer, "job": "kube-state-metrics", "namespace": "shop"},
			class: "unknown", rules: []investigator.Rule{investigator.RuleOOM, investigator.RuleRollback}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := investigator.ClassifySignal(tc.labels["alertname"], tc.labels)
			assert.Equal(t, tc.class, c.Name)
			assert.Equal(t, tc.rules, c.Rules)
			assert.Equal(t, tc.container, investigator.AlertingContainer(c, tc.labels))
			if len(c.Rules) == 0 {
				assert.NotEmpty(t, c.Why, "a class without rules says why")
			}
		})
	}
}

// TestSignalTableIsComplete: every class is in the documented table.
func TestSignalTableIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, row := range investigator.SignalTable() {
		seen[row.Class.Name] = true
	}
	for _, name := range []string{"KubePodCrashLooping", "KubeContainerWaiting", "KubePodOOMKilled", "KubePodNotReady", "KubeDeploymentReplicasMismatch",
		"KubeHpaMaxedOut", "KubeNodeNotReady", "KubeNodePressure", "KubeJobFailed", "HighRequestLatency", "ContainerMemoryHigh", "Whatever"} {
		c := investigator.ClassifySignal(name, nil)
		assert.True(t, seen[c.Name], "class %q of %s is documented", c.Name, name)
	}
}
