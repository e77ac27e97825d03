package integration_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/approval"
	"github.com/kubernaut/kubernaut/internal/testutil/plugintest"
	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
)

// TestDecisionsReachTheAIAnalysisController feeds the plugin's real decisions to the real
// aianalysis controller: the plugin finds the approval request the controller created (by the
// controller's reference), the admission policy accepts its decidedBy, and the controller
// completes or rejects the analysis with the person's identity.
func TestDecisionsReachTheAIAnalysisController(t *testing.T) {
	installDecisionPolicy(t)
	ns := env.Namespace(t, nil)
	plugintest.StartAIAnalysis(t, env, ns)
	ctx := context.Background()
	alice := plugintest.AsUser(t, env, ns, "alice", plugintest.ApproverRules)

	cases := map[string]struct {
		args     []string
		decision aiv1.Decision
		phase    aiv1.Phase
	}{
		"approve": {args: []string{"approve", "--reason", "limit is too low"}, decision: aiv1.DecisionApproved, phase: aiv1.PhaseCompleted},
		"reject":  {args: []string{"reject", "--reason", "not during the sale"}, decision: aiv1.DecisionRejected, phase: aiv1.PhaseRejected},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rrName := "rr-live-" + name
			rr, aia := plugintest.OOMAnalysis(ns, rrName)
			plugintest.CreateWithStatus(t, env, ctx, env.Client, rr)
			require.NoError(t, env.Client.Create(ctx, aia))
			assert.EventuallyWithT(t, func(ct *assert.CollectT) {
				var got aiv1.AIAnalysis
				assert.NoError(ct, env.Client.Get(ctx, client.ObjectKeyFromObject(aia), &got))
				assert.Equal(ct, aiv1.PhaseApproving, got.Status.Phase)
			}, 30*time.Second, 50*time.Millisecond)

			desc := plugintest.Run(t, plugintest.Invocation{Cfg: alice, Now: time.Now, Ctx: ctx}, "describe", rrName, "-n", ns)
			require.Equal(t, kubectlplugin.ExitOK, desc.Code, "%v", desc.Err)
			assert.Contains(t, desc.Stdout, "Decision:      pending: kubectl kubernaut approve "+rrName)
			assert.Contains(t, desc.Stdout, "increase_resources")

			args := append([]string{tc.args[0], rrName, "-n", ns}, tc.args[1:]...)
			res := plugintest.Run(t, plugintest.Invocation{Cfg: alice, Now: time.Now, Ctx: ctx}, args...)
			require.Equal(t, kubectlplugin.ExitOK, res.Code, "%v", res.Err)

			assert.EventuallyWithT(t, func(ct *assert.CollectT) {
				var got aiv1.AIAnalysis
				if !assert.NoError(ct, env.Client.Get(ctx, client.ObjectKeyFromObject(aia), &got)) {
					return
				}
				assert.Equal(ct, tc.phase, got.Status.Phase)
				if assert.NotNil(ct, got.Status.Approval) {
					assert.Equal(ct, tc.decision, got.Status.Approval.Decision)
					assert.Equal(ct, "alice", got.Status.Approval.DecidedBy)
				}
			}, 30*time.Second, 50*time.Millisecond)

			again := plugintest.Run(t, plugintest.Invocation{Cfg: alice, Now: time.Now, Ctx: ctx}, args...)
			assert.Equal(t, kubectlplugin.ExitNotPending, again.Code, "%v", again.Err)
		})
	}
}

// installDecisionPolicy installs deploy/base/policies' decision policy in the package's API
// server and waits until it refuses a forged decision.
func installDecisionPolicy(t *testing.T) {
	t.Helper()
	approval.InstallDecisionPolicy(t, env)
	approval.WaitPolicyActive(t, env, env.Namespace(t, nil), approval.AsUser(t, env, "policy-prober"))
}
