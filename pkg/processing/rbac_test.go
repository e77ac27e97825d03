package processing_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// The generated ClusterRole reads, and writes only its own status (its Lease and the Events it
// records are granted by the namespaced Role kubernaut-leader-election, never cluster-wide).
func TestRBACIsLeastPrivilege(t *testing.T) {
	role := testenv.GeneratedClusterRole(t, "processing")
	writes := map[string][]string{ // group/resource → the write verbs it may have
		"remediationprocessing.kubernaut.io/remediationprocessings/status": {"patch"},
	}
	read := []string{"get", "list", "watch"}
	seen := map[string]bool{}
	for _, rule := range role.Rules {
		for _, g := range rule.APIGroups {
			for _, r := range rule.Resources {
				key := g + "/" + r
				if g == "" {
					key = "core/" + r
				}
				seen[key] = true
				for _, v := range rule.Verbs {
					assert.True(t, slices.Contains(read, v) || slices.Contains(writes[key], v), "%s may not %s", key, v)
				}
			}
		}
	}
	for _, key := range []string{"core/pods", "core/nodes", "core/namespaces", "core/events", "core/configmaps", "apps/deployments", "apps/replicasets",
		"apps/statefulsets", "apps/daemonsets", "batch/jobs", "batch/cronjobs", "autoscaling/horizontalpodautoscalers", "policy/poddisruptionbudgets",
		"remediationprocessing.kubernaut.io/remediationprocessings"} {
		assert.True(t, seen[key], "reads %s", key)
	}
	assert.False(t, seen["core/secrets"], "never secrets")
	for _, rule := range role.Rules { // read live, one Get per claim target: never listed or watched
		if slices.Contains(rule.Resources, "persistentvolumeclaims") || slices.Contains(rule.Resources, "storageclasses") {
			assert.Equal(t, []string{"get"}, rule.Verbs, "%v", rule.Resources)
		}
	}
	assert.True(t, seen["core/persistentvolumeclaims"], "reads claims")
	assert.True(t, seen["storage.k8s.io/storageclasses"], "reads storage classes")
}
