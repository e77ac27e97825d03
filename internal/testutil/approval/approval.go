// Package approval plays the person side of an AIAnalysis approval in a test's API server: the
// shipped ValidatingAdmissionPolicy that lets only people decide, a person's client, her
// decision, and the decision command the approval notification prints, run with kubectl.
package approval

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

// InstallDecisionPolicy applies deploy/base/policies (the ValidatingAdmissionPolicy and its binding).
func InstallDecisionPolicy(t testing.TB, env *testenv.Env) {
	t.Helper()
	env.ApplyFile(t, filepath.Join(testenv.RepoRoot(), "deploy", "base", "policies", "aiapprovalrequest-decision.yaml"))
}

// AsUser returns a client acting as user, who may read AIApprovalRequests and write their status.
func AsUser(t testing.TB, env *testenv.Env, user string) client.Client {
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

// Decide records decision as the user behind c, with decidedBy as given (the documented command
// fills it with `kubectl auth whoami`).
func Decide(c client.Client, ns, name string, decision aiv1.Decision, decidedBy, message string) error {
	ar := &aiv1.AIApprovalRequest{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ar); err != nil {
		return err
	}
	patch := fmt.Sprintf(`{"status":{"decision":%q,"decidedBy":%q,"decidedAt":%q,"message":%q}}`, decision, decidedBy, time.Now().UTC().Format(time.RFC3339), message)
	return c.Status().Patch(context.Background(), ar, client.RawPatch("application/merge-patch+json", []byte(patch)))
}

// WaitPolicyActive waits until the API server enforces the decision policy, probing with
// throw-away approval requests (a probe accepted before then is burned: a decision is final).
func WaitPolicyActive(t testing.TB, env *testenv.Env, ns string, alice client.Client) {
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
		err := Decide(alice, ns, probe.Name, aiv1.DecisionRejected, "mallory", "")
		assert.True(ct, apierrors.IsForbidden(err) || apierrors.IsInvalid(err), "the ValidatingAdmissionPolicy is not active yet (a forged decision got %v)", err)
	}, 20*time.Second, 100*time.Millisecond)
}

// RunDecisionCommand runs the documented approve/reject command (notificationapi.DecisionCommand,
// the one the approval notification prints) with kubectl, authenticated as user.
func RunDecisionCommand(t testing.TB, env *testenv.Env, user, ns, name, decision string) (string, error) {
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
