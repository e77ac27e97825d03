package executor_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// The generated ClusterRole grants exactly the verbs the catalog's actions list, plus the
// executor's own needs; nothing more.
func TestGeneratedRoleGrantsTheCatalogVerbsAndNothingElse(t *testing.T) {
	type grant struct{ group, resource, verb string }
	want := map[grant]bool{}
	add := func(group, resource string, verbs ...string) {
		for _, v := range verbs {
			want[grant{group, resource, v}] = true
		}
	}
	for _, a := range actions.All() {
		for _, v := range a.Verbs {
			add(v.Group, v.Resource, v.Verbs...)
		}
	}
	// The executor's own needs (its leader-election Lease and the Events it records are granted
	// by the namespaced Role kubernaut-leader-election, never by this ClusterRole).
	add("kubernetesexecution.kubernaut.io", "kubernetesexecutions", "get", "list", "watch")
	add("kubernetesexecution.kubernaut.io", "kubernetesexecutions/status", "get", "update", "patch")
	add("", "configmaps", "get", "list", "watch") // the safety ConfigMap
	add("", "namespaces", "get", "list", "watch") // managed, protected: labels cached (metadata), new ones read
	add("", "nodes", "list", "watch")             // share of unavailable nodes; recovery of cordoned nodes
	// The chain an execution must come from: watched (slim copies), read live before a refusal.
	add("remediation.kubernaut.io", "remediationrequests", "get", "list", "watch")
	add("workflowexecution.kubernaut.io", "workflowexecutions", "get", "list", "watch")
	add("aianalysis.kubernaut.io", "aianalyses", "get", "list", "watch")

	got := map[grant]bool{}
	for _, r := range testenv.GeneratedClusterRole(t, "executor").Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					got[grant{g, res, v}] = true
				}
			}
		}
	}
	if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
		t.Errorf("generated role (+) vs catalog and executor needs (-):\n%s", diff)
	}
}

func sorted[K comparable](m map[K]bool) []string {
	var out []string
	for k := range m {
		out = append(out, fmtGrant(k))
	}
	slices.Sort(out)
	return out
}

func fmtGrant(k any) string { return fmt.Sprintf("%v", k) }
