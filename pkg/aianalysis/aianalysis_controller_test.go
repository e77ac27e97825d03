package aianalysis_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/apistandin"
	testfixture "github.com/kubernaut/kubernaut/internal/testutil/fixture"
	"github.com/kubernaut/kubernaut/internal/testutil/llmstandin"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/llm"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

// inStaging moves a signal to staging, which the default policy does not gate: the tests of other
// approval rules run there (production's gate has its own tests).
func inStaging(s aiv1.SignalContext) aiv1.SignalContext {
	s.Environment = "staging"
	return s
}

// oomSignal is an OOMKilled Deployment shop/web as processing describes it.
var oomSignal = testfixture.OOMSignal

func healthySignal() aiv1.SignalContext {
	s := oomSignal()
	s.SignalName, s.NamedTarget = "HighRequestLatency", nil
	s.SignalLabels = map[string]string{"alertname": "HighRequestLatency", "job": "web", "namespace": "shop", "service": "web", "severity": "warning"}
	c := &s.KubernetesContext.Pods[0].Containers[0]
	c.RestartCount, c.LastTerminationReason, c.LastExitCode, c.LastTerminatedAt, c.Ready = 0, "", nil, nil, true
	return s
}

func TestController(t *testing.T) {
	env := testenv.Start(t)
	installDecisionPolicy(t, env)
	alice := asUser(t, env, "alice")

	t.Run("auto-approved: builtin OOMKilled recommendation completes without a person", func(t *testing.T) {
		h := newHarness(t, env, investigator.NewBuiltin(), nil)
		h.createAnalysis("oom", inStaging(oomSignal()), false)
		a := h.waitPhase("oom", aiv1.PhaseCompleted)
		assert.Equal(t, aiv1.ReasonAnalyzed, readyReason(a))
		assert.Equal(t, aiv1.OutcomeActionRecommended, a.Status.Outcome)
		assert.Equal(t, "builtin", a.Status.Provider)
		require.NotNil(t, a.Spec.HolmesGPTConfig, "the controller fills spec.holmesGPTConfig")
		assert.Equal(t, "builtin-rules", a.Spec.HolmesGPTConfig.Model)
		require.Len(t, a.Status.Recommendations, 1)
		rec := a.Status.Recommendations[0]
		assert.Equal(t, "increase_resources", rec.Action)
		require.Len(t, rec.WorkflowSteps, 1)
		assert.Equal(t, &common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, rec.WorkflowSteps[0].Target)
		assert.Equal(t, "384Mi", rec.WorkflowSteps[0].Parameters["memoryLimit"])
		require.NotNil(t, a.Status.Approval)
		assert.False(t, a.Status.Approval.Required)
		assert.NotEmpty(t, a.Status.Evidence)
		assert.Equal(t, aiv1.RiskMedium, a.Status.RiskLevel)
		assert.NotNil(t, a.Status.CompletionTime)
		assert.Equal(t, a.Generation, a.Status.ObservedGeneration)
	})

	t.Run("manual review: a latency alert on healthy pods recommends nothing and says why", func(t *testing.T) {
		h := newHarness(t, env, investigator.NewBuiltin(), nil)
		h.createAnalysis("latency", healthySignal(), false)
		a := h.waitPhase("latency", aiv1.PhaseCompleted)
		assert.Equal(t, aiv1.ReasonManualReviewRequired, readyReason(a))
		assert.Equal(t, aiv1.OutcomeManualReviewRequired, a.Status.Outcome)
		assert.Empty(t, a.Status.Recommendations)
		assert.Contains(t, a.Status.ManualReviewReason, "HighRequestLatency")
	})

	t.Run("approval required (policy reloaded), then approved by alice", func(t *testing.T) {
		h := newHarness(t, env, investigator.NewBuiltin(), nil)
		waitPolicyActive(t, env, h.ns, alice)
		h.setPolicy("minConfidence: 0.95\n")
		// The policy applies as soon as the cache has it: retry new analyses until one waits.
		var name string
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			name = "oom-" + time.Now().Format("150405.000000")
			name = strings.ReplaceAll(name, ".", "-")
			h.createAnalysis(name, oomSignal(), false)
			assert.EventuallyWithT(c, func(c *assert.CollectT) {
				assert.Contains(c, []aiv1.Phase{aiv1.PhaseApproving, aiv1.PhaseCompleted}, h.get(name).Status.Phase)
			}, wait, tick)
			assert.Equal(c, aiv1.PhaseApproving, h.get(name).Status.Phase)
		}, wait, tick)
		a := h.get(name)
		assert.Equal(t, aiv1.ReasonAwaitingDecision, readyReason(a))
		require.NotNil(t, a.Status.Approval)
		assert.True(t, a.Status.Approval.Required)
		assert.Contains(t, a.Status.Approval.Reason, "confidence 0.90 is below 0.95")
		ar := h.approvalRequest(name)
		assert.Equal(t, a.Status.Approval.ApprovalRequestRef.Name, ar.Name)
		require.Len(t, ar.OwnerReferences, 1)
		assert.Equal(t, a.UID, ar.OwnerReferences[0].UID)
		assert.WithinDuration(t, time.Now().Add(15*time.Minute), ar.Spec.RequiredBy.Time, time.Minute)
		assert.Equal(t, "increase_resources", ar.Spec.Recommendation.Action)

		out, err := runDecisionCommand(t, env, "alice", h.ns, ar.Name, notificationapi.DecisionApproved)
		require.NoError(t, err, "the documented command: %s", out)
		a = h.waitPhase(name, aiv1.PhaseCompleted)
		assert.Equal(t, aiv1.ReasonApproved, readyReason(a))
		assert.Equal(t, aiv1.DecisionApproved, a.Status.Approval.Decision)
		assert.Equal(t, "alice", a.Status.Approval.DecidedBy)
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Equal(c, aiv1.ApprovalPhaseApproved, h.approvalRequest(name).Status.Phase)
		}, wait, tick)
	})

	t.Run("a policy change applies to the next analysis", func(t *testing.T) {
		h := newHarness(t, env, investigator.NewBuiltin(), nil)
		h.setPolicy("minConfidence: 0.95\n")
		h.createAnalysis("first", inStaging(oomSignal()), false)
		h.waitPhase("first", aiv1.PhaseApproving)
		h.setPolicy("minConfidence: 0.5\nrequireApprovalForActions: []\n")
		var last string
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			last = strings.ReplaceAll("next-"+time.Now().Format("150405.000000"), ".", "-")
			h.createAnalysis(last, inStaging(oomSignal()), false)
			assert.EventuallyWithT(c, func(c *assert.CollectT) {
				assert.Contains(c, []aiv1.Phase{aiv1.PhaseApproving, aiv1.PhaseCompleted}, h.get(last).Status.Phase)
			}, wait, tick)
			assert.Equal(c, aiv1.PhaseCompleted, h.get(last).Status.Phase)
		}, wait, tick)
		assert.False(t, h.get(last).Status.Approval.Required)
		assert.Equal(t, aiv1.PhaseApproving, h.get("first").Status.Phase, "a pending approval keeps waiting")
	})

	t.Run("rejected by alice", func(t *testing.T) {
		h := newHarness(t, env, investigator.NewBuiltin(), nil)
		h.setPolicy("minConfidence: 0.95\n")
		waitPolicyActive(t, env, h.ns, alice)
		h.createAnalysis("oom", oomSignal(), false)
		h.waitPhase("oom", aiv1.PhaseApproving)
		require.NoError(t, decide(alice, h.ns, aianalysis.ApprovalRequestName("oom"), aiv1.DecisionRejected, "alice", "not during the sale"))
		a := h.waitPhase("oom", aiv1.PhaseRejected)
		assert.Equal(t, aiv1.ReasonRejected, readyReason(a))
		assert.Equal(t, "alice", a.Status.Approval.DecidedBy)
		assert.Contains(t, a.Status.Message, "not during the sale")
	})

	t.Run("expired: no decision before requiredBy", func(t *testing.T) {
		h := newHarness(t, env, investigator.NewBuiltin(), nil)
		h.setPolicy("minConfidence: 0.95\napprovalTimeout: 2s\n")
		waitPolicyActive(t, env, h.ns, alice)
		h.createAnalysis("oom", oomSignal(), false)
		a := h.waitPhase("oom", aiv1.PhaseRejected)
		assert.Equal(t, aiv1.ReasonApprovalExpired, readyReason(a))
		assert.Equal(t, aiv1.DecisionExpired, a.Status.Approval.Decision)
		ar := h.approvalRequest("oom")
		assert.Equal(t, aiv1.DecisionExpired, ar.Status.Decision)
		assert.Equal(t, "system:serviceaccount:"+h.ns+":kubernaut-aianalysis", ar.Status.DecidedBy, "expiry is recorded under the service's own identity")
	})

	t.Run("forged decidedBy is refused by the API server", func(t *testing.T) {
		h := newHarness(t, env, investigator.NewBuiltin(), nil)
		h.setPolicy("minConfidence: 0.95\n")
		waitPolicyActive(t, env, h.ns, alice)
		h.createAnalysis("oom", oomSignal(), false)
		h.waitPhase("oom", aiv1.PhaseApproving)
		name := aianalysis.ApprovalRequestName("oom")
		err := decide(alice, h.ns, name, aiv1.DecisionApproved, "bob", "")
		require.Error(t, err)
		assert.True(t, apierrors.IsForbidden(err) || apierrors.IsInvalid(err), err.Error())
		assert.Contains(t, err.Error(), "status.decidedBy must be the authenticated user")
		err = decide(alice, h.ns, name, aiv1.DecisionApproved, "", "")
		require.Error(t, err, "a decision without decidedBy is refused too")
		err = decide(alice, h.ns, name, aiv1.DecisionExpired, "alice", "")
		require.Error(t, err, "only the service records an expiry")
		assert.Equal(t, aiv1.PhaseApproving, h.get("oom").Status.Phase, "nothing was decided")
		require.NoError(t, decide(alice, h.ns, name, aiv1.DecisionApproved, "alice", ""))
		a := h.waitPhase("oom", aiv1.PhaseCompleted)
		assert.Equal(t, "alice", a.Status.Approval.DecidedBy)
		err = decide(asUser(t, env, "bob"), h.ns, name, aiv1.DecisionApproved, "bob", "")
		require.Error(t, err, "bob cannot take over a recorded decision")
	})

	t.Run("provider errors are retried with backoff, then the analysis fails", func(t *testing.T) {
		srv := llmstandin.New(t, llmstandin.OpenAI, "sk-test")
		srv.FailNext(http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable)
		inv := llm.NewOpenAI(srv.BaseURL(), llm.Options{Model: "gpt-test", APIKey: func() (string, error) { return "sk-test", nil },
			Retries: 3, Backoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Timeout: 10 * time.Second})
		h := newHarness(t, env, inv, nil)
		h.createAnalysis("oom", oomSignal(), false)
		a := h.waitPhase("oom", aiv1.PhaseFailed)
		assert.Equal(t, aiv1.ReasonProviderFailed, readyReason(a))
		assert.Contains(t, a.Status.Message, "after 4 attempts")
		assert.Contains(t, a.Status.Message, "HTTP 503")
		assert.Equal(t, 4, srv.Attempts())
		assert.Empty(t, srv.Rejected())
	})

	t.Run("history: past success rates adjust confidence and are cited", func(t *testing.T) {
		svc := apistandin.New(t)
		svc.Eff["increase_resources"] = auditapi.Effectiveness{Total: 10, Successful: 5, SuccessRate: 0.5}
		h := newHarness(t, env, investigator.NewBuiltin(), func(r *aianalysis.Reconciler) { r.History = auditapi.NewClient(svc.Srv.URL, "") })
		h.createAnalysis("oom", inStaging(oomSignal()), true)
		a := h.waitPhase("oom", aiv1.PhaseApproving)
		rec := a.Status.Recommendations[0]
		require.NotNil(t, rec.HistoricalSuccessRate)
		assert.InDelta(t, 0.5, *rec.HistoricalSuccessRate, 1e-9)
		assert.InDelta(t, 0.78, rec.Confidence, 1e-9, "0.7 × 0.9 + 0.3 × 0.5")
		assert.Contains(t, strings.Join(a.Status.Evidence, "\n"), "increase_resources succeeded in 5 of 10 past remediations of KubePodOOMKilled")
		assert.Contains(t, a.Status.Approval.Reason, "confidence 0.78 is below 0.80")
	})

	t.Run("history: datastorage unreachable → analysed without it, and said so", func(t *testing.T) {
		svc := apistandin.New(t)
		svc.Srv.Close()
		h := newHarness(t, env, investigator.NewBuiltin(), func(r *aianalysis.Reconciler) { r.History = auditapi.NewClient(svc.Srv.URL, "") })
		h.createAnalysis("oom", inStaging(oomSignal()), true)
		a := h.waitPhase("oom", aiv1.PhaseCompleted)
		assert.InDelta(t, 0.9, a.Status.Recommendations[0].Confidence, 1e-9)
		assert.Contains(t, strings.Join(a.Status.Evidence, "\n"), "historical success rates unavailable (datastorage unreachable")
	})

	t.Run("openai: a refused answer is recorded in status and metrics, then manual review", func(t *testing.T) {
		srv := llmstandin.New(t, llmstandin.OpenAI, "sk-test")
		srv.Answer(func(llmstandin.Received) llmstandin.Reply {
			return llmstandin.Reply{Content: `{"outcome":"action_recommended","rootCause":"r","summary":"s","evidence":[],"confidence":0.99,"manualReviewReason":"","recommendations":[{"action":"rollout_restart","description":"d","rationale":"r","confidence":0.99,"riskLevel":"low","steps":[{"name":"restart","action":"rollout_restart","target":{"apiVersion":"apps/v1","kind":"Deployment","namespace":"kube-system","name":"coredns"},"parameters":[],"dependsOn":[]}]}]}`,
				PromptTokens: 1000, CompletionTokens: 100}
		})
		before := counter(t, "kubernaut_aianalysis_guardrail_refusals_total", "TargetOtherNamespace")
		inv := llm.NewOpenAI(srv.BaseURL(), llm.Options{Model: "gpt-test", APIKey: func() (string, error) { return "sk-test", nil }})
		h := newHarness(t, env, inv, nil)
		h.createAnalysis("oom", oomSignal(), false)
		a := h.waitPhase("oom", aiv1.PhaseCompleted)
		assert.Equal(t, aiv1.ReasonManualReviewRequired, readyReason(a))
		assert.Equal(t, "openai", a.Status.Provider)
		require.Len(t, a.Status.Refusals, 2)
		for i, r := range a.Status.Refusals {
			assert.Equal(t, aiv1.RefusalTargetOtherNamespace, r.Reason)
			assert.EqualValues(t, i+1, r.Attempt)
			assert.Equal(t, "Deployment/kube-system/coredns", r.Target)
		}
		assert.EqualValues(t, 2200, a.Status.TokensUsed)
		assert.Contains(t, a.Status.ManualReviewReason, "TargetOtherNamespace")
		assert.Equal(t, before+2, counter(t, "kubernaut_aianalysis_guardrail_refusals_total", "TargetOtherNamespace"))
		require.NotNil(t, a.Spec.HolmesGPTConfig)
	})

	t.Run("holmesgpt: an accepted recommendation still needs a person (LLM provider policy)", func(t *testing.T) {
		srv := llmstandin.New(t, llmstandin.HolmesGPT, "")
		srv.Answer(func(llmstandin.Received) llmstandin.Reply {
			return llmstandin.Reply{Content: `{"outcome":"action_recommended","rootCause":"memory limit too low","summary":"s","evidence":["OOMKilled x4"],"confidence":0.95,"manualReviewReason":"","recommendations":[{"action":"increase_resources","description":"d","rationale":"r","confidence":0.95,"riskLevel":"medium","steps":[{"name":"raise","action":"increase_resources","target":{"apiVersion":"apps/v1","kind":"Deployment","namespace":"shop","name":"web"},"parameters":[{"name":"memory","value":"512Mi"}],"dependsOn":[]}]}]}`}
		})
		h := newHarness(t, env, llm.NewHolmesGPT(srv.BaseURL(), llm.Options{}), nil)
		h.createAnalysis("oom", oomSignal(), false)
		a := h.waitPhase("oom", aiv1.PhaseApproving)
		assert.Contains(t, a.Status.Approval.Reason, "recommendations of the holmesgpt provider require approval")
		assert.Empty(t, srv.Rejected())
		assert.Len(t, srv.Received(), 1, "one investigation per analysis, whatever the cache shows")
	})
}

// counter reads a counter of the controller-runtime registry with one label value.
func counter(t *testing.T, name, label string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
