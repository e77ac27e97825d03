package aianalysis_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/approval"
	testchain "github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/internal/testutil/services"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
)

const (
	wait = 30 * time.Second
	tick = 50 * time.Millisecond
)

// harness is one test's namespace and running aianalysis controller (under its own RBAC).
type harness struct {
	t   testing.TB
	env *testenv.Env
	c   client.Client
	ns  string
	r   *aianalysis.Reconciler
}

func newHarness(t testing.TB, env *testenv.Env, inv investigator.Investigator, mutate func(*aianalysis.Reconciler)) *harness {
	t.Helper()
	return startAIAnalysis(t, env, env.Namespace(t, nil), inv, mutate)
}

// startAIAnalysis runs the aianalysis controller for system namespace ns.
func startAIAnalysis(t testing.TB, env *testenv.Env, ns string, inv investigator.Investigator, mutate func(*aianalysis.Reconciler)) *harness {
	t.Helper()
	h := &harness{t: t, env: env, c: env.Client, ns: ns}
	h.r = services.AIAnalysis(t, env, ns, func(r *aianalysis.Reconciler) {
		r.Investigator, r.Defaults = inv, aiv1.HolmesGPTConfig{Model: "builtin-rules"}
		if mutate != nil {
			mutate(r)
		}
	})
	return h
}

// createAnalysis creates an AIAnalysis as the orchestrator does (pkg/orchestrator/children.go).
func (h *harness) createAnalysis(name string, sig aiv1.SignalContext, history bool) *aiv1.AIAnalysis {
	h.t.Helper()
	a := &aiv1.AIAnalysis{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns, Labels: map[string]string{"kubernaut.io/remediation-request": "rr-" + name}},
		Spec: aiv1.AIAnalysisSpec{
			RemediationRequestRef: common.ObjectReference{Name: "rr-" + name, Namespace: h.ns},
			AnalysisRequest: aiv1.AnalysisRequest{
				AlertContext:  sig,
				AnalysisTypes: []aiv1.AnalysisType{"investigation", "root-cause", "recovery-analysis"},
				InvestigationScope: aiv1.InvestigationScope{TimeWindow: "24h", CorrelationDepth: "detailed", IncludeHistoricalPatterns: history,
					ResourceScope: []aiv1.ResourceScopeItem{{Kind: sig.ResourceKind, Namespace: sig.Namespace, Name: sig.ResourceName}}},
			},
		},
	}
	require.NoError(h.t, h.c.Create(context.Background(), a))
	return a
}

func (h *harness) get(name string) *aiv1.AIAnalysis {
	a := &aiv1.AIAnalysis{}
	_ = h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, a)
	return a
}

func (h *harness) waitPhase(name string, phase aiv1.Phase) *aiv1.AIAnalysis {
	h.t.Helper()
	var a *aiv1.AIAnalysis
	ok := assert.EventuallyWithT(h.t, func(c *assert.CollectT) {
		a = h.get(name)
		assert.Equal(c, phase, a.Status.Phase)
	}, wait, tick, "analysis %s should reach %s", name, phase)
	if !ok {
		h.t.Logf("status: %+v", h.get(name).Status)
		h.t.FailNow()
	}
	return a
}

func (h *harness) approvalRequest(name string) *aiv1.AIApprovalRequest {
	h.t.Helper()
	ar := &aiv1.AIApprovalRequest{}
	require.NoError(h.t, h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: aianalysis.ApprovalRequestName(name)}, ar))
	return ar
}

// setPolicy creates or replaces the approval policy ConfigMap.
func (h *harness) setPolicy(policy string) {
	h.t.Helper()
	services.AIAnalysisPolicy(h.t, h.c, h.ns, policy)
}

// readyReason is the reason of the analysis's Ready condition.
var readyReason = testchain.ReadyReason

// The admission policy and a person (internal/testutil/approval).
var (
	installDecisionPolicy = approval.InstallDecisionPolicy
	asUser                = approval.AsUser
	decide                = approval.Decide
	waitPolicyActive      = approval.WaitPolicyActive
	runDecisionCommand    = approval.RunDecisionCommand
)
