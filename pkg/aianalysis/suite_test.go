package aianalysis_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

const (
	wait = 30 * time.Second
	tick = 50 * time.Millisecond
)

// harness is one test's namespace and running aianalysis controller (under its own RBAC).
type harness struct {
	t      testing.TB
	env    *testenv.Env
	c      client.Client
	ns     string
	r      *aianalysis.Reconciler
	cancel context.CancelFunc
	done   chan error
}

func newHarness(t testing.TB, env *testenv.Env, inv investigator.Investigator, mutate func(*aianalysis.Reconciler)) *harness {
	t.Helper()
	return startAIAnalysis(t, env, env.Namespace(t, nil), inv, mutate)
}

// startAIAnalysis runs the aianalysis controller for system namespace ns.
func startAIAnalysis(t testing.TB, env *testenv.Env, ns string, inv investigator.Investigator, mutate func(*aianalysis.Reconciler)) *harness {
	t.Helper()
	h := &harness{t: t, env: env, c: env.Client, ns: ns}
	cfg := env.AsService(t, "aianalysis", h.ns)
	cfg.QPS, cfg.Burst = 1000, 2000
	o := app.NewOptions(true)
	o.Namespace, o.MetricsBindAddress, o.HealthProbeBindAddress, o.LeaderElect = h.ns, "0", "0", false
	opts := o.ManagerOptions("aianalysis")
	aianalysis.CacheOptions(&opts.Cache, h.ns, aianalysis.DefaultPolicyConfigMap)
	skip := true
	opts.Controller.SkipNameValidation = &skip
	mgr, err := app.NewManager(cfg, opts)
	require.NoError(t, err)
	h.r = &aianalysis.Reconciler{
		Investigator: inv,
		Policy:       &aianalysis.PolicySource{Reader: mgr.GetClient(), Namespace: h.ns, Name: aianalysis.DefaultPolicyConfigMap},
		Defaults:     aiv1.HolmesGPTConfig{Model: "builtin-rules"},
	}
	if mutate != nil {
		mutate(h.r)
	}
	ctrllog.SetLogger(logr.Discard())
	require.NoError(t, h.r.SetupWithManager(t.Context(), mgr))
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- mgr.Start(ctx) }()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	select {
	case err := <-h.done:
		assert.NoError(h.t, err)
	case <-time.After(30 * time.Second):
		h.t.Error("the manager did not stop")
	}
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
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: aianalysis.DefaultPolicyConfigMap, Namespace: h.ns}, Data: map[string]string{aianalysis.PolicyKey: policy}}
	err := h.c.Create(context.Background(), cm)
	if apierrors.IsAlreadyExists(err) {
		err = h.c.Update(context.Background(), cm)
	}
	require.NoError(h.t, err)
}

func readyReason(a *aiv1.AIAnalysis) string {
	for _, c := range a.Status.Conditions {
		if c.Type == aiv1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}

// ---- approvals: the admission policy and a person ----

// installDecisionPolicy applies deploy/base/policies (the ValidatingAdmissionPolicy and its binding).
func installDecisionPolicy(t testing.TB, env *testenv.Env) {
	t.Helper()
	env.ApplyFile(t, filepath.Join(testenv.RepoRoot(), "deploy", "base", "policies", "aiapprovalrequest-decision.yaml"))
}

// asUser returns a client acting as user, who may read AIApprovalRequests and write their status.
func asUser(t testing.TB, env *testenv.Env, user string) client.Client {
	t.Helper()
	ctx := context.Background()
	name := "kubernaut-approver-" + user
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{aiv1.GroupVersion.Group}, Resources: []string{"aiapprovalrequests"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{aiv1.GroupVersion.Group}, Resources: []string{"aiapprovalrequests/status"}, Verbs: []string{"get", "patch", "update"}},
	}}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
	for _, o := range []client.Object{cr, crb} {
		if err := env.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			require.NoError(t, err)
		}
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(t, err)
	return c
}

// decide records decision as the user behind c, with decidedBy as given (the documented command
// fills it with `kubectl auth whoami`).
func decide(c client.Client, ns, name string, decision aiv1.Decision, decidedBy, message string) error {
	ar := &aiv1.AIApprovalRequest{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ar); err != nil {
		return err
	}
	patch := fmt.Sprintf(`{"status":{"decision":%q,"decidedBy":%q,"decidedAt":%q,"message":%q}}`, decision, decidedBy, time.Now().UTC().Format(time.RFC3339), message)
	return c.Status().Patch(context.Background(), ar, client.RawPatch("application/merge-patch+json", []byte(patch)))
}

// waitPolicyActive waits until the API server enforces the decision policy, probing with
// throw-away approval requests (a probe accepted before then is burned: a decision is final).
func waitPolicyActive(t testing.TB, env *testenv.Env, ns string, alice client.Client) {
	t.Helper()
	i := 0
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		i++
		probe := &aiv1.AIApprovalRequest{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("probe-%d", i), Namespace: ns}, Spec: aiv1.AIApprovalRequestSpec{
			AIAnalysisRef: common.ObjectReference{Name: "x", Namespace: ns}, RemediationRequestRef: common.ObjectReference{Name: "x", Namespace: ns},
			Recommendation: aiv1.Recommendation{ID: "r", Action: "notify_only", RiskLevel: aiv1.RiskLow}, Reason: "probe", RequiredBy: metav1.Now()}}
		if !assert.NoError(ct, env.Client.Create(context.Background(), probe)) {
			return
		}
		err := decide(alice, ns, probe.Name, aiv1.DecisionRejected, "mallory", "")
		assert.True(ct, apierrors.IsForbidden(err) || apierrors.IsInvalid(err), "the ValidatingAdmissionPolicy is not active yet (a forged decision got %v)", err)
	}, 20*time.Second, 100*time.Millisecond)
}

// runDecisionCommand runs the documented approve/reject command (notificationapi.DecisionCommand,
// the one the approval notification prints) with kubectl, authenticated as user.
func runDecisionCommand(t testing.TB, env *testenv.Env, user, ns, name, decision string) (string, error) {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: env.Config.CertData, ClientKeyData: env.Config.KeyData,
		Impersonate: user, ImpersonateGroups: []string{"system:authenticated"}}
	cfg.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: user}
	cfg.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	cmd := exec.Command("sh", "-c", notificationapi.DecisionCommand(ns, name, decision))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+path, "PATH="+filepath.Dir(kubectl)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}
