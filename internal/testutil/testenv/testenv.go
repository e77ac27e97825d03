// Package testenv starts a real kube-apiserver and etcd (controller-runtime's envtest) with
// Kubernaut's CRDs installed, using the binaries that `make envtest-assets` builds from Go
// modules into bin/k8s/<version>. Tests call Start and get a client for a fresh namespace.
package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// KubernetesVersion is the version of the test control plane; keep it equal to the Makefile's K8S_VERSION.
const KubernetesVersion = "1.37.2"

// RepoRoot returns the repository root (the folder with go.work).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// AssetsDir is where the control-plane binaries are: $KUBEBUILDER_ASSETS or bin/k8s/<version>.
func AssetsDir() string {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), "bin", "k8s", KubernetesVersion)
}

// Env is a running API server with the CRDs installed.
type Env struct {
	// Config connects to the API server as an administrator.
	Config *rest.Config
	// Client uses the Kubernaut scheme and reads directly from the API server.
	Client client.Client
	// Environment is the underlying envtest environment (Stop/Start it to simulate an outage).
	Environment *envtest.Environment
}

var nsCounter atomic.Int64

// Start starts an API server and etcd for the test (stopped on cleanup). It fails the test
// with instructions when the binaries are missing.
func Start(t testing.TB) *Env {
	t.Helper()
	env, err := StartEnv()
	require.NoError(t, err)
	t.Cleanup(func() { _ = env.Stop() })
	return env
}

// StartEnv starts an API server and etcd with the CRDs installed, outside any one test (for a
// package's TestMain, which shares one API server between its tests); call Stop when done.
func StartEnv() (*Env, error) {
	assets := AssetsDir()
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		return nil, fmt.Errorf("the test control plane is missing in %s: run `make envtest-assets` (it builds kube-apiserver and etcd from Go modules)", assets)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "deploy", "crds")},
		ErrorIfCRDPathMissing: true,
		Scheme:                app.NewScheme(),
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: app.NewScheme()})
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Env{Config: cfg, Client: c, Environment: env}, nil
}

// RunWithEnv is a package's TestMain body around one shared API server: it starts it, hands it to
// use, runs the tests, stops it and returns the exit code (1 when the server cannot start):
//
//	func TestMain(m *testing.M) { os.Exit(testenv.RunWithEnv(m, func(e *testenv.Env) { env = e })) }
func RunWithEnv(m *testing.M, use func(*Env)) int {
	e, err := StartEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = e.Stop() }()
	use(e)
	return m.Run()
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error { return e.Environment.Stop() }

// Namespace creates a fresh namespace for one test, with the given labels, and returns its name.
func (e *Env) Namespace(t testing.TB, labels map[string]string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", sanitize(t.Name()), nsCounter.Add(1))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	require.NoError(t, e.Client.Create(context.Background(), ns))
	return name
}

func sanitize(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}
