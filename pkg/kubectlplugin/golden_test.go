package kubectlplugin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

var fixturesOnce sync.Once

// systemFixtures creates, once, one request per phase in kubernaut-system (the plugin's default
// namespace) and one in a second namespace, for list -A.
func systemFixtures(t *testing.T) {
	t.Helper()
	fixturesOnce.Do(func() {
		ctx := context.Background()
		for _, ns := range []string{app.DefaultNamespace, "team-b"} {
			err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			if !apierrors.IsAlreadyExists(err) {
				require.NoError(t, err)
			}
		}
		phaseFixtures(app.DefaultNamespace).create(t, env.Client)
		other := request("team-b", "rr-other", remediationv1.PhaseProcessing, offProcessing, 0)
		w := &world{}
		w.add(other)
		w.create(t, env.Client)
	})
}

func TestGoldenList(t *testing.T) {
	systemFixtures(t)
	cases := map[string][]string{
		"list":                  {"list"},
		"list-awaiting":         {"list", "--phase", "AwaitingApproval"},
		"list-all-namespaces":   {"list", "-A"},
		"list-empty-phase-none": {"list", "--phase", "Blocked", "-n", "team-b"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			res := run(t, invocation{}, args...)
			require.Equal(t, kubectlplugin.ExitOK, res.code, res.stderr)
			out := res.stdout
			if name == "list-all-namespaces" {
				out = onlyNamespaces(out, "NAMESPACE", app.DefaultNamespace, "team-b")
			}
			golden(t, name, out+res.stderr)
		})
	}
}

func TestGoldenDescribe(t *testing.T) {
	systemFixtures(t)
	for _, p := range []remediationv1.Phase{
		remediationv1.PhasePending, remediationv1.PhaseProcessing, remediationv1.PhaseAnalyzing,
		remediationv1.PhaseAwaitingApproval, remediationv1.PhasePlanning, remediationv1.PhaseExecuting,
		remediationv1.PhaseVerifying, remediationv1.PhaseCompleted, remediationv1.PhaseFailed,
		remediationv1.PhaseTimedOut, remediationv1.PhaseBlocked, remediationv1.PhaseSkipped,
	} {
		name := "rr-" + strings.ToLower(string(p))
		t.Run(string(p), func(t *testing.T) {
			res := run(t, invocation{}, "describe", name)
			require.Equal(t, kubectlplugin.ExitOK, res.code, res.stderr)
			golden(t, "describe-"+strings.ToLower(string(p)), res.stdout)
		})
	}
}

func TestStructuredOutput(t *testing.T) {
	systemFixtures(t)
	t.Run("list -o json is a RemediationRequestList", func(t *testing.T) {
		res := run(t, invocation{}, "list", "-o", "json", "--phase", "Executing")
		require.Equal(t, kubectlplugin.ExitOK, res.code, res.stderr)
		var list remediationv1.RemediationRequestList
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &list))
		assert.Equal(t, "RemediationRequestList", list.Kind)
		require.Len(t, list.Items, 1)
		assert.Equal(t, "rr-executing", list.Items[0].Name)
		assert.Empty(t, list.Items[0].ManagedFields)
	})
	t.Run("describe -o yaml carries the request, its children and the timeline", func(t *testing.T) {
		res := run(t, invocation{}, "describe", "rr-completed", "-o", "yaml")
		require.Equal(t, kubectlplugin.ExitOK, res.code, res.stderr)
		var r kubectlplugin.Remediation
		require.NoError(t, yaml.Unmarshal([]byte(res.stdout), &r))
		require.NotNil(t, r.Request)
		assert.Equal(t, remediationv1.PhaseCompleted, r.Request.Status.OverallPhase)
		for what, present := range map[string]bool{
			"processing": r.Processing != nil, "analysis": r.Analysis != nil, "approval": r.Approval != nil,
			"workflow": r.Workflow != nil, "execution": r.Execution != nil,
		} {
			assert.True(t, present, what)
		}
		assert.Len(t, r.Notifications, 2)
		phases := make([]string, 0, len(r.Timeline))
		for _, e := range r.Timeline {
			phases = append(phases, e.Phase)
		}
		assert.Equal(t, []string{"Received", "Processing", "Analyzing", "AwaitingApproval", "Planning", "Executing", "Verifying", "Completed"}, phases)
	})
}

// onlyNamespaces keeps the rows of a table that begin with one of prefixes, re-aligned: other
// tests of the package create requests in their own namespaces of the same API server.
func onlyNamespaces(table string, prefixes ...string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 6, 4, 3, ' ', 0)
	cells := regexp.MustCompile(` {2,}`)
	for _, line := range strings.Split(table, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p+" ") {
				fmt.Fprintln(w, strings.Join(cells.Split(strings.TrimSpace(line), -1), "\t"))
				break
			}
		}
	}
	_ = w.Flush()
	return b.String()
}
