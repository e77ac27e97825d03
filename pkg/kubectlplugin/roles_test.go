package kubectlplugin_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
)

// TestShippedRoles runs the plugin as people bound, by a ClusterRoleBinding to their group as
// docs/deploying.md shows, to nothing but the ClusterRoles deploy/base ships for them
// (rbac/approver.yaml, rbac/viewer.yaml), with the decision admission policy installed: both
// follow a remediation with list, describe (every child readable) and the watch describe --watch
// opens; only the approver may decide, and the decision is the status patch alone.
func TestShippedRoles(t *testing.T) {
	applyDecisionPolicy(t)
	ctx := context.Background()
	for _, f := range []string{"base/rbac/approver.yaml", "base/rbac/viewer.yaml"} {
		env.ApplyFile(t, testenv.DeployFile(f))
	}
	ns := env.Namespace(t, nil)
	member := func(user, role string) *rest.Config {
		group := role + "s-" + ns // e.g. kubernaut-approvers-<ns>
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: group},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: group}},
		}
		require.NoError(t, env.Client.Create(ctx, crb))
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), crb) })
		cfg := rest.CopyConfig(env.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{group, "system:authenticated"}}
		return cfg
	}
	alice, victor := member("alice", "kubernaut-approver"), member("victor", "kubernaut-viewer")

	phaseFixtures(ns).create(t, env.Client) // rr-completed has every kind of child
	ar := pendingApprovalFixture(t, ns, "rr-shipped", time.Now().Add(15*time.Minute))

	for user, cfg := range map[string]*rest.Config{"alice (approver)": alice, "victor (viewer)": victor} {
		t.Run(user+" follows remediations", func(t *testing.T) {
			assert.EventuallyWithT(t, func(c *assert.CollectT) { // the RBAC authorizer sees new bindings shortly
				res := run(t, invocation{cfg: cfg}, "list", "-n", ns)
				if assert.Equal(c, kubectlplugin.ExitOK, res.code, "%v", res.err) {
					assert.Contains(c, res.stdout, "rr-completed")
					assert.Contains(c, res.stdout, "rr-shipped")
				}
			}, 10*time.Second, 100*time.Millisecond)

			res := run(t, invocation{cfg: cfg}, "describe", "rr-completed", "-n", ns, "-o", "json")
			require.Equal(t, kubectlplugin.ExitOK, res.code, "%v", res.err)
			var r kubectlplugin.Remediation
			require.NoError(t, json.Unmarshal([]byte(res.stdout), &r))
			assert.Empty(t, r.Warnings, "every child is readable")
			assert.NotNil(t, r.Processing)
			assert.NotNil(t, r.Analysis)
			assert.NotNil(t, r.Approval)
			assert.NotNil(t, r.Workflow)
			assert.NotNil(t, r.Execution)
			assert.Len(t, r.Notifications, 2)

			// describe --watch watches the request by name (and falls back to polling when
			// refused, so the call is checked directly).
			wc, err := client.NewWithWatch(cfg, client.Options{Scheme: env.Client.Scheme()})
			require.NoError(t, err)
			w, err := wc.Watch(ctx, &remediationv1.RemediationRequestList{}, client.InNamespace(ns), client.MatchingFields{"metadata.name": "rr-shipped"})
			require.NoError(t, err, "describe --watch's watch")
			w.Stop()
		})
	}

	t.Run("the viewer may not decide", func(t *testing.T) {
		before := snap(t, ar)
		for _, verb := range []string{"approve", "reject"} {
			res := run(t, invocation{cfg: victor, now: time.Now}, verb, "rr-shipped", "-n", ns, "--reason", "looks fine")
			assert.Equal(t, kubectlplugin.ExitForbidden, res.code, "%s: %v", verb, res.err)
			if assert.Error(t, res.err) {
				assert.Contains(t, res.err.Error(), "forbidden", verb)
			}
		}
		assert.Equal(t, before.ar.ResourceVersion, snap(t, ar).ar.ResourceVersion, "a refused decision changes nothing")
	})

	t.Run("the approver decides, on the status only", func(t *testing.T) {
		c := asUserClient(t, alice)
		var cur aiv1.AIApprovalRequest
		require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(ar), &cur))
		orig := cur.DeepCopy()
		cur.Labels = map[string]string{"edited": "true"}
		assert.True(t, apierrors.IsForbidden(c.Patch(ctx, &cur, client.MergeFrom(orig))), "the approver may not change the AIApprovalRequest itself")

		before := snap(t, ar)
		res := run(t, invocation{cfg: alice, now: time.Now}, "approve", "rr-shipped", "-n", ns, "--reason", "checked the dashboard")
		require.Equal(t, kubectlplugin.ExitOK, res.code, "%v %s", res.err, res.stderr)
		after := snap(t, ar)
		assert.Equal(t, aiv1.DecisionApproved, after.ar.Status.Decision)
		assert.Equal(t, "alice", after.ar.Status.DecidedBy)
		assertOnlyDecisionChanged(t, before, after)
	})
}
