// Package binaries starts each of the eight service binaries against a real API server and
// checks that it serves /healthz, /readyz and /metrics, and exits 0 on SIGTERM.
package binaries

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kubernaut/kubernaut/pkg/shared/testenv"
	"github.com/kubernaut/kubernaut/pkg/shared/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// extraArgs are the service-specific flags a smoke run needs.
var extraArgs = map[string]func(t *testing.T) []string{
	"gateway":      func(t *testing.T) []string { return []string{"--auth-mode=none", "--http-bind-address=" + freeAddr(t)} },
	"notification": func(t *testing.T) []string { return []string{"--auth-mode=none", "--http-bind-address=" + freeAddr(t)} },
	"datastorage": func(t *testing.T) []string {
		return []string{"--auth-mode=none", "--http-bind-address=" + freeAddr(t), "--database-url=" + testpg.Start(t)}
	},
	"orchestrator": nil, "processing": nil, "aianalysis": nil, "workflow": nil, "executor": nil,
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func TestBinariesStartServeAndStop(t *testing.T) {
	env := testenv.Start(t)
	user, err := env.Environment.AddUser(envtest.User{Name: "smoke-admin", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	kubeconfig, err := user.KubeConfig()
	require.NoError(t, err)
	dir := t.TempDir()
	kcPath := filepath.Join(dir, "kubeconfig")
	require.NoError(t, os.WriteFile(kcPath, kubeconfig, 0o600))

	services := make([]string, 0, len(extraArgs))
	for s := range extraArgs {
		services = append(services, s)
	}
	build := exec.Command("go", append([]string{"build", "-o", dir + "/"}, prefixed("github.com/kubernaut/kubernaut/cmd/", services)...)...)
	build.Dir = testenv.RepoRoot()
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	for service, extra := range extraArgs {
		t.Run(service, func(t *testing.T) {
			ns := env.Namespace(t, nil)
			metrics, probes := freeAddr(t), freeAddr(t)
			args := []string{"--kubeconfig=" + kcPath, "--namespace=" + ns, "--metrics-bind-address=" + metrics,
				"--health-probe-bind-address=" + probes, "--log-format=console"}
			if extra != nil {
				args = append(args, extra(t)...)
			}
			help, err := exec.Command(filepath.Join(dir, service), "--help").CombinedOutput()
			require.NoError(t, err)
			for _, flag := range []string{"--kubeconfig", "--namespace", "--metrics-bind-address", "--health-probe-bind-address", "--log-level", "--log-format"} {
				assert.Contains(t, string(help), flag)
			}

			var logs bytes.Buffer
			cmd := exec.Command(filepath.Join(dir, service), args...)
			cmd.Stdout, cmd.Stderr = &logs, &logs
			require.NoError(t, cmd.Start())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() { _ = cmd.Process.Kill() })

			assert.EventuallyWithT(t, func(c *assert.CollectT) {
				for _, url := range []string{"http://" + probes + "/healthz", "http://" + probes + "/readyz", "http://" + metrics + "/metrics"} {
					resp, err := http.Get(url)
					if !assert.NoError(c, err) {
						return
					}
					resp.Body.Close()
					assert.Equal(c, http.StatusOK, resp.StatusCode, url)
				}
			}, 60*time.Second, 200*time.Millisecond, "service did not become healthy; logs:\n%s", &logs)

			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			select {
			case err := <-done:
				assert.NoError(t, err, "exit after SIGTERM; logs:\n%s", logs.String())
			case <-time.After(60 * time.Second):
				t.Fatalf("%s did not exit after SIGTERM; logs:\n%s", service, logs.String())
			}
		})
	}
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}
