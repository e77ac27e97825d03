package kubectlplugin_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// startAIAnalysis runs the real aianalysis controller (builtin investigator) for ns under its
// generated RBAC, with an approval policy that asks a person for every recommendation.
func startAIAnalysis(t *testing.T, ns string) {
	t.Helper()
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: aianalysis.DefaultPolicyConfigMap},
		Data:       map[string]string{aianalysis.PolicyKey: "minConfidence: 0.99\n"},
	}
	require.NoError(t, env.Client.Create(context.Background(), cm))
	cfg := env.AsService(t, "aianalysis", ns)
	o := app.NewOptions(true)
	o.Namespace, o.MetricsBindAddress, o.HealthProbeBindAddress, o.LeaderElect = ns, "0", "0", false
	opts := o.ManagerOptions("aianalysis")
	aianalysis.CacheOptions(&opts.Cache, ns, aianalysis.DefaultPolicyConfigMap)
	skip := true
	opts.Controller.SkipNameValidation = &skip
	mgr, err := app.NewManager(cfg, opts)
	require.NoError(t, err)
	r := &aianalysis.Reconciler{
		Investigator: investigator.NewBuiltin(),
		Policy:       &aianalysis.PolicySource{Reader: mgr.GetClient(), Namespace: ns, Name: aianalysis.DefaultPolicyConfigMap},
	}
	require.NoError(t, r.SetupWithManager(t.Context(), mgr))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// oomAnalysis is the AIAnalysis the orchestrator creates for an OOMKilled Deployment shop/web
// (times relative to now), and its RemediationRequest, which names it.
func oomAnalysis(ns, rrName string) (*remediationv1.RemediationRequest, *aiv1.AIAnalysis) {
	now := metav1.Now()
	ago := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(-d)); return &t }
	rr := request(ns, rrName, remediationv1.PhaseAnalyzing, offAnalyzing, 0)
	aia := &aiv1.AIAnalysis{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: rrName + "-analysis"},
		Spec: aiv1.AIAnalysisSpec{
			RemediationRequestRef: ref(ns, rrName),
			AnalysisRequest: aiv1.AnalysisRequest{AlertContext: aiv1.SignalContext{
				Fingerprint: rr.Spec.SignalFingerprint, SignalName: "KubePodOOMKilled", Severity: "critical", Environment: "production",
				BusinessPriority: "P0", Namespace: "shop", ResourceKind: "Deployment", ResourceName: "web",
				KubernetesContext: &common.KubernetesContext{
					CollectedAt: &now,
					OwnerChain:  []common.TargetResource{target()},
					Workload: &common.WorkloadSummary{Kind: "Deployment", Name: "web", Replicas: ptr.To[int32](2), ReadyReplicas: 1,
						Containers: []common.ContainerSpecSummary{{Name: "app", Image: "shop/web:1.4", Requests: map[string]string{"memory": "128Mi"}, Limits: map[string]string{"memory": "256Mi"}}}},
					Rollout: &common.RolloutHistory{Current: &common.RevisionSummary{Revision: 3, Name: "web-7d9f8", BecameCurrentAt: ago(30 * 24 * time.Hour)}},
					Pods: []common.PodSummary{{Name: "web-7d9f8-aaaaa", Phase: "Running", Owner: "ReplicaSet/web-7d9f8", NodeName: "node-a",
						Containers: []common.ContainerSummary{{Name: "app", RestartCount: 4, State: "Running", LastTerminationReason: "OOMKilled", LastExitCode: ptr.To[int32](137),
							LastTerminatedAt: ago(2 * time.Minute), Limits: map[string]string{"memory": "256Mi"}, Requests: map[string]string{"memory": "128Mi"}}}}},
				},
			}},
		},
	}
	rr.Status.AIAnalysisRef = ptr.To(ref(ns, aia.Name))
	return rr, aia
}

// TestDecisionsReachTheAIAnalysisController feeds the plugin's real decisions to the real
// aianalysis controller: the plugin finds the approval request the controller created (by the
// controller's reference), the admission policy accepts its decidedBy, and the controller
// completes or rejects the analysis with the person's identity.
func TestDecisionsReachTheAIAnalysisController(t *testing.T) {
	applyDecisionPolicy(t)
	ns := env.Namespace(t, nil)
	startAIAnalysis(t, ns)
	ctx := context.Background()
	alice := asUser(t, ns, "alice", approverRules)

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
			rr, aia := oomAnalysis(ns, rrName)
			(&world{objs: []client.Object{rr}}).create(t, env.Client)
			require.NoError(t, env.Client.Create(ctx, aia))
			assert.EventuallyWithT(t, func(ct *assert.CollectT) {
				var got aiv1.AIAnalysis
				assert.NoError(ct, env.Client.Get(ctx, client.ObjectKeyFromObject(aia), &got))
				assert.Equal(ct, aiv1.PhaseApproving, got.Status.Phase)
			}, 30*time.Second, 50*time.Millisecond)

			desc := run(t, invocation{cfg: alice, now: time.Now}, "describe", rrName, "-n", ns)
			require.Equal(t, kubectlplugin.ExitOK, desc.code, "%v", desc.err)
			assert.Contains(t, desc.stdout, "Decision:      pending: kubectl kubernaut approve "+rrName)
			assert.Contains(t, desc.stdout, "increase_resources")

			args := append([]string{tc.args[0], rrName, "-n", ns}, tc.args[1:]...)
			res := run(t, invocation{cfg: alice, now: time.Now}, args...)
			require.Equal(t, kubectlplugin.ExitOK, res.code, "%v", res.err)

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

			again := run(t, invocation{cfg: alice, now: time.Now}, args...)
			assert.Equal(t, kubectlplugin.ExitNotPending, again.code, "%v", again.err)
		})
	}
}
