package kubectlplugin_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
)

// TestKubeconfigFlags runs the command as a user would: the connection comes from --kubeconfig
// and --context (k8s.io/cli-runtime), and --as impersonates, which decidedBy follows.
func TestKubeconfigFlags(t *testing.T) {
	applyDecisionPolicy(t)
	ns := env.Namespace(t, nil)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: env.Config.CertData, ClientKeyData: env.Config.KeyData}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: "default"}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*kc, path))

	ar := pendingApprovalFixture(t, ns, "rr-kubeconfig", time.Now().Add(15*time.Minute))
	asUser(t, ns, "erin", approverRules)

	exec := func(args ...string) (string, int) {
		var out, errOut bytes.Buffer
		o := kubectlplugin.NewOptions(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
		cmd := kubectlplugin.NewCommand(o)
		cmd.SetArgs(append([]string{"--kubeconfig", path, "--context", "envtest"}, args...))
		err := cmd.ExecuteContext(context.Background())
		if err != nil {
			errOut.WriteString(err.Error())
		}
		return out.String() + errOut.String(), kubectlplugin.ExitCode(err)
	}

	out, code := exec("list", "-n", ns)
	require.Equal(t, kubectlplugin.ExitOK, code, out)
	assert.Contains(t, out, "rr-kubeconfig")
	assert.Contains(t, out, string(remediationv1.PhaseAwaitingApproval))

	// The context's namespace (default) is not the system namespace: without -n the plugin
	// looks in kubernaut-system.
	out, code = exec("describe", "rr-kubeconfig")
	assert.Equal(t, kubectlplugin.ExitNotFound, code, out)
	assert.Contains(t, out, "kubernaut-system")

	out, code = exec("approve", "rr-kubeconfig", "-n", ns, "--as", "erin", "--as-group", "system:authenticated")
	require.Equal(t, kubectlplugin.ExitOK, code, out)
	assert.Equal(t, aiv1.DecisionApproved, snap(t, ar).ar.Status.Decision)
	assert.Equal(t, "erin", snap(t, ar).ar.Status.DecidedBy, "decidedBy is the impersonated user the API server authenticated")
}
