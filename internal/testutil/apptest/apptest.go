// Package apptest helps test the service commands and binaries: it checks that a command builds
// the shared part of its config from flags, and hands out free local addresses to serve on.
package apptest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/freeport"

	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

// Execute runs a service command with args and returns the shared options its Run received.
type Execute func(args []string) (*shared.Options, error)

// TestSharedFlags checks defaults, every shared flag, and that all invalid values are reported together.
func TestSharedFlags(t *testing.T, controller bool, execute Execute) {
	t.Helper()
	t.Run("defaults", func(t *testing.T) {
		o, err := execute(nil)
		require.NoError(t, err)
		assert.Equal(t, "kubernaut-system", o.Namespace)
		assert.Equal(t, ":9090", o.MetricsBindAddress)
		assert.Equal(t, ":8081", o.HealthProbeBindAddress)
		assert.Equal(t, controller, o.LeaderElect)
		assert.Equal(t, "json", o.LogFormat)
		assert.Equal(t, "info", o.LogLevel)
	})
	t.Run("every shared flag", func(t *testing.T) {
		args := []string{"--kubeconfig=/k", "--namespace=ops", "--metrics-bind-address=:19090",
			"--health-probe-bind-address=127.0.0.1:18081", "--log-level=debug", "--log-format=console"}
		if controller {
			args = append(args, "--leader-elect=false")
		}
		o, err := execute(args)
		require.NoError(t, err)
		assert.Equal(t, "/k", o.Kubeconfig)
		assert.Equal(t, "ops", o.Namespace)
		assert.Equal(t, ":19090", o.MetricsBindAddress)
		assert.Equal(t, "127.0.0.1:18081", o.HealthProbeBindAddress)
		assert.False(t, o.LeaderElect)
		assert.Equal(t, "debug", o.LogLevel)
		assert.Equal(t, "console", o.LogFormat)
	})
	t.Run("invalid values are all reported", func(t *testing.T) {
		_, err := execute([]string{"--log-format=xml", "--log-level=loud", "--namespace="})
		require.Error(t, err)
		for _, flag := range []string{"--log-format", "--log-level", "--namespace"} {
			assert.Contains(t, err.Error(), flag)
		}
	})
}

// FreeAddr returns a 127.0.0.1 address whose port is reserved for the test: no other call of
// FreeAddr, no listener on port 0 and no outgoing connection on this machine can get it until
// the test ends, yet a server started by the test (in process or as a child process) can listen
// on it (see package freeport). It is released when the test ends.
//
// Ports handed out by listening on port 0 and closing the listener at once are not reserved:
// two calls can return the same port, which made a binary fail with "address already in use".
func FreeAddr(t testing.TB) string {
	t.Helper()
	addr, release, err := freeport.Reserve()
	require.NoError(t, err, "reserving a local port")
	t.Cleanup(release)
	return addr
}
