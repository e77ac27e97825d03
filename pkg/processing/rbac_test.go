package processing_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// The generated ClusterRole reads, and writes only its own status (its Lease and the Events it
// records are granted by the namespaced Role kubernaut-leader-election, never cluster-wide). It
// watches only what its cache holds, its own kind and the policy ConfigMap: the kinds enrichment
// reads live are granted get and list only as far as the reads need them.
func TestRBACIsLeastPrivilege(t *testing.T) {
	role := testenv.GeneratedClusterRole(t, "processing")
	writes := map[string][]string{ // group/resource → the write verbs it may have
		"remediationprocessing.kubernaut.io/remediationprocessings/status": {"patch"},
	}
	watched := []string{"remediationprocessing.kubernaut.io/remediationprocessings", "core/configmaps"}
	live := map[string][]string{ // group/resource → exactly the verbs of its live reads
		"core/pods":                            {"get", "list"},
		"core/events":                          {"list"},
		"core/namespaces":                      {"get"},
		"core/nodes":                           {"get"},
		"core/persistentvolumeclaims":          {"get"},
		"apps/deployments":                     {"get"},
		"apps/statefulsets":                    {"get"},
		"apps/daemonsets":                      {"get"},
		"apps/replicasets":                     {"get", "list"},
		"batch/jobs":                           {"get", "list"},
		"batch/cronjobs":                       {"get"},
		"autoscaling/horizontalpodautoscalers": {"get", "list"},
		"policy/poddisruptionbudgets":          {"list"},
		"storage.k8s.io/storageclasses":        {"get"},
	}
	read := []string{"get", "list", "watch"}
	verbs := map[string][]string{}
	for _, rule := range role.Rules {
		for _, g := range rule.APIGroups {
			for _, r := range rule.Resources {
				key := g + "/" + r
				if g == "" {
					key = "core/" + r
				}
				for _, v := range rule.Verbs {
					assert.True(t, slices.Contains(read, v) || slices.Contains(writes[key], v), "%s may not %s", key, v)
					if !slices.Contains(verbs[key], v) {
						verbs[key] = append(verbs[key], v)
					}
				}
			}
		}
	}
	for key, want := range live {
		got := slices.Clone(verbs[key])
		slices.Sort(got)
		assert.Equal(t, want, got, "%s is read live, never watched", key)
	}
	for _, key := range watched {
		assert.Contains(t, verbs[key], "watch", "%s is in the cache", key)
	}
	for key, vs := range verbs {
		if slices.Contains(vs, "watch") {
			assert.Contains(t, watched, key, "%s is watched but not cached", key)
		}
	}
	assert.NotContains(t, verbs, "core/secrets", "never secrets")
}
