package launcher

import (
	"bufio"
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line over c and reads the answer.
func roundTrip(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	_, err := bufio.NewReader(c).ReadString('\n')
	return err
}

func TestProxyCutAndRestore(t *testing.T) {
	p, err := NewProxy(echoServer(t))
	require.NoError(t, err)
	defer p.Close()

	open, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer open.Close()
	require.NoError(t, roundTrip(open), "forwarding")

	p.Cut()
	assert.Error(t, roundTrip(open), "an open connection is closed by Cut")
	cut, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err, "the proxy still accepts")
	assert.Error(t, roundTrip(cut), "but closes new connections while cut")
	cut.Close()

	p.Restore()
	again, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer again.Close()
	assert.NoError(t, roundTrip(again), "forwarding after Restore")
}

// TestInstallCreatesDeployBase installs deploy/base into a real API server: the namespace,
// RBAC, ServiceAccounts, policies and configuration, but no workload; a second run is harmless.
func TestInstallCreatesDeployBase(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	base := filepath.Join(testenv.RepoRoot(), "deploy", "base")
	require.NoError(t, Install(ctx, env.Client, base))
	require.NoError(t, Install(ctx, env.Client, base), "a second install leaves existing objects as they are")

	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Name: SystemNamespace}, &corev1.Namespace{}))
	for _, svc := range Services {
		require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Name: "kubernaut-" + svc}, &rbacv1.ClusterRole{}), "ClusterRole of %s", svc)
		require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: SystemNamespace, Name: "kubernaut-" + svc}, &corev1.ServiceAccount{}), "ServiceAccount of %s", svc)
	}
	var deployments appsv1.DeploymentList
	require.NoError(t, env.Client.List(ctx, &deployments, client.InNamespace(SystemNamespace)))
	assert.Empty(t, deployments.Items, "workloads are not installed: the services run as local processes")
	var cms corev1.ConfigMapList
	require.NoError(t, env.Client.List(ctx, &cms, client.InNamespace(SystemNamespace)))
	assert.NotEmpty(t, cms.Items, "the services' ConfigMaps are installed")
}
